"""Pauses by context, configurable per show."""

from __future__ import annotations

from pathlib import Path

import pytest

from pangocast.audio.pacing import Pacing, load_pacing, pacing_from_dict, pause_between
from pangocast.core.errors import ConfigError
from pangocast.core.models import Turn
from pangocast.core.project import Project

HOST = Turn("speech", "host", "老王", "问题？")
GUEST = Turn("speech", "guest", "杨镭", "回答。")
HEADING = Turn("chapter", "narrator", "旁白", "第一章")
CAPTION = Turn("skip", "narrator", "旁白", "图片说明")


def test_pause_depends_on_context() -> None:
    p = Pacing()
    assert pause_between(None, HEADING, p) == p.after_intro
    assert pause_between(GUEST, HEADING, p) == p.before_chapter
    assert pause_between(HEADING, HOST, p) == p.after_chapter
    assert pause_between(HOST, HOST, p) == p.same_speaker
    assert pause_between(HOST, GUEST, p) == p.speaker_change
    assert pause_between(HOST, CAPTION, p) == 0.0
    # the defaults make sense relative to each other
    assert p.sentence < p.same_speaker < p.speaker_change < p.before_chapter


def test_from_dict_overrides_and_validates() -> None:
    p = pacing_from_dict({"sentence": 0.2, "speaker_change": 1})
    assert (p.sentence, p.speaker_change, p.same_speaker) == (0.2, 1.0, Pacing().same_speaker)
    assert p.as_dict()["speaker_change"] == 1.0
    bad: list[tuple[dict[str, object], str]] = [
        ({"between_turns": 0.5}, "unknown pacing setting 'between_turns'"),
        ({"sentence": True}, "must be a number"),
        ({"sentence": "0.3"}, "must be a number"),
        ({"sentence": -0.1}, "out of range"),
        ({"before_chapter": 1200}, "out of range"),
        ({"sentence": float("nan")}, "out of range"),
    ]
    for table, message in bad:
        with pytest.raises(ConfigError, match=message):
            pacing_from_dict(table, path=Path("feeds/show.toml"))


def test_load_from_a_show(tmp_path: Path) -> None:
    project = Project(tmp_path)
    assert load_pacing(project) == Pacing()  # no files: defaults
    project.feeds.mkdir()
    project.voices.mkdir()
    (project.feeds / "show.toml").write_text('title = "x"\n[pacing]\nsentence = 0.4\n')
    assert load_pacing(project).sentence == 0.4
    (project.voices / "casting.toml").write_text("[pacing]\nsame_speaker = 0.6\n")
    with pytest.raises(ConfigError, match="both"):
        load_pacing(project)
    (project.feeds / "show.toml").write_text('title = "x"\n')
    assert load_pacing(project).same_speaker == 0.6
    (project.voices / "casting.toml").write_text("[pacing]\nsentence = [1]\n")
    with pytest.raises(ConfigError, match=r"casting\.toml"):
        load_pacing(project)
    (project.voices / "casting.toml").write_text("pacing = 3\n")
    with pytest.raises(ConfigError, match="must be a table"):
        load_pacing(project)
    (project.voices / "casting.toml").write_text("[pacing\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_pacing(project)
