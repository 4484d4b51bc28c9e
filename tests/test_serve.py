"""The preview server, over real HTTP on 127.0.0.1: HEAD, ranges, types, traversal."""

from __future__ import annotations

import http.client
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from pangocast.core.errors import BuildError
from pangocast.core.project import Project
from pangocast.publish.manifest import MANIFEST_NAME, manifest_to_text
from pangocast.publish.serve import make_server, preview_base_url, preview_server
from tests.site_fixture import AUDIO, COVER, SLUG, BuiltSite, build_site, running

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = "https://podcast.example.org/show/"
SECRET = "top secret: outside output/"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    root = tmp_path_factory.mktemp("serve")
    (root / "secret.txt").write_text(SECRET)
    return build_site(root / "output", PUBLIC)


@pytest.fixture(scope="module")
def server(built: BuiltSite) -> Iterator[tuple[str, int]]:
    srv = make_server(built.output, "127.0.0.1", 0)
    assert srv.port != 0
    with running(srv):
        yield "127.0.0.1", srv.port


def request(
    server: tuple[str, int], method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """Send ``path`` exactly as given (no client-side normalisation)."""
    conn = http.client.HTTPConnection(*server, timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


def test_head_answers_headers_without_body(server: tuple[str, int], built: BuiltSite) -> None:
    size = (built.output / AUDIO).stat().st_size
    status, headers, body = request(server, "HEAD", f"/{AUDIO}")
    assert status == 200
    assert headers["content-type"] == "audio/mpeg"
    assert int(headers["content-length"]) == size
    assert headers["accept-ranges"] == "bytes"
    assert body == b""


@pytest.mark.parametrize(
    ("spec", "start", "stop"),
    [
        ("bytes=100-199", 100, 200),
        ("bytes=0-0", 0, 1),
        ("bytes=-500", -500, None),  # suffix: the last 500 bytes
        ("bytes=90000-", 90000, None),  # open-ended
        ("bytes=90000-999999999", 90000, None),  # end past the file: clipped
    ],
)
def test_range_returns_exact_bytes(
    server: tuple[str, int], built: BuiltSite, spec: str, start: int, stop: int | None
) -> None:
    data = (built.output / AUDIO).read_bytes()
    size = len(data)
    assert size > 90000
    status, headers, body = request(server, "GET", f"/{AUDIO}", {"Range": spec})
    first = start % size
    last = (stop if stop is not None else size) - 1
    assert status == 206
    assert body == data[first : last + 1]
    assert headers["content-range"] == f"bytes {first}-{last}/{size}"
    assert int(headers["content-length"]) == last - first + 1
    assert headers["content-type"] == "audio/mpeg"


def test_head_with_range(server: tuple[str, int], built: BuiltSite) -> None:
    size = (built.output / AUDIO).stat().st_size
    status, headers, body = request(server, "HEAD", f"/{AUDIO}", {"Range": "bytes=10-19"})
    assert (status, body) == (206, b"")
    assert headers["content-range"] == f"bytes 10-19/{size}"


@pytest.mark.parametrize("spec", ["bytes={size}-", "bytes={size}-{size2}", "bytes=500-100"])
def test_unsatisfiable_range_is_416(server: tuple[str, int], built: BuiltSite, spec: str) -> None:
    size = (built.output / AUDIO).stat().st_size
    rng = spec.format(size=size, size2=size + 100)
    status, headers, _ = request(server, "GET", f"/{AUDIO}", {"Range": rng})
    assert status == 416
    assert headers["content-range"] == f"bytes */{size}"


def test_conditional_get(server: tuple[str, int]) -> None:
    status, headers, _ = request(server, "GET", "/index.html")
    assert status == 200 and headers["etag"]
    assert "no-cache" in headers["cache-control"]
    status, _, body = request(server, "GET", "/index.html", {"If-None-Match": headers["etag"]})
    assert (status, body) == (304, b"")


@pytest.mark.parametrize(
    ("path", "ctype"),
    [
        (f"/{AUDIO}", "audio/mpeg"),
        (f"/transcripts/{SLUG}.vtt", "text/vtt; charset=utf-8"),
        (f"/transcripts/{SLUG}.srt", "application/x-subrip"),
        (f"/transcripts/{SLUG}.json", "application/json"),
        (f"/chapters/{SLUG}.json", "application/json"),
        (f"/oembed/{SLUG}.json", "application/json"),
        ("/feed.xml", "application/rss+xml; charset=utf-8"),
        (f"/{COVER}", "image/png"),
        ("/index.html", "text/html; charset=utf-8"),
        (f"/embed/{SLUG}.html", "text/html; charset=utf-8"),
        ("/assets/site.css", "text/css; charset=utf-8"),
        ("/assets/player.js", "text/javascript; charset=utf-8"),
    ],
)
def test_content_types(server: tuple[str, int], path: str, ctype: str) -> None:
    status, headers, body = request(server, "GET", path)
    assert status == 200 and body
    assert headers["content-type"] == ctype


def test_directory_index_and_redirect(server: tuple[str, int], built: BuiltSite) -> None:
    status, _, body = request(server, "GET", "/")
    assert status == 200 and body == (built.output / "index.html").read_bytes()
    status, _, body = request(server, "GET", f"/episodes/{SLUG}/")
    assert status == 200 and body == (built.output / f"episodes/{SLUG}/index.html").read_bytes()
    status, headers, _ = request(server, "GET", f"/episodes/{SLUG}?x=1")
    assert status == 301
    assert headers["location"].endswith(f"/episodes/{SLUG}/?x=1")


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/episodes/../../secret.txt",
        "/episodes/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "//etc/passwd",
        "/%2fetc/passwd",
        "/../../../../../../etc/passwd",
    ],
)
def test_path_traversal_is_refused(server: tuple[str, int], path: str) -> None:
    status, _, body = request(server, "GET", path)
    assert 400 <= status < 500, (path, status)
    assert SECRET.encode() not in body and b"root:" not in body


def test_missing_file_and_other_methods(server: tuple[str, int]) -> None:
    assert request(server, "GET", "/nope.mp3")[0] == 404
    status, headers, _ = request(server, "POST", "/index.html")
    assert status == 405
    assert set(headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}


def test_busy_port_and_missing_folder_raise(built: BuiltSite, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(BuildError, match="cannot listen"):
            make_server(built.output, "127.0.0.1", port)
    with pytest.raises(BuildError, match="nothing to serve"):
        make_server(tmp_path / "missing", "127.0.0.1", 0)


def test_preview_base_url() -> None:
    assert preview_base_url("127.0.0.1", 8000) == "http://127.0.0.1:8000/"
    assert preview_base_url("0.0.0.0", 81) == "http://127.0.0.1:81/"
    assert preview_base_url("::1", 8000) == "http://[::1]:8000/"
    assert preview_base_url("localhost", 8000) == "http://localhost:8000/"


def test_preview_uses_preview_url_and_leaves_output_alone(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.feeds.mkdir()
    shutil.copy(ROOT / "feeds" / "show.toml", project.feeds / "show.toml")
    site = build_site(project.output, PUBLIC)
    (project.output / MANIFEST_NAME).write_text(manifest_to_text(site.manifest), encoding="utf-8")
    on_disk = {p: p.read_bytes() for p in project.output.rglob("*") if p.is_file()}

    with preview_server(project, "127.0.0.1", 0) as srv, running(srv) as base:
        address = ("127.0.0.1", srv.port)
        assert base == f"http://127.0.0.1:{srv.port}/"
        status, _, page = request(address, "GET", f"/episodes/{SLUG}/")
        assert status == 200
        assert f'href="{base}oembed/{SLUG}.json"'.encode() in page
        assert PUBLIC.encode() not in page
        status, headers, feed = request(address, "GET", "/feed.xml")
        assert status == 200 and headers["content-type"].startswith("application/rss+xml")
        assert f"{base}{AUDIO}".encode() in feed and PUBLIC.encode() not in feed
        status, _, oembed = request(address, "GET", f"/oembed/{SLUG}.json")
        assert base.encode() in oembed and PUBLIC.encode() not in oembed
        # Media still comes from output/.
        status, _, audio = request(address, "GET", f"/{AUDIO}", {"Range": "bytes=0-99"})
        assert (status, audio) == (206, (project.output / AUDIO).read_bytes()[:100])

    assert {p: p.read_bytes() for p in project.output.rglob("*") if p.is_file()} == on_disk


def test_preview_needs_a_build(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="nothing built"), preview_server(Project(tmp_path)):
        pass
