"""Readings of 一 and 地 after pypinyin (real pypinyin and jieba, no fakes)."""

from __future__ import annotations

import pytest

pytest.importorskip("jieba")
from pypinyin import Style, lazy_pinyin

from pangocast.voice.engines.zh_tones import adjust


def _read(text: str) -> str:
    syllables = lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True, tone_sandhi=True)
    return " ".join(adjust(text, syllables))


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("一样", "yi2 yang4"),  # before a fourth tone
        ("一栋楼", "yi2 dong4 lou2"),
        ("一天", "yi4 tian1"),  # before the other tones
        ("说一说", "shuo1 yi5 shuo1"),  # between a repeated verb
        ("第一次", "di4 yi1 ci4"),  # an ordinal keeps its tone
        ("唯一的", "wei2 yi1 de5"),  # the end of a word
        ("统一规划", "tong3 yi1 gui1 hua4"),  # the end of a word inside a longer one
        ("一二三", "yi1 er4 san1"),  # counting
        ("认真地说", "ren4 zhen1 de5 shuo1"),  # the adverbial particle
        ("冷静地把它拆开", "leng3 jing4 de5 ba3 ta1 chai1 kai1"),
        ("在地上", "zai4 di4 shang4"),  # the ground
        ("这块地很大", "zhe4 kuai4 di4 hen3 da4"),  # tagged uv by jieba, yet a noun
    ],
)
def test_yi_and_de_are_read_as_people_say_them(text: str, reading: str) -> None:
    assert _read(text) == reading


def test_adjust_never_changes_the_count() -> None:
    assert adjust("一样", ["yi1"]) == ["yi1"]
    assert adjust("", []) == []
