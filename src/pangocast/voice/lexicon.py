"""Pronunciation lexicon (``voices/lexicon.toml``), applied only at synthesis time.

Scripts stay as written; the lexicon rewrites the text an engine receives. Entries are
scoped: ``[global]``, then ``[engines.NAME]``, then ``[voices."VOICE-ID"]`` — a narrower
scope overrides a wider one for the same term. Latin terms match whole words only (``K8S``
does not match inside ``UK8S``); the longest term wins where terms overlap.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pangocast.core.errors import ConfigError
from pangocast.core.files import read_text

LEXICON_FILE = "lexicon.toml"


@dataclass(frozen=True)
class Lexicon:
    """Terms and their spoken replacements, by scope."""

    global_terms: Mapping[str, str] = field(default_factory=dict)
    engine_terms: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    voice_terms: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def terms_for(self, engine: str, voice_id: str) -> dict[str, str]:
        """The merged entries that apply to one voice of one engine."""
        merged = dict(self.global_terms)
        merged.update(self.engine_terms.get(engine, {}))
        merged.update(self.voice_terms.get(voice_id, {}))
        return merged

    def apply(self, text: str, engine: str, voice_id: str) -> str:
        """``text`` with every applicable term replaced by its pronunciation."""
        return _Replacer.of(tuple(sorted(self.terms_for(engine, voice_id).items()))).sub(text)


class _Replacer:
    """A compiled term table; one per distinct table, reused across turns."""

    def __init__(self, terms: tuple[tuple[str, str], ...]) -> None:
        self.table = dict(terms)
        self.pattern: re.Pattern[str] | None = None
        if terms:
            parts = []
            for term in sorted(self.table, key=len, reverse=True):
                p = re.escape(term)
                # Latin terms match whole words only: K8S must not match inside UK8S.
                if term[:1].isascii() and term[:1].isalnum():
                    p = r"(?<![A-Za-z0-9])" + p
                if term[-1:].isascii() and term[-1:].isalnum():
                    p += r"(?![A-Za-z0-9])"
                parts.append(p)
            self.pattern = re.compile("|".join(parts))

    @staticmethod
    def of(terms: tuple[tuple[str, str], ...]) -> _Replacer:
        hit = _REPLACERS.get(terms)
        if hit is None:
            hit = _REPLACERS[terms] = _Replacer(terms)
        return hit

    def sub(self, text: str) -> str:
        if self.pattern is None:
            return text
        return self.pattern.sub(lambda m: self.table[m.group(0)], text)


_REPLACERS: dict[tuple[tuple[str, str], ...], _Replacer] = {}


def _terms(table: object, where: str, path: Path) -> dict[str, str]:
    if not isinstance(table, dict):
        raise ConfigError(f'{where} must be a table of term = "pronunciation"', path=path)
    out: dict[str, str] = {}
    for k, v in table.items():
        if not isinstance(v, str) or not k.strip():
            raise ConfigError(
                f"lexicon entry {where}.{k} must be text", path=path, hint='write "TERM" = "说法"'
            )
        out[k] = v
    return out


def load_lexicon(voices_dir: Path) -> Lexicon:
    """Read ``voices/lexicon.toml`` (an empty lexicon when the file does not exist).

    Raises:
        ConfigError: the file is malformed.
    """
    path = voices_dir / LEXICON_FILE
    if not path.exists():
        return Lexicon()
    try:
        data = tomllib.loads(read_text(path, error=ConfigError))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"malformed lexicon: {exc}", path=path) from exc
    engines = data.get("engines", {})
    voices = data.get("voices", {})
    if not isinstance(engines, dict) or not isinstance(voices, dict):
        raise ConfigError("[engines] and [voices] must be tables", path=path)
    return Lexicon(
        global_terms=_terms(data.get("global", {}), "global", path),
        engine_terms={e: _terms(t, f"engines.{e}", path) for e, t in engines.items()},
        voice_terms={v: _terms(t, f"voices.{v}", path) for v, t in voices.items()},
    )
