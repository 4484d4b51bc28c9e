"""Interviews written in other columns' styles, each asserted turn by turn.

These articles are made up for the tests; none of their wording appears in the parser.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pangocast.core.errors import InputError, PangocastError
from pangocast.ingest.article import analyse_article, parse_article

Row = tuple[str, str, str, str]
"""(kind, role, speaker, text)"""


def rows(text: str) -> list[list[Row]]:
    episodes = parse_article(text, "<test>")
    return [[(t.kind, t.role, t.speaker, t.text) for t in ep.turns] for ep in episodes]


N = "旁白"

TWO_GUESTS = """本期我们邀请到两位嘉宾,聊聊开源数据库社区的运营。

受访嘉宾:张三(甲公司 CTO)、李四(乙公司社区经理)

主持人:小林

小林:两位好,请先各自介绍一下?

张三:我负责甲公司的数据库研发。

我们做数据库已经十年了,去年开源了核心引擎。

李四:我在乙公司做社区运营,主要和贡献者打交道。

小林:社区运营最难的是什么?

李四:最难的是让新的贡献者留下来。

张三:我补充一点,文档也非常重要。
"""


def test_two_guests_keep_their_own_names() -> None:
    assert rows(TWO_GUESTS) == [
        [
            ("speech", "narrator", N, "本期我们邀请到两位嘉宾,聊聊开源数据库社区的运营。"),
            ("speech", "narrator", N, "受访嘉宾:张三(甲公司 CTO)、李四(乙公司社区经理)"),
            ("speech", "narrator", N, "主持人:小林"),
            ("speech", "host", "小林", "两位好,请先各自介绍一下?"),
            ("speech", "guest", "张三", "我负责甲公司的数据库研发。"),
            ("speech", "guest", "张三", "我们做数据库已经十年了,去年开源了核心引擎。"),
            ("speech", "guest", "李四", "我在乙公司做社区运营,主要和贡献者打交道。"),
            ("speech", "host", "小林", "社区运营最难的是什么?"),
            ("speech", "guest", "李四", "最难的是让新的贡献者留下来。"),
            ("speech", "guest", "张三", "我补充一点,文档也非常重要。"),
        ]
    ]
    pe = analyse_article(TWO_GUESTS).episodes[0]
    assert pe.guests == ("张三", "李四")
    assert pe.host == "小林"


WEN_DA = """赵六是某开源基金会的理事。上周我们在北京采访了赵六,聊了聊基金会的日常工作。

问:基金会平时主要做什么?

答:主要是项目孵化,还有法务和商标方面的支持。

另外我们每年也会组织几次社区活动。

问:一个项目怎么才能加入基金会?

答: 先提交申请,然后由技术委员会投票决定。
"""


def test_wen_da_answers_belong_to_the_named_interviewee() -> None:
    intro = "赵六是某开源基金会的理事。上周我们在北京采访了赵六,聊了聊基金会的日常工作。"
    assert rows(WEN_DA) == [
        [
            ("speech", "narrator", N, intro),
            ("speech", "host", "主持人", "基金会平时主要做什么?"),
            ("speech", "guest", "赵六", "主要是项目孵化,还有法务和商标方面的支持。"),
            ("speech", "guest", "赵六", "另外我们每年也会组织几次社区活动。"),
            ("speech", "host", "主持人", "一个项目怎么才能加入基金会?"),
            ("speech", "guest", "赵六", "先提交申请,然后由技术委员会投票决定。"),
        ]
    ]


Q_A_BOLD = """这是一次邮件采访。我们采访了 Alice,她是一个流行命令行工具的作者。

**Q**:你为什么开始这个项目?

**A:** 因为我自己需要它,当时找不到合适的工具。

后来发现很多人也需要它。

**Q**:下一步有什么计划?

**A**:发布 1.0 版本。
"""


def test_bold_q_and_a() -> None:
    assert rows(Q_A_BOLD) == [
        [
            (
                "speech",
                "narrator",
                N,
                "这是一次邮件采访。我们采访了 Alice,她是一个流行命令行工具的作者。",
            ),
            ("speech", "host", "主持人", "你为什么开始这个项目?"),
            ("speech", "guest", "Alice", "因为我自己需要它,当时找不到合适的工具。"),
            ("speech", "guest", "Alice", "后来发现很多人也需要它。"),
            ("speech", "host", "主持人", "下一步有什么计划?"),
            ("speech", "guest", "Alice", "发布 1.0 版本。"),
        ]
    ]


BOLD_NAMES = """**老周**:今天我们聊聊开源许可证。你最常用哪一种?

**小李**:我一般用 MIT,因为它简单。

**老周**:那 GPL 呢?你怎么看?

**小李**:GPL 也很好,但企业用户会顾虑更多。

这也是很多公司的法务部门会提出的问题。
"""


def test_bold_name_labels_host_found_by_questions() -> None:
    assert rows(BOLD_NAMES) == [
        [
            ("speech", "host", "老周", "今天我们聊聊开源许可证。你最常用哪一种?"),
            ("speech", "guest", "小李", "我一般用 MIT,因为它简单。"),
            ("speech", "host", "老周", "那 GPL 呢?你怎么看?"),
            ("speech", "guest", "小李", "GPL 也很好,但企业用户会顾虑更多。"),
            ("speech", "guest", "小李", "这也是很多公司的法务部门会提出的问题。"),
        ]
    ]


COLONS = """记者:第一个问题,你好吗?

何七 : 很好,谢谢。

记者:第二个问题?

何七:也很好。

笔者:最后一个问题。

何七如果说还有什么的话,就是感谢大家。
"""


def test_colon_spellings_and_lost_colon() -> None:
    assert rows(COLONS) == [
        [
            ("speech", "host", "记者", "第一个问题,你好吗?"),
            ("speech", "guest", "何七", "很好,谢谢。"),
            ("speech", "host", "记者", "第二个问题?"),
            ("speech", "guest", "何七", "也很好。"),
            ("speech", "host", "笔者", "最后一个问题。"),
            ("speech", "guest", "何七", "如果说还有什么的话,就是感谢大家。"),
        ]
    ]


NARRATIVE = """人称“七爷”的开源老兵钱七,最近在忙一个新的数据库项目。

钱七说:“我们想让数据库更简单。”

“社区是第一位的。”七爷介绍说,“代码是第二位的。”

在他看来,只写代码是“一条腿走路”。他补充道:“文档和布道同样重要。”

该项目的合作方代表赵某表示:“我们会持续投入,和社区一起成长。”

项目名叫“简单库”,目前已经在“开源中国”上线。
"""


def test_narrative_quotes_nicknames_and_scare_quotes() -> None:
    assert rows(NARRATIVE) == [
        [
            ("speech", "narrator", N, "人称“七爷”的开源老兵钱七,最近在忙一个新的数据库项目。"),
            ("speech", "narrator", N, "钱七说:"),
            ("speech", "guest", "钱七", "我们想让数据库更简单。"),
            ("speech", "guest", "钱七", "社区是第一位的。"),
            ("speech", "narrator", N, "七爷介绍说,"),
            ("speech", "guest", "钱七", "代码是第二位的。"),
            ("speech", "narrator", N, "在他看来,只写代码是“一条腿走路”。他补充道:"),
            ("speech", "guest", "钱七", "文档和布道同样重要。"),
            ("speech", "narrator", N, "该项目的合作方代表赵某表示:"),
            ("speech", "guest", "赵某", "我们会持续投入,和社区一起成长。"),
            ("speech", "narrator", N, "项目名叫“简单库”,目前已经在“开源中国”上线。"),
        ]
    ]
    pe = analyse_article(NARRATIVE).episodes[0]
    assert pe.guests == ("钱七",)
    assert pe.speakers == {"钱七": "guest", "赵某": "guest"}


ASCII_QUOTES_AND_HEADINGS = """# 专访:开源硬件的十年

记者近日见到了开源硬件社区的发起人郑一。

## 「起点」——一块电路板

"第一块板子是在宿舍里焊出来的。"郑一介绍说,"那时候没有人相信它能量产。"

郑一说:"现在社区里有三万名贡献者。"

这个被称为"开源硬件元年"的年份,对郑一来说意义非凡。

第二章 “下一个十年”

郑一还在忙。
"""


def test_ascii_quotes_and_heading_forms() -> None:
    text = ASCII_QUOTES_AND_HEADINGS
    assert rows(text) == [
        [
            ("skip", "narrator", N, "# 专访:开源硬件的十年"),
            ("speech", "narrator", N, "记者近日见到了开源硬件社区的发起人郑一。"),
            ("chapter", "narrator", N, "「起点」——一块电路板"),
            ("speech", "guest", "郑一", "第一块板子是在宿舍里焊出来的。"),
            ("speech", "narrator", N, "郑一介绍说,"),
            ("speech", "guest", "郑一", "那时候没有人相信它能量产。"),
            ("speech", "narrator", N, "郑一说:"),
            ("speech", "guest", "郑一", "现在社区里有三万名贡献者。"),
            ("speech", "narrator", N, '这个被称为"开源硬件元年"的年份,对郑一来说意义非凡。'),
            ("chapter", "narrator", N, "第二章 “下一个十年”"),
            ("speech", "narrator", N, "郑一还在忙。"),
        ]
    ]
    assert parse_article(text)[0].title == "专访:开源硬件的十年"


FORCED = """上周我们采访了张三。张三说:“开源改变了我的职业。”

张三认为,社区比代码更重要。

===

李四是另一位受访者。李四表示:“我更关心安全。”

<!-- episode: 王五谈文档 -->

王五说:“文档是项目的门面。”
"""


def test_forced_split_markers() -> None:
    assert rows(FORCED) == [
        [
            ("speech", "narrator", N, "上周我们采访了张三。张三说:"),
            ("speech", "guest", "张三", "开源改变了我的职业。"),
            ("speech", "narrator", N, "张三认为,社区比代码更重要。"),
        ],
        [
            ("speech", "narrator", N, "李四是另一位受访者。李四表示:"),
            ("speech", "guest", "李四", "我更关心安全。"),
        ],
        [
            ("speech", "narrator", N, "王五说:"),
            ("speech", "guest", "王五", "文档是项目的门面。"),
        ],
    ]
    analysis = analyse_article(FORCED)
    assert [pe.episode.title for pe in analysis.episodes] == [None, None, "王五谈文档"]
    assert analysis.warnings == ()


FOOTER = "《开源人物》是一档介绍国内开源贡献者的系列访谈栏目,每期邀请一位开源项目的维护者分享经验。"
FOOTER2 = "本文首发于开源人物公众号,转载请注明出处,并保留作者署名与原文链接。"
DUMP = f"""标签 开源人物 下的文章

上个月,我们在杭州见到了孙八,和他聊了聊开源运维工具的故事。

孙八(左)与主持人(右)在大会现场

第一章 “从零开始”的工具

孙八说:“一开始只是为了自己用,后来同事们也用上了。”

一开始只是为了自己用,后来同事们也用上了。

【图:工具界面截图】

结语

孙八的故事告诉我们,好工具往往来自真实的需求。

{FOOTER}

{FOOTER2}

受访者:周九,某云厂商的容器负责人。

采访者:小陈,开源人物栏目编辑。

小陈:容器这几年最大的变化是什么?

周九:标准化。大家都用同样的接口了。

小陈:那下一步呢?

周九如果说下一步的话,我觉得是安全。

安全容器会越来越普及。

受访者:吴十,一家初创公司的创始人。

采访者:小陈,开源人物栏目编辑。

小陈:你为什么选择开源?

吴十:因为开源是最好的推广。

{FOOTER}

{FOOTER2}
"""


def test_dump_with_footer_captions_pull_quote_and_guessed_split() -> None:
    outro = [("speech", "narrator", N, FOOTER), ("speech", "narrator", N, FOOTER2)]
    assert rows(DUMP) == [
        [
            ("skip", "narrator", N, "标签 开源人物 下的文章"),
            ("speech", "narrator", N, "上个月,我们在杭州见到了孙八,和他聊了聊开源运维工具的故事。"),
            ("skip", "narrator", N, "孙八(左)与主持人(右)在大会现场"),
            ("chapter", "narrator", N, "第一章 “从零开始”的工具"),
            ("speech", "narrator", N, "孙八说:"),
            ("speech", "guest", "孙八", "一开始只是为了自己用,后来同事们也用上了。"),
            ("highlight", "narrator", N, "一开始只是为了自己用,后来同事们也用上了。"),
            ("skip", "narrator", N, "【图:工具界面截图】"),
            ("chapter", "narrator", N, "结语"),
            ("speech", "narrator", N, "孙八的故事告诉我们,好工具往往来自真实的需求。"),
            *outro,
        ],
        [
            ("speech", "narrator", N, "受访者:周九,某云厂商的容器负责人。"),
            ("speech", "narrator", N, "采访者:小陈,开源人物栏目编辑。"),
            ("speech", "host", "小陈", "容器这几年最大的变化是什么?"),
            ("speech", "guest", "周九", "标准化。大家都用同样的接口了。"),
            ("speech", "host", "小陈", "那下一步呢?"),
            ("speech", "guest", "周九", "如果说下一步的话,我觉得是安全。"),
            ("speech", "guest", "周九", "安全容器会越来越普及。"),
            *outro,
        ],
        [
            ("speech", "narrator", N, "受访者:吴十,一家初创公司的创始人。"),
            ("speech", "narrator", N, "采访者:小陈,开源人物栏目编辑。"),
            ("speech", "host", "小陈", "你为什么选择开源?"),
            ("speech", "guest", "吴十", "因为开源是最好的推广。"),
            *outro,
        ],
    ]
    analysis = analyse_article(DUMP)
    assert analysis.column == "开源人物"
    assert analysis.footer == (FOOTER, FOOTER2)
    assert [pe.guessed_split for pe in analysis.episodes] == [False, False, True]
    assert [pe.footer_lines for pe in analysis.episodes] == [(19, 21), (), (45, 47)]
    assert any("line 37" in w for w in analysis.warnings), analysis.warnings


CLOSING_THEN_NEW = """郑一说:"开源硬件的门槛越来越低。"

郑一认为,教育是关键。

尾声

郑一的故事还在继续。

上个月,我们在深圳拜访了冯二,和他聊了聊芯片设计的开源化。

冯二说:"芯片设计的门槛正在降低。"

冯二表示,开源指令集给了初创公司机会。

冯二认为,工具链是下一个突破口。

冯二最后说:"十年之后再看。"
"""


def test_split_after_closing_section_without_footer() -> None:
    found = analyse_article(CLOSING_THEN_NEW)
    assert any("line 9" in w for w in found.warnings), found.warnings
    episodes = [pe.episode for pe in found.episodes]
    assert len(episodes) == 2
    assert episodes[0].turns[-1].text == "郑一的故事还在继续。"
    assert episodes[1].turns[0].text.startswith("上个月,我们在深圳拜访了冯二")


def test_empty_article_is_an_input_error() -> None:
    with pytest.raises(InputError, match="empty") as exc:
        parse_article("\n\n  \n", "empty.txt")
    assert exc.value.where == "empty.txt:1"
    with pytest.raises(InputError, match="nothing to say"):
        parse_article("【图:封面】\n", "pic.txt")


_ALPHABET = (
    "老王杨镭说表示他我们的了是“”「」\"'‘’:::,,。??!《》()()【】图左右#*>%=-"
    "问答QA记者受访者采访者主持人尾声结语第一章 \n\nabcXYZ0123456789…——、;"
)
_TEXTS = st.text(alphabet=_ALPHABET, max_size=400) | st.text(max_size=200)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXTS)
def test_parse_article_raises_only_project_errors(text: str) -> None:
    try:
        episodes = parse_article(text, "<random>")
    except PangocastError:
        return
    for ep in episodes:
        assert any(t.kind == "speech" for t in ep.turns)
        assert all(t.text.strip() for t in ep.turns)
