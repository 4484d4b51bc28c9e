"""English words the way people say them, for the English voices.

Written tech English is full of words no grapheme-to-phoneme rule reads right: CamelCase
names ("GitHub", "KubeSphere"), acronyms spelled letter by letter ("API", "AWS") or said as
words ("REST", "JSON"), numbers inside names ("K8s", "UK8S") and versions ("v2.1").
:func:`english_reading` rewrites them into plain words an English voice reads right:
"GitHub" -> "Git Hub", "API" -> "eh P I", "K8s" -> "K eights", "v2.1" -> "version 2.1",
"SOFAStack" -> "Sofa Stack". Ordinary words, numbers and
punctuation are kept for the voice's own reading.

Pure functions, compiled tables, no I/O.
"""

from __future__ import annotations

import re

__all__ = ["SAID_AS_WORDS", "english_reading"]

SAID_AS_WORDS = frozenset(
    {
        "AJAX", "ASCII", "CAPTCHA", "CRUD", "GIF", "GNU", "JPEG", "JSON", "LAN", "LINQ",
        "NASA", "NATO", "PIN", "RAM", "RAID", "REST", "ROM", "SIM", "SWIFT", "TOML", "UNIX",
        "WAN", "YAML", "WASM", "SCSI",
    }
)  # fmt: skip
"""All-capital acronyms said as a word, not letter by letter."""

_LONGEST_SPELLED = 5
"""All-capital words up to this long are spelled (unless :data:`SAID_AS_WORDS`); longer
ones with a vowel are read as a word (a shouted "KUBERNETES")."""

_VOWELS = frozenset("AEIOUY")
# Four or more capitals alternating consonant and vowel ("SOFA", "CUDA", "TOGAF") are
# said as a word.
_SYLLABIC = re.compile(r"(?:[B-DF-HJ-NP-TV-Z][AEIOU]){2,}[B-DF-HJ-NP-TV-Z]?")
# "IPv6": a lower-case "v" between capitals and a number starts a new piece.
_V_NUMBER = re.compile(r"(?<=[A-Z])v(?=\d)")

# A version: "v2", "V2.1", "v1.0.3" (the "v" glued to the number).
_VERSION = re.compile(r"(?<![A-Za-z0-9])[vV](?=\d+(?:\.\d+)*(?![A-Za-z0-9]))")
# "PaaS", "SaaS", "IaaS": "X as a service", said as one syllable.
_AS_A_SERVICE = re.compile(r"(?<![A-Za-z0-9])([A-Z])aaS(?![A-Za-z0-9])")
# "CI/CD", "TCP/IP": a slash between words is not said.
_SLASH = re.compile(r"(?<=[A-Za-z0-9])/(?=[A-Za-z])")
# A word of letters and digits (apostrophes inside: "it's", "API's").
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
# Pieces of one word: capitals, capitalised or lower-case letters, digits.
_PIECES = re.compile(r"[A-Z]+(?![a-z])|[A-Z][a-z]*|[a-z]+|\d+")
# An all-capital plural: "APIs", "VMs", "CPUs".
_CAPITAL_PLURAL = re.compile(r"[A-Z]{2,}s")
# "8" inside "K8s": a number between letters, said as a plural when "s" follows.
_NUMERALS = {
    "0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five",
    "6": "six", "7": "seven", "8": "eight", "9": "nine",
}  # fmt: skip
_PLURAL_NUMERALS = {"six": "sixes"}


def english_reading(text: str) -> str:
    """``text`` with tech words rewritten as an English voice should read them.

    * versions: "v2.1" -> "version 2.1";
    * CamelCase split into its words: "GitHub" -> "Git Hub", "gVisor" -> "g Visor",
      "SOFAStack" -> "Sofa Stack", "IPv6" -> "I P v 6";
    * acronyms spelled: "API" -> "eh P I" ("eh" is how the letter A is read), "AWS" ->
      "eh W S", "APIs" -> "eh P I's";
      those in :data:`SAID_AS_WORDS` ("REST", "JSON") and long shouted words stay words,
      and those that alternate consonant and vowel are said as one ("SOFA" -> "Sofa");
    * a slash between words is silent: "CI/CD" -> "C I C D";
    * "PaaS" -> "Pass", "SaaS" -> "Sass", "IaaS" -> "I as";
    * single letters spelled: "g" -> "G" (a lone lower-case letter would be read as a sound);
    * letters with a number inside: "K8s" -> "K eights", "UK8S" -> "U K eight S",
      "i18n" -> "I eighteen N" (the number said in full).

    Ordinary words ("Kubernetes", "istio", "release") are kept as written. Idempotent.
    """
    text = _VERSION.sub("version ", text)
    text = _V_NUMBER.sub(" v", text)
    text = _SLASH.sub(" ", text)
    text = _AS_A_SERVICE.sub(lambda m: "I as" if m[1] == "I" else m[1] + "ass", text)
    return _WORD.sub(lambda m: _word(m.group(0)), text)


def _word(word: str) -> str:
    if word.isdigit() or (word.islower() and word.isalpha()):
        return word
    if "'" in word or "’" in word:
        stem, _, tail = word.replace("’", "'").partition("'")
        return _word(stem) + "'" + tail
    if _CAPITAL_PLURAL.fullmatch(word) and word[:-1] not in SAID_AS_WORDS:
        return _spelled(word[:-1]) + "'s"
    pieces = _PIECES.findall(word)
    has_digits = any(p.isdigit() for p in pieces)
    if len(pieces) == 1 and not has_digits:
        return _piece(word, alone=True)
    if has_digits and pieces[0].isalpha() and pieces[-1].isalpha():
        return _numeronym(pieces)
    return " ".join(_piece(p, alone=False) for p in pieces)


def _piece(piece: str, alone: bool) -> str:
    if piece.isdigit():
        return piece
    if len(piece) == 1:
        return piece.upper()
    if piece.isupper():
        if piece in SAID_AS_WORDS:
            return piece
        if _SYLLABIC.fullmatch(piece):
            return piece.capitalize()
        if len(piece) > _LONGEST_SPELLED and set(piece) & _VOWELS:
            return piece.lower() if alone else piece
        return _spelled(piece)
    return piece


def _spelled(letters: str) -> str:
    # A lone "A" is read as the article ("ə"); "eh" is the letter's name.
    return " ".join("eh" if c == "A" else c for c in letters.upper())


def _numeronym(pieces: list[str]) -> str:
    """ "K8s" -> "K eights", "UK8S" -> "U K eight S", "i18n" -> "I 18 N": the letters
    spelled, the number said (a plural when a lower-case "s" follows it)."""
    said: list[str] = []
    for i, piece in enumerate(pieces):
        if piece.isdigit():
            said.append(_NUMERALS.get(piece, piece))
        elif piece == "s" and i == len(pieces) - 1 and pieces[i - 1].isdigit():
            said[-1] = _PLURAL_NUMERALS.get(said[-1], said[-1] + "s")
        else:
            said.append(_spelled(piece))
    return " ".join(said)
