"""``pangocast publish s3://…`` against a real S3 server (SeaweedFS started by the tests).

A real show is built (offline English voice), published, edited by one sentence, rebuilt
and published again: the bucket serves every file with its type and cache lifetime, the
feed is written last, only what changed is uploaded, and what the new feed no longer needs
goes after the grace period.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import feedparser
import obstore
import pytest
from obstore.store import S3Store

from pangocast import init_show
from pangocast.core.errors import BuildError
from pangocast.core.project import Project
from pangocast.pipeline.build import BuildOptions, build
from pangocast.publish.bucket import IMMUTABLE, LOCK_KEY, publish_to_bucket
from tests.english_script import HEADER
from tests.servers import start_seaweed

SCRIPT = (
    HEADER
    + """
Ana Ruiz: Why do you say no so often?

Ben Okoro: Because every feature is a promise.

Ana Ruiz: And what do you say yes to?

Ben Okoro: Fixes with a test.
"""
)


@pytest.fixture(scope="module")
def s3_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A real S3 server (SeaweedFS) for this module, stopped afterwards."""
    with start_seaweed(tmp_path_factory.mktemp("publish-weed") / "data") as env:
        yield env


@pytest.fixture
def aws_env(s3_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in s3_env.items():
        monkeypatch.setenv(key, value)
    return s3_env


@pytest.fixture
def show(tmp_path: Path) -> Iterator[Project]:
    root = tmp_path / "show"
    init_show(root, title="Bucket Talk", language="en", author="Ana Ruiz")
    (root / "scripts" / "01-small-library.txt").write_text(SCRIPT, encoding="utf-8")
    project = Project(root)
    build(project, BuildOptions(jobs=1))
    yield project


def _store(prefix: str) -> S3Store:
    return S3Store(
        "pangocast-tests",
        prefix=prefix,
        region="us-east-1",
        client_options={"allow_http": True},
    )


def _objects(store: S3Store) -> dict[str, int]:
    return {m["path"]: m["size"] for batch in obstore.list(store) for m in batch}


def test_publish_serves_the_show_from_the_bucket(aws_env: dict[str, str], show: Project) -> None:
    url = "s3://pangocast-tests/first"
    report = publish_to_bucket(show.output, url)
    store = _store("first")
    local = {
        p.relative_to(show.output).as_posix(): p.stat().st_size
        for p in show.output.rglob("*")
        if p.is_file()
    }
    objects = _objects(store)
    assert {k: v for k, v in objects.items() if not k.startswith(".pangocast/")} == local
    assert report.uploaded[-1] == "feed.xml"  # the commit point comes last
    assert report.uploaded.index("manifest.json") > max(
        report.uploaded.index(k) for k in report.uploaded if k.startswith("audio/")
    )
    assert LOCK_KEY not in objects  # released

    feed_bytes = bytes(obstore.get(store, "feed.xml").bytes())
    parsed = feedparser.parse(feed_bytes)
    assert not parsed.bozo and len(parsed.entries) == 1
    for entry in parsed.entries:
        (enclosure,) = entry.enclosures
        key = re.sub(r"^.*?/(audio/)", r"\1", enclosure.href)
        got = obstore.get(store, key)
        assert got.attributes["Content-Type"] == "audio/mpeg"
        assert got.attributes["Cache-Control"] == IMMUTABLE
        assert got.meta["size"] == int(enclosure.length) == local[key]
    feed = obstore.get(store, "feed.xml").attributes
    assert feed["Content-Type"].startswith("application/rss+xml")
    assert "max-age=60" in feed["Cache-Control"] and "immutable" not in feed["Cache-Control"]
    page = obstore.get(store, "index.html").attributes
    assert page["Content-Type"] == "text/html; charset=utf-8"
    vtt = next(k for k in local if k.endswith(".vtt"))
    assert obstore.get(store, vtt).attributes["Content-Type"].startswith("text/vtt")

    again = publish_to_bucket(show.output, url)
    assert again.uploaded == [] and len(again.unchanged) == len(local)


def test_one_sentence_edit_republishes_only_what_changed(
    aws_env: dict[str, str], show: Project
) -> None:
    url = "s3://pangocast-tests/edit"
    publish_to_bucket(show.output, url)
    old = {p.relative_to(show.output).as_posix() for p in show.output.rglob("*") if p.is_file()}
    script = show.scripts / "01-small-library.txt"
    script.write_text(script.read_text().replace("Fixes with a test.", "Fixes with two tests."))
    build(show, BuildOptions(jobs=1))
    new = {p.relative_to(show.output).as_posix() for p in show.output.rglob("*") if p.is_file()}
    report = publish_to_bucket(show.output, url)
    added = new - old
    assert any(k.startswith("audio/") for k in added)  # a new enclosure
    assert set(report.uploaded) <= added | {
        "feed.xml",
        "manifest.json",
        "index.html",
        "pagefind/pagefind-entry.json",  # names the edited episode's new index files
        *(k for k in new if k.startswith(("episodes/", "embed/", "oembed/"))),
    }
    assert set(report.uploaded) >= added | {"feed.xml"}
    assert any(k.startswith("pagefind/fragment/") for k in added)
    assert "assets/site.css" in report.unchanged and not report.deleted
    assert "pagefind/pagefind.js" in report.unchanged
    gone = sorted(old - new)
    assert gone and sorted(report.waiting) == gone  # kept for apps holding the old feed
    store = _store("edit")
    feed = feedparser.parse(bytes(obstore.get(store, "feed.xml").bytes()))
    assert any(k in feed.entries[0].enclosures[0].href for k in added)

    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    pruned = publish_to_bucket(show.output, url, now=later)
    assert sorted(pruned.deleted) == gone and pruned.uploaded == []
    assert not set(gone) & set(_objects(store))


def test_a_running_publish_holds_the_bucket(aws_env: dict[str, str], show: Project) -> None:
    url = "s3://pangocast-tests/locked"
    store = _store("locked")
    now = dt.datetime.now(dt.UTC)
    obstore.put(store, LOCK_KEY, f'{{"since": "{now.isoformat()}", "pid": 1}}'.encode())
    with pytest.raises(BuildError, match="another publish"):
        publish_to_bucket(show.output, url)
    assert "feed.xml" not in _objects(store)
    stale = (now - dt.timedelta(hours=3)).isoformat()
    obstore.put(store, LOCK_KEY, f'{{"since": "{stale}", "pid": 1}}'.encode())
    publish_to_bucket(show.output, url)  # a dead publish's lock is taken over
    assert "feed.xml" in _objects(store) and LOCK_KEY not in _objects(store)


def test_a_feed_changed_meanwhile_is_not_overwritten(
    aws_env: dict[str, str], show: Project
) -> None:
    url = "s3://pangocast-tests/race"
    store = _store("race")
    publish_to_bucket(show.output, url)
    for name in ("feed.xml", "index.html"):
        (show.output / name).write_bytes((show.output / name).read_bytes() + b"\n")

    def someone_else(rel: str) -> None:
        if rel == "index.html":  # uploaded before the feed
            obstore.put(store, "feed.xml", b"<rss>theirs</rss>")

    with pytest.raises(BuildError, match="changed during this publish"):
        publish_to_bucket(show.output, url, progress=someone_else)
    assert bytes(obstore.get(store, "feed.xml").bytes()) == b"<rss>theirs</rss>"


def test_cli_publish_and_an_unreachable_bucket(aws_env: dict[str, str], show: Project) -> None:
    def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pangocast_cli", "--project", str(show.root), *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **env},
        )

    ok = cli("publish", "s3://pangocast-tests/cli")
    assert ok.returncode == 0, ok.stderr
    assert re.match(r"published to s3://pangocast-tests/cli: \d+ uploaded", ok.stdout)
    down = cli("publish", "s3://pangocast-tests/cli", AWS_ENDPOINT_URL="http://127.0.0.1:9")
    assert down.returncode != 0
    lines = down.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot"), down.stderr
    bad = cli("publish", "ftp://somewhere")
    assert bad.returncode != 0 and bad.stderr.startswith("error: not a bucket URL")
