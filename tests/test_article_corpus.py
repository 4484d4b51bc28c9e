"""The bundled column dump: six interviews, every paragraph attributed as an editor would.

The gold list below was checked by hand against tests/data/chuanshanjia.txt (line numbers
are the source lines). The coverage test proves that no character of the source is lost:
every paragraph is spoken, or kept as a chapter, highlight or skipped caption/marker.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pangocast.core.models import Turn, to_parse_json
from pangocast.ingest.article import ArticleAnalysis, analyse_article, parse_article
from pangocast.ingest.importer import make_slug
from pangocast.ingest.text import split_paragraphs

CORPUS = Path(__file__).parent / "data" / "chuanshanjia.txt"
GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def text() -> str:
    return CORPUS.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def analysis(text: str) -> ArticleAnalysis:
    return analyse_article(text, str(CORPUS))


# (episode, source line, kind, role, speaker, text starts with)
GOLD: list[tuple[int, int, str, str, str, str]] = [
    # 1 余淮: narrative; indirect speech stays with the narrator
    (1, 1, "skip", "narrator", "旁白", "分类 穿山甲专访 下的文章"),
    (1, 3, "speech", "narrator", "旁白", "蚂蚁金服的 SOFAStack 作为"),
    (1, 7, "skip", "narrator", "旁白", "余淮(左)和老王(右)在 KubeCon 2019"),
    (1, 9, "chapter", "narrator", "旁白", "SOFA 与开源"),
    (1, 17, "chapter", "narrator", "旁白", "以 SOFA 为例:公司内部软件的开源流程"),
    (1, 19, "speech", "narrator", "旁白", "余淮说,从 2015 年开始"),
    (1, 25, "speech", "narrator", "旁白", "SOFA 团队给开源定的策略叫「 开源核心 Open Core 」"),
    (1, 27, "speech", "narrator", "旁白", "在开源的具体考量上,余淮表示"),
    (1, 29, "speech", "narrator", "旁白", "以 SOFARPC 重构为例,大概经历了这样的过程:"),
    (1, 31, "speech", "narrator", "旁白", "1. 首先需要将 SOFARPC"),
    (1, 80, "chapter", "narrator", "旁白", "总结"),
    (1, 82, "speech", "narrator", "旁白", "要说我对哪个国内开源项目研究的最深入"),
    # 2 周小四 ("四爷"): quoted speech inside narration
    (2, 88, "speech", "narrator", "旁白", "在国内的云服务市场当中"),
    (2, 92, "chapter", "narrator", "旁白", "天然的企业服务提供者"),
    (2, 100, "speech", "guest", "周小四", "与这些云计算公司不同"),
    (2, 100, "speech", "narrator", "旁白", "四爷介绍说,"),
    (2, 100, "speech", "guest", "周小四", "并且,青云QingCloud 的创始人"),
    (2, 100, "speech", "narrator", "旁白", "说到这里,四爷眼中洋溢着自信的眼神"),
    (2, 106, "speech", "narrator", "旁白", "而同时期一些使用 OpenStack"),
    (2, 106, "speech", "guest", "周小四", "这为青云争取到了宝贵的时间!"),
    (2, 108, "speech", "narrator", "旁白", "到了 2014 年,青云QingCloud"),
    (2, 124, "speech", "narrator", "旁白", "四爷对此的解释说,"),
    (2, 124, "speech", "guest", "周小四", "2013 年才提出的 Docker"),
    (2, 124, "speech", "narrator", "旁白", "而 LXC 则延续了重型虚拟机时代的思路"),
    (2, 143, "speech", "narrator", "旁白", "他补充道:"),
    (2, 143, "speech", "guest", "周小四", "Kubernetes 的一个主要关注是规范化"),
    (2, 149, "speech", "guest", "周小四", "他们是以做项目的心态在做产品"),
    (2, 149, "speech", "narrator", "旁白", "周小四解释到。"),
    (2, 151, "speech", "guest", "周小四", "就好像考试做题"),
    (2, 151, "speech", "narrator", "旁白", "四爷举了一个例子来说明“做项目”和“做产品”的不同。"),
    (2, 153, "speech", "narrator", "旁白", "在他看来,也正是这些企业以“做项目”的心态"),
    (2, 179, "highlight", "narrator", "旁白", "这种开放的策略"),
    (2, 181, "speech", "narrator", "旁白", "此外,四爷表示,KubeSphere 的开源也是符合用户利益的"),
    (2, 187, "speech", "narrator", "旁白", "周小四说,"),
    (2, 187, "speech", "guest", "周小四", "QKE 是我们在 KubeSphere"),
    (2, 189, "speech", "guest", "周小四", "从一开始做我们就知道"),
    (2, 191, "speech", "narrator", "旁白", "进一步的,在 QKE 之上"),
    (2, 191, "speech", "guest", "周小四", "QKS 也在 KubeSphere 之上"),
    (2, 193, "chapter", "narrator", "旁白", "尾声"),
    (2, 195, "speech", "narrator", "旁白", "或许都是技术人吧"),
    # 3 王旭: narrative with pull quotes (not spoken twice)
    (3, 201, "speech", "narrator", "旁白", "6 月 25 日,我代表 Linux 中国社区团队"),
    (3, 211, "speech", "narrator", "旁白", "王旭,安全容器项目 runV 的创始人"),
    (3, 215, "chapter", "narrator", "旁白", "开源与初创"),
    (3, 217, "highlight", "narrator", "旁白", "要么就去加强容器"),
    (3, 219, "speech", "narrator", "旁白", "临近 2015 年,Docker 逐渐被业界主流所接受"),
    (3, 227, "highlight", "narrator", "旁白", "Kata 容器最大的意义在于推动了社区的发展。"),
    (3, 229, "speech", "narrator", "旁白", "王旭认为,Kata 容器最大的意义"),
    (3, 231, "highlight", "narrator", "旁白", "安全容器也让更多的业务使用容器变得可能。"),
    (3, 237, "speech", "narrator", "旁白", "现在有了“运行时类”"),
    (3, 243, "highlight", "narrator", "旁白", "容器领域正在逐渐往上层发展。"),
    (3, 257, "highlight", "narrator", "旁白", "要保证安全性"),
    (3, 267, "highlight", "narrator", "旁白", "开源对软件公司来说,是一件向死而生的事情。"),
    (3, 279, "highlight", "narrator", "旁白", "做初创公司,做有价值的东西是最重要的。"),
    (3, 283, "speech", "narrator", "旁白", "做初创公司,做有价值的东西是最重要的,而不是"),
    (3, 287, "speech", "narrator", "旁白", "最后,做开源项目也并不是说把代码开源出来就行了"),
    (3, 289, "highlight", "narrator", "旁白", "作为一个开源项目来说"),
    (3, 295, "chapter", "narrator", "旁白", "结语"),
    (3, 297, "speech", "narrator", "旁白", "作为国内少数的基础设施方面"),
    # 4 叶理灯: labelled Q&A with 记者; a label that lost its colon
    (4, 303, "speech", "narrator", "旁白", "前段时间,笔者参加了 UCloud"),
    (4, 305, "highlight", "narrator", "旁白", "叶理灯,UCloud实验室负责人"),
    (4, 307, "speech", "narrator", "旁白", "叶理灯,UCloud 实验室负责人。"),
    (4, 309, "chapter", "narrator", "旁白", "定制违背了 K8S 初衷,提供原生 K8S 产品"),
    (4, 311, "speech", "host", "记者", "在官方的 K8S 发行版之上"),
    (4, 313, "speech", "guest", "叶理灯", "如果说定制 K8S 的话"),
    (4, 315, "speech", "guest", "叶理灯", "我为什么说不应该定制呢?"),
    (4, 317, "speech", "guest", "叶理灯", "作为云厂商其实最重要的工作是"),
    (4, 323, "speech", "guest", "叶理灯", "综上,向用户应该提供原生的"),
    (4, 325, "chapter", "narrator", "旁白", "K8S 落地挑战:改造成本和人才问题"),
    (4, 327, "speech", "host", "记者", "你觉得目前国内云厂商提供的"),
    (4, 329, "speech", "guest", "叶理灯", "K8S 以容器技术为核心"),
    (4, 335, "speech", "guest", "叶理灯", "最后,K8S 本身也在发展"),
    (4, 337, "chapter", "narrator", "旁白", "容器与 Serverless:覆盖场景不同,非替换关系"),
    (4, 339, "speech", "host", "记者", "你觉得现在目前 Serverless 的发展"),
    (4, 351, "speech", "host", "记者", "目前,国内客户对 Serverless"),
    (4, 353, "speech", "guest", "叶理灯", "我觉得在国内还是处于起步"),
    (4, 363, "speech", "host", "记者", "目前 UK8S 的主要发展方向"),
    (4, 367, "speech", "guest", "叶理灯", "目前 UK8S 插件还属于"),
    (4, 371, "speech", "guest", "叶理灯", "虚拟化容器。"),
    (4, 373, "chapter", "narrator", "旁白", "尾声"),
    (4, 375, "speech", "narrator", "旁白", "通过和叶理灯的交谈"),
    # 5 鲁直: role introductions, multi-paragraph quotes, a "鲁直:" label
    (5, 377, "speech", "narrator", "旁白", "二月初春,在西子湖畔的细雨中"),
    (5, 381, "chapter", "narrator", "旁白", "人物介绍"),
    (5, 383, "speech", "narrator", "旁白", "受访者:鲁直,蚂蚁金服 SOFA 开源负责人。"),
    (5, 385, "speech", "narrator", "旁白", "采访者:老王,开源布道人"),
    (5, 391, "speech", "narrator", "旁白", "当然,作为技术负责人"),
    (5, 393, "speech", "guest", "鲁直", "我觉得做技术管理"),
    (5, 395, "speech", "narrator", "旁白", "我以前也做过十余年的技术管理"),
    (5, 399, "speech", "narrator", "旁白", "就我了解的情况"),
    (5, 401, "speech", "guest", "鲁直", "从整个业界趋势上来讲"),
    (5, 401, "speech", "narrator", "旁白", "鲁直讲到,"),
    (5, 401, "speech", "guest", "鲁直", "但是,从我们对业界的整体判断上来说"),
    (5, 403, "speech", "narrator", "旁白", "接着这个话题,鲁直讲了他对云计算的理解:"),
    (5, 403, "speech", "guest", "鲁直", "一方面云计算肯定要为整个业务的发展"),
    (5, 405, "speech", "guest", "鲁直", "我们希望在 SOFA5 的方向上"),
    (5, 405, "speech", "narrator", "旁白", "鲁直说。"),
    (5, 409, "speech", "guest", "鲁直", "目前我们我们已经在生产环境中应用了"),
    (5, 411, "speech", "narrator", "旁白", "Service Mesh 这个词最早是由"),
    (5, 422, "speech", "guest", "鲁直", "Serverless 更多的还是应该聚焦"),
    (5, 424, "speech", "narrator", "旁白", "Serverless 这个概念虽然提出来已经有几年了"),
    (5, 434, "highlight", "narrator", "旁白", "我们希望能够在我们进行了生产验证之后"),
    (5, 436, "speech", "guest", "鲁直", "我们希望能够在我们进行了生产验证之后"),
    (5, 448, "speech", "narrator", "旁白", "具体来说,"),
    (5, 448, "speech", "guest", "鲁直", "阿里巴巴的 Seata 提供是 AT 模式"),
    (5, 456, "speech", "guest", "鲁直", "首先,最基础的肯定是代码"),
    (5, 456, "speech", "narrator", "旁白", "鲁直说。"),
    (5, 470, "highlight", "narrator", "旁白", "谈话中,鲁直反问的“你为什么不开源?”"),
    (5, 472, "speech", "narrator", "旁白", "谈话中,鲁直反问的“你为什么不开源?”这句话让我印象深刻,"),
    (5, 474, "speech", "narrator", "旁白", "对这个问题,显然他有过成熟的思考:"),
    (5, 476, "speech", "guest", "鲁直", "最直接的好处就是更长效。"),
    (5, 478, "speech", "guest", "鲁直", "另外,有了这样的一个社区化的发展"),
    (5, 480, "speech", "guest", "鲁直", "最后,如果你的产品有商业化的支持"),
    (5, 482, "speech", "narrator", "旁白", "SOFA 开源以来"),
    (5, 488, "speech", "guest", "鲁直", "其实蚂蚁金服开源的东西"),
    # 6 杨镭: labelled Q&A with 老王; answers over many paragraphs; editor's highlights
    (6, 494, "speech", "narrator", "旁白", "你问我相信什么样的事情?"),
    (6, 496, "speech", "narrator", "旁白", "去年,作为《穿山甲专访》系列采访之一"),
    (6, 500, "skip", "narrator", "旁白", "【图:现场采访图】"),
    (6, 502, "chapter", "narrator", "旁白", "第一章 一位技术人员的成长史"),
    (6, 504, "speech", "narrator", "旁白", "话题是先从杨镭先生的技术背景"),
    (6, 506, "speech", "host", "老王", "是否可以请先介绍一下"),
    (6, 508, "speech", "guest", "杨镭", "我结合 UCloud 整个技术发展的情况"),
    (6, 516, "speech", "guest", "杨镭", "我们当时认为,运维应该走到一线"),
    (6, 518, "chapter", "narrator", "旁白", "?从一封未发出的邮件说起…"),
    (6, 520, "speech", "guest", "杨镭", "当时我离开盛大的时候"),
    (6, 524, "speech", "guest", "杨镭", "那时候出来,我们就是想把云这个事情做好。"),
    (6, 526, "chapter", "narrator", "旁白", "践行新技术,到处吃螃蟹"),
    (6, 534, "speech", "guest", "杨镭", "一方面技术要做好"),
    (6, 542, "speech", "guest", "杨镭", "差不多我的技术历程就是这样的"),
    (6, 544, "chapter", "narrator", "旁白", "第二章 技术观与价值观"),
    (6, 546, "speech", "host", "老王", "你作为 UCloud 的技术负责人"),
    (6, 548, "chapter", "narrator", "旁白", "「能力」——用工程能力解决技术问题"),
    (6, 558, "speech", "guest", "杨镭", "你看,这本身是一个非常深入的技术问题"),
    (6, 560, "highlight", "narrator", "旁白", "用架构、用工程能力去解决了一个隐藏很深的技术问题"),
    (6, 562, "speech", "guest", "杨镭", "这是一种变换的能力。"),
    (6, 566, "chapter", "narrator", "旁白", "「尝试」——当时胆子真的太大了,走得很前面"),
    (6, 584, "speech", "guest", "杨镭", "实际上这不是纯技术的问题"),
    (6, 588, "chapter", "narrator", "旁白", "「价值观」——我们相信云计算是长远的"),
    (6, 590, "speech", "host", "老王", "你刚才介绍了 UCloud 的情况"),
    (6, 596, "highlight", "narrator", "旁白", "树立了一个自己的独特价值观"),
    (6, 600, "speech", "guest", "杨镭", "所有的这些事情其实都是归纳到一点"),
    (6, 602, "chapter", "narrator", "旁白", "第三章 尾声"),
    (6, 604, "speech", "host", "老王", "做这个专访"),
    (6, 606, "speech", "host", "老王", "我觉得今天你婉拒了很多采访的邀约"),
    (6, 608, "speech", "guest", "杨镭", "我从一个运维人员走到现在"),
]


def _find(turns: tuple[Turn, ...], line: int, prefix: str) -> Turn:
    for t in turns:
        if t.line == line and t.text.startswith(prefix):
            return t
    have = [(t.kind, t.speaker, t.text[:20]) for t in turns if t.line == line]
    raise AssertionError(f"line {line}: no turn starts with {prefix!r}; have {have}")


def test_gold_list_is_big_enough() -> None:
    assert len(GOLD) >= 60
    assert {g[0] for g in GOLD} == {1, 2, 3, 4, 5, 6}


@pytest.mark.parametrize(("ep", "line", "kind", "role", "speaker", "prefix"), GOLD)
def test_gold_turn(
    analysis: ArticleAnalysis, ep: int, line: int, kind: str, role: str, speaker: str, prefix: str
) -> None:
    turn = _find(analysis.episodes[ep - 1].episode.turns, line, prefix)
    assert (turn.kind, turn.role, turn.speaker) == (kind, role, speaker)


def test_six_episodes_with_hosts_and_guests(analysis: ArticleAnalysis) -> None:
    assert len(analysis.episodes) == 6
    assert [pe.guests for pe in analysis.episodes] == [
        ("余淮",),
        ("周小四",),
        ("王旭",),
        ("叶理灯",),
        ("鲁直",),
        ("杨镭",),
    ]
    roles = [pe.speakers for pe in analysis.episodes]
    assert roles[3] == {"记者": "host", "叶理灯": "guest"}
    assert roles[5] == {"老王": "host", "杨镭": "guest"}
    assert analysis.host == "老王"
    assert analysis.column == "穿山甲专访"


def test_parse_json_shape(text: str) -> None:
    doc = to_parse_json(parse_article(text, str(CORPUS)))
    assert len(doc["episodes"]) == 6
    for ep in doc["episodes"]:
        for t in ep["turns"]:
            assert set(t) == {"kind", "role", "speaker", "text"}
            assert t["kind"] in ("speech", "chapter")
            assert t["role"] in ("host", "guest", "narrator")
    qa = {(t["speaker"], t["role"]) for e in doc["episodes"] for t in e["turns"]}
    assert {("老王", "host"), ("记者", "host"), ("杨镭", "guest"), ("叶理灯", "guest")} <= qa


def test_long_answers_stay_with_the_guest(analysis: ArticleAnalysis) -> None:
    """杨镭's answer from line 528 runs over eight paragraphs, all his."""
    turns = analysis.episodes[5].episode.turns
    run = [t for t in turns if 528 <= (t.line or 0) <= 542]
    assert len(run) == 8
    assert {(t.speaker, t.role) for t in run} == {("杨镭", "guest")}


def test_nickname_resolved_consistently(analysis: ArticleAnalysis) -> None:
    speakers = {t.speaker for t in analysis.episodes[1].episode.turns}
    assert "周小四" in speakers
    assert "四爷" not in speakers


def test_guests_of_narratives_only_speak_quoted_words(text: str, analysis: ArticleAnalysis) -> None:
    """In the narrative pieces a guest's words always stood between quotation marks (or in
    a paragraph continuing a quotation), and no attribution ("四爷介绍说") is theirs."""
    order = [p.line for p in split_paragraphs(text)]
    paras = {p.line: p.text for p in split_paragraphs(text)}
    for n in (0, 1, 2, 4):
        turns = analysis.episodes[n].episode.turns
        guest_lines = {t.line for t in turns if t.role == "guest"}
        for t in turns:
            if t.role != "guest":
                continue
            at = order.index(t.line or 0)
            inside = order[at - 1] in guest_lines and order[at + 1] in guest_lines
            quoted = any(q in paras[t.line or 0] for q in "“”")
            assert quoted or inside, (t.line, t.text[:20])
            assert not re.search(r"(说|表示|介绍说|解释到)[,,。]?$", t.text), t.text
    assert not any(t.role == "guest" for t in analysis.episodes[0].episode.turns)
    assert not any(t.role == "guest" for t in analysis.episodes[2].episode.turns)


def test_footer_becomes_one_outro_per_episode(analysis: ArticleAnalysis) -> None:
    assert len(analysis.footer) == 2
    assert analysis.footer[0].startswith("“穿山甲专访”栏目是")
    for pe in analysis.episodes:
        outro = [t for t in pe.episode.turns if t.outro]
        assert [t.text for t in outro] == list(analysis.footer)
        assert all((t.role, t.kind) == ("narrator", "speech") for t in outro)
        assert pe.episode.turns[-len(outro) :] == tuple(outro)
        body = [t.text for t in pe.episode.turns if not t.outro]
        assert not any(f in b for f in analysis.footer for b in body)
    # the 叶理灯 interview has no footer in the source: its outro is the column's
    assert analysis.episodes[3].footer_lines == ()
    assert analysis.episodes[0].footer_lines == (84, 86)


def test_split_without_footer_is_guessed_and_warned(text: str) -> None:
    found = analyse_article(text, str(CORPUS))
    assert any(w.startswith("line 377:") for w in found.warnings), found.warnings
    episodes = [pe.episode for pe in found.episodes]
    assert episodes[4].turns[0].line == 377
    assert episodes[3].turns[-3].line == 375


_GAP_OK = re.compile(r"^[\W_]*$")


def _lost(source: str, pieces: list[str], labels: set[str]) -> list[str]:
    """Characters of ``source`` not covered by ``pieces`` (in order), ignoring whitespace,
    punctuation and quotation marks between pieces, and speaker labels."""
    src = re.sub(r"\s+", "", source)
    pos = 0
    lost: list[str] = []
    for piece in pieces:
        p = re.sub(r"\s+", "", piece)
        at = src.find(p, pos)
        if at < 0:
            return [f"not in source: {piece[:30]}"]
        lost.append(src[pos:at])
        pos = at + len(p)
    lost.append(src[pos:])
    out = []
    for gap in lost:
        for label in sorted(labels, key=len, reverse=True):
            gap = gap.replace(label, "")
        if not _GAP_OK.match(gap):
            out.append(gap)
    return out


def test_every_character_of_the_source_is_covered(text: str, analysis: ArticleAnalysis) -> None:
    by_line: dict[int, list[Turn]] = {}
    for pe in analysis.episodes:
        for t in pe.episode.turns:
            if t.line is not None:
                by_line.setdefault(t.line, []).append(t)
    labels = {s for pe in analysis.episodes for s in pe.speakers}
    covered = total = 0
    for para in split_paragraphs(text):
        turns = by_line.get(para.line, [])
        assert turns, f"line {para.line} produced no turn"
        lost = _lost(para.text, [t.text for t in turns], labels)
        assert not lost, f"line {para.line}: lost {lost}"
        flat = re.sub(r"\s+", "", para.text)
        total += len(flat)
        covered += sum(len(re.sub(r"\s+", "", t.text)) for t in turns)
    assert covered / total > 0.99


def test_no_sentence_is_spoken_twice(analysis: ArticleAnalysis) -> None:
    for pe in analysis.episodes:
        spoken = [t.text for t in pe.episode.turns if t.spoken and len(t.text) >= 20]
        assert len(spoken) == len(set(spoken))


@pytest.mark.parametrize("n", range(6))
def test_golden(analysis: ArticleAnalysis, update_golden: bool, n: int) -> None:
    pe = analysis.episodes[n]
    path = GOLDEN / f"{make_slug(pe.guests, n + 1)}.json"
    got = json.dumps(to_parse_json([pe.episode]), ensure_ascii=False, indent=1) + "\n"
    if update_golden:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run pytest --update-golden"
    assert path.read_text(encoding="utf-8") == got
