"""normalize_for_speech: a table of real sentences from the corpus, each with its exact reading."""

from __future__ import annotations

from pathlib import Path

import pytest

from pangocast.voice.normalize import digits_zh, normalize_for_speech, number_zh, split_sentences

CORPUS = Path(__file__).parent / "data" / "chuanshanjia.txt"

# (written, as it must be read) — every "written" is a phrase of tests/data/chuanshanjia.txt.
CORPUS_CASES = [
    (
        "老王在参加上海举办的 KubeCon 2019 时,遇到了蚂蚁金服 SOFA 团队的余淮",
        "老王在参加上海举办的 KubeCon 二零一九时，遇到了蚂蚁金服 SOFA 团队的余淮",
    ),
    ("2018 年,SOFAStack 开始开源之后", "二零一八年，SOFAStack 开始开源之后"),
    ("目前,SOFA 的架构已经发展到 SOFA 5 阶段", "目前，SOFA 的架构已经发展到 SOFA 五阶段"),
    (
        "已经发展到了 SOFA5 了。在 SOFA4 阶段,主要的任务",
        "已经发展到了 SOFA 五了。在 SOFA 四阶段，主要的任务",
    ),
    (
        "余淮说,从 2015 年开始,蚂蚁金服开启了金融科技对外输出的战略",
        "余淮说，从二零一五年开始，蚂蚁金服开启了金融科技对外输出的战略",
    ),
    ("到 2017 年双十一结束后正式决定开源。", "到二零一七年双十一结束后正式决定开源。"),
    (
        "经过了一系列的准备,2018 年 4 月,完成了对 SOFA 项目的满足了开源改造",
        "经过了一系列的准备，二零一八年四月，完成了对 SOFA 项目的满足了开源改造",
    ),
    (
        "1. 首先需要将 SOFARPC 进行了一次核心接口和模型",
        "第一，首先需要将 SOFARPC 进行了一次核心接口和模型",
    ),
    ("开源至今社区已经有 120 多位贡献者共建社区", "开源至今社区已经有一百二十多位贡献者共建社区"),
    (
        "全国五个城市举办了 7 场,共有一千多人到现场;也会举",
        "全国五个城市举办了七场，共有一千多人到现场；也会举",
    ),
    ("包括国外的 light4j 等。", "包括国外的 light4j 等。"),
    ("青云QingCloud 从 2012 年公司创立的那一刻", "青云QingCloud 从二零一二年公司创立的那一刻"),
    (
        "四爷对此的解释说,“2013 年才提出的 Docker 虽然很年轻",
        "四爷对此的解释说，二零一三年才提出的 Docker 虽然很年轻",
    ),
    ("一共十道题,每道题 10 分。", "一共十道题，每道题十分。"),
    (
        "而我们即使只做了 6 道题,但是每道题都是 10 分。",
        "而我们即使只做了六道题，但是每道题都是十分。",
    ),
    ("从 2017 年 6 月开始,周小四便开始", "从二零一七年六月开始，周小四便开始"),
    ("终于在同年 6 月正式发布了 KubeSphere", "终于在同年六月正式发布了 KubeSphere"),
    ("他们又进行了 5 个月的研发迭代", "他们又进行了五个月的研发迭代"),
    ("而在 2018 年的 12 月发布", "而在二零一八年的十二月发布"),
    (
        "KubeSphere 高级版 2.0 中,融合了更多的企业级特性。",
        "KubeSphere 高级版二点零中，融合了更多的企业级特性。",
    ),
    ("6 月 25 日,我代表 Linux 中国社区团队参加", "六月二十五日，我代表 Linux 中国社区团队参加"),
    ("次 KubeCon 2019(上海)峰会,期间有", "次 KubeCon 二零一九，上海，峰会，期间有"),
    ("这次我带队参加了 6 月 24 ~ 26 日的 KubeCo", "这次我带队参加了六月二十四到二十六日的 KubeCo"),
    ("创立于 2015 年的 runV 项目", "创立于二零一五年的 runV 项目"),
    ("2016 年 8 月份,在西雅图", "二零一六年八月份，在西雅图"),
    ("把原来的 2N+2 个辅助进程变成了一个", "把原来的二 N 加两个辅助进程变成了一个"),
    (
        "2014 年 AWS 在拉斯维加斯的 re:Invent 大会发布 Lambda",
        "二零一四年 AWS 在拉斯维加斯的 re:Invent 大会发布 Lambda",
    ),
    (
        "在京举办的 TIC 2019 大会,适逢 UCloud 实验室负责人叶理灯的",
        "在京举办的 TIC 二零一九大会，适逢 UCloud 实验室负责人叶理灯的",
    ),
    (
        "叶理灯拥有 10 年以上丰富的互联网研发经验,先后任职",
        "叶理灯拥有十年以上丰富的互联网研发经验，先后任职",
    ),
    (
        "UCloud 的 K8S 发行版 UK8S 主要做了哪些定制,有什么特色",
        "UCloud 的 K8S 发行版 UK8S 主要做了哪些定制，有什么特色",
    ),
    ("一个开箱即用的原生K8S集群等等。", "一个开箱即用的原生K8S集群等等。"),
    ("它的渗透率是 72%,什么原因呢?", "它的渗透率是百分之七十二，什么原因呢？"),
    ("跟国外也有差距,有 5、6 年差距;其次,", "跟国外也有差距，有五、六年差距；其次"),
    ("它主要是 S3 上的图片处理", "它主要是 S 三上的图片处理"),
    ("有 20 年互联网从业经历的技术老兵。", "有二十年互联网从业经历的技术老兵。"),
    ("刚开始是在 1688.COM 做业务系统,", "刚开始是在一六八八点COM 做业务系统"),
    ("后来在 2013年时,为了更深入地学习", "后来在二零一三年时，为了更深入地学习"),
    ("趋势上来讲,SOFA4 的架构相对来说还是", "趋势上来讲，SOFA 四的架构相对来说还是"),
    ("2019 年 1 月,基于技术积累,", "二零一九年一月，基于技术积累"),
    ("在 Seata 0.4.0 版本中加入了 TC", "在 Seata 零点四点零版本中加入了 TC"),
    ("大概已经有 30 家左右的企业用户在使用", "大概已经有三十家左右的企业用户在使用"),
    ("宕机一台就是 50% 的服务不可用,然后", "宕机一台就是百分之五十的服务不可用，然后"),
    (
        "我们大概花了 2-3 天的时间,我们把两台集中式的服务器变成",
        "我们大概花了两到三天的时间，我们把两台集中式的服务器变成",
    ),
    ("在早上 7 点钟的时候,公司有人来上班了,我就", "在早上七点钟的时候，公司有人来上班了，我就"),
    ("比如说 10 秒钟的包——因为不能长抓,长抓的量", "比如说十秒钟的包，因为不能长抓，长抓的量"),
    ("我们大概会在 1 年多后完成大部分云", "我们大概会在一年多后完成大部分云"),
    ("蚂蚁金服已经走过了 12 年的时间了。", "蚂蚁金服已经走过了十二年的时间了。"),
    ("去 AWS 的 EC2 虚拟机中抓包", "去 AWS 的 EC 二虚拟机中抓包"),
    (
        "SOFA 团队给开源定的策略叫「 开源核心 Open Core 」,顾名思义",
        "SOFA 团队给开源定的策略叫开源核心 Open Core，顾名思义",
    ),
    ("余淮(左)和老王(右)在 KubeCon 2019", "余淮，左，和老王，右，在 KubeCon 二零一九"),
    (
        "大约是 2012年的时候——这是我现在回过头来看一开始",
        "大约是二零一二年的时候，这是我现在回过头来看一开始",
    ),
]

# Forms the corpus lacks but the brief names (full-width digits, 〇, times, dates...).
EXTRA_CASES = [
    ("２０１９ 年", "二零一九年"),
    ("１２０ 多位", "一百二十多位"),
    ("〇", "零"),
    ("二〇一九年", "二零一九年"),
    ("3:00 开会", "三点开会"),
    ("下午 3:30 开始", "下午三点三十分开始"),
    ("2019-06-12", "二零一九年六月十二日"),
    ("2019/6/1 发布", "二零一九年六月一日发布"),
    ("35.5%", "百分之三十五点五"),
    ("1.5 倍", "一点五倍"),
    ("10%-20% 的用户", "百分之十到百分之二十的用户"),
    ("5G 网络", "五 G 网络"),
    ("1,000 人", "一千人"),
    ("第 2 名", "第二名"),
    ("2 个人", "两个人"),
    ("2000 人", "两千人"),
    ("v1.2 版本", "v 一点二版本"),
    ("**重点**:【注意】", "重点：注意"),
    ("• 第一项", "第一项"),
    ("## 标题\n正文", "标题。正文"),
    ("Kubernetes, Docker 和 Mesos", "Kubernetes, Docker 和 Mesos"),
    ("他说:好!", "他说：好！"),
]


@pytest.mark.parametrize(("written", "spoken"), CORPUS_CASES)
def test_corpus_sentences_read_right(written: str, spoken: str) -> None:
    assert normalize_for_speech(written) == spoken


@pytest.mark.parametrize(("written", "spoken"), EXTRA_CASES)
def test_other_forms_read_right(written: str, spoken: str) -> None:
    assert normalize_for_speech(written) == spoken


def test_the_table_really_comes_from_the_corpus() -> None:
    corpus = CORPUS.read_text(encoding="utf-8")
    missing = [w for w, _ in CORPUS_CASES if w.strip() not in corpus]
    assert missing == []
    assert len(CORPUS_CASES) >= 40


def test_whole_corpus_is_idempotent_fast_and_digit_free() -> None:
    import re
    import time

    text = CORPUS.read_text(encoding="utf-8")
    started = time.perf_counter()
    once = normalize_for_speech(text)
    assert time.perf_counter() - started < 1.0
    assert normalize_for_speech(once) == once
    # Digits survive only inside Latin words (K8S, UK8S, light4j), for the English voice.
    leftovers = set(re.findall(r"[A-Za-z]*\d+[A-Za-z]*", once))
    assert leftovers and all(re.fullmatch(r"[A-Za-z]+\d+[A-Za-z]+", w) for w in leftovers)
    assert not re.search(r"[，。！？；：、]{2,}", once)


@pytest.mark.parametrize(
    ("n", "spoken"),
    [
        (0, "零"), (7, "七"), (10, "十"), (12, "十二"), (20, "二十"), (101, "一百零一"),
        (110, "一百一十"), (120, "一百二十"), (1001, "一千零一"), (2000, "两千"),
        (2020, "两千零二十"), (10001, "一万零一"), (20000, "两万"), (1100000, "一百一十万"),
        (100000000, "一亿"), (123456789, "一亿二千三百四十五万六千七百八十九"),
    ],
)  # fmt: skip
def test_cardinals(n: int, spoken: str) -> None:
    assert number_zh(n) == spoken


def test_cardinal_rejects_negative_and_digits_read_one_by_one() -> None:
    with pytest.raises(ValueError):
        number_zh(-1)
    assert digits_zh("2019") == "二零一九"


def test_split_sentences_keeps_marks_and_limits_length() -> None:
    assert split_sentences("第一句。第二句！第三句？第四；五", 120) == [
        "第一句。", "第二句！", "第三句？", "第四；", "五",
    ]  # fmt: skip
    pieces = split_sentences("一二三四五，六七八九十，一二三四五六七八九十。短句。", 8)
    assert pieces == ["一二三四五，", "六七八九十，", "一二三四五六七八", "九十。", "短句。"]
    assert all(len(p) <= 8 for p in pieces)
    assert split_sentences("  \n\n", 10) == []
    with pytest.raises(ValueError):
        split_sentences("x", 0)


def test_split_sentences_of_corpus_never_exceeds_the_limit() -> None:
    text = normalize_for_speech(CORPUS.read_text(encoding="utf-8"))
    pieces = split_sentences(text, 120)
    assert max(len(p) for p in pieces) <= 120
    assert "".join(pieces) == text.replace("\n", "")
