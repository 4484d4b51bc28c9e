"""End-to-end builds of a small show with the real espeak-ng engine (fast, offline)."""

from __future__ import annotations

import shutil
from pathlib import Path

import feedparser
import podcastparser
import pytest
from mutagen.mp3 import MP3

from pangocast.check.validate import check_output
from pangocast.core.errors import Notice, PangocastError
from pangocast.core.project import Project, load_show
from pangocast.pipeline.build import BuildEvents, BuildOptions, EpisodeReport, build
from pangocast.publish.manifest import read_manifest
from pangocast.voice.engines import ENGINES
from tests.conftest import TINY_SCRIPT

SECOND = (
    TINY_SCRIPT.replace('slug = "tiny"', 'slug = "second"')
    .replace("测试节目:两位嘉宾", "第二个测试节目")
    .replace("2019-07-01", "2019-08-01")
)


@pytest.fixture
def two_episode_show(show_dir: Path) -> Project:
    (show_dir / "scripts" / "02-second.txt").write_text(SECOND, encoding="utf-8")
    return Project(show_dir)


class Noted(BuildEvents):
    """Keeps the build's warnings (they reach the caller only through its events)."""

    def __init__(self) -> None:
        self.notices: list[Notice] = []

    def warning(self, notice: Notice) -> None:
        self.notices.append(notice)


def _errors(project: Project, previous: bytes | None = None) -> list[str]:
    findings = check_output(project.output, load_show(project), previous_feed=previous)
    return [f"{f.where}: {f.message}" for f in findings if f.severity == "error"]


def test_build_writes_playable_episodes_and_a_feed_clients_accept(
    two_episode_show: Project,
) -> None:
    report = build(two_episode_show, BuildOptions(engine="espeak", jobs=1))
    assert [e.status for e in report.episodes] == ["built", "built"]
    out = two_episode_show.output
    feed_bytes = (out / "feed.xml").read_bytes()
    parsed = feedparser.parse(feed_bytes)
    assert not parsed.bozo
    podcast = podcastparser.parse(
        "https://podcast.linux.cn/chuanshanjia/feed.xml", __import__("io").BytesIO(feed_bytes)
    )
    assert [e["title"] for e in podcast["episodes"]] == ["第二个测试节目", "测试节目:两位嘉宾"]
    manifest = read_manifest(out)
    assert manifest is not None
    for ep, item in zip(manifest.episodes, podcast["episodes"], strict=True):
        mp3 = out / ep.audio
        assert item["enclosures"][0]["file_size"] == mp3.stat().st_size == ep.audio_bytes
        info = MP3(mp3).info
        assert info.sample_rate == 44100 and info.channels == 1
        assert 64000 <= info.bitrate <= 96000
        assert abs(info.length - ep.duration) < 0.2
        assert (
            item["total_time"] == round(ep.duration) or abs(item["total_time"] - ep.duration) <= 1
        )
        assert [c.title for c in ep.chapters][:2] == [ep.title, "第一章 开场"]
        assert ep.guid == f"pangocast:{ep.slug}"
    assert _errors(two_episode_show) == []


def test_no_change_rebuild_does_nothing_and_keeps_the_feed(two_episode_show: Project) -> None:
    build(two_episode_show, BuildOptions(engine="espeak", jobs=1))
    feed = (two_episode_show.output / "feed.xml").read_bytes()
    again = build(two_episode_show, BuildOptions(engine="espeak", jobs=1))
    assert again.synthesized == 0
    assert [e.status for e in again.episodes] == ["unchanged", "unchanged"]
    assert (two_episode_show.output / "feed.xml").read_bytes() == feed


def test_one_edited_sentence_resynthesizes_one_segment_and_changes_one_url(
    two_episode_show: Project,
) -> None:
    build(two_episode_show, BuildOptions(engine="espeak", jobs=1))
    out = two_episode_show.output
    before = read_manifest(out)
    previous_feed = (out / "feed.xml").read_bytes()
    script = two_episode_show.scripts / "01-tiny.txt"
    script.write_text(script.read_text().replace("我也是。", "我也在做技术。"), encoding="utf-8")
    report = build(two_episode_show, BuildOptions(engine="espeak", jobs=1))
    assert report.synthesized == 1
    assert {e.slug: e.status for e in report.episodes} == {"second": "unchanged", "tiny": "built"}
    after = read_manifest(out)
    assert before is not None and after is not None
    old = {e.slug: e for e in before.episodes}
    new = {e.slug: e for e in after.episodes}
    assert new["tiny"].guid == old["tiny"].guid
    assert new["tiny"].audio != old["tiny"].audio
    assert new["second"].audio == old["second"].audio
    assert not (out / old["tiny"].audio).exists(), "superseded audio is pruned after publishing"
    assert _errors(two_episode_show, previous_feed) == []


def test_failed_episode_leaves_published_output_intact_fake_engine(
    two_episode_show: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ENGINES, "fake-fail", ("tests.fakes", "FailingToneEngine"))
    casting = two_episode_show.voices / "casting.toml"
    casting.write_text(
        casting.read_text()
        + '\n[engines.fake-fail]\nnarrator = {voice="t"}\nhost = {voice="t", pitch = -5}\n'
        'guests = [{voice="t", pitch = 3}, {voice="t", pitch = 6}]\n',
        encoding="utf-8",
    )
    build(two_episode_show, BuildOptions(engine="fake-fail", jobs=1))
    out = two_episode_show.output
    snapshot = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    script = two_episode_show.scripts / "01-tiny.txt"
    script.write_text(script.read_text().replace("我也是。", "这一句会失败。"), encoding="utf-8")
    with pytest.raises(PangocastError, match="fake failure"):
        build(two_episode_show, BuildOptions(engine="fake-fail", jobs=1))
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == snapshot
    # --keep-going: the other episode is rebuilt, the failed one stays as published.
    second = two_episode_show.scripts / "02-second.txt"
    second.write_text(second.read_text().replace("欢迎收听。", "欢迎再次收听。"), encoding="utf-8")
    report = build(two_episode_show, BuildOptions(engine="fake-fail", jobs=1, keep_going=True))
    assert {e.slug: e.status for e in report.episodes} == {"tiny": "failed", "second": "built"}
    manifest = read_manifest(out)
    assert manifest is not None and {e.slug for e in manifest.episodes} == {"tiny", "second"}
    assert _errors(two_episode_show) == []


def test_a_second_build_of_the_same_show_is_refused(show_dir: Path) -> None:
    from pangocast.publish.output import build_lock

    with build_lock(show_dir), pytest.raises(PangocastError, match="another build"):
        build(Project(show_dir), BuildOptions(engine="espeak", jobs=1))


def test_stale_lock_of_a_dead_process_is_taken_over(show_dir: Path) -> None:
    (show_dir / ".pangocast.lock").write_text("999999")
    report = build(Project(show_dir), BuildOptions(engine="espeak", jobs=1))
    assert report.episodes[0].status == "built"
    assert not (show_dir / ".pangocast.lock").exists()


def test_parallel_build_with_processes_matches_serial(
    two_episode_show: Project, tmp_path: Path
) -> None:
    other = tmp_path / "copy"
    shutil.copytree(two_episode_show.root, other)
    a = build(two_episode_show, BuildOptions(engine="espeak", jobs=1))
    b = build(Project(other), BuildOptions(engine="espeak", jobs=2))
    assert a.synthesized == b.synthesized
    da = {e.slug: e.duration for e in a.episodes}
    db = {e.slug: e.duration for e in b.episodes}
    assert da.keys() == db.keys()
    for k in da:
        assert abs(da[k] - db[k]) < 0.5


def test_blocked_voice_falls_back_with_a_warning_fake_engine(
    show_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ENGINES, "fake-blocked", ("tests.fakes", "BlockedVoiceToneEngine"))
    casting = show_dir / "voices" / "casting.toml"
    casting.write_text(
        casting.read_text()
        + '\n[engines.fake-blocked]\nnarrator = {voice="t"}\nhost = {voice="blocked"}\n'
        'guests = [{voice="t", pitch = 3}, {voice="t", pitch = 6}]\nfallback = {voice="fb"}\n',
        encoding="utf-8",
    )
    events = Noted()
    report = build(Project(show_dir), BuildOptions(engine="fake-blocked", jobs=1), events)
    assert [e.status for e in report.episodes] == ["built"]
    (notice,) = [n for n in events.notices if "fallback voice fb" in n.what]
    assert notice.path == show_dir / "voices" / "casting.toml"


def test_music_bed_plays_under_the_intro_and_can_be_switched_off(show_dir: Path) -> None:
    import numpy as np

    from pangocast.audio.ffmpeg import decode_file

    def gap_rms(project: Project) -> float:
        manifest = read_manifest(project.output)
        assert manifest is not None
        ep = manifest.episodes[0]
        intro, nxt = ep.turns[0], ep.turns[1]
        audio = decode_file(project.output / ep.audio, 16000)
        # The pause after the intro's last word: silence unless the bed plays there.
        a, b = int((intro.end + 0.1) * 16000), int(min(nxt.start, intro.end + 1.0) * 16000)
        assert b - a > 1600
        return float(np.sqrt(np.mean(audio.to_float()[a:b] ** 2)))

    project = Project(show_dir)
    build(project, BuildOptions(engine="espeak", jobs=1))
    with_music = gap_rms(project)
    show = show_dir / "feeds" / "show.toml"
    text = show.read_text(encoding="utf-8").replace("music = true", "music = false")
    show.write_text(text, encoding="utf-8")
    build(project, BuildOptions(engine="espeak", jobs=1))
    without = gap_rms(project)
    assert with_music > 0.003 > without


def test_no_change_rebuild_renders_and_rewrites_nothing(
    two_episode_show: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pangocast.publish import feed, site

    build(two_episode_show, BuildOptions(engine="espeak", jobs=1))
    out = two_episode_show.output
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the feed and pages were rendered again")

    monkeypatch.setattr(feed, "render_feed", refuse)
    monkeypatch.setattr(site, "render_site", refuse)
    again = build(two_episode_show, BuildOptions(engine="espeak", jobs=1))
    assert [e.status for e in again.episodes] == ["unchanged", "unchanged"]
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before
    assert again.feed == out / "feed.xml"


def test_feed_and_pages_are_rendered_again_when_their_inputs_change(
    two_episode_show: Project,
) -> None:
    build(two_episode_show, BuildOptions(engine="espeak", jobs=1))
    out = two_episode_show.output
    show = two_episode_show.feeds / "show.toml"
    show.write_text(
        show.read_text(encoding="utf-8").replace('title = "', 'title = "新', 1), encoding="utf-8"
    )
    build(two_episode_show, BuildOptions(engine="espeak", jobs=1))
    assert "<title>新" in (out / "feed.xml").read_text(encoding="utf-8")
    # a page removed by hand comes back, though nothing else changed
    (out / "index.html").unlink()
    report = build(two_episode_show, BuildOptions(engine="espeak", jobs=1))
    assert [e.status for e in report.episodes] == ["unchanged", "unchanged"]
    assert (out / "index.html").is_file()
    assert _errors(two_episode_show) == []


def test_episodes_are_assembled_while_other_segments_are_synthesized_fake_engine(
    two_episode_show: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pangocast.pipeline.build import BuildEvents
    from tests.publish_oracle import THIRD

    monkeypatch.setitem(ENGINES, "fake-online", ("tests.fakes", "FakeOnlineToneEngine"))
    casting = two_episode_show.voices / "casting.toml"
    casting.write_text(
        casting.read_text()
        + '\n[engines.fake-online]\nnarrator = {voice="t"}\nhost = {voice="t", pitch = -5}\n'
        'guests = [{voice="t", pitch = 3}, {voice="t", pitch = 6}]\n',
        encoding="utf-8",
    )
    # an episode sharing no sentence with the others, and longer than them
    longer = THIRD.replace("欢迎收听。", "欢迎收听,这一期的内容比较多,我们慢慢聊。")
    (two_episode_show.scripts / "03-third.txt").write_text(longer, encoding="utf-8")

    class Recorder(BuildEvents):
        def __init__(self) -> None:
            self.log: list[str] = []

        def segment_done(self, seconds: float, ok: bool) -> None:
            self.log.append("segment")

        def episode_done(self, report: EpisodeReport) -> None:
            self.log.append(f"{report.status} {report.slug}")

    events = Recorder()
    report = build(two_episode_show, BuildOptions(engine="fake-online", jobs=2), events)
    # the longest episode is synthesized first and assembled as soon as its last segment
    # is in, while the others' segments are still being made
    first = events.log.index("built third")
    assert events.log[first + 1 :].count("segment") >= 3, events.log
    assert [e.slug for e in report.episodes] == ["third", "second", "tiny"]  # as the feed
    assert {e.status for e in report.episodes} == {"built"}


def test_failed_parallel_build_removes_the_episodes_it_assembled_fake_engine(
    two_episode_show: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.publish_oracle import THIRD

    monkeypatch.setitem(ENGINES, "fake-online-fail", ("tests.fakes", "FailingOnlineToneEngine"))
    casting = two_episode_show.voices / "casting.toml"
    casting.write_text(
        casting.read_text()
        + '\n[engines.fake-online-fail]\nnarrator = {voice="t"}\nhost = {voice="t"}\n'
        'guests = [{voice="t", pitch = 3}, {voice="t", pitch = 6}]\n',
        encoding="utf-8",
    )
    options = BuildOptions(engine="fake-online-fail", jobs=2)
    build(two_episode_show, options)
    out = two_episode_show.output
    published = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    # a new, longer episode is assembled while the others are synthesized; then one of
    # them fails: the build stops and the new episode's files go too
    longer = THIRD.replace("欢迎收听。", "欢迎收听,这一期的内容比较多,我们慢慢聊。")
    (two_episode_show.scripts / "03-third.txt").write_text(longer, encoding="utf-8")
    script = two_episode_show.scripts / "01-tiny.txt"
    script.write_text(script.read_text().replace("我也是。", "这一句会失败。"), encoding="utf-8")
    built: list[str] = []

    class Recorder(BuildEvents):
        def episode_done(self, report: EpisodeReport) -> None:
            built.append(f"{report.status} {report.slug}")

    with pytest.raises(PangocastError, match="fake failure"):
        build(two_episode_show, options, Recorder())
    assert "built third" in built
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == published


def test_episodes_of_the_same_date_keep_one_order_in_feed_site_and_manifest(
    show_dir: Path,
) -> None:
    from tests.publish_oracle import THIRD

    # "b-same" sorts before "tiny" by slug, after it by file name and by episode number
    same_day = TINY_SCRIPT.replace('slug = "tiny"', 'slug = "b-same"').replace(
        "测试节目:两位嘉宾", "同一天的节目"
    )
    (show_dir / "scripts" / "02-b-same.txt").write_text(same_day, encoding="utf-8")
    # the newest episode's script is read first: the build's report must not follow files
    (show_dir / "scripts" / "00-third.txt").write_text(THIRD, encoding="utf-8")
    project = Project(show_dir)
    report = build(project, BuildOptions(engine="espeak", jobs=1))
    manifest = read_manifest(project.output)
    assert manifest is not None
    in_manifest = [e.slug for e in manifest.episodes]
    assert in_manifest == ["third", "b-same", "tiny"]  # same date: episode 2 before 1
    assert [e.slug for e in report.episodes] == in_manifest
    feed = feedparser.parse((project.output / "feed.xml").read_bytes())
    in_feed = [e.link.rstrip("/").rsplit("/", 1)[-1] for e in feed.entries]
    index = (project.output / "index.html").read_text(encoding="utf-8")
    in_site = sorted(in_manifest, key=lambda s: index.index(f"episodes/{s}/"))
    assert in_feed == in_site == in_manifest


def test_show_notes_link_to_the_episode_page(two_episode_show: Project) -> None:
    build(two_episode_show, BuildOptions(engine="espeak", jobs=1))
    show = load_show(two_episode_show)
    feed = feedparser.parse((two_episode_show.output / "feed.xml").read_bytes())
    assert feed.entries
    for entry in feed.entries:
        page = entry.link
        assert page.startswith(show.base_url) and "/episodes/" in page
        assert f'href="{page}"' in entry.content[0].value, entry.content[0].value
    # the base URL moves the links without re-encoding the audio
    report = build(
        two_episode_show,
        BuildOptions(engine="espeak", jobs=1, base_url="http://localhost:8000/preview/"),
    )
    assert {e.status for e in report.episodes} == {"unchanged"}
    feed = feedparser.parse((two_episode_show.output / "feed.xml").read_bytes())
    assert all(
        'href="http://localhost:8000/preview/episodes/' in e.content[0].value for e in feed.entries
    )


def test_replacing_a_sting_mp3_rebuilds_the_episodes(show_dir: Path) -> None:
    from pangocast.audio.jingles import make_sting
    from tests.feed_fixture import encode_mp3 as tone_mp3

    for old in (show_dir / "audio").glob("sting.*"):
        old.unlink()
    sting = show_dir / "audio" / "sting.mp3"
    tone_mp3(make_sting(44100), sting)
    project = Project(show_dir)
    first = build(project, BuildOptions(engine="espeak", jobs=1))
    assert [e.status for e in first.episodes] == ["built"]
    assert [e.status for e in build(project, BuildOptions(engine="espeak", jobs=1)).episodes] == [
        "unchanged"
    ]
    quieter = make_sting(44100)
    tone_mp3(type(quieter)((quieter.samples // 2).astype(quieter.samples.dtype), 44100), sting)
    again = build(project, BuildOptions(engine="espeak", jobs=1))
    assert [e.status for e in again.episodes] == ["built"]
    assert again.episodes[0].audio != first.episodes[0].audio


def test_a_damaged_segment_is_synthesized_again_with_a_warning_fake_engine(
    show_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pangocast.voice.segments import SegmentCache
    from tests.fakes import cast_fake

    cast_fake(show_dir, "fake-tone", "FakeToneEngine", monkeypatch)
    project = Project(show_dir)
    clean = build(project, BuildOptions(engine="fake-tone", jobs=1))
    clean_mp3 = (project.output / str(clean.episodes[0].audio)).read_bytes()
    cache = SegmentCache(project.segments)
    victim = sorted(cache.keys())[0]
    data = bytearray(cache.path(victim).read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one sample
    cache.path(victim).write_bytes(bytes(data))
    shutil.rmtree(project.output)  # the episode is assembled again, from the cache

    noted = Noted()
    again = build(project, BuildOptions(engine="fake-tone", jobs=1), noted)
    assert [n.what for n in noted.notices] == [
        "1 cached segment(s) did not match their checksum (damaged in storage);"
        " they are synthesized again"
    ]
    assert again.synthesized == 1
    assert (project.output / str(again.episodes[0].audio)).read_bytes() == clean_mp3
