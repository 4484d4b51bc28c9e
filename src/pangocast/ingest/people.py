"""Who is who in an article: speaker labels, role introductions, people quoted in the
narration, nicknames, and which of them is the host and which the guests.

Everything here is generic: names come from the text's own structure (labels, "X 说",
"受访者:X", "人称“X”的 Y"), never from a list of known people.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pangocast.core.models import Role
from pangocast.ingest.names import (
    HONORIFICS,
    LATIN_NAME,
    LATIN_WORD,
    SENTENCE_STARTERS,
    SURNAMES,
    english_intro_roles,
    english_subjects,
    is_latin_name,
    latin_aliases,
    latin_heavy,
    name_like,
    person_like,
    plausible_name,
    short_aliases,
    strip_honorific,
    strip_title,
)
from pangocast.ingest.text import (
    LATIN_ARTICLE,
    Para,
    is_cjk,
    is_credit_line,
    latin_share,
    sentences,
    squash,
)

# --- labels -----------------------------------------------------------------------------

LABEL_RE = re.compile(
    r"^\s*(?:\*\*|__)?\s*(?P<name>"
    rf"{LATIN_NAME}(?=\s*(?:\*\*|__)?\s*[::])"
    r"|[^\s,,。.!!??::;;“”\"'「」()()\[\]【】*#>%<_]{1,12}?)"
    r"\s*(?:\*\*|__)?\s*[::]\s*(?:\*\*|__)?\s*"
)
"""``Name:``, ``Name:``, ``Name: ``, ``**Name**:``, ``**Name:**`` and ``Jane Doe:`` at a
paragraph's start."""

HOST_WORDS = (
    "记者",
    "主持人",
    "主持",
    "笔者",
    "编者",
    "采访者",
    "采访人",
    "提问者",
    "主播",
    "Interviewer",
    "INTERVIEWER",
    "Host",
    "HOST",
    "Moderator",
    "MODERATOR",
)
QUESTION_WORDS = ("问", "Q", "q", "提问", "Question")
ANSWER_WORDS = ("答", "A", "a", "回答", "Answer")
NARRATOR_WORDS = (
    "编者按",
    "编按",
    "编者注",
    "编注",
    "旁白",
    "按语",
    "Narrator",
    "Editor's note",
    "Editor’s note",
    "Editor's Note",
    "Editor’s Note",
    "Note",
)
INTRO_HOST = (
    "采访者",
    "采访人",
    "主持人",
    "提问者",
    "访问者",
    "记者",
    "主持",
    "Interviewer",
    "Host",
    "Moderator",
    "Interview by",
    "Interviewed by",
    "Hosted by",
    "Moderated by",
)
INTRO_GUEST = (
    "受访者",
    "受访人",
    "受访嘉宾",
    "访谈嘉宾",
    "对话嘉宾",
    "本期嘉宾",
    "被访者",
    "访谈对象",
    "采访对象",
    "受访对象",
    "嘉宾",
    "Guest",
    "Guests",
    "Interviewee",
    "Panelists",
    "Panellists",
    "Panel",
    "Speakers",
    "Participants",
)
_AMBIGUOUS_INTRO = frozenset(
    {"主持人", "主持", "记者", "嘉宾", "Interviewer", "Host", "Moderator", "Guest"}
)
"""Words that introduce a role ("主持人:王五") but also label speech ("主持人:请问…")."""
DEFAULT_HOST = "主持人"
DEFAULT_GUEST = "嘉宾"


_NAME_CJK = r"[\u4e00-\u9fff]{2,3}"
_NAME_LATIN = r"[A-Z][a-z]+(?: [A-Z][a-z]+)?"
_WHO = rf"(?:{_NAME_CJK}|{_NAME_LATIN})"
_INTRODUCE_RE = re.compile(
    rf"(?:采访|专访|拜访|对话|邀请|请到|见到)了?(?:到)?\s*({_WHO})"
    rf"|(?:和|与|跟)\s*({_WHO})(?:先生|女士|老师|博士)?\s*(?:做了|进行了|聊了|聊|谈了|谈|展开)"
    rf"|(?:^|[。!?!?])\s*({_WHO})\s*(?:[,,]|是|现任|目前)"
)
_ADV = (
    r"(?:同时|也|还|则|又|就|再|更|进一步|对此的?|随后|接着|笑着|曾经?|一再|多次|特别|明确|"
    r"坦率地|向(?:我们?|记者|笔者)|跟我|对我|在采访中|当时|后来|最后|首先|此前)"
)
_VERB = (
    r"(?:说道|说|表示|认为|指出|介绍说|介绍道|介绍|解释说|解释道|解释到|解释|补充说|补充道|补充|"
    r"强调说|强调|透露说|透露道|透露|谈到|谈及|讲到|讲道|讲|告诉(?:我们?|记者|笔者)|回忆说|"
    r"回忆道|回忆|坦言|直言|笑言|感慨道|感慨|提到|举例说|举例|总结道|总结说|反问|回答说|"
    r"回答道|答道|问道)"
)
SPEECH_VERB_RE = re.compile(_VERB)
ADVERBS = _ADV
_HON = "(?:" + "|".join(HONORIFICS) + ")?"
SUBJECT_RE = re.compile(
    rf"(?:^|(?<=[,,。;;!!??::“”「」\s、—]))(?P<name>[\u4e00-\u9fff]{{2,4}}?){_HON}"
    rf"(?:{_ADV}){{0,3}}{_VERB}(?!白|明|服|到这|起来)"
)
"""A person as the subject of a speech verb: "余淮表示", "四爷对此的解释说", "王旭认为"."""
_ALIAS_RE = re.compile(
    r"(?:人称|称(?:其|他|她)?为|称呼(?:其|他|她)?为?|昵称(?:为|是)?|外号(?:叫|是)?|绰号(?:叫|是)?|"
    r"叫(?:他|她))\s*[“「\"](?P<nick>[^”」\"]{1,6})[”」\"]"
)


_QA_DOT_RE = re.compile(r"^\s*(?:\*\*)?(?P<name>Q|A)\.(?:\*\*)?\s+(?=\S)")


def label_of(text: str) -> tuple[str, str] | None:
    """(label, rest of the text) when ``text`` starts with ``Name:`` (or ``Q.``/``A.``, the
    newspaper spelling); None otherwise."""
    m = LABEL_RE.match(text) or _QA_DOT_RE.match(text)
    if not m:
        return None
    rest = text[m.end() :].strip()
    if rest.startswith(("**", "__")):
        rest = rest[2:].strip()
    if not rest:
        return None
    name = m.group("name").strip("*_ ")
    if name.startswith("\u300a") and name.endswith("\u300b") and len(name) > 2:
        name = name[1:-1]  # an outlet as the interviewer: 《某刊》: -> 某刊
    return name, rest


def base_label(name: str) -> str:
    """Question/answer labels without their number ("问1" -> "问", "Q2" -> "Q")."""
    stripped = re.sub(r"\d+$", "", name)
    return stripped if stripped in QUESTION_WORDS + ANSWER_WORDS else name


def _intro_names(rest: str) -> list[str]:
    """Names at the start of a role introduction's text ("鲁直,蚂蚁金服…" -> ["鲁直"])."""
    if re.match(rf"\s*{LATIN_NAME}", rest) or re.match(rf"\s*{LATIN_WORD}\b", rest):
        rest = re.sub(r"\b(?:Dr|Mr|Mrs|Ms|Mx|Prof)\.\s+", "", rest)
        head = re.split(r"[;;::。]|(?<=[a-z])\.(?:\s|$)", rest, maxsplit=1)[0]
        head = re.sub(r"[((][^))]*[))]", "", head)
        parts = re.split(r",\s*(?:and\s+)?|\s+and\s+|\s*&\s*|/", head)
        names = [strip_honorific(n.strip(" *")) for n in parts]
        # "Jane Doe, chief engineer at Acme" -> only the names, not their titles
        return [n for n in names if plausible_name(n) and is_latin_name(n)]
    head = re.split(r"[,,。;;::]", rest, maxsplit=1)[0]
    head = re.sub(r"[((][^))]*[))]", "", head)
    names = [strip_honorific(n.strip(" *")) for n in re.split(r"[、/&]|和|与|及", head)]
    return [n for n in names if plausible_name(n)]


@dataclass(frozen=True)
class RoleIntro:
    """A role introduction paragraph ("受访者:鲁直,…")."""

    role: Role
    names: tuple[str, ...]
    word: str


def role_intro(text: str) -> RoleIntro | None:
    """The role introduction in ``text``, if it is one (ambiguous words included)."""
    lab = label_of(text)
    if lab is None:
        return None
    word, rest = lab
    if word in INTRO_GUEST:
        role: Role = "guest"
    elif word in INTRO_HOST:
        role = "host"
    else:
        return None
    names = _intro_names(rest)
    if not names or (word in _AMBIGUOUS_INTRO and len(rest) > 80):
        return None
    return RoleIntro(role, tuple(names), word)


def subject_names(text: str) -> list[str]:
    """Every person named as the subject of a speech verb in ``text``, in order."""
    out: list[str] = english_subjects(text) if latin_heavy(text) else []
    for m in SUBJECT_RE.finditer(text):
        name = strip_title(strip_honorific(m.group("name")))
        if plausible_name(name):
            out.append(name)
    return out


def find_aliases(texts: Iterable[str], persons: set[str]) -> dict[str, str]:
    """Nicknames introduced in the text ("江湖人称“四爷”的…周小四") mapped to the person.

    The person is the known name (from ``persons``) nearest to the nickname in the same
    sentence.
    """
    out: dict[str, str] = {}
    for text in texts:
        for sent in sentences(text):
            for m in _ALIAS_RE.finditer(sent):
                nick = m.group("nick").strip()
                best: tuple[int, str] | None = None
                for p in persons:
                    if p == nick or nick in p or p in nick:
                        continue
                    for pm in re.finditer(re.escape(p), sent):
                        dist = min(abs(pm.start() - m.end()), abs(pm.end() - m.start()))
                        if best is None or dist < best[0]:
                            best = (dist, p)
                if best is not None and nick not in out:
                    out[nick] = best[1]
    return out


@dataclass
class People:
    """The cast of one article, as far as the text shows it.

    Attributes:
        guests: the interviewees, canonical names, in order of appearance.
        host: the interviewer's name when the article gives one.
        aliases: nicknames and honorific forms mapped to canonical names.
        speakers: every label seen in the article mapped to (speaker name, role).
        roles: every named speaker mapped to a role.
        intros: indices of role-introduction paragraphs.
        mentions: how often each person is the subject of a speech verb.
        warnings: ambiguities worth telling the producer.
    """

    guests: list[str] = field(default_factory=list)
    host: str | None = None
    aliases: dict[str, str] = field(default_factory=dict)
    speakers: dict[str, tuple[str, Role]] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    intros: set[int] = field(default_factory=set)
    mentions: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)

    def canonical(self, name: str) -> str:
        """The canonical form of ``name`` (aliases and honorifics resolved)."""
        name = strip_honorific(name)
        return self.aliases.get(name, name)

    def names(self) -> list[str]:
        """Every name and alias that refers to a person, longest first."""
        every = set(self.roles) | set(self.aliases) | set(self.mentions)
        return sorted((n for n in every if n), key=lambda n: (-len(n), n))

    def host_name(self, fallback: str | None) -> str:
        """The host's name, else ``fallback``, else the generic word."""
        return self.host or fallback or DEFAULT_HOST


def _question_ratio(texts: list[str]) -> float:
    if not texts:
        return 0.0
    return sum(1 for t in texts if "?" in t or "?" in t) / len(texts)


@dataclass
class _Tally:
    """Labels and role introductions counted over an article."""

    intro_roles: dict[str, Role] = field(default_factory=dict)
    texts: dict[str, list[str]] = field(default_factory=dict)
    count: Counter[str] = field(default_factory=Counter)
    order: list[str] = field(default_factory=list)


def analyse_people(
    paras: Sequence[Para], known_hosts: Iterable[str] = (), host_fallback: str | None = None
) -> People:
    """Work out who is who in ``paras`` (one article).

    Args:
        paras: the article's paragraphs.
        known_hosts: names that host other articles of the same dump.
        host_fallback: the dump's host, used for ``问:``/``Q:`` when the article names none.
    """
    people = People()
    tally = _tally(paras, people)
    text_all = "\n".join(p.text for p in paras)
    people.mentions = Counter(
        {
            n: c
            for n, c in people.mentions.items()
            if _keep_mention(n, c, text_all) or n in tally.count or n in tally.intro_roles
        }
    )
    persons = (
        set(people.mentions)
        | set(tally.intro_roles)
        | {n for n in tally.count if plausible_name(n)}
    )
    people.aliases = find_aliases((p.text for p in paras), persons)
    people.aliases.update(latin_aliases(persons | set(tally.intro_roles), text_all))
    people.aliases.update(
        short_aliases(set(tally.order), persons | set(tally.intro_roles), text_all)
    )
    _assign_roles(people, tally, set(known_hosts))
    if not people.guests:
        people.guests = (introduced_names(paras) or _introduced_latin(paras, people))[:1]
        for g in people.guests:
            people.roles[g] = "guest"
    latin = latin_share(list(paras)) >= LATIN_ARTICLE
    _map_labels(people, tally, host_fallback, latin)
    return people


def _tally(paras: Sequence[Para], people: People) -> _Tally:
    tally = _Tally()
    for p in paras:
        for name in subject_names(p.text):
            people.mentions[name] += 1
        intro = role_intro(p.text)
        if intro is not None and intro.word not in _AMBIGUOUS_INTRO:
            people.intros.add(p.index)
            for n in intro.names:
                tally.intro_roles.setdefault(n, intro.role)
            continue
        if label_of(p.text) is None:
            for n, role in english_intro_roles(p.text).items():
                tally.intro_roles.setdefault(n, role)
        lab = label_of(p.text)
        if lab is not None:
            name = base_label(strip_honorific(lab[0]))
            tally.count[name] += 1
            tally.texts.setdefault(name, []).append(lab[1])
            if name not in tally.order:
                tally.order.append(name)
    # Ambiguous intro words ("主持人:王五") count as intros when the name is used elsewhere.
    for p in paras:
        intro = role_intro(p.text)
        if intro is None or intro.word not in _AMBIGUOUS_INTRO:
            continue
        used = any(tally.count[n] or people.mentions[n] for n in intro.names)
        bare = _only_names(label_of(p.text), intro.names)
        plain = len(p.text) <= 60 and not any(c in p.text for c in "??")
        if bare or (plain and (used or tally.count.get(intro.word, 0) <= 1)):
            people.intros.add(p.index)
            tally.count[intro.word] -= 1
            for n in intro.names:
                tally.intro_roles.setdefault(n, intro.role)
    return tally


def _introduced_latin(paras: Sequence[Para], people: People) -> list[str]:
    """The person a Latin-script article's opening introduces: the full name most used in
    the text among those in the paragraphs before the first labelled one."""
    text_all = "\n".join(p.text for p in paras)
    found: Counter[str] = Counter()
    for p in paras:
        if label_of(p.text) is not None:
            break
        if is_credit_line(p.text):
            continue  # the byline names the writer, not the guest
        for m in re.finditer(LATIN_NAME, p.text):
            words = m.group(0).split()
            while words and words[0] in SENTENCE_STARTERS:
                words.pop(0)
            name = strip_title(strip_honorific(" ".join(words)))
            if person_like(name) and plausible_name(name) and people.roles.get(name) != "host":
                found[name] = text_all.count(name) + text_all.count(name.split()[-1])
    hosts = {n for n, r in people.roles.items() if r == "host"}
    return [n for n, _ in found.most_common() if n not in hosts]


def _only_names(lab: tuple[str, str] | None, names: Sequence[str]) -> bool:
    """The introduction's text is nothing but the names ("Host: Marcus Bell"), which no
    turn would say."""
    if lab is None:
        return False
    rest = re.sub(r"[((][^))]*[))]", "", lab[1])
    rest = re.sub(r"\s*(?:,|、|&|/|\band\b|和|与|及)\s*", " ", rest).strip(" .。")
    return squash(rest) == squash(" ".join(names))


def _keep_mention(name: str, count: int, text: str) -> bool:
    """A speech-verb subject is a person when it recurs, or looks like a name and recurs."""
    seen = text.count(name)
    return seen >= 2 and (count >= 2 or name_like(name))


def introduced_names(paras: Sequence[Para]) -> list[str]:
    """People the article introduces ("采访了赵六", "赵六是…", "和 Alice 聊了聊"), most
    mentioned first."""
    found: Counter[str] = Counter()
    text_all = "\n".join(p.text for p in paras)
    for p in paras:
        for m in _INTRODUCE_RE.finditer(p.text):
            name = next(g for g in m.groups() if g)
            name = strip_honorific(name.strip())
            if plausible_name(name) and name_like(name):
                found[name] = text_all.count(name)
        for m in _INTRODUCE_PHRASE_RE.finditer(p.text):
            name = _phrase_name(m.group("np"))
            if name and name not in found:
                found[name] = text_all.count(name)
    return [n for n, _ in found.most_common()]


_INTRODUCE_PHRASE_RE = re.compile(
    r"(?:采访|专访|拜访|对话|邀请|请到|见到)了?(?:到)?(?P<np>[^,。;!?:、\n]{2,40})"
)


def _phrase_name(phrase: str) -> str | None:
    """The name that ends a described person ("开源数据库 Orbit 的发布经理高远" -> 高远)."""
    np = squash(re.sub(r"(?:先生|女士|老师|博士)$", "", phrase))
    for n in (3, 2):
        run = np[-n:]
        if (
            len(run) == n
            and all(is_cjk(c) for c in run)
            and run[0] in SURNAMES
            and plausible_name(run)
        ):
            return run
    return None


def _is_speaker_label(name: str, count: int, people: People, intro_roles: dict[str, Role]) -> bool:
    """A label that names a speaker (not "例如:" or "注意:")."""
    if count <= 0:
        return False
    if name in HOST_WORDS + QUESTION_WORDS + ANSWER_WORDS + NARRATOR_WORDS:
        return True
    canon = people.aliases.get(name, name)
    known = name in people.mentions or name in people.aliases or name in people.aliases.values()
    if canon in intro_roles or known:
        return plausible_name(name)
    return count >= 2 and plausible_name(name) and (len(name) <= 8 or is_latin_name(name))


def _assign_roles(people: People, tally: _Tally, known_hosts: set[str]) -> None:
    roles: dict[str, Role] = {people.canonical(n): r for n, r in tally.intro_roles.items()}
    generic = HOST_WORDS + QUESTION_WORDS + ANSWER_WORDS + NARRATOR_WORDS
    named = [
        people.canonical(n)
        for n in tally.order
        if n not in generic and _is_speaker_label(n, tally.count[n], people, tally.intro_roles)
    ]
    named = list(dict.fromkeys(named))
    for n in named:
        if n not in roles and n in known_hosts:
            roles[n] = "host"
    undecided = [n for n in named if n not in roles]
    has_host = any(r == "host" for r in roles.values()) or any(
        tally.count[w] > 0 for w in HOST_WORDS + QUESTION_WORDS
    )
    if undecided and not has_host and len(named) >= 2:
        ratios = {n: _question_ratio(tally.texts.get(n, [])) for n in undecided}
        top = max(undecided, key=lambda n: (ratios[n], -undecided.index(n)))
        if ratios[top] >= 0.3:
            roles[top] = "host"
    for n in undecided:
        roles.setdefault(n, "guest")
    people.roles = roles
    people.guests = [n for n, r in roles.items() if r == "guest"]
    hosts = [n for n, r in roles.items() if r == "host"]
    people.host = hosts[0] if hosts else None
    if not people.guests:
        people.guests = _guests_from_mentions(people, known_hosts)
        for g in people.guests:
            people.roles[g] = "guest"


def _guests_from_mentions(people: People, known_hosts: set[str]) -> list[str]:
    """The people quoted most, when no label or introduction names the guests."""
    merged: Counter[str] = Counter()
    for n, c in people.mentions.items():
        merged[people.canonical(n)] += c
    ranked = [
        (n, c)
        for n, c in merged.most_common()
        if people.roles.get(n) != "host" and n not in known_hosts
    ]
    if not ranked:
        return []
    top_c = ranked[0][1]
    return [ranked[0][0]] + [n for n, c in ranked[1:] if c >= 3 and c * 2 >= top_c]


def _generic(latin_article: bool, cjk: str, latin: str) -> str:
    """The generic speaker name for a ``Q:``/``问:`` label in the article's script."""
    return latin if latin_article else cjk


def _map_labels(
    people: People, tally: _Tally, host_fallback: str | None, latin: bool = False
) -> None:
    intro_roles = dict(people.roles)
    for name in tally.order:
        if not _is_speaker_label(name, tally.count[name], people, intro_roles):
            continue
        if name in NARRATOR_WORDS:
            continue
        if name in QUESTION_WORDS:
            people.speakers[name] = (
                people.host or host_fallback or _generic(latin, DEFAULT_HOST, "Host"),
                "host",
            )
        elif name in HOST_WORDS:
            people.speakers[name] = (people.host or name, "host")
        elif name in ANSWER_WORDS:
            if len(people.guests) > 1:
                people.warnings.append(
                    f"'{name}:' answers with {len(people.guests)} guests named: "
                    f"given to {people.guests[0]}"
                )
            people.speakers[name] = (
                people.guests[0] if people.guests else _generic(latin, DEFAULT_GUEST, "Guest"),
                "guest",
            )
        else:
            canon = people.canonical(name)
            people.speakers[name] = (canon, people.roles.get(canon, "guest"))
    for speaker, role in people.speakers.values():
        people.roles.setdefault(speaker, role)
