"""espeak-ng through ctypes: a fast, robotic but complete offline engine.

The library and its data come from the ``espeakng-loader`` wheel (libespeak-ng 1.52; Debian's
1.51 ``cmn`` voice reads hanzi as spelled pinyin). libespeak-ng keeps global state, so every
call holds one process-wide lock, and the library is initialised once per process (again in
a forked child, which must not reuse the parent's lock or half-used state).

Besides :class:`EspeakEngine`, :func:`phonemes` gives the English phonemes the Kokoro voices
read, and :func:`speak_latin` voices a Latin run ("Kubernetes", "K8S") in English for the
neural engine when Kokoro is not installed.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from pangocast.audio.pcm import Audio
from pangocast.core.errors import EngineUnavailableError, SynthesisError
from pangocast.voice.engines.base import Engine, Voice, VoiceInfo
from pangocast.voice.normalize import normalize_for_speech

RATE = 22050
"""Sample rate of everything espeak-ng produces."""

DEFAULT_RATE_WPM = 175
DEFAULT_PITCH = 50
MIN_RATE_WPM, MAX_RATE_WPM = 80, 450

# Values from espeak-ng's speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_ESPEAK_RATE, _ESPEAK_VOLUME, _ESPEAK_PITCH, _ESPEAK_RANGE = 1, 2, 3, 4
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_EE_OK = 0
# espeak_TextToPhonemes' phoneme mode: IPA (bit 1), multi-letter phonemes tied (bit 7)
# with the character in bits 8-23.
_IPA_TIED = 0x02 | 0x80 | (ord("^") << 8)

_INSTALL_HINT = (
    "pip install espeakng-loader (it ships libespeak-ng and its data), "
    "or choose another engine: --engine neural or --engine edge"
)

_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class _EspeakVoiceStruct(ctypes.Structure):
    _fields_ = (
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    )


@dataclass(frozen=True)
class _Installed:
    library: Path
    data: Path


def _find_install() -> _Installed:
    """Where espeakng-loader put libespeak-ng and its data, without importing it.

    Raises:
        EngineUnavailableError: espeakng-loader is not installed or is incomplete.
    """
    spec = importlib.util.find_spec("espeakng_loader")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailableError("espeak-ng is not installed", hint=_INSTALL_HINT)
    root = Path(next(iter(spec.submodule_search_locations)))
    lib = root / "libespeak-ng.so"
    data = root / "espeak-ng-data"
    if not lib.is_file() or not (data / "cmn_dict").is_file():
        raise EngineUnavailableError(
            "espeakng-loader has no libespeak-ng or no Mandarin data", path=root, hint=_INSTALL_HINT
        )
    return _Installed(lib, data)


class _Library:
    """The process's one handle on libespeak-ng; every method is called under ``_LOCK``."""

    def __init__(self, installed: _Installed) -> None:
        try:
            self.lib = ctypes.CDLL(str(installed.library))
        except OSError as exc:
            raise EngineUnavailableError(
                f"cannot load libespeak-ng: {exc}", path=installed.library, hint=_INSTALL_HINT
            ) from exc
        lib = self.lib
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.argtypes = []
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_ListVoices.argtypes = [ctypes.POINTER(_EspeakVoiceStruct)]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_EspeakVoiceStruct))
        lib.espeak_TextToPhonemes.argtypes = [
            ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int,
        ]  # fmt: skip
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p

        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, str(installed.data).encode(), 0)
        if rate <= 0:
            raise EngineUnavailableError(
                "libespeak-ng failed to initialise", path=installed.data, hint=_INSTALL_HINT
            )
        self.rate = rate
        self.version = (lib.espeak_Info(None) or b"?").decode("ascii", "replace")
        self._chunks: list[bytes] = []
        # Kept on the instance: ctypes would otherwise free the trampoline while C holds it.
        self._callback = _SynthCallback(self._collect)
        lib.espeak_SetSynthCallback(self._callback)
        self.pid = os.getpid()

    def _collect(self, wav: ctypes._Pointer[ctypes.c_short], count: int, _events: int) -> int:
        if wav and count > 0:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        return 0

    def speak(self, text: str, voice: str, rate: int, pitch: int) -> Audio:
        lib = self.lib
        if lib.espeak_SetVoiceByName(voice.encode()) != _EE_OK:
            raise SynthesisError(
                f"espeak-ng has no voice '{voice}'",
                hint="see `pangocast voices --engine espeak` (e.g. cmn, cmn+m3, en-us+f2)",
            )
        lib.espeak_SetParameter(_ESPEAK_RATE, rate, 0)
        lib.espeak_SetParameter(_ESPEAK_PITCH, pitch, 0)
        data = text.encode("utf-8") + b"\0"
        self._chunks = []
        with _interrupts_deferred():
            err = lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            lib.espeak_Synchronize()
        chunks, self._chunks = self._chunks, []
        if err != _EE_OK:
            raise SynthesisError(f"espeak-ng failed to synthesize (error {err})")
        samples = np.frombuffer(b"".join(chunks), dtype=np.int16).copy()
        return Audio(samples, self.rate)

    def phonemes(self, text: str, voice: str) -> list[str]:
        """IPA phonemes of ``text``, one string per clause, multi-letter phonemes tied
        with ``^`` (``e^ɪ``). The voice is set first: espeak-ng crashes without one."""
        lib = self.lib
        if lib.espeak_SetVoiceByName(voice.encode()) != _EE_OK:
            raise SynthesisError(f"espeak-ng has no voice '{voice}'")
        buffer = ctypes.create_string_buffer(text.encode("utf-8") + b"\0")
        pointer = ctypes.c_void_p(ctypes.addressof(buffer))
        clauses: list[str] = []
        while pointer.value:
            out = lib.espeak_TextToPhonemes(ctypes.byref(pointer), _CHARS_UTF8, _IPA_TIED)
            clauses.append((out or b"").decode("utf-8", "replace"))
        return clauses

    def voices(self, spec_language: str | None) -> list[VoiceInfo]:
        spec = _EspeakVoiceStruct()
        arg = None
        if spec_language is not None:
            spec.languages = ctypes.cast(ctypes.c_char_p(spec_language.encode()), ctypes.c_void_p)
            arg = ctypes.pointer(spec)
        table = self.lib.espeak_ListVoices(arg)
        found: list[VoiceInfo] = []
        i = 0
        while table and table[i]:
            v = table[i].contents
            # The file name ("cmn", "en-us") is what espeak_SetVoiceByName accepts.
            identifier = (v.identifier or b"").decode("utf-8", "replace")
            found.append(
                VoiceInfo(
                    id=identifier.rsplit("/", 1)[-1].lower(),
                    language=_first_language(v.languages),
                    gender={1: "male", 2: "female"}.get(v.gender, ""),
                    description=(v.name or b"").decode("utf-8", "replace"),
                )
            )
            i += 1
        return found


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Defer Ctrl-C (SIGINT) until espeak-ng returns.

    espeak-ng calls back into Python with every block of samples, and Python runs a signal
    handler at the next Python code it executes: the start of that callback. A handler
    that raises there (KeyboardInterrupt) raises inside a ctypes callback, where the
    exception is printed and dropped, and the interrupt is lost. Meanwhile a handler that
    only notes the signal stands in; the signal is raised again once espeak-ng returns.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # Python runs signal handlers in the main thread only
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
        if caught:
            signal.raise_signal(signal.SIGINT)


def _first_language(ptr: int | None) -> str:
    """The first entry of espeak's ``languages`` field: a priority byte, then a C string."""
    if not ptr:
        return ""
    return (ctypes.string_at(ptr + 1) or b"").decode("utf-8", "replace")


_LOCK = threading.RLock()
_LIBRARY: _Library | None = None


def _reset_after_fork() -> None:
    # A lock held by another thread at fork time would stay held forever in the child.
    global _LOCK
    _LOCK = threading.RLock()


os.register_at_fork(after_in_child=_reset_after_fork)


def _library() -> _Library:
    """The initialised library; call with ``_LOCK`` held.

    Raises:
        EngineUnavailableError: espeak-ng is missing or does not initialise.
    """
    global _LIBRARY
    if _LIBRARY is None or _LIBRARY.pid != os.getpid():
        _LIBRARY = _Library(_find_install())
    return _LIBRARY


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def speak(text: str, voice: str = "cmn", rate: int = DEFAULT_RATE_WPM, pitch: int = 50) -> Audio:
    """Speak ``text`` as is (no normalisation) with an espeak-ng voice, at 22050 Hz.

    Args:
        text: the words.
        voice: an espeak-ng voice name, optionally with a variant ("cmn+f2", "en-us+m3").
        rate: words per minute, clamped to 80-450.
        pitch: base pitch 0-100 (espeak's default is 50).

    Raises:
        EngineUnavailableError: espeak-ng is not installed.
        SynthesisError: unknown voice, or libespeak-ng failed.
    """
    with _LOCK:
        return _library().speak(
            text, voice, _clamp(int(rate), MIN_RATE_WPM, MAX_RATE_WPM), _clamp(int(pitch), 0, 100)
        )


def speak_latin(
    text: str, pitch: int = DEFAULT_PITCH, rate: int = DEFAULT_RATE_WPM, voice: str = "en-us+f2"
) -> Audio:
    """Speak a Latin-script run ("Kubernetes", "K8S", "Service Mesh") in English.

    Used by the neural engine, whose model has no phonemes for Latin letters.

    Args:
        text: the run; digits inside it are read in English ("K8S" -> "K eight S").
        pitch: espeak base pitch 0-100.
        rate: words per minute.
        voice: the English espeak-ng voice and variant.

    Raises:
        EngineUnavailableError: espeak-ng is not installed.
        SynthesisError: libespeak-ng failed.
    """
    return speak(text, voice=voice, rate=rate, pitch=pitch)


def phonemes(text: str, voice: str = "en-us") -> list[str]:
    """espeak-ng's IPA reading of ``text``, one string per clause (``"GitHub"`` ->
    ``["ɡˈɪt hˈʌb"]``), with stress marks and ``^`` tying multi-letter phonemes.

    Raises:
        EngineUnavailableError: espeak-ng is not installed.
        SynthesisError: unknown voice.
    """
    with _LOCK:
        return _library().phonemes(text, voice)


def espeak_version() -> str:
    """The libespeak-ng version string ("1.52.0 ...").

    Raises:
        EngineUnavailableError: espeak-ng is not installed.
    """
    with _LOCK:
        return _library().version


class EspeakEngine(Engine):
    """espeak-ng (1.52, via ``espeakng-loader``): instant, robotic, never drops a word.

    Voice ids are espeak-ng names with an optional variant: ``cmn``, ``cmn+m3``,
    ``cmn+f2``, ``en-us+m3``. Prosody keys:

    * ``rate``: speaking rate in words per minute (int, 80-450, default 175);
    * ``pitch``: base pitch on espeak's 0-100 scale (default 50).

    Mandarin voices (``cmn``/``zh``…) get :func:`~pangocast.voice.normalize.normalize_for_speech`
    first, so years, percentages and versions read like the neural engine's. Output is
    22050 Hz mono.
    """

    name: ClassVar[str] = "espeak"
    description: ClassVar[str] = "espeak-ng 1.52, offline and instant; robotic (drafts)"

    def __init__(self) -> None:
        """Check that libespeak-ng and its Mandarin data are installed.

        Raises:
            EngineUnavailableError: espeakng-loader is missing or incomplete.
        """
        _find_install()

    def synthesize(self, text: str, voice: Voice) -> Audio:
        """Speak ``text`` with an espeak-ng voice (see the class docstring for prosody).

        Raises:
            EngineUnavailableError: espeak-ng is not installed.
            SynthesisError: unknown voice, bad prosody value, or libespeak-ng failed.
        """
        rate = _int_prosody(voice, "rate", DEFAULT_RATE_WPM)
        pitch = _int_prosody(voice, "pitch", DEFAULT_PITCH)
        if _is_mandarin(voice.id):
            text = normalize_for_speech(text)
        return speak(text, voice=voice.id, rate=rate, pitch=pitch)

    def list_voices(self) -> list[VoiceInfo]:
        """Mandarin and English voices, then the variants that can follow ``+``.

        Raises:
            EngineUnavailableError: espeak-ng is not installed.
        """
        with _LOCK:
            lib = _library()
            voices = [
                v
                for v in lib.voices(None)
                if v.language.split("-")[0] in {"cmn", "zh", "yue", "en"}
            ]
            variants = lib.voices("variant")
        return voices + [
            VoiceInfo(
                id="cmn+" + v.id,
                language="cmn",
                gender=v.gender,
                description=f"variant {v.description}: append +{v.id} to any voice",
            )
            for v in variants
        ]

    def version(self) -> str:
        """``espeak-ng <library version>``.

        Raises:
            EngineUnavailableError: espeak-ng is not installed.
        """
        return f"espeak-ng {espeak_version()}"


def _is_mandarin(voice_id: str) -> bool:
    return voice_id.split("+", 1)[0].lower() in {"cmn", "sit/cmn", "cmn-latn-pinyin"}


def _int_prosody(voice: Voice, key: str, default: int) -> int:
    value = voice.get(key, default)
    try:
        return int(float(value))
    except (TypeError, ValueError) as exc:
        raise SynthesisError(
            f"espeak prosody '{key}' must be a number, not {value!r}",
            hint="rate is words per minute (e.g. 175), pitch is 0-100 (e.g. 50)",
        ) from exc
