from __future__ import annotations

from pathlib import Path

import pytest

from pangocast.core.errors import ConfigError
from pangocast.script.format import parse_script
from pangocast.voice.casting import cast_episode, clashes, load_casting

ROOT = Path(__file__).resolve().parent.parent

THREE_GUESTS = """+++
title = "t"
slug = "t"
date = 2020-01-01
host = "记者"
guests = ["甲", "乙", "丙"]
+++

旁白:开始。

记者:问题。

甲:回答一。

乙:回答二。

丙:回答三。
"""


@pytest.mark.parametrize("engine", ["neural", "espeak", "edge"])
def test_every_speaker_gets_a_distinct_voice_on_every_engine(engine: str) -> None:
    rules = load_casting(ROOT / "voices").for_engine(engine)
    cast = cast_episode(parse_script(THREE_GUESTS), rules)
    assert list(cast) == ["旁白", "记者", "甲", "乙", "丙"]
    assert [c.role for c in cast.values()] == ["narrator", "host", "guest", "guest", "guest"]
    assert clashes(cast) == []
    assert cast["记者"].voice != cast["甲"].voice


def test_guests_take_the_list_in_order_of_how_much_they_say(tmp_path: Path) -> None:
    (tmp_path / "casting.toml").write_text(
        '[engines.x]\nnarrator = {voice="n"}\nhost = {voice="h"}\n'
        'guests = [{voice="first"}, {voice="second"}, {voice="third"}]\n',
        encoding="utf-8",
    )
    rules = load_casting(tmp_path).for_engine("x")
    # 乙 says most, then 丙; 甲 (first to speak) least
    text = THREE_GUESTS.replace("回答二。", "回答二,说得最长的一段话。").replace(
        "回答三。", "回答三,稍长一些。"
    )
    cast = cast_episode(parse_script(text), rules)
    assert list(cast) == ["旁白", "记者", "甲", "乙", "丙"], "order of first appearance"
    assert {s: c.voice.id for s, c in cast.items() if c.role == "guest"} == {
        "乙": "first",
        "丙": "second",
        "甲": "third",
    }
    assert [cast[s].source for s in ("乙", "丙", "甲")] == ["guest #1", "guest #2", "guest #3"]
    # as much said: the one who speaks first takes the first voice
    even = cast_episode(parse_script(THREE_GUESTS), rules)
    assert [even[s].voice.id for s in ("甲", "乙", "丙")] == ["first", "second", "third"]


def test_person_override_is_the_same_voice_across_episodes() -> None:
    rules = load_casting(ROOT / "voices").for_engine("edge")
    one = THREE_GUESTS.replace('"甲"', '"杨镭"').replace("甲:", "杨镭:")
    two = one.replace('slug = "t"', 'slug = "u"').replace('"乙", ', "").replace("乙:回答二。", "")
    a = cast_episode(parse_script(one), rules)["杨镭"]
    b = cast_episode(parse_script(two), rules)["杨镭"]
    assert a.voice == b.voice and a.source == "person"
    assert a.voice.get("rate", "") == "+5%"


def test_pooled_guests_skip_a_pinned_persons_voice() -> None:
    rules = load_casting(ROOT / "voices").for_engine("neural")
    text = THREE_GUESTS.replace('"甲"', '"杨镭"').replace("甲:", "杨镭:")
    cast = cast_episode(parse_script(text), rules)
    assert clashes(cast) == []


def test_clash_reported_when_guest_voices_run_out(tmp_path: Path) -> None:
    (tmp_path / "casting.toml").write_text(
        '[engines.x]\nnarrator = {voice="n"}\nhost = {voice="h"}\nguests = [{voice="g"}]\n',
        encoding="utf-8",
    )
    cast = cast_episode(parse_script(THREE_GUESTS), load_casting(tmp_path).for_engine("x"))
    assert ("甲", "乙") in clashes(cast)


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("", "no [engines.NAME]"),
        ('[engines.x]\nnarrator = {voice="n"}\nhost = {voice="h"}\n', "has no 'guests'"),
        ('[engines.x]\nnarrator = "n"\nhost = {voice="h"}\nguests=[{voice="g"}]\n', "narrator"),
        ("[engines.x\n", "malformed"),
    ],
)
def test_bad_casting_is_one_clear_error(tmp_path: Path, content: str, fragment: str) -> None:
    (tmp_path / "casting.toml").write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_casting(tmp_path)
    assert fragment in str(err.value)
    assert "casting.toml" in str(err.value)


def test_unknown_engine_in_casting_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="engines cast: neural, espeak, edge"):
        load_casting(ROOT / "voices").for_engine("nope")


def test_neural_conversion_keys_load_and_every_role_differs() -> None:
    rules = load_casting(ROOT / "voices").for_engine("neural")
    # A person is a source voice plus a conversion: no two roles share both.
    people = [
        (v.id, v.get("f0_ratio", 1.0), v.get("formant_ratio", 1.0))
        for v in (rules.narrator, rules.host, *rules.guests)
    ]
    assert len(set(people)) == len(people)
    assert {v.id for v in (rules.narrator, rules.host, *rules.guests)} >= {"baker", "jm_kumo"}
    assert rules.guests[0].get("f0_ratio", 1.0) == 0.56


@pytest.mark.parametrize(
    "voice, fragment",
    [
        ('{voice="baker", f0_ratio=0.1}', "'f0_ratio' must be between 0.5 and 2"),
        ('{voice="baker", formant_ratio="big"}', "'formant_ratio' must be a number"),
        ('{voice="baker", formant=0.9}', "unknown key 'formant'"),
        ('{voice="baker", pitch=-3, f0_ratio=0.8}', "not both"),
        ('{voice="baker", speed=9}', "'speed' must be between 0.25 and 4"),
    ],
)
def test_bad_neural_prosody_is_one_error_naming_the_file(
    tmp_path: Path, voice: str, fragment: str
) -> None:
    (tmp_path / "casting.toml").write_text(
        f'[engines.neural]\nnarrator = {{voice="baker"}}\nhost = {voice}\n'
        'guests = [{voice="baker"}]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_casting(tmp_path)
    message = str(err.value)
    assert fragment in message and "engines.neural.host" in message
    assert "casting.toml" in message
