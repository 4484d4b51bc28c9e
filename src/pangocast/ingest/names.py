"""Names in articles: what a person's name looks like (Chinese and Latin-script), the
words around names that are not part of them (honorifics, titles, sentence starters), the
short forms an article uses for a full name, and the English sentences that introduce who
asks and who answers.

Everything here is generic: a general list of surnames and words, never a list of people.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pangocast.core.models import Role
from pangocast.ingest.text import is_cjk

LATIN_WORD = r"[A-ZÀ-ÖØ-Þ](?:\.|[\w'’\-]*)"

_LATIN_PARTICLE = r"(?:van|von|der|den|de|del|della|da|di|du|la|le|bin|al|el|ter|ten)"

LATIN_NAME = rf"{LATIN_WORD}(?: (?:{_LATIN_PARTICLE} )*{LATIN_WORD}){{1,3}}"
"""A Latin-script full name: capitalised words with spaces ("Jane Doe", "Ludwig van Beek")."""

HONORIFICS = ("先生", "女士", "老师", "博士", "教授", "同学")

LATIN_HONORIFICS = ("Mr.", "Mrs.", "Ms.", "Mx.", "Dr.", "Prof.", "Mr", "Mrs", "Ms", "Dr", "Prof")

_FUNCTION_CHARS = frozenset(
    "的了是在都会也就我你他她它们这那有不很要能和与对把被从等个些么什怎哪为因所而且但如果"
    "并还说表认指讲谈到之其此该每各来去着过吗呢吧啊让使将或者"
)

_NOT_NAME_WORDS = (
    "大家 有人 别人 对方 官方 业界 外界 公司 团队 专家 用户 客户 网友 "
    "媒体 比如 例如 譬如 具体 一般 简单 坦白 老实 总体 同时 最后 首先 "
    "其次 另外 此外 然后 后来 当时 现在 目前 如今 今天 所以 因此 虽然 "
    "不过 可以 应该 需要 正如 就像 好像 有些 很多 许多 一些 一位 一开始 "
    "或者 记者 笔者 作者 编者 主持人 受访者 嘉宾 报道 文章 本文 总结 举例 "
    "坦言 补充 "
)
"""Words that stand where a name would ("大家说", "比如说"), never a person."""

_NOT_NAMES = frozenset(_NOT_NAME_WORDS.split())

_NOT_LATIN_NAMES = frozenset(
    [
        "Editor's Note",
        "Editor’s Note",
        "Interview By",
        "Photo Credit",
        "Image Credit",
        "Key Points",
        "Read More",
        "Related Articles",
        "Further Reading",
        "Table Of Contents",
    ]
)

SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳"
    "甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解"
    "牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米杭"
)
"""Common Chinese surnames (a general linguistic list, not anyone in particular)."""

_TITLES = [
    "联合创始人",
    "创始人",
    "前同事",
    "老同事",
    "同事",
    "记者",
    "投资人",
    "合伙人",
    "总裁",
    "副总裁",
    "经理",
    "总监",
    "工程师",
    "架构师",
    "教授",
    "研究员",
    "朋友",
    "老友",
    "妻子",
    "丈夫",
    "太太",
    "学生",
    "负责人",
    "主管",
    "员工",
    "老板",
    "导师",
    "同学",
    "用户",
    "客户",
    "网友",
    "董事长",
    "总经理",
    "主编",
    "编辑",
    "作者",
    "律师",
    "医生",
    "分析师",
    "发言人",
    "代表",
    "CEO",
    "CTO",
    "COO",
    "CFO",
    "VP",
]

_TITLES_RE = re.compile(r"^(?:.{0,12}?的)?(?:" + "|".join(_TITLES) + r")\s*")

_LATIN_TITLE_RE = re.compile(
    r"^(?:(?:co-?)?founder|CEO|CTO|COO|CFO|VP|chief \w+ officer|colleague|engineer|"
    r"professor|investor|analyst|spokesperson|director|manager|editor)\s+(?=[A-Z])",
    re.I,
)


def strip_title(name: str) -> str:
    """A person's name without the role word before it ("同事刘佳" -> "刘佳",
    "团队的早期投资人王强" -> "王强", "CEO Jane Doe" -> "Jane Doe")."""
    bare = _LATIN_TITLE_RE.sub("", name)
    if bare != name:
        return bare
    m = _TITLES_RE.match(name)
    if m and len(name) - m.end() >= 2:
        return name[m.end() :]
    return name


def is_latin_name(name: str) -> bool:
    """A Latin-script name: capitalised words ("Jane Doe", "Lindqvist")."""
    return bool(re.fullmatch(rf"{LATIN_WORD}(?: (?:{_LATIN_PARTICLE} )*{LATIN_WORD}){{0,3}}", name))


def strip_honorific(name: str) -> str:
    """``name`` without a trailing "先生"/"女士"/… or a leading "Dr."/"Ms."/… (kept when
    nothing else is left)."""
    for lh in LATIN_HONORIFICS:
        if name.startswith(lh + " ") and len(name) > len(lh) + 2:
            return name[len(lh) + 1 :].strip()
    for h in HONORIFICS:
        if name.endswith(h) and len(name) > len(h) + 1:
            return name[: -len(h)]
    return name


def plausible_name(name: str) -> bool:
    """Could ``name`` be a person's name or nickname (not prose, not a function word)?"""
    if not name or name in _NOT_NAMES:
        return False
    if any(c.isspace() for c in name):
        return len(name) <= 40 and is_latin_name(name) and name not in _NOT_LATIN_NAMES
    if len(name) > 12:
        return False
    cjk = [c for c in name if "\u4e00" <= c <= "\u9fff"]
    if cjk:
        return 2 <= len(name) <= 6 and not any(c in _FUNCTION_CHARS for c in name)
    return name[0].isalpha()


_EN_INTRO_BY = re.compile(
    r"(?:^(?:An? )?(?:Interview(?:ed)?|Hosted|Moderated|Conducted|Questions) by "
    r"|\b(?:interviewed|hosted|moderated|conducted|led) by )"
    rf"(?P<host>{LATIN_NAME})"
)

_PAREN = r"(?:\s*[((][^))]{1,30}[))])?"

_EN_TALKED = re.compile(
    rf"(?P<host>{LATIN_NAME}|I|We){_PAREN} (?:talked|talks|spoke|speaks|chatted|chats"
    rf"|sat down|sits down|caught up|met|meets)(?: remotely| recently| last \w+)? (?:to|with) "
    rf"(?P<guest>{LATIN_NAME}|{LATIN_WORD}|her|him|them)\b"
)

_POSSESSOR_RE = re.compile(r"^.*[’']s\s+(?=[A-Z])")

_EN_INTERVIEWS = re.compile(
    rf"(?P<host>{LATIN_NAME}) (?:interviews|interviewed) (?P<guest>{LATIN_NAME})"
)


def latin_heavy(text: str) -> bool:
    """``text`` is mostly in a Latin script (over three ASCII letters per CJK character)."""
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    return latin > 3 * sum(1 for c in text if is_cjk(c))


def english_intro_roles(text: str) -> dict[str, Role]:
    """Roles an English intro sentence gives: "Interview by X" (host), "X talked to Y",
    "X interviewed Y" (host and guest)."""
    out: dict[str, Role] = {}
    for m in _EN_INTRO_BY.finditer(text.strip()):
        out[strip_honorific(m.group("host"))] = "host"
    for rx in (_EN_TALKED, _EN_INTERVIEWS):
        for m in rx.finditer(text):
            # "The Courier's Kate Moreno sat down with Fitch" -> Kate Moreno
            host = _POSSESSOR_RE.sub("", m.group("host"))
            guest = _POSSESSOR_RE.sub("", m.group("guest"))
            if host not in ("I", "We") and plausible_name(host):
                out.setdefault(strip_honorific(host), "host")
            if guest not in ("her", "him", "them") and plausible_name(guest):
                out.setdefault(strip_honorific(guest), "guest")
    for m in _ZH_HOST_RE.finditer(text):  # "本刊记者陶然与叶知秋聊了聊", "主持人陈晓东来到…"
        name = m.group("name")
        if name[0] in SURNAMES and plausible_name(name):
            out.setdefault(name, "host")
    return out


_ZH_HOST_RE = re.compile(
    r"(?:主持人|本报记者|本刊记者|本台记者|特约记者|记者|采访者|主播)\s*"
    r"(?P<name>[\u4e00-\u9fff]{2,3}?)(?=在|与|和|跟|来到|专访|采访|对话|走进|日前|近日|于|,|、|。|\s)"
)


def latin_aliases(names: Iterable[str], text: str) -> dict[str, str]:
    """Surnames and first names used alone ("Doe:") mapped to the full name ("Jane Doe")
    that the article gives them, when only one full name fits."""
    full = {n for n in names if " " in n and is_latin_name(n)}
    for m in re.finditer(LATIN_NAME, text):
        words = m.group(0).split()
        while words and words[0] in SENTENCE_STARTERS:
            words.pop(0)  # "When Elena Marsh joined" -> "Elena Marsh"
        if len(words) >= 2 and plausible_name(" ".join(words)):
            full.add(" ".join(words))
    full = {f for f in full if person_like(f)}
    out: dict[str, str] = {}
    for short in {n for n in names if n and " " not in n and is_latin_name(n)}:
        fits = {f for f in full if f.split()[-1] == short or f.split()[0] == short}
        fits = {f for f in fits if f in names} or fits
        if len(fits) == 1:
            out[short] = fits.pop()
        elif fits:
            # "Ortiz" after "Samuel Ortiz" and, later, "his daughter, Elena Ortiz": the one
            # the article named first, when it names him before the short form is used
            first = min(fits, key=lambda f: (_first_at(text, f), f))
            if _first_at(text, first) <= _first_at(text, short):
                out[short] = first
    return out


_INITIALS_RE = re.compile(rf"(?P<name>{LATIN_NAME})\s*[((](?P<short>[A-Z]{{2,4}})[))]")

_CJK_FULL_RE = re.compile(r"[\u4e00-\u9fff]{3}")


def short_aliases(labels: set[str], persons: set[str], text: str) -> dict[str, str]:
    """Labels that are a short form of a full name the article gives: initials ("Helen
    Marsh (HM)", or the initials of one full name), a name in capitals ("NATHAN COLE" ->
    "Nathan Cole"), a Chinese given name ("晓东" -> 陈晓东) or 老/小 + surname ("老周" ->
    周德厚)."""
    out: dict[str, str] = {}
    for m in _INITIALS_RE.finditer(text):
        out[m.group("short")] = strip_honorific(m.group("name"))
    fulls = {f for f in persons if " " in f and is_latin_name(f)}
    fulls |= {m.group(0) for m in re.finditer(LATIN_NAME, text) if person_like(m.group(0))}
    cjk = {f for f in persons | labels if len(f) == 3 and all(is_cjk(c) for c in f)}
    cjk |= {m.group(0) for m in _CJK_FULL_RE.finditer(text) if m.group(0)[0] in SURNAMES} & (
        persons | labels
    )
    for label in labels:
        if label in out:
            continue
        if re.fullmatch(r"[A-Z]{2,4}", label):
            fits = {f for f in fulls if "".join(w[0] for w in f.split()) == label}
        elif label.isupper() and " " in label:
            fits = {f for f in fulls if f.upper() == label and f != label} or {label.title()}
        elif len(label) == 2 and all(is_cjk(c) for c in label):
            fits = {
                f
                for f in cjk
                if f != label and (f[1:] == label or label in ("老" + f[0], "小" + f[0]))
            }
        else:
            continue
        if len(fits) == 1:
            out[label] = fits.pop()
    return out


def byline_name(text: str) -> str | None:
    """The writer a byline names ("By Kate Moreno, Staff Writer", "文 | 本报记者 沈一帆")."""
    t = text.strip().strip("*_ ")
    m = re.match(rf"(?i:by)\s+(?P<name>{LATIN_NAME})", t)
    if m:
        return m.group("name")
    m = re.match(
        r"^[((]?(?:文|作者|记者|撰文|采写|采访|文字)\s*[|｜/:：]?\s*"
        r"(?:本报记者|本刊记者|特约记者|记者)?\s*(?P<name>[\u4e00-\u9fff]{2,3})(?![\u4e00-\u9fff])",
        t,
    )
    return m.group("name") if m and m.group("name")[0] in SURNAMES else None


def _first_at(text: str, name: str) -> int:
    m = re.search(rf"\b{re.escape(name)}\b", text)
    return m.start() if m else len(text)


SENTENCE_STARTERS = frozenset(
    (
        "A",
        "After",
        "Although",
        "An",
        "And",
        "As",
        "Asked",
        "At",
        "Because",
        "Before",
        "But",
        "By",
        "Deputy",
        "Dr",
        "Even",
        "For",
        "He",
        "Her",
        "His",
        "How",
        "I",
        "If",
        "In",
        "It",
        "Like",
        "Mayor",
        "Mr",
        "Mrs",
        "Ms",
        "My",
        "Nor",
        "Now",
        "On",
        "Or",
        "Our",
        "Photographs",
        "Photos",
        "She",
        "Since",
        "So",
        "Still",
        "That",
        "The",
        "Their",
        "Then",
        "They",
        "This",
        "Though",
        "Today",
        "We",
        "What",
        "When",
        "Where",
        "While",
        "Who",
        "Why",
        "With",
        "Yet",
        "You",
        "Your",
    )
)
"""Capitalised words that start a sentence, not a name ("When Elena Marsh joined")."""

EN_SPEECH_VERB = (
    r"(?:says|said|adds|added|explains|explained|recalls|recalled|notes|noted|admits|admitted|"
    r"argues|argued|insists|insisted|tells (?:me|us|them|him|her)|told (?:me|us|them|him|her)|"
    r"asks|asked|jokes|joked|continues|continued|writes|wrote|agrees|agreed|remembers|"
    r"remembered|points out|pointed out|observes|observed|replies|replied|warns|warned|"
    r"concedes|conceded|acknowledges|acknowledged|puts it|put it|laughs|laughed|sighs|sighed|"
    r"told|tells|recounts|recounted|muses|mused|quips|quipped|suggests|suggested|believes|"
    r"believed|thinks|thought|wonders|wondered)"
)

_EN_SUBJECT_RE = re.compile(
    rf"(?P<a>{LATIN_NAME}|{LATIN_WORD})(?:,[^,\"“”]{{1,80}},)? {EN_SPEECH_VERB}\b"
    rf"|\b{EN_SPEECH_VERB} (?P<b>{LATIN_NAME}|{LATIN_WORD})"
)

_EN_NOT_SUBJECTS = frozenset(
    [
        "I",
        "We",
        "You",
        "He",
        "She",
        "It",
        "They",
        "This",
        "That",
        "There",
        "Nobody",
        "Somebody",
        "Someone",
        "Everyone",
        "Everybody",
        "People",
        "Others",
        "Critics",
        "Officials",
        "Experts",
        "Studies",
        "Reports",
        "The",
        "A",
        "An",
    ]
)

_QUOTED_RE = re.compile(r"“[^”]*”|\"[^\"]*\"")


def english_subjects(text: str) -> list[str]:
    """People named as the subject of an English speech verb ("Marsh says", "says Jane
    Doe", "Aisha Bello, who runs the team, adds"), in order."""
    out: list[str] = []
    text = _QUOTED_RE.sub(" ", text)  # who speaks inside a quotation is not a speaker here
    for m in _EN_SUBJECT_RE.finditer(text):
        name = strip_title(strip_honorific(m.group("a") or m.group("b")))
        if name.split()[0] in _EN_NOT_SUBJECTS or not plausible_name(name):
            continue
        out.append(name)
    return out


_NOT_PERSON_WORDS = frozenset(
    [
        "Street",
        "Avenue",
        "Road",
        "Library",
        "Libraries",
        "Shelter",
        "Family",
        "University",
        "College",
        "School",
        "Company",
        "Inc",
        "Corp",
        "Ltd",
        "Labs",
        "Lab",
        "Foundation",
        "Institute",
        "Museum",
        "Hall",
        "Park",
        "City",
        "County",
        "State",
        "Center",
        "Centre",
        "Bank",
        "Group",
        "Council",
        "Department",
        "Office",
        "Press",
        "Times",
        "Post",
        "News",
        "Weekly",
        "Magazine",
        "Journal",
        "Review",
        "Project",
        "Public",
        "System",
        "Systems",
    ]
)


def person_like(name: str) -> bool:
    """A Latin full name that reads as a person, not a place or an organisation."""
    words = name.split()
    return len(words) >= 2 and not any(w in _NOT_PERSON_WORDS for w in words)


def name_like(name: str) -> bool:
    """Starts with a common surname, or is a "老王"/"小李"/"四爷"-style name, or is Latin."""
    if not name:
        return False
    if name[0].isascii():
        return name[0].isupper()
    return name[0] in SURNAMES or name[0] in "老小阿" or name[-1] in "爷哥姐总"
