"""Transcripts (WebVTT, SRT, JSON) and JSON chapters from timed turns."""

from __future__ import annotations

import html
import itertools
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pangocast.core.models import Chapter, TimedTurn
from pangocast.publish.transcripts import (
    chapters_json,
    cues,
    split_text,
    spoken_weight,
    to_json,
    to_srt,
    to_vtt,
)

LONG = (
    "我们在2018年开源了SOFAStack，当时的想法很简单：把蚂蚁金服内部验证过的金融级分布式架构"
    "能力开放出来，让更多的企业受益。这件事情并不容易！我们花了很长时间整理代码、文档和社区规范。"
)
STAMP = r"(\d\d):(\d\d):(\d\d)[.,](\d{3})"


def _secs(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def _parse(text: str) -> list[tuple[float, float, str]]:
    out = []
    for m in re.finditer(rf"{STAMP} --> {STAMP}\n(.+)", text):
        g = m.groups()
        out.append((_secs(*g[0:4]), _secs(*g[4:8]), g[8]))
    return out


def test_long_turn_is_split_at_punctuation_within_its_span() -> None:
    turn = TimedTurn(10.0, 30.0, "杨镭", "guest", "speech", LONG)
    vtt = to_vtt([turn])
    parsed = _parse(vtt)
    assert len(parsed) >= 2
    assert parsed[0][0] == 10.0 and parsed[-1][1] == 30.0
    assert all(a[1] == b[0] for a, b in itertools.pairwise(parsed))  # contiguous
    for _, _, line in parsed:
        assert len(line) <= 65
        body = line.removeprefix("<v 杨镭>")
        assert body[-1] in "，。！：、" or body == parsed[-1][2].removeprefix("<v 杨镭>")
    # nothing lost or reordered
    assert "".join(line.removeprefix("<v 杨镭>") for _, _, line in parsed) == LONG


def test_times_follow_the_spoken_length_of_each_piece() -> None:
    turn = TimedTurn(
        0.0, 12.0, "A", "host", "speech", "一二三四五六。七八九十一二三四五六七八九十。"
    )
    a, b = cues([turn], limit=20)
    # 6 and 14 syllables plus one full stop each
    assert (b.end - b.start) / (a.end - a.start) == pytest.approx(15 / 7, rel=0.01)
    assert spoken_weight("Kubernetes") < spoken_weight("一二三四五六七八九十")


def test_vtt_escapes_text_and_speaker_and_counts_escapes_in_the_limit() -> None:
    turn = TimedTurn(0.0, 5.0, "A<b>&c", "host", "speech", "x < y & y > z " * 10)
    vtt = to_vtt([turn])
    assert "<b>" not in vtt and "&amp;" in vtt and "&lt;" in vtt and "&gt;" in vtt
    assert "<v A&lt;b&gt;&amp;c>" in vtt
    lines = [line for _, _, line in _parse(vtt)]
    assert all(len(line) <= 65 for line in lines)
    spoken = " ".join(html.unescape(line.split(">", 1)[1]) for line in lines)
    assert spoken.split() == ("x < y & y > z " * 10).split()


def test_srt_names_the_speaker_once_per_turn() -> None:
    turns = [
        TimedTurn(0.0, 20.0, "杨镭", "guest", "speech", LONG),
        TimedTurn(21.0, 23.5, "老王", "host", "speech", "谢谢。"),
    ]
    srt = to_srt(turns)
    blocks = srt.strip().split("\n\n")
    assert [b.split("\n")[0] for b in blocks] == [str(i + 1) for i in range(len(blocks))]
    texts = [b.split("\n", 2)[2] for b in blocks]
    assert texts[0].startswith("杨镭：") and texts[-1] == "老王：谢谢。"
    assert sum(t.startswith("杨镭：") for t in texts) == 1
    assert all(len(line) <= 65 for line in srt.splitlines())
    parsed = _parse(srt)
    assert parsed[-1][:2] == (21.0, 23.5)


def test_json_transcript_shape() -> None:
    turns = [
        TimedTurn(1.25, 3.5, "老王", "host", "speech", "你好。"),
        TimedTurn(4.0, 4.0, "老王", "host", "speech", "zero length is skipped"),
    ]
    data = json.loads(to_json(turns))
    assert data == {
        "version": "1.0.0",
        "segments": [{"speaker": "老王", "startTime": 1.25, "endTime": 3.5, "body": "你好。"}],
    }


def test_chapters_json() -> None:
    data = json.loads(chapters_json([Chapter(0.0, "片头"), Chapter(61.2346, "第一章 <起点>")]))
    assert data == {
        "version": "1.2.0",
        "chapters": [
            {"startTime": 0.0, "title": "片头"},
            {"startTime": 61.235, "title": "第一章 <起点>"},
        ],
    }
    with pytest.raises(ValueError):
        chapters_json([Chapter(5.0, "b"), Chapter(1.0, "a")])


def test_timestamps_over_an_hour() -> None:
    vtt = to_vtt([TimedTurn(3725.5, 3727.0, "A", "host", "speech", "好。")])
    assert "01:02:05.500 --> 01:02:07.000" in vtt


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(
        alphabet=st.sampled_from(list("开源社区项目代码abcXYZ 12，。！？、；：<&>")), max_size=300
    ),
    limit=st.integers(min_value=8, max_value=80),
)
def test_split_text_never_exceeds_the_limit_and_keeps_every_character(
    text: str, limit: int
) -> None:
    pieces = split_text(text, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def test_a_speaker_name_longer_than_a_line_still_gets_its_words_captioned() -> None:
    name = "The Honourable Representative for the Northern Highlands & Islands <Scotland>"
    vtt = to_vtt([TimedTurn(0.0, 12.0, name, "guest", "speech", LONG)])
    spoken = "".join(html.unescape(re.sub(r"<[^>]+>", "", t)) for *_, t in _parse(vtt))
    assert spoken.replace(" ", "") == LONG.replace(" ", "")
    assert "&lt;Scotland&gt;" in vtt
