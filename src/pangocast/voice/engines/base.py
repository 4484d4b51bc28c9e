"""The one interface every speech engine implements, and the voice it is asked to use."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from pangocast.audio.pcm import Audio

ProsodyValue = float | int | str


@dataclass(frozen=True)
class Voice:
    """A voice of one engine, with prosody in that engine's own units.

    Attributes:
        engine: the engine's registry name ("neural", "espeak", "edge").
        id: the engine's voice id ("baker", "cmn+m3", "zh-CN-YunxiNeural").
        prosody: engine-specific settings, e.g. neural ``speed``/``f0``/``f0_ratio``/
            ``formant_ratio``/``volume`` (dB); espeak ``rate`` (words per minute)/``pitch`` (0-100);
            edge ``rate`` ("+10%")/``pitch`` ("-5Hz")/``volume`` ("+0%").
    """

    engine: str
    id: str
    prosody: tuple[tuple[str, ProsodyValue], ...] = field(default=())

    @classmethod
    def make(cls, engine: str, id: str, prosody: Mapping[str, ProsodyValue] | None = None) -> Voice:
        """Build a voice with its prosody sorted (so equal settings compare equal)."""
        return cls(engine, id, tuple(sorted((prosody or {}).items())))

    def get(self, key: str, default: ProsodyValue) -> ProsodyValue:
        """A prosody setting, or ``default``."""
        return dict(self.prosody).get(key, default)

    def label(self) -> str:
        """Human-readable ``id (k=v, ...)``."""
        if not self.prosody:
            return self.id
        return f"{self.id} (" + ", ".join(f"{k}={v}" for k, v in self.prosody) + ")"


@dataclass(frozen=True)
class VoiceInfo:
    """A voice an engine offers (for ``pangocast voices``)."""

    id: str
    language: str
    gender: str = ""
    description: str = ""


class AudioStore(Protocol):
    """Where an engine may keep audio it makes on the way and reuses across processes and
    builds (the build's segment cache: :class:`~pangocast.voice.segments.SegmentStore`
    has this shape). Reads are checked by the store; a damaged entry reads as absent."""

    def get(self, key: str) -> Audio | None:
        """The audio stored under ``key``, or None."""

    def put(self, key: str, audio: Audio) -> None:
        """Store ``audio`` under ``key`` (written whole)."""


class Engine(ABC):
    """A speech engine: turns text into mono PCM with a given voice.

    Engines only synthesize: parsing, casting, normalisation for display and assembly live
    elsewhere. Constructors are cheap and check prerequisites; heavy models load lazily on
    the first :meth:`synthesize` so a process pool can create one engine per worker.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    offline: ClassVar[bool] = True
    """False when the engine needs the network."""

    @abstractmethod
    def synthesize(self, text: str, voice: Voice) -> Audio:
        """Speak ``text`` with ``voice``.

        Raises:
            SynthesisError: this text could not be synthesized.
            EngineUnavailableError: the engine cannot run here at all.
        """

    @abstractmethod
    def list_voices(self) -> list[VoiceInfo]:
        """The voices this engine offers.

        Raises:
            EngineUnavailableError: the list cannot be obtained (e.g. offline).
        """

    @abstractmethod
    def version(self) -> str:
        """Engine and model version; part of every segment's cache key."""

    @classmethod
    def check_prosody(cls, prosody: Mapping[str, ProsodyValue]) -> None:
        """Refuse prosody this engine cannot use (checked when ``casting.toml`` is read).

        The default accepts anything; an engine that knows its keys overrides it.

        Raises:
            ValueError: a key is unknown or a value is out of range; the message says which.
        """
        return None

    def use_store(self, store: AudioStore | None) -> None:
        """Keep reusable intermediate audio in ``store`` (None: in this process only).
        Engines with nothing worth sharing ignore it (the default)."""
        return None

    def unvoiced(self, text: str) -> list[str]:
        """Pieces of ``text`` this engine would not voice (empty when all is spoken)."""
        return []

    def voices_for(self, language: str) -> list[VoiceInfo]:
        """The voices that speak ``language``, a BCP 47 tag matched on its primary subtag
        (``zh-cn`` takes zh-CN, zh-TW, zh-HK, cmn and yue voices; ``en`` every English one).

        Raises:
            EngineUnavailableError: the list cannot be obtained (e.g. offline).
        """
        primary = _primary(language)
        return [v for v in self.list_voices() if _primary(v.language) == primary]


# espeak-ng and the neural voice tag Chinese voices with their ISO 639-3 language (cmn, yue);
# a show's language is the ISO 639-1 macrolanguage (zh-cn), so both are compared as zh.
_ZH_LANGUAGES = frozenset({"cmn", "yue", "wuu", "hak", "nan", "gan", "hsn"})


def _primary(language: str) -> str:
    primary = language.strip().lower().replace("_", "-").split("-", 1)[0]
    return "zh" if primary in _ZH_LANGUAGES else primary
