"""A two-episode show for the search tests: real sentence timings, WebVTT written from them.

Each episode's long guest turn has a silence inside it, so a caption's real start is far
from where sharing the turn's span out by characters would put it: a search hit that
jumps to the turn, or to a guessed time, misses by more than the tests allow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from pangocast.core.models import Chapter, TimedTurn
from pangocast.publish.manifest import BuiltEpisode, Manifest
from pangocast.publish.site import render_site
from pangocast.publish.transcripts import to_vtt
from tests.site_fixture import make_episode, make_mp3, make_show

ONLY_IN_A = "开源"
"""A Chinese word the guest of episode A says, and nobody in episode B."""
ONLY_IN_B = "PostgreSQL"
"""An English word only episode B has."""
IN_BOTH = "云计算"

GUEST_A = "杨镭"
GUEST_B = "叶理灯"


Line = tuple[float, float, str, str]
"""A sentence as placed in the audio: start, end (s), speaker, text."""

ROLES = {"旁白": "narrator", "老王": "host"}


def _episode(slug: str, title: str, guest: str, duration: float, lines: list[Line]) -> BuiltEpisode:
    """An episode whose turns are its sentences joined, speaker by speaker; the first line
    is the narrator reading the chapter."""
    sentences = [
        TimedTurn(a, b, who, ROLES.get(who, "guest"), "chapter" if i == 0 else "speech", text)
        for i, (a, b, who, text) in enumerate(lines)
    ]
    turns: list[TimedTurn] = []
    for s in sentences:
        if turns and turns[-1].speaker == s.speaker:
            turns[-1] = replace(turns[-1], end=s.end, text=turns[-1].text + s.text)
        else:
            turns.append(s)
    return replace(
        make_episode(),
        slug=slug,
        guid=f"guid-{slug}",
        title=title,
        summary=f"{title}的摘要\u3002",
        guests=(guest,),
        audio=f"audio/{slug}-0123abcd.mp3",
        duration=duration,
        chapters=(Chapter(0.0, sentences[0].text),),
        turns=tuple(turns),
        sentences=tuple(sentences),
        transcripts={"vtt": f"transcripts/{slug}.vtt"},
        chapters_file=None,
        notes_html=f"<p>{title}的节目笔记\u3002</p>",
    )


# The two episodes' sentences as placed in their audio. Each guest turn has a long pause
# before its last sentence, the one the word is in.
SCRIPT: dict[str, list[Line]] = {
    "ep-a": [
        (0.0, 3.0, "旁白", "第一章 开场"),
        (3.0, 6.0, "老王", "欢迎收听\u3002"),
        (6.0, 10.0, "老王", "今天我们聊一聊云计算\u3002"),
        (10.0, 14.0, GUEST_A, "我在公司做了很多年的基础设施\u3002"),
        (14.0, 18.0, GUEST_A, "早期我们用的是虚拟机\u3002"),
        (28.0, 38.0, GUEST_A, "后来迁移到了新的集群上\uff0c开源社区给了我们很多帮助\u3002"),
    ],
    "ep-b": [
        (0.0, 3.0, "旁白", "第一章 数据库"),
        (3.0, 8.0, "老王", "请介绍一下你们用的数据库\u3002"),
        (8.0, 12.0, GUEST_B, "我们一直在用关系型数据库\u3002"),
        (21.0, 29.0, GUEST_B, "其中 PostgreSQL 最稳定\uff0c云计算厂商也都支持它\u3002"),
    ],
}
EPISODE_A = _episode("ep-a", "第一期:基础设施", GUEST_A, 40.0, SCRIPT["ep-a"])
EPISODE_B = _episode("ep-b", "第二期:数据库", GUEST_B, 30.0, SCRIPT["ep-b"])


@dataclass(frozen=True)
class SearchSite:
    """The rendered two-episode site."""

    output: Path
    manifest: Manifest

    def cue_start(self, slug: str, word: str) -> float:
        """Start (s) of the one WebVTT cue of episode ``slug`` that holds ``word``."""
        text = (self.output / f"transcripts/{slug}.vtt").read_text(encoding="utf-8")
        stamp = r"(\d+):(\d\d):(\d\d)\.(\d{3})"
        starts = [
            int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3]) + int(m[4]) / 1000
            for m in re.finditer(rf"^{stamp} --> .*\n(.*)$", text, re.MULTILINE)
            if word in m[5]
        ]
        assert len(starts) == 1, f"{word!r} is in {len(starts)} cues of {slug}"
        return starts[0]


def build_search_site(output: Path, base_url: str) -> SearchSite:
    """Audio, WebVTT (from the sentences, as a build writes it) and the site with its index."""
    episodes = []
    for ep in (EPISODE_A, EPISODE_B):
        make_mp3(output / ep.audio, ep.duration)
        vtt = output / ep.transcripts["vtt"]
        vtt.parent.mkdir(parents=True, exist_ok=True)
        vtt.write_text(to_vtt(list(ep.sentences)), encoding="utf-8")
        episodes.append(replace(ep, audio_bytes=(output / ep.audio).stat().st_size))
    manifest = Manifest(episodes=tuple(episodes))
    render_site(make_show(base_url), manifest, output)
    return SearchSite(output, manifest)
