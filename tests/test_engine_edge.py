"""edge-tts adapter, tested at its seam with a stand-in service that yields real MP3 chunks."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from edge_tts.exceptions import NoAudioReceived

from pangocast.audio.ffmpeg import ffmpeg_exe
from pangocast.core.errors import ConfigError, EngineUnavailableError, SynthesisError
from pangocast.voice.engines.base import Voice
from pangocast.voice.engines.edge import EdgeEngine, split_for_requests

VOICE = Voice.make("edge", "zh-CN-YunxiNeural", {"rate": "+10%", "pitch": "-5Hz"})


@pytest.fixture(scope="module")
def mp3_second() -> bytes:
    """One second of tone as 24 kHz mono MP3, like the service sends."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
           "sine=frequency=220:duration=1:sample_rate=24000", "-ac", "1", "-b:a", "48k",
           "-f", "mp3", "pipe:1"]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, check=True).stdout


def _dns_error() -> aiohttp.ClientConnectorDNSError:
    key = SimpleNamespace(host="speech.platform.bing.com", port=443, ssl=True)
    return aiohttp.ClientConnectorDNSError(key, OSError(-2, "Name or service not known"))  # type: ignore[arg-type]


def _handshake(status: int) -> aiohttp.WSServerHandshakeError:
    return aiohttp.WSServerHandshakeError(None, (), status=status, message="x")  # type: ignore[arg-type]


class StandIn:
    """Plays a scripted sequence of outcomes, one per request."""

    def __init__(self, mp3: bytes, outcomes: list[str]) -> None:
        self.mp3 = mp3
        self.outcomes = outcomes
        self.requests: list[tuple[str, str, str, str, str]] = []

    async def stream(
        self, text: str, voice: str, rate: str, pitch: str, volume: str
    ) -> AsyncIterator[dict[str, Any]]:
        self.requests.append((text, voice, rate, pitch, volume))
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if outcome == "dns":
            raise _dns_error()
        if outcome == "noaudio":
            raise NoAudioReceived("No audio was received.")
        if outcome in ("403", "503", "400"):
            raise _handshake(int(outcome))
        if outcome == "reset":
            raise aiohttp.ServerDisconnectedError()
        if outcome == "empty":
            return
        yield {"type": "SentenceBoundary", "offset": 1_000_000, "duration": 5_000_000,
               "text": text}  # fmt: skip
        half = len(self.mp3) // 2
        yield {"type": "audio", "data": self.mp3[:half]}
        await asyncio.sleep(0)
        yield {"type": "audio", "data": self.mp3[half:]}


def _engine(service: StandIn, delays: list[float], **kw: Any) -> EdgeEngine:
    async def fake_sleep(s: float) -> None:
        delays.append(s)

    import random

    return EdgeEngine(service.stream, sleep=fake_sleep, rng=random.Random(1), **kw)


def test_audio_and_boundaries_come_through(mp3_second: bytes) -> None:
    service = StandIn(mp3_second, ["ok"])
    result = _engine(service, []).synthesize_detailed("你好。", VOICE)
    assert result.audio.rate == 24000
    assert 0.9 < result.audio.duration < 1.2
    assert result.boundaries[0].start == pytest.approx(0.1)
    assert result.boundaries[0].duration == pytest.approx(0.5)
    assert service.requests == [("你好。", "zh-CN-YunxiNeural", "+10%", "-5Hz", "+0%")]


def test_long_turn_is_split_at_sentences_under_the_request_limit(mp3_second: bytes) -> None:
    text = "这是一个很长的句子,用来测试分段。" * 200
    pieces = split_for_requests(text)
    assert len(pieces) > 1
    assert all(len(p.encode()) <= 3000 for p in pieces)
    assert "".join(pieces) == text
    service = StandIn(mp3_second, [])
    audio = _engine(service, []).synthesize(text, VOICE)
    assert len(service.requests) == len(pieces)
    assert audio.duration == pytest.approx(len(pieces) * 1.0, rel=0.1)


def test_sentence_without_punctuation_is_hard_cut() -> None:
    pieces = split_for_requests("字" * 5000)
    assert all(len(p.encode()) <= 3000 for p in pieces) and "".join(pieces) == "字" * 5000


@pytest.mark.parametrize("failures", [["noaudio"], ["403", "503"], ["reset", "noaudio", "503"],
                                      ["empty"]])  # fmt: skip
def test_transient_failures_are_retried_with_growing_jittered_backoff(
    mp3_second: bytes, failures: list[str]
) -> None:
    service = StandIn(mp3_second, [*failures, "ok"])
    delays: list[float] = []
    audio = _engine(service, delays).synthesize("你好。", VOICE)
    assert audio.duration > 0.9
    assert len(service.requests) == len(failures) + 1
    assert len(delays) == len(failures)
    for i, d in enumerate(delays):
        base = 0.5 * 2**i
        assert 0.5 * base <= d <= 1.5 * base
    assert delays == sorted(delays) or len(delays) < 2


def test_gives_up_after_retries_with_a_clear_error(mp3_second: bytes) -> None:
    service = StandIn(mp3_second, ["noaudio"] * 10)
    delays: list[float] = []
    with pytest.raises(SynthesisError, match="failed 4 times for voice zh-CN-YunxiNeural"):
        _engine(service, delays, retries=3).synthesize("你好。", VOICE)
    assert len(service.requests) == 4
    assert max(delays) <= 8.0 * 1.5


def test_connection_errors_exhausted_mean_unreachable(mp3_second: bytes) -> None:
    service = StandIn(mp3_second, ["reset"] * 10)
    with pytest.raises(EngineUnavailableError, match="--engine neural"):
        _engine(service, [], retries=2).synthesize("你好。", VOICE)


def test_dns_failure_stops_at_once_with_offline_hint(mp3_second: bytes) -> None:
    service = StandIn(mp3_second, ["dns"])
    delays: list[float] = []
    with pytest.raises(EngineUnavailableError) as err:
        _engine(service, delays).synthesize("你好。", VOICE)
    assert "offline engine" in str(err.value) and "--engine neural" in str(err.value)
    assert len(service.requests) == 1 and delays == []


def test_client_error_4xx_is_not_retried(mp3_second: bytes) -> None:
    service = StandIn(mp3_second, ["400"])
    with pytest.raises(SynthesisError, match="HTTP 400"):
        _engine(service, []).synthesize("你好。", VOICE)
    assert len(service.requests) == 1


def test_malformed_prosody_is_a_config_error(mp3_second: bytes) -> None:
    bad = Voice.make("edge", "zh-CN-YunxiNeural", {"rate": "fast"})
    with pytest.raises(ConfigError, match="rate 'fast' is malformed"):
        _engine(StandIn(mp3_second, []), []).synthesize("你好。", bad)


def _online() -> bool:
    try:
        socket.create_connection(("speech.platform.bing.com", 443), timeout=3).close()
    except OSError:
        return False
    return True


@pytest.mark.network
@pytest.mark.skipif(not _online(), reason="offline: the edge-tts service is unreachable")
def test_real_service_speaks_mandarin() -> None:
    audio = EdgeEngine().synthesize("你好,欢迎收听。", Voice.make("edge", "zh-CN-YunxiNeural"))
    assert 0.8 < audio.duration < 5
    assert abs(audio.samples).max() > 1000


def test_voices_are_not_limited_to_chinese_and_filter_by_language(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import edge_tts

    listed = [
        {"ShortName": "zh-CN-XiaoxiaoNeural", "Locale": "zh-CN", "Gender": "Female"},
        {"ShortName": "zh-TW-HsiaoChenNeural", "Locale": "zh-TW", "Gender": "Female"},
        {"ShortName": "en-US-AndrewNeural", "Locale": "en-US", "Gender": "Male"},
        {"ShortName": "de-DE-KatjaNeural", "Locale": "de-DE", "Gender": "Female"},
    ]

    async def stand_in_list_voices() -> list[dict[str, str]]:
        return listed

    monkeypatch.setattr(edge_tts, "list_voices", stand_in_list_voices)
    engine = EdgeEngine()
    assert [v.id for v in engine.list_voices()] == [v["ShortName"] for v in listed]
    assert [v.id for v in engine.voices_for("en")] == ["en-US-AndrewNeural"]
    assert [v.id for v in engine.voices_for("zh-cn")] == [
        "zh-CN-XiaoxiaoNeural",
        "zh-TW-HsiaoChenNeural",
    ]
    assert engine.voices_for("fr") == []


def test_voices_command_lists_the_shows_language_unless_told_another(
    monkeypatch: pytest.MonkeyPatch, show_dir: Path
) -> None:
    import edge_tts
    from typer.testing import CliRunner

    from pangocast_cli.app import app

    async def stand_in_list_voices() -> list[dict[str, str]]:
        return [
            {"ShortName": "zh-CN-XiaoxiaoNeural", "Locale": "zh-CN", "Gender": "Female"},
            {"ShortName": "en-US-AndrewNeural", "Locale": "en-US", "Gender": "Male"},
        ]

    monkeypatch.setattr(edge_tts, "list_voices", stand_in_list_voices)
    show = show_dir / "feeds" / "show.toml"
    show.write_text(show.read_text(encoding="utf-8").replace('"zh-cn"', '"en"'), encoding="utf-8")
    runner = CliRunner()
    listed = runner.invoke(app, ["--project", str(show_dir), "voices", "--engine", "edge"])
    assert listed.exit_code == 0, listed.output
    assert "en-US-AndrewNeural" in listed.output and "zh-CN" not in listed.output
    other = runner.invoke(app, ["-p", str(show_dir), "voices", "-e", "edge", "-l", "zh"])
    assert "zh-CN-XiaoxiaoNeural" in other.output and "en-US" not in other.output


def test_chinese_voices_tagged_cmn_or_yue_speak_a_zh_show() -> None:
    from pangocast.voice.engines import get_engine

    assert [v.id for v in get_engine("neural").voices_for("zh-cn")] == [
        v.id for v in get_engine("neural").list_voices()
    ]
