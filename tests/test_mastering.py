"""Broadcast-ready episodes: a short two-chapter episode is assembled, levelled, mastered,
encoded and tagged, then measured the way a podcast app sees it (the DECODED MP3).

The episode is built twice: from real speech (espeak-ng through espeakng-loader, skipped when
that engine is unavailable) and from a synthetic speech-like stand-in (tests/speechlike.py).
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mutagen.id3
import numpy as np
import pytest

from pangocast.audio import decode, loudness, truepeak
from pangocast.audio.decode import measure_file
from pangocast.audio.delivery import Delivered, deliver, level_segment, master_stream, prepare
from pangocast.audio.ffmpeg import decode_file, ffmpeg_exe
from pangocast.audio.jingles import STING_SECONDS, make_sting
from pangocast.audio.limiter import audible_span, limit_true_peak, trim_silence
from pangocast.audio.loudness import measure
from pangocast.audio.mp3 import Id3Tags, encode_mp3, mp3_info, read_chapters, write_id3
from pangocast.audio.pacing import Pacing, pause_between
from pangocast.audio.pcm import Audio, from_db
from pangocast.audio.timeline import (
    PlacedSentence,
    SynthesizedTurn,
    Timeline,
    assemble,
    voice_turn,
)
from pangocast.core.errors import AudioError
from pangocast.core.models import Chapter, TimedTurn, Turn
from pangocast.publish.transcripts import chapters_json, to_json, to_srt, to_vtt
from tests.speechlike import speech_like

ID3_MODULE: Any = mutagen.id3  # unannotated in mutagen
TOL_S = 0.050  # chapter and cue timing tolerance (issue 5)
RATE = 22050

SCRIPT: list[Turn] = [
    Turn("chapter", "narrator", "旁白", "第一章：开源的起点"),
    Turn("speech", "host", "老王", "欢迎收听本期节目。今天我们聊聊开源。"),
    Turn(
        "speech",
        "guest",
        "杨镭",
        "我们在二零一八年开源了这个项目，当时的想法其实很简单，就是把内部已经验证过的金融级"
        "分布式架构能力开放出来，让更多的企业和开发者都能够受益。",
    ),
    Turn("chapter", "narrator", "旁白", "第二章：社区与未来"),
    Turn("speech", "host", "老王", "社区现在怎么样？"),
    Turn("speech", "guest", "杨镭", "社区很活跃。每个月都有新的贡献者加入。"),
]
QUIET_DB = -15.0  # the guest's raw audio is this much quieter: levelling must fix it


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[。？！])", text) if s]


@dataclass(frozen=True)
class Built:
    timeline: Timeline
    delivered: Delivered
    mp3: Path
    decoded: Audio
    cover: Path


def _espeak_voice() -> object:
    from pangocast.core.errors import EngineUnavailableError
    from pangocast.voice.engines import Voice, get_engine

    try:
        engine = get_engine("espeak")
        engine.synthesize("测试", Voice.make("espeak", "cmn"))
    except EngineUnavailableError as exc:
        pytest.skip(f"espeak-ng unavailable: {exc}")
    pitches = {"旁白": 40, "老王": 25, "杨镭": 70}

    def speak(turn: Turn, text: str) -> Audio:
        voice = Voice.make("espeak", "cmn", {"pitch": pitches[turn.speaker], "rate": 190})
        # engines pad speech with silence; trimmed so a turn's start is its first sound
        return trim_silence(engine.synthesize(text, voice), keep=0.005)

    return speak


def _standin_voice() -> object:
    f0 = {"旁白": 150.0, "老王": 110.0, "杨镭": 210.0}

    def speak(turn: Turn, text: str) -> Audio:
        seed = sum(map(ord, text)) % 1000
        return speech_like(0.15 * len(text), RATE, f0=f0[turn.speaker], seed=seed)

    return speak


@pytest.fixture(scope="module", params=["espeak_speech", "speechlike_standin"])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Built:
    speak = _espeak_voice() if request.param == "espeak_speech" else _standin_voice()
    plan = []
    for turn in SCRIPT:
        placed = []
        for text in _sentences(turn.text):
            audio = speak(turn, text)  # type: ignore[operator]
            if turn.speaker == "杨镭":
                audio = Audio.from_float(audio.to_float() * 10 ** (QUIET_DB / 20), audio.rate)
            placed.append(PlacedSentence(text, audio))
        plan.append(SynthesizedTurn(turn, tuple(placed)))
    pacing = Pacing()
    timeline = assemble(
        [voice_turn(t, RATE, pacing.sentence, level_segment) for t in plan],
        RATE,
        gap=lambda prev, nxt: pause_between(prev, nxt, pacing),
        intro=[make_sting(RATE)],
        intro_title="片头",
    )
    folder = tmp_path_factory.mktemp(request.param)
    from pangocast.publish.artwork import render_cover

    cover = render_cover("穿山甲专访", "测试", folder / "cover.png")
    mp3 = folder / "episode.mp3"
    tags = Id3Tags("第一期", "老王", "穿山甲专访", "2024-05-01", "测试节目 <b>", cover)
    delivered = deliver(timeline.audio, mp3, tags, chapters=timeline.chapters)
    return Built(timeline, delivered, mp3, decode_file(mp3, 44100), cover)


def _onset(audio: Audio, around: float, not_before: float) -> float:
    """First audible moment of ``audio`` from max(``not_before``, around - 0.3 s) on."""
    lo = round(max(not_before, around - 0.3) * audio.rate)
    hi = round((around + 1.0) * audio.rate)
    span = audible_span(Audio(audio.samples[lo:hi], audio.rate), -40.0)
    assert span is not None, f"no sound near {around:.3f}s"
    return lo / audio.rate + span[0]


def _previous_end(built: Built, turn: TimedTurn) -> float:
    """Where the sound before ``turn`` ends (previous turn, or the sting)."""
    ends = [t.end for t in built.timeline.turns if t.end <= turn.start]
    return max(ends, default=STING_SECONDS) + 0.01


def test_decoded_mp3_meets_loudness_spec(built: Built) -> None:
    got = measure(built.decoded)
    assert got.integrated_lufs == pytest.approx(-16.0, abs=1.0)
    assert got.true_peak_dbtp <= -1.0
    # what deliver() reported is what a decoder gets
    assert built.delivered.loudness.integrated_lufs == pytest.approx(got.integrated_lufs, abs=0.05)
    assert measure_file(built.mp3).true_peak_dbtp <= -1.0


def test_mp3_decodes_alike_in_process_and_through_ffmpeg(built: Built) -> None:
    """deliver() measures the MP3 as libsndfile decodes it in process; ffmpeg (the other
    path, for other rates) must agree on every sample: same count, same loudness and peak."""

    reader = decode.libsndfile_reader(built.mp3, 44100)
    assert reader is not None, "the delivered MP3 must take the in-process path"
    reader.close()
    assert decode.libsndfile_reader(built.mp3, 22050) is None  # ffmpeg resamples
    fast = np.concatenate(list(decode.decoded_pieces(built.mp3, 44100, 65536)))
    # ffmpeg's pieces share one buffer: each is copied before the next is read
    slow = np.concatenate([x.copy() for x in decode.ffmpeg_pieces(built.mp3, 44100, 65536)])
    assert fast.dtype.kind == "f" and len(fast) == len(slow) == len(built.decoded.samples)
    assert np.abs(fast - slow / 32768.0).max() <= 1.0 / 32768  # s16 rounding only
    meter = loudness.Meter(44100)
    for pcm in decode.ffmpeg_pieces(built.mp3, 44100, meter.chunk):
        meter.feed(pcm)
    got = measure_file(built.mp3)
    assert got.integrated_lufs == pytest.approx(meter.result().integrated_lufs, abs=0.001)
    assert got.true_peak_dbtp == pytest.approx(meter.result().true_peak_dbtp, abs=0.01)


def test_truncated_mp3_decodes_short_in_process(built: Built, tmp_path: Path) -> None:
    """A cut MP3 decodes to what is left of it, not to the length its header declares."""

    cut = tmp_path / "cut.mp3"
    data = built.mp3.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    got = sum(len(x) for x in decode.decoded_pieces(cut, 44100, 65536))
    full = len(built.decoded.samples)
    assert 0.3 * full < got < 0.7 * full


def test_undecodable_file_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00not audio" * 50)
    with pytest.raises(AudioError, match="cannot decode audio"):
        measure_file(bad)
    with pytest.raises(AudioError, match="not found"):
        measure_file(tmp_path / "missing.mp3")


def test_mp3_stream_is_mono_44k_cbr(built: Built) -> None:
    info = mp3_info(built.mp3)
    assert (info.channels, info.sample_rate, info.bitrate, info.cbr) == (1, 44100, 64000, True)
    assert info.duration == pytest.approx(built.timeline.audio.duration, abs=0.06)
    assert built.delivered.size == built.mp3.stat().st_size


def test_turns_are_levelled_against_each_other(built: Built) -> None:
    levels = []
    for turn in built.timeline.turns:
        if turn.kind != "speech":
            continue
        a, b = round(turn.start * 44100), round(turn.end * 44100)
        levels.append(measure(Audio(built.decoded.samples[a:b], 44100)).integrated_lufs)
    # the guest went in 15 dB quieter than the host
    assert max(levels) - min(levels) < 3.0, levels


def test_id3_chapters_start_where_each_heading_is_heard(built: Built) -> None:
    chapters = read_chapters(built.mp3)
    assert [c.title for c in chapters] == ["片头", "第一章：开源的起点", "第二章：社区与未来"]
    assert chapters[0].start == 0.0
    headings = [t for t in built.timeline.turns if t.kind == "chapter"]
    for chapter, heading in zip(chapters[1:], headings, strict=True):
        heard = _onset(built.decoded, heading.start, _previous_end(built, heading))
        assert abs(chapter.start - heard) <= TOL_S, (chapter, heard)


def test_id3_frames_read_back(built: Built) -> None:
    id3 = ID3_MODULE.ID3(built.mp3)
    assert id3.version[:2] == (2, 3)
    assert str(id3["TIT2"]) == "第一期" and str(id3["TALB"]) == "穿山甲专访"
    assert str(id3["TPE1"]) == "老王" and str(id3.getall("TDRC")[0]).startswith("2024")
    assert id3.getall("COMM")[0].text == ["测试节目 <b>"]
    apic = id3.getall("APIC")[0]
    assert apic.mime == "image/png" and apic.data == built.cover.read_bytes()
    (toc,) = id3.getall("CTOC")
    chaps = {c.element_id: c for c in id3.getall("CHAP")}
    assert list(toc.child_element_ids) == sorted(chaps)
    ends = [chaps[e].end_time for e in toc.child_element_ids]
    starts = [chaps[e].start_time for e in toc.child_element_ids]
    assert ends[:-1] == starts[1:]  # each chapter ends where the next begins
    assert ends[-1] == pytest.approx(built.timeline.audio.duration * 1000, abs=2)


def test_every_turn_starts_where_its_audio_does(built: Built) -> None:
    for turn in built.timeline.turns:
        heard = _onset(built.decoded, turn.start, _previous_end(built, turn))
        assert abs(heard - turn.start) <= TOL_S, turn


def _vtt_cues(text: str) -> list[tuple[float, float, str]]:
    def secs(stamp: str) -> float:
        h, m, s = stamp.replace(",", ".").split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    cues = []
    pattern = r"(\d\d:\d\d:\d\d[.,]\d{3}) --> (\d\d:\d\d:\d\d[.,]\d{3})\n(.+)"
    for m in re.finditer(pattern, text):
        cues.append((secs(m[1]), secs(m[2]), m[3]))
    return cues


def test_vtt_cues_follow_the_segments(built: Built) -> None:
    vtt = to_vtt(built.timeline.sentences)
    assert vtt.startswith("WEBVTT\n\n")
    lines = vtt.splitlines()
    assert max(len(line) for line in lines) <= 65
    cues = _vtt_cues(vtt)
    assert len(cues) > len(built.timeline.sentences)  # the long sentence was split
    starts = [c[0] for c in cues]
    ends = [c[1] for c in cues]
    for seg in built.timeline.sentences:
        assert min(abs(s - seg.start) for s in starts) <= TOL_S, seg
        assert min(abs(e - seg.end) for e in ends) <= TOL_S, seg
    assert all(a < b for a, b, _ in cues)
    assert all(text.startswith(("<v 老王>", "<v 杨镭>", "<v 旁白>")) for _, _, text in cues)


def test_srt_and_json_transcripts_parse(built: Built) -> None:
    srt = to_srt(built.timeline.sentences)
    blocks = srt.strip().split("\n\n")
    srt_cues = _vtt_cues(srt)
    assert len(srt_cues) == len(blocks) and [b.split("\n")[0] for b in blocks] == [
        str(i) for i in range(1, len(blocks) + 1)
    ]
    assert all(len(line) <= 65 for line in srt.splitlines())
    data = json.loads(to_json(built.timeline.sentences))
    assert data["version"] == "1.0.0"
    segs = data["segments"]
    assert {tuple(sorted(s)) for s in segs} == {("body", "endTime", "speaker", "startTime")}
    assert all(a["endTime"] <= b["startTime"] + 1e-9 for a, b in itertools.pairwise(segs))
    assert segs[0]["startTime"] == pytest.approx(built.timeline.sentences[0].start, abs=0.001)


def test_json_chapters_match_id3(built: Built) -> None:
    data = json.loads(chapters_json(built.timeline.chapters))
    assert data["version"] == "1.2.0"
    id3 = read_chapters(built.mp3)
    assert [c["title"] for c in data["chapters"]] == [c.title for c in id3]
    for c, ref in zip(data["chapters"], id3, strict=True):
        assert c["startTime"] == pytest.approx(ref.start, abs=0.001)


# --- mastering units ---------------------------------------------------------------------


def _sine(freq: float, amp: float, seconds: float, rate: int = 44100, phase: float = 0) -> Audio:
    t = np.arange(round(seconds * rate)) / rate
    x = amp * np.sin(2 * np.pi * freq * t + phase)
    fade = min(len(x) // 4, rate // 20)  # no click at the edges (it would be a real peak)
    x[:fade] *= np.linspace(0, 1, fade)
    x[len(x) - fade :] *= np.linspace(1, 0, fade)
    return Audio.from_float(x, rate)


def test_measure_matches_bs1770_reference_tones() -> None:
    # a 997 Hz sine at -20 dBFS peak reads -23.0 LUFS (BS.1770 calibration: -3.01 dB)
    got = measure(_sine(997, 0.1, 3.0))
    assert got.integrated_lufs == pytest.approx(-23.0, abs=0.1)
    assert got.true_peak_dbtp == pytest.approx(-20.0, abs=0.05)
    # fs/4 at 45 degrees: every sample is at 0.707 of the peak, the true peak is between
    tone = _sine(11025, 0.5, 1.0, phase=np.pi / 4)
    sample_peak = 20 * np.log10(np.abs(tone.to_float()).max())
    assert sample_peak == pytest.approx(-9.03, abs=0.05)
    assert measure(tone).true_peak_dbtp == pytest.approx(-6.02, abs=0.2)


@pytest.mark.parametrize("rate", [11025, 22050, 24000, 44100])
def test_integrated_loudness_agrees_with_pyloudnorm(rate: int) -> None:
    import warnings

    import pyloudnorm

    for seconds in (0.45, 1.03, 4.7):
        audio = speech_like(seconds, rate, seed=round(seconds * 100))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = pyloudnorm.Meter(rate).integrated_loudness(audio.to_float())
        assert measure(audio).integrated_lufs == pytest.approx(reference, abs=1e-6)


def test_silent_short_and_empty_audio_do_not_crash() -> None:
    assert measure(Audio.silence(1.0, 44100)).integrated_lufs == -np.inf
    assert measure(Audio.silence(0.0, 44100)).true_peak_dbtp == -np.inf
    for audio in (Audio.silence(0.0, 22050), Audio.silence(0.05, 22050)):
        assert np.array_equal(level_segment(audio).samples, audio.samples)
    blip = _sine(440, 0.01, 0.1, 22050)  # shorter than one 400 ms gating block
    levelled = level_segment(blip, -20.0)
    assert len(levelled.samples) == len(blip.samples)
    assert measure(levelled).integrated_lufs == pytest.approx(-20.0, abs=0.5)
    assert prepare(Audio.silence(1.0, 22050)) is None  # silence: nothing to master


def test_level_segment_limits_instead_of_clipping() -> None:
    # a peaky clip: a quiet tone with a loud click, raised by a lot
    x = _sine(300, 0.02, 2.0, 22050).to_float()
    x[22050] = 0.9
    levelled = level_segment(Audio.from_float(x, 22050), -14.0)
    got = measure(levelled)
    assert got.true_peak_dbtp <= -0.9
    assert got.integrated_lufs == pytest.approx(-14.0, abs=0.5)


def _mastered(audio: Audio, target: float, ceiling_db: float) -> Audio:
    """The mastering stream that deliver() hands the encoder, joined."""
    prepared = prepare(audio)
    assert prepared is not None
    stream = master_stream(prepared, target, from_db(ceiling_db), 0.2)
    return Audio(np.concatenate(list(stream.pieces())), stream.rate)


def test_master_hits_target_at_the_working_rate_with_peaks_limited() -> None:
    voice = speech_like(12.0, 24000, f0=180.0, level_db=-30.0, seed=7)
    out = _mastered(voice, -16.0, -2.0)
    got = measure(out)
    assert out.rate == 24000  # mastered at the engine's rate; the encoder resamples
    assert got.integrated_lufs == pytest.approx(-16.0, abs=0.25)
    assert got.true_peak_dbtp <= -2.0 + 0.01
    assert out.duration == pytest.approx(voice.duration, abs=0.01)


def test_limiter_keeps_quiet_material_untouched() -> None:
    voice = speech_like(3.0, 44100, level_db=-30.0, seed=3)
    assert np.array_equal(limit_true_peak(voice, -1.0).samples, voice.samples)
    loud = Audio.from_float(voice.to_float() * 20, 44100)
    assert measure(limit_true_peak(loud, -3.0)).true_peak_dbtp <= -3.0 + 0.01


# --- encoding failures ----------------------------------------------------------------------


def test_encoding_failure_is_loud_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tags = Id3Tags("t", "a", "b")
    audio = speech_like(1.0, 22050)
    with pytest.raises(AudioError, match="bit rate"):
        encode_mp3(audio, tmp_path / "x.mp3", tags, bitrate="7k")
    with pytest.raises(AudioError, match="empty"):
        encode_mp3(Audio.silence(0, 22050), tmp_path / "x.mp3", tags)
    script = tmp_path / "ffmpeg"
    script.write_text(
        "#!/bin/sh\necho 'first line' >&2\necho 'Unknown encoder libmp3lame' >&2\nexit 1\n"
    )
    script.chmod(0o755)
    monkeypatch.setattr("pangocast.audio.ffmpeg.ffmpeg_exe", lambda: str(script))
    with pytest.raises(AudioError, match="Unknown encoder libmp3lame"):
        encode_mp3(audio, tmp_path / "x.mp3", tags)
    assert list(tmp_path.iterdir()) == [script]


def test_chapters_are_validated(tmp_path: Path) -> None:
    mp3 = tmp_path / "x.mp3"
    tags = Id3Tags("t", "a", "b")
    encode_mp3(speech_like(2.0, 22050), mp3, tags)
    with pytest.raises(AudioError, match="increase"):
        write_id3(mp3, tags, [Chapter(1.0, "b"), Chapter(0.5, "a")])
    with pytest.raises(AudioError, match="outside"):
        write_id3(mp3, tags, [Chapter(0.0, "a"), Chapter(9.0, "b")])
    write_id3(mp3, tags, [Chapter(0.0, "a"), Chapter(1.25, "b")])
    assert read_chapters(mp3) == [Chapter(0.0, "a"), Chapter(1.25, "b")]


def test_mp3_gets_ordinary_file_permissions(tmp_path: Path) -> None:
    # a private temp file renamed into place would be unreadable to a web server
    mp3 = tmp_path / "x.mp3"
    encode_mp3(speech_like(1.0, 22050), mp3, Id3Tags("t", "a", "b"))
    reference = tmp_path / "ref"
    reference.touch()
    assert mp3.stat().st_mode & 0o777 == reference.stat().st_mode & 0o777


# --- chunked processing: the same figures in bounded memory ----------------------------------


def _reference_master(audio: Audio, target: float, ceiling_db: float) -> Audio:
    """The mastering stream's algorithm on whole float64 arrays (the way it was first written)."""
    from pangocast.audio import limiter, loudness, pcm

    x = audio.to_float()
    weighted = loudness.k_weighted(x, audio.rate)
    gain_db = target - loudness.gated_loudness(weighted, audio.rate)
    y = x
    for _ in range(5):
        g = pcm.from_db(gain_db)
        lim = limiter.limiter_gain(x * g, audio.rate, pcm.from_db(ceiling_db))
        if lim is None:
            y = x * g
            break
        y = x * g * lim
        error = target - loudness.gated_loudness(weighted * g * lim, audio.rate)
        if abs(error) <= 0.2:
            break
        gain_db += error
    return Audio.from_float(y, audio.rate)


def test_chunked_master_equals_the_whole_signal_computation() -> None:
    # loud and peaky: the limiter acts in many places, across chunk boundaries
    voice = speech_like(9.7, 44100, f0=140.0, level_db=-12.0, seed=11)
    x = voice.to_float()
    x[::7919] = 0.95  # clicks
    voice = Audio.from_float(x, 44100)
    got = _mastered(voice, -14.0, -2.0)
    want = _reference_master(voice, -14.0, -2.0)
    assert len(got.samples) == len(want.samples)
    assert int(np.abs(got.samples.astype(int) - want.samples).max()) <= 1
    assert measure(got).true_peak_dbtp <= -2.0 + 0.01


@pytest.mark.parametrize("piece", [66150, 4410, 1000, 7])
def test_streamed_measurement_equals_measure(piece: int) -> None:
    from pangocast.audio.loudness import Meter

    for seconds in (0.3, 3.37):
        audio = speech_like(seconds, 44100, level_db=-9.0, seed=5)
        meter = Meter(44100)
        for lo in range(0, len(audio.samples), piece):
            meter.feed(audio.samples[lo : lo + piece])
        got, want = meter.result(), measure(audio)
        assert meter.n == len(audio.samples)
        assert got.integrated_lufs == pytest.approx(want.integrated_lufs, abs=1e-9)
        assert got.true_peak_dbtp == pytest.approx(want.true_peak_dbtp, abs=1e-9)


def test_deliver_reports_how_long_the_decoded_mp3_plays(built: Built) -> None:
    decoded = len(built.decoded.samples) / built.decoded.rate
    assert built.delivered.decoded_seconds == pytest.approx(decoded, abs=1e-6)
    assert built.delivered.decoded_seconds == pytest.approx(built.timeline.audio.duration, abs=0.1)


def test_deliver_holds_no_float_copy_of_the_episode(tmp_path: Path) -> None:
    import tracemalloc

    episode = speech_like(60.0, 24000, level_db=-14.0, seed=2)
    float_copy = round(60.0 * 44100) * 8  # one float64 array of the mastered episode
    tracemalloc.start()
    try:
        deliver(episode, tmp_path / "e.mp3", Id3Tags("t", "a", "b"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 16-bit copies at 44.1 kHz and 1.5 s chunks: well under one float64 copy
    assert peak < float_copy


def _signals() -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(3)
    n = 20000
    t = np.arange(n)
    return [
        ("speech", speech_like(n / 24000, 24000, level_db=-6.0, seed=9).to_float()),
        ("white noise", rng.uniform(-0.9, 0.9, n)),
        ("alternating", np.where(t % 2 == 0, 0.8, -0.8)),
        ("fs/4 at 45 degrees", 0.7 * np.sin(np.pi / 2 * t + np.pi / 4)),
        ("clicks", np.where(t % 997 == 0, 0.9, 0.0)),
        ("square", np.where((t // 37) % 2 == 0, 0.6, -0.6)),
    ]


@pytest.mark.parametrize("name, x", _signals(), ids=[n for n, _ in _signals()])
def test_true_peak_pruning_bound_is_never_below_the_interpolated_value(
    name: str, x: np.ndarray
) -> None:
    buf = truepeak.padded_for_taps(x)
    lo, hi = truepeak.HALF_TAPS, truepeak.HALF_TAPS + len(x)
    exact = np.maximum(np.abs(x), truepeak.interpolate_span(buf, lo, hi))
    bound = np.repeat(truepeak.screen_bounds(buf, lo, hi), truepeak.SCREEN)[: len(x)]
    assert np.all(bound >= exact)
    # and the pruned envelope is exact wherever the true envelope passes the threshold
    for threshold in (0.1, 0.5, float(exact.max()) * 0.999):
        env = truepeak.envelope_span(buf, lo, hi, threshold)
        over = exact > threshold
        assert np.array_equal(env[over], exact[over])
        assert np.all(env[~over] <= threshold)
    assert truepeak.true_peak_of(x) == pytest.approx(float(exact.max()), rel=1e-12)


@pytest.mark.parametrize("rate", [24000, 44100])
def test_the_pruning_bound_interpolates_few_positions_of_speech(rate: int) -> None:
    # near its true peak, a levelled turn leaves few of its runs of positions to
    # interpolate, several times fewer than a bound of sum|h| * max|x| (+5.8 dB) would
    x = speech_like(3.0, rate, level_db=-20.0, seed=4).to_float()
    buf = truepeak.padded_for_taps(x)
    lo, hi = truepeak.HALF_TAPS, truepeak.HALF_TAPS + len(x)
    peak = float(np.maximum(np.abs(x), truepeak.interpolate_span(buf, lo, hi)).max())
    screened = float((truepeak.screen_bounds(buf, lo, hi) > 0.9 * peak).mean())
    loud = np.abs(buf) > 0.9 * peak / np.abs(truepeak.phase_kernels()).sum(axis=1).max()
    near_loud = np.convolve(loud, np.ones(2 * truepeak.HALF_TAPS), "same")[lo:hi] > 0
    assert screened < 0.05
    assert screened < float(near_loud.mean()) / 4


# --- ID3 as strict readers and FFmpeg-based players see it ------------------------------------


def _raw_frame_ids(mp3: Path) -> list[str]:
    """The ids of the top-level ID3v2.3 frames in the order they are stored in the file."""
    data = mp3.read_bytes()
    assert data[:3] == b"ID3" and data[3] == 3
    size = int.from_bytes(bytes(b & 0x7F for b in data[6:10]), "big")  # syncsafe
    ids, pos = [], 10
    while pos + 10 <= 10 + size and data[pos] != 0:
        ids.append(data[pos : pos + 4].decode("latin-1"))
        pos += 10 + int.from_bytes(data[pos + 4 : pos + 8], "big")
    return ids


def test_id3v23_tag_holds_only_v23_frames_and_the_date(tmp_path: Path) -> None:
    mp3 = tmp_path / "t.mp3"
    encode_mp3(speech_like(1.0, 22050), mp3, Id3Tags("t", "a", "b", "2024-05-01", "c"))
    ids = _raw_frame_ids(mp3)
    assert "TDRC" not in ids  # a v2.4-only frame, lost by strict v2.3 readers
    assert "TYER" in ids and "TDAT" in ids
    v23 = ID3_MODULE.ID3(mp3, translate=False)
    assert str(v23["TYER"]) == "2024" and str(v23["TDAT"]) == "0105"  # DDMM


def test_chapter_frames_are_stored_in_time_order(tmp_path: Path) -> None:
    # titles whose lengths fall as time goes on: mutagen alone stores these by size
    titles = ["a much longer opening chapter title", "a middle one", "end"]
    chapters = [Chapter(float(i), t) for i, t in enumerate(titles)]
    mp3 = tmp_path / "c.mp3"
    encode_mp3(speech_like(3.5, 22050), mp3, Id3Tags("t", "a", "b"), chapters=chapters)
    chap_ids = [i for i in _raw_frame_ids(mp3) if i == "CHAP"]
    assert len(chap_ids) == 3
    stored = [f.element_id for f in ID3_MODULE.ID3(mp3).getall("CHAP")]
    assert stored == ["chp0", "chp1", "chp2"]  # mutagen lists frames in stored order
    # what FFmpeg-based players (and ffprobe -show_chapters) read
    meta = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(mp3), "-f", "ffmetadata", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    starts = [int(line.split("=")[1]) for line in meta.splitlines() if line.startswith("START=")]
    titles_read = [line[6:] for line in meta.splitlines() if line.startswith("title=")]
    assert starts == sorted(starts) and len(starts) == 3
    assert titles_read[-3:] == titles


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("zh-cn", "chi"),
        ("en", "eng"),
        ("en-US", "eng"),
        ("de-DE", "ger"),
        ("fil", "fil"),
        ("", "und"),
    ],
)
def test_comment_language_comes_from_the_show_language(
    tmp_path: Path, language: str, code: str
) -> None:
    mp3 = tmp_path / "l.mp3"
    tags = Id3Tags("t", "a", "b", comment="c", language=language)
    encode_mp3(speech_like(1.0, 22050), mp3, tags)
    assert ID3_MODULE.ID3(mp3).getall("COMM")[0].lang == code
