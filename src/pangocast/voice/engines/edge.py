"""edge-tts: Microsoft Edge's online neural voices, the best quality when online.

The service is reached through one seam, a *stream function* with the signature of
``edge_tts.Communicate(...).stream()``; tests replace it with a stand-in that yields real
MP3 chunks and boundary events, including failure sequences.

Requests are split at sentence punctuation well under the service's 4096-byte limit, run
with bounded concurrency, and retried with exponential backoff and jitter on
``NoAudioReceived``, handshake 403/5xx, timeouts and connection errors (edge-tts' own
exceptions and aiohttp's). A DNS failure means "offline" and stops at once with a hint to
pick an offline engine. Audio is decoded to PCM only once every chunk of a turn arrived, so
nothing half-received is ever used.
"""

from __future__ import annotations

import asyncio
import random
import re
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from pangocast.audio.ffmpeg import decode_bytes
from pangocast.audio.pcm import Audio
from pangocast.core.errors import ConfigError, EngineUnavailableError, SynthesisError
from pangocast.core.pieces import pack
from pangocast.voice.engines.base import Engine, Voice, VoiceInfo

StreamFn = Callable[[str, str, str, str, str], AsyncIterator[dict[str, Any]]]
"""(text, voice, rate, pitch, volume) -> async iterator of edge-tts chunks."""

OFFLINE_HINT = "you seem to be offline: use an offline engine, e.g. --engine neural (or espeak)"
MAX_REQUEST_BYTES = 3000  # the service caps a request at 4096 bytes including SSML markup
EDGE_RATE = 24000
_RATE_RE = re.compile(r"^[+-]\d{1,3}%$")
_PITCH_RE = re.compile(r"^[+-]\d{1,3}Hz$")


def _edge_stream(
    text: str, voice: str, rate: str, pitch: str, volume: str
) -> AsyncIterator[dict[str, Any]]:
    import edge_tts

    comm = edge_tts.Communicate(
        text, voice, rate=rate, pitch=pitch, volume=volume, boundary="SentenceBoundary"
    )
    return cast(AsyncIterator[dict[str, Any]], comm.stream())


class Boundary(NamedTuple):
    """A sentence or word boundary reported by the service (a light record: a turn has
    one per word)."""

    start: float
    """Seconds into the turn."""
    duration: float
    """Seconds the sentence or word lasts."""
    text: str
    """The sentence or word, as the service read it."""


@dataclass(frozen=True)
class EdgeResult:
    """Decoded audio of one turn and its boundaries."""

    audio: Audio
    boundaries: tuple[Boundary, ...]


def split_for_requests(text: str, max_bytes: int = MAX_REQUEST_BYTES) -> list[str]:
    """Split ``text`` at sentence punctuation into pieces of at most ``max_bytes`` UTF-8 bytes.

    A sentence longer than the limit is cut at clause punctuation, then hard-cut.
    """
    pieces: list[str] = []
    for sentence in re.findall(r"[^。！？!?；;\n]+[。！？!?；;\n]*", text):
        if len(sentence.encode()) <= max_bytes:
            pieces.append(sentence)
            continue
        for clause in re.findall(r"[^，,、：:]+[，,、：:]*", sentence):
            while len(clause.encode()) > max_bytes:
                cut = max_bytes // 4  # at most 4 bytes per character
                pieces.append(clause[:cut])
                clause = clause[cut:]
            pieces.append(clause)
    merged = pack(pieces, lambda s: len(s.encode()) <= max_bytes)
    return [m for m in (x.strip() for x in merged) if m]


class _Retryable(Exception):
    """A failure worth another try (wraps the original)."""


class EdgeEngine(Engine):
    """edge-tts voices (online). Prosody: ``rate`` "+10%", ``pitch`` "-5Hz", ``volume`` "+0%"."""

    name = "edge"
    description = "Microsoft Edge online voices (edge-tts); needs the internet"
    offline = False

    def __init__(
        self,
        stream: StreamFn | None = None,
        *,
        retries: int = 4,
        base_delay: float = 0.5,
        max_delay: float = 8.0,
        concurrency: int = 4,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        """Create the engine.

        Raises:
            EngineUnavailableError: edge-tts is not installed.
        """
        if stream is None:
            try:
                import edge_tts  # noqa: F401
            except ImportError as exc:
                raise EngineUnavailableError(
                    "edge-tts is not installed",
                    hint="pip install edge-tts, or use --engine neural / espeak",
                ) from exc
        self._stream: StreamFn = stream or _edge_stream
        self.retries = retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._slots = threading.BoundedSemaphore(concurrency)

    def version(self) -> str:
        try:
            from edge_tts import version

            return f"edge-tts {version.__version__}"
        except ImportError:
            return "edge-tts"

    def synthesize(self, text: str, voice: Voice) -> Audio:
        """Speak ``text`` (see :meth:`synthesize_detailed`).

        Raises:
            EngineUnavailableError: the service is unreachable (offline).
            SynthesisError: the service kept failing for this text.
            ConfigError: the voice's prosody is malformed.
        """
        return self.synthesize_detailed(text, voice).audio

    def synthesize_detailed(self, text: str, voice: Voice) -> EdgeResult:
        """Speak ``text``, returning audio and the service's boundaries.

        Raises:
            EngineUnavailableError: the service is unreachable (offline).
            SynthesisError: the service kept failing for this text.
            ConfigError: the voice's prosody is malformed.
        """
        with self._slots:
            return asyncio.run(self.synthesize_async(text, voice))

    async def synthesize_async(self, text: str, voice: Voice) -> EdgeResult:
        """Async core of :meth:`synthesize_detailed`.

        Raises:
            EngineUnavailableError: the service is unreachable (offline).
            SynthesisError: the service kept failing for this text.
            ConfigError: the voice's prosody is malformed.
        """
        rate, pitch, volume = _prosody(voice)
        mp3 = bytearray()
        bounds: list[Boundary] = []
        offset = 0.0
        for piece in split_for_requests(text):
            data, piece_bounds = await self._request_with_retries(piece, voice, rate, pitch, volume)
            audio = decode_bytes(bytes(data), EDGE_RATE)
            bounds.extend(Boundary(b.start + offset, b.duration, b.text) for b in piece_bounds)
            offset += audio.duration
            mp3 += data
        if not mp3:
            raise SynthesisError(f"edge-tts returned no audio for: {text[:40]}")
        return EdgeResult(decode_bytes(bytes(mp3), EDGE_RATE), tuple(bounds))

    async def _request_with_retries(
        self, text: str, voice: Voice, rate: str, pitch: str, volume: str
    ) -> tuple[bytes, list[Boundary]]:
        last: BaseException | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
                await self._sleep(delay * (0.5 + self._rng.random()))
            try:
                return await self._request(text, voice, rate, pitch, volume)
            except _Retryable as exc:
                last = exc.__cause__ or exc
        if _is_connection_error(last):
            raise EngineUnavailableError(
                f"edge-tts service unreachable after {self.retries + 1} tries ({last})",
                hint=OFFLINE_HINT,
            ) from last
        raise SynthesisError(
            f"edge-tts failed {self.retries + 1} times for voice {voice.id}: {last}",
            hint="try again later, or set another voice / fallback in voices/casting.toml",
        ) from last

    async def _request(
        self, text: str, voice: Voice, rate: str, pitch: str, volume: str
    ) -> tuple[bytes, list[Boundary]]:
        import aiohttp

        data = bytearray()
        bounds: list[Boundary] = []
        try:
            async for chunk in self._stream(text, voice.id, rate, pitch, volume):
                kind = chunk.get("type")
                if kind == "audio":
                    data += chunk["data"]
                elif kind in ("WordBoundary", "SentenceBoundary"):
                    bounds.append(
                        Boundary(
                            chunk["offset"] / 1e7, chunk.get("duration", 0) / 1e7, chunk["text"]
                        )
                    )
        except aiohttp.ClientConnectorDNSError as exc:
            raise EngineUnavailableError(
                f"edge-tts service unreachable ({exc})", hint=OFFLINE_HINT
            ) from exc
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status == 403 or exc.status == 429 or exc.status >= 500:
                raise _Retryable() from exc
            raise SynthesisError(f"edge-tts refused the request: HTTP {exc.status}") from exc
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
            raise _Retryable() from exc
        except Exception as exc:
            if _is_edge_exception(exc):
                raise _Retryable() from exc
            raise
        if not data:
            raise _Retryable() from SynthesisError("no audio received")
        return bytes(data), bounds

    def list_voices(self) -> list[VoiceInfo]:
        """Every voice the service offers (``pangocast voices --language`` picks a language's).

        Raises:
            EngineUnavailableError: the service is unreachable.
        """
        import aiohttp
        import edge_tts

        try:
            voices = asyncio.run(edge_tts.list_voices())
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise EngineUnavailableError(
                f"cannot list edge-tts voices ({exc})", hint=OFFLINE_HINT
            ) from exc
        return [
            VoiceInfo(
                id=v["ShortName"],
                language=v.get("Locale", ""),
                gender=v.get("Gender", ""),
                description=v.get("FriendlyName", ""),
            )
            for v in voices
        ]


def _prosody(voice: Voice) -> tuple[str, str, str]:
    rate = str(voice.get("rate", "+0%"))
    pitch = str(voice.get("pitch", "+0Hz"))
    volume = str(voice.get("volume", "+0%"))
    for key, value, pattern, example in (
        ("rate", rate, _RATE_RE, "+10%"),
        ("pitch", pitch, _PITCH_RE, "-5Hz"),
        ("volume", volume, _RATE_RE, "+0%"),
    ):
        if not pattern.match(value):
            raise ConfigError(
                f"edge voice {voice.id}: {key} '{value}' is malformed",
                hint=f'write {key} = "{example}" in voices/casting.toml',
            )
    return rate, pitch, volume


def _is_edge_exception(exc: BaseException) -> bool:
    try:
        from edge_tts.exceptions import EdgeTTSException
    except ImportError:
        return False
    return isinstance(exc, EdgeTTSException)


def _is_connection_error(exc: BaseException | None) -> bool:
    import aiohttp

    return isinstance(exc, aiohttp.ClientConnectionError | TimeoutError | ConnectionError)
