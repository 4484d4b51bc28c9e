"""Column dumps that repeat whole articles: each article is one episode, each copy a warning.

The articles below are made up for the tests; none of their wording appears in the parser.
"""

from __future__ import annotations

import time
from pathlib import Path

from pangocast.ingest.article import ArticleAnalysis, analyse_article

CORPUS = Path(__file__).parent / "data" / "chuanshanjia.txt"

FOOTER = "《开源访谈》是一档介绍开源维护者的系列访谈栏目,每期邀请一位维护者讲讲他们的项目与社区。"
FOOTER2 = "本文首发于开源访谈公众号,转载请注明出处,并保留作者署名与原文链接,谢谢合作。"

CHEN = """受访者:陈一,某数据库公司的工程师。

采访者:小林,开源访谈栏目编辑。

小林:你是怎么开始参与开源的?

陈一:大学时给一个编译器修了一个小错误。

小林:后来呢?

陈一:后来就成了那个项目的维护者。"""

ZHAO = """上周,我们在成都见到了赵二,聊了聊开源文档的事。

赵二说:“文档比代码更难写。”

赵二认为,好的文档要有例子。

他还提到,翻译让更多人能读懂文档。

赵二最后说:“写文档就是写给未来的自己。”"""

ALICE = """Interviewee: Alice Moore, maintainer of a small HTTP library.

Interviewer: Ben, editor of the column.

Ben: How did you start?

Alice: I fixed a typo in the README.

Ben: And then?

Alice: Then I kept fixing things until they gave me commit rights."""

Row = tuple[str, str, str]
"""(role, speaker, text)"""


def dump(*articles: str) -> str:
    """The articles, each closed by the column's footer."""
    return "".join(f"{a}\n\n{FOOTER}\n\n{FOOTER2}\n\n" for a in articles)


def rows(analysis: ArticleAnalysis) -> list[list[Row]]:
    return [[(t.role, t.speaker, t.text) for t in pe.episode.turns] for pe in analysis.episodes]


def copies(analysis: ArticleAnalysis) -> list[str]:
    return [w for w in analysis.warnings if "repeats the one at" in w]


CHEN_NAME = "受访者:陈一,某数据库公司的工程…"
ZHAO_NAME = "上周,我们在成都见到了赵二,聊了…"
ALICE_NAME = "Interviewee: Ali…"


def test_articles_sharing_the_footer_split_at_it() -> None:
    analysis = analyse_article(dump(CHEN, ZHAO, ALICE))
    assert analysis.footer == (FOOTER, FOOTER2)
    assert [pe.footer_lines for pe in analysis.episodes] == [(13, 15), (27, 29), (43, 45)]
    first = rows(analysis)
    outro = [("narrator", "旁白", FOOTER), ("narrator", "旁白", FOOTER2)]
    assert first[0] == [
        ("narrator", "旁白", "受访者:陈一,某数据库公司的工程师。"),
        ("narrator", "旁白", "采访者:小林,开源访谈栏目编辑。"),
        ("host", "小林", "你是怎么开始参与开源的?"),
        ("guest", "陈一", "大学时给一个编译器修了一个小错误。"),
        ("host", "小林", "后来呢?"),
        ("guest", "陈一", "后来就成了那个项目的维护者。"),
        *outro,
    ]
    assert first[2][2:4] == [
        ("host", "Ben", "How did you start?"),
        ("guest", "Alice Moore", "I fixed a typo in the README."),
    ]
    assert all(r[-2:] == outro for r in first[:2])
    # the English article's narrator is named in its language, and reads the footer too
    assert first[2][-2:] == [("narrator", "Narrator", FOOTER), ("narrator", "Narrator", FOOTER2)]
    assert [pe.guests for pe in analysis.episodes] == [("陈一",), ("赵二",), ("Alice Moore",)]
    assert copies(analysis) == []


def test_whole_dump_three_times_is_the_dump_once_with_each_copy_named() -> None:
    once = analyse_article(dump(CHEN, ZHAO, ALICE))
    thrice = analyse_article(dump(CHEN, ZHAO, ALICE) * 3)
    assert [pe.episode for pe in thrice.episodes] == [pe.episode for pe in once.episodes]
    assert thrice.footer == once.footer
    assert copies(thrice) == [
        f"line 47: article '{CHEN_NAME}' repeats the one at line 1; kept once",
        f"line 63: article '{ZHAO_NAME}' repeats the one at line 17; kept once",
        f"line 77: article '{ALICE_NAME}' repeats the one at line 31; kept once",
        f"line 93: article '{CHEN_NAME}' repeats the one at line 1; kept once",
        f"line 109: article '{ZHAO_NAME}' repeats the one at line 17; kept once",
        f"line 123: article '{ALICE_NAME}' repeats the one at line 31; kept once",
    ]
    assert [w for w in thrice.warnings if w not in copies(thrice)] == list(once.warnings)


def test_one_article_repeated_between_different_ones() -> None:
    want = rows(analyse_article(dump(CHEN, ZHAO, ALICE)))
    analysis = analyse_article(dump(CHEN, ZHAO, CHEN, ALICE))
    assert rows(analysis) == want
    assert analysis.footer == (FOOTER, FOOTER2)
    assert [pe.footer_lines for pe in analysis.episodes] == [(13, 15), (27, 29), (59, 61)]
    assert copies(analysis) == [
        f"line 31: article '{CHEN_NAME}' repeats the one at line 1; kept once"
    ]


def test_repeats_next_to_each_other_or_at_the_end() -> None:
    want = rows(analyse_article(dump(CHEN, ZHAO, ALICE)))
    adjacent = analyse_article(dump(CHEN, CHEN, ZHAO, ALICE))
    assert rows(adjacent) == want
    assert copies(adjacent) == [
        f"line 17: article '{CHEN_NAME}' repeats the one at line 1; kept once"
    ]
    last = analyse_article(dump(CHEN, ZHAO, ALICE, ZHAO))
    assert rows(last) == want
    assert copies(last) == [f"line 47: article '{ZHAO_NAME}' repeats the one at line 17; kept once"]


def test_repeat_between_markers_without_a_footer() -> None:
    analysis = analyse_article("\n\n===\n\n".join([CHEN, ZHAO, CHEN, ALICE]))
    assert analysis.footer == ()
    assert [pe.guests for pe in analysis.episodes] == [("陈一",), ("赵二",), ("Alice Moore",)]
    assert copies(analysis) == [
        f"line 27: article '{CHEN_NAME}' repeats the one at line 1; kept once"
    ]


def test_header_opening_every_article_stays_with_the_next_one() -> None:
    header = "开源访谈栏目编者按:本栏目每周推出一位开源维护者的访谈,记录他们与社区一起成长的故事。"
    once = analyse_article("".join(f"{header}\n\n{a}\n\n" for a in (CHEN, ZHAO, ALICE)))
    repeated = analyse_article("".join(f"{header}\n\n{a}\n\n" for a in (CHEN, ZHAO, CHEN, ALICE)))
    assert rows(repeated) == rows(once)
    assert [pe.guests for pe in repeated.episodes] == [("陈一",), ("赵二",), ("Alice Moore",)]
    assert copies(repeated) == [
        f"line 29: article '{CHEN_NAME}' repeats the one at line 3; kept once"
    ]


def test_long_footer_is_not_taken_for_a_copy() -> None:
    footer = [
        f"第{n}条:开源访谈栏目页脚的第{n}段,讲的是投稿方式、联系邮箱和版权说明等事项。"
        for n in range(6)
    ]
    text = "".join(f"{a}\n\n" + "\n\n".join(footer) + "\n\n" for a in (CHEN, ZHAO))
    analysis = analyse_article(text)
    assert analysis.footer == tuple(footer)
    assert [pe.guests for pe in analysis.episodes] == [("陈一",), ("赵二",)]
    assert copies(analysis) == []


def test_corpus_forty_times_is_the_corpus_once() -> None:
    text = CORPUS.read_text(encoding="utf-8")
    once = analyse_article(text)
    started = time.perf_counter()
    forty = analyse_article((text + "\n\n") * 40)
    took = time.perf_counter() - started
    assert [pe.episode for pe in forty.episodes] == [pe.episode for pe in once.episodes]
    assert forty.footer == once.footer
    assert len(copies(forty)) == 39 * 6
    assert copies(forty)[0] == (
        "line 616: article '蚂蚁金服的 SOFAStack…' repeats the one at line 3; kept once"
    )
    assert took < 20, f"the corpus ×40 took {took:.1f} s"
