"""``check_output`` on a real built ``output/``: clean when all is well, and each kind of
breakage a podcast app would choke on is reported as an error."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pangocast.check.feed import check_feed_against_previous
from pangocast.check.media import scan_mp3, true_peak_dbfs
from pangocast.check.validate import Finding, check_output, has_errors
from pangocast.publish.feed import render_feed
from pangocast.publish.images import image_info
from pangocast.publish.manifest import Manifest
from tests.feed_fixture import (
    SPECS,
    BuiltOutput,
    build_episode,
    build_output,
    make_png,
    publish,
    write_id3_chapters,
)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> BuiltOutput:
    return build_output(tmp_path_factory.mktemp("pristine"))


@pytest.fixture
def built(pristine: BuiltOutput, tmp_path: Path) -> BuiltOutput:
    """A private copy of the built show, free to break."""
    root = tmp_path / "show"
    shutil.copytree(pristine.root, root)
    return replace(pristine, root=root)


def errors(findings: list[Finding], where: str | None = None) -> list[Finding]:
    return [f for f in findings if f.severity == "error" and (where is None or f.where == where)]


def with_episode(built: BuiltOutput, slug: str, **changes: object) -> Manifest:
    episodes = tuple(
        replace(e, **changes) if e.slug == slug else e  # type: ignore[arg-type]
        for e in built.manifest.episodes
    )
    return replace(built.manifest, episodes=episodes)


def test_good_output_has_no_errors_or_warnings(built: BuiltOutput) -> None:
    findings = check_output(built.output, built.show, previous_feed=built.feed)
    assert [f for f in findings if f.severity != "info"] == []
    assert not has_errors(findings)


def test_truncated_mp3_is_an_error_even_when_the_feed_agrees(built: BuiltOutput) -> None:
    ep = built.episode("yang-lei")
    path = built.output / ep.audio
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    # the feed declares the new size: only the audio itself shows the damage
    built = publish(built, with_episode(built, ep.slug, audio_bytes=path.stat().st_size))
    found = errors(check_output(built.output, built.show), ep.audio)
    messages = " | ".join(f.message for f in found)
    assert "last frame is incomplete" in messages
    assert "decodes to" in messages


def test_truncated_mp3_with_stale_length_is_an_error(built: BuiltOutput) -> None:
    ep = built.episode("ye-li-deng")
    path = built.output / ep.audio
    path.write_bytes(path.read_bytes()[:-300])
    found = errors(check_output(built.output, built.show, loudness=False), ep.audio)
    assert any("enclosure length" in f.message for f in found)
    assert any("truncated" in f.message for f in found)


def test_enclosure_length_mismatch_is_an_error(built: BuiltOutput) -> None:
    ep = built.episode("yang-lei")
    built = publish(built, with_episode(built, ep.slug, audio_bytes=ep.audio_bytes + 1))
    found = errors(check_output(built.output, built.show, loudness=False), ep.audio)
    assert [f.message for f in found] == [
        f"enclosure length is {ep.audio_bytes + 1} bytes, the file has {ep.audio_bytes}"
    ]


def test_missing_enclosure_file_is_an_error(built: BuiltOutput) -> None:
    ep = built.episode("yang-lei")
    (built.output / ep.audio).unlink()
    found = errors(check_output(built.output, built.show, loudness=False), ep.audio)
    assert [f.message for f in found] == ["enclosure file does not exist"]


def test_changed_guid_against_the_previous_feed_is_an_error(built: BuiltOutput) -> None:
    previous = built.feed
    built = publish(built, with_episode(built, "yang-lei", guid="pangocast:test:new-guid"))
    findings = check_output(built.output, built.show, previous_feed=previous, loudness=False)
    found = [f for f in errors(findings) if "guid changed" in f.message]
    assert len(found) == 1
    assert "pangocast:test:yang-lei" in found[0].message
    assert "pangocast:test:new-guid" in found[0].message


def test_removed_episode_is_a_warning_not_an_error(built: BuiltOutput) -> None:
    previous = built.feed
    kept = tuple(e for e in built.manifest.episodes if e.slug != "ye-li-deng")
    built = publish(built, replace(built.manifest, episodes=kept))
    findings = check_feed_against_previous(built.feed, previous)
    assert [(f.severity, f.where) for f in findings] == [("warning", "item ye-li-deng")]


def test_rebuilt_audio_keeps_guids_changes_only_its_url_and_passes(built: BuiltOutput) -> None:
    """One episode re-rendered with different audio: new hashed name, same guid."""
    previous = built.feed
    old = built.episode("yang-lei")
    (built.output / old.audio).unlink()
    new = build_episode(built.output, SPECS[0], lufs=-16.5)
    assert new.audio != old.audio and new.guid == old.guid
    built = publish(
        built,
        replace(
            built.manifest,
            episodes=tuple(new if e.slug == new.slug else e for e in built.manifest.episodes),
        ),
    )
    findings = check_output(built.output, built.show, previous_feed=previous)
    assert [f for f in findings if f.severity != "info"] == []


def test_reused_enclosure_url_with_new_content_is_an_error(built: BuiltOutput) -> None:
    previous = built.feed
    ep = built.episode("ye-li-deng")
    path = built.output / ep.audio
    # CBR: a different size needs a different length
    fresh = build_episode(built.output, replace(SPECS[1], seconds=2.5))
    (built.output / fresh.audio).replace(path)  # new content under the old name
    built = publish(built, with_episode(built, ep.slug, audio_bytes=path.stat().st_size))
    assert path.stat().st_size != ep.audio_bytes
    found = errors(check_feed_against_previous(built.feed, previous))
    assert len(found) == 1 and "kept while its size changed" in found[0].message


def test_missing_transcript_is_an_error(built: BuiltOutput) -> None:
    ep = built.episode("ye-li-deng")
    (built.output / ep.transcripts["vtt"]).unlink()
    found = errors(check_output(built.output, built.show, loudness=False))
    assert [(f.where, f.message) for f in found] == [
        (ep.transcripts["vtt"], "transcript file does not exist")
    ]


@pytest.mark.parametrize(
    ("kind", "content", "expected"),
    [
        ("vtt", "00:00.000 --> 00:01.000\n你好\n", "must start with 'WEBVTT'"),
        ("vtt", "WEBVTT\n\n", "no cues"),
        ("srt", "1\n00:00:00.000 -> 00:00:01,000\n你好\n", "malformed"),
        ("json", '{"segments": [{"startTime": 0}]}', "JSON transcript"),
    ],
)
def test_unparsable_transcript_is_an_error(
    built: BuiltOutput, kind: str, content: str, expected: str
) -> None:
    ep = built.episode("yang-lei")
    (built.output / ep.transcripts[kind]).write_text(content, encoding="utf-8")
    found = errors(check_output(built.output, built.show, loudness=False))
    assert [f.where for f in found] == [ep.transcripts[kind]]
    assert expected in found[0].message


def test_broken_chapters_file_is_an_error(built: BuiltOutput) -> None:
    ep = built.episode("yang-lei")
    assert ep.chapters_file
    path = built.output / ep.chapters_file
    path.write_text(json.dumps({"version": "1.2.0", "chapters": [{"title": "x"}]}))
    found = errors(check_output(built.output, built.show, loudness=False))
    assert [f.where for f in found] == [ep.chapters_file]


def test_id3_chapters_disagreeing_with_json_is_an_error(built: BuiltOutput) -> None:
    ep = built.episode("ye-li-deng")
    path = built.output / ep.audio
    shifted = (ep.chapters[0], replace(ep.chapters[1], start=1.8))
    write_id3_chapters(path, shifted, ep.duration)
    built = publish(built, with_episode(built, ep.slug, audio_bytes=path.stat().st_size))
    found = errors(check_output(built.output, built.show, loudness=False), ep.audio)
    assert len(found) == 1 and "ID3 chapters disagree" in found[0].message


@pytest.mark.parametrize(
    ("size", "name", "expected"),
    [
        ((1000, 1000), "cover-small.png", "1400-3000"),
        ((1400, 1500), "cover-tall.png", "not square"),
        ((1400, 1400), "cover-grey.png", "not RGB"),
        ((1400, 1400), "cover-png.jpg", "named '.jpg'"),
    ],
)
def test_bad_cover_is_an_error(
    built: BuiltOutput, size: tuple[int, int], name: str, expected: str
) -> None:
    rel = f"images/{name}"
    make_png(built.output / rel, size, pix_fmt="gray" if "grey" in name else "rgb24")
    if name.endswith(".jpg"):  # a PNG under a .jpg name
        (built.output / rel).write_bytes((built.output / str(built.manifest.cover)).read_bytes())
    built = publish(built, replace(built.manifest, cover=rel))
    found = errors(check_output(built.output, built.show, loudness=False), rel)
    assert len(found) == 1 and expected in found[0].message


def test_jpeg_cover_passes(built: BuiltOutput) -> None:
    rel = "images/cover-jpeg.jpg"
    make_png(built.output / rel, (1600, 1600), pix_fmt="yuvj444p")
    info = image_info((built.output / rel).read_bytes())
    assert info is not None and (info.format, info.width, info.colour) == ("jpeg", 1600, "rgb")
    built = publish(built, replace(built.manifest, cover=rel))
    assert not has_errors(check_output(built.output, built.show, loudness=False))


def test_quiet_episode_is_a_loudness_warning(built: BuiltOutput) -> None:
    old = built.episode("ye-li-deng")
    (built.output / old.audio).unlink()
    quiet = build_episode(built.output, SPECS[1], lufs=-24.0)
    built = publish(
        built,
        replace(
            built.manifest,
            episodes=tuple(quiet if e.slug == quiet.slug else e for e in built.manifest.episodes),
        ),
    )
    findings = check_output(built.output, built.show)
    assert not has_errors(findings)
    assert [(f.severity, f.where) for f in findings if "loudness" in f.message] == [
        ("warning", quiet.audio)
    ]


def test_malformed_feed_is_one_error(built: BuiltOutput) -> None:
    (built.output / "feed.xml").write_bytes(built.feed.replace(b"</channel>", b""))
    findings = check_output(built.output, built.show)
    assert [(f.severity, f.where) for f in findings] == [("error", "feed.xml")]
    assert "well-formed" in findings[0].message


def test_feed_built_for_another_base_url_is_an_error(built: BuiltOutput) -> None:
    preview = built.show.with_base_url("http://localhost:8000/")
    (built.output / "feed.xml").write_bytes(render_feed(preview, built.manifest))
    found = errors(check_output(built.output, built.show, loudness=False))
    assert len(found) == 1 and "http://localhost:8000/feed.xml" in found[0].message
    assert not has_errors(check_output(built.output, preview, loudness=False))


def test_scan_mp3_finds_the_incomplete_last_frame(pristine: BuiltOutput) -> None:
    data = (pristine.output / pristine.episode("yang-lei").audio).read_bytes()
    whole = scan_mp3(data)
    assert whole.problem is None and whole.sample_rate == 44100
    assert abs(whole.duration - 3.0) < 0.1
    cut = scan_mp3(data[:-1])
    assert cut.problem is not None and "incomplete" in cut.problem


def test_true_peak_sees_between_the_samples() -> None:
    """A quarter-rate sine sampled at ±45°: samples peak 3 dB below the waveform."""
    rate = 44100
    t = np.arange(rate) / rate
    x = 0.5 * np.sin(2 * np.pi * rate / 4 * t + np.pi / 4)
    assert 20 * np.log10(np.max(np.abs(x))) == pytest.approx(-9.03, abs=0.01)
    assert true_peak_dbfs(x) == pytest.approx(-6.02, abs=0.1)
