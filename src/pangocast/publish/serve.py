"""``pangocast serve``: a local preview of ``output/`` that behaves like a real static host.

Built on Werkzeug (the WSGI toolkit under Flask) rather than hand-rolled HTTP:

- ``werkzeug.utils.send_from_directory`` joins the request path with ``safe_join``, which
  refuses ``..`` segments and absolute paths (percent-encoded ones too: the server decodes
  the path first), and answers 404 for anything that is not a regular file;
- ``send_file(conditional=True)`` implements ``Range`` (RFC 9110: ``206 Partial Content`` with
  ``Content-Range``, suffix ranges ``bytes=-N``, open ranges ``bytes=N-``, ``416`` with
  ``Content-Range: bytes */size`` when unsatisfiable), ``Accept-Ranges: bytes``, ETag and
  ``If-None-Match`` / ``If-Modified-Since`` (304), and ``If-Range``; a HEAD request gets the
  same headers with no body;
- ``werkzeug.serving`` provides the threaded HTTP/1.1 server (browsers open several
  connections while seeking in audio).

Werkzeug's ``SharedDataMiddleware`` was not used: it serves files but does not implement
``Range``. A request for several ranges at once (``bytes=0-1,5-6``, which browsers never
send) is answered 416 by Werkzeug.

Content types are set here, not guessed from the system's MIME table, so the preview matches
what the feed promises (``feed.xml`` is ``application/rss+xml``, ``.vtt`` ``text/vtt``...).
The library never prints: request lines go to the ``pangocast.publish.serve`` logger.
"""

from __future__ import annotations

import contextlib
import logging
import mimetypes
import posixpath
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.security import safe_join
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.utils import redirect, send_from_directory
from werkzeug.wrappers import Request, Response

from pangocast.core.errors import BuildError
from pangocast.core.project import Project
from pangocast.core.standards import AUDIO_TYPE, TRANSCRIPT_TYPES

log = logging.getLogger("pangocast.publish.serve")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000

CONTENT_TYPES = {
    ".mp3": AUDIO_TYPE,
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
    **{f".{kind}": mime for kind, mime in TRANSCRIPT_TYPES.items()},
    ".xml": "application/xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
    ".html": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".txt": "text/plain",
    # the search index (pangocast.publish.search): gzip data Pagefind's script unpacks
    # itself, so never served with a Content-Encoding
    ".pf_fragment": "application/octet-stream",
    ".pf_index": "application/octet-stream",
    ".pf_filter": "application/octet-stream",
    ".pf_meta": "application/octet-stream",
    ".pagefind": "application/octet-stream",
    ".wasm": "application/wasm",
}
"""Content type by file suffix; text types get ``; charset=utf-8`` from Werkzeug."""

FEED_FILES = frozenset({"feed.xml"})
"""Files served as ``application/rss+xml`` (RSS readers and Apple's validator expect it)."""


def content_type(rel: str) -> str:
    """The Content-Type (without charset) served for a path under output/.

    >>> content_type("feed.xml"), content_type("audio/a-1.mp3")
    ('application/rss+xml', 'audio/mpeg')
    """
    name = posixpath.basename(rel)
    if name in FEED_FILES:
        return "application/rss+xml"
    suffix = posixpath.splitext(name)[1].lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


class PreviewApp:
    """WSGI application serving the files under one folder.

    Args:
        root: the folder to serve (``output/``).
        overlay: a folder whose files are served instead of ``root``'s files of the same
            path (the pages and feed re-rendered for the preview URL).
    """

    def __init__(self, root: Path, overlay: Path | None = None) -> None:
        self.root = root.resolve()
        self.overlay = overlay.resolve() if overlay is not None else None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            response = self.respond(request)
        except HTTPException as exc:
            response = exc.get_response(environ)
        return response(environ, start_response)

    def respond(self, request: Request) -> Response:
        """The response to one request.

        Raises:
            HTTPException: 404 for a missing or refused path, 405 for a method other than
                GET and HEAD, 416 for an unsatisfiable range.
        """
        if request.method not in ("GET", "HEAD"):
            raise MethodNotAllowed(valid_methods=["GET", "HEAD"])
        rel = request.path.lstrip("/")
        if rel == "" or rel.endswith("/"):
            rel += "index.html"
        else:
            target = safe_join(str(self.root), rel)
            if target is None:
                raise NotFound()
            if Path(target).is_dir():
                # Relative links in episodes/<slug>/index.html need the trailing slash.
                location = request.path + "/"
                if request.query_string:
                    location += "?" + request.query_string.decode("latin-1")
                return redirect(location, code=301)
        folder = self.root
        if self.overlay is not None:
            over = safe_join(str(self.overlay), rel)
            if over is not None and Path(over).is_file():
                folder = self.overlay
        response = send_from_directory(
            folder, rel, request.environ, mimetype=content_type(rel), conditional=True
        )
        # A preview is rebuilt often: revalidate every time (ETag makes that a cheap 304).
        response.cache_control.no_cache = True
        return response


class _Handler(WSGIRequestHandler):
    """Werkzeug's request handler, logging to ``pangocast.publish.serve`` instead of stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.info('%s "%s" %s %s', self.address_string(), self.requestline, code, size)

    def log(self, type: str, message: str, *args: Any) -> None:
        getattr(log, type, log.info)(message, *args)


class PreviewServer(ThreadedWSGIServer):
    """The preview HTTP server; ``serve_forever()`` runs it, ``shutdown()`` stops it."""

    def log(self, type: str, message: str, *args: Any) -> None:
        getattr(log, type, log.info)(message, *args)

    @property
    def base_url(self) -> str:
        """The URL the served ``output/`` is reachable at (see :func:`preview_base_url`)."""
        return preview_base_url(self.host, self.port)


def make_server(
    output: Path,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    overlay: Path | None = None,
) -> PreviewServer:
    """A preview server for ``output``, bound but not yet serving.

    Args:
        output: the folder to serve.
        host: address to listen on; ``127.0.0.1`` keeps the preview on this machine.
        port: TCP port; 0 picks a free one (read it back from ``server.port``).
        overlay: a folder whose files take precedence over ``output``'s (see
            :class:`PreviewApp`).

    Returns:
        The server; run it with :func:`serve_forever` or ``server.serve_forever()`` in a
        thread, stop it with ``server.shutdown()``.

    Raises:
        BuildError: ``output`` is not a folder, or the address cannot be bound.
    """
    if not output.is_dir():
        raise BuildError("nothing to serve", path=output, hint="run 'pangocast build' first")
    # Bind here: Werkzeug's own bind prints to stderr and exits the process on failure.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host.strip("[]"), port), family=family)
    except OSError as exc:
        raise BuildError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="choose another port with --port",
        ) from exc
    try:
        return PreviewServer(
            host, port, PreviewApp(output, overlay), handler=_Handler, fd=sock.fileno()
        )
    finally:
        sock.close()  # the server holds its own duplicate of the socket


@contextlib.contextmanager
def preview_server(
    project: Project, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> Iterator[PreviewServer]:
    """A server for the built show whose pages and feed use the preview's own URL.

    ``output/`` is left exactly as built (a later upload must carry the public URLs): the
    site and ``feed.xml`` are rendered again with :func:`preview_base_url` into a temporary
    folder, which the server consults before ``output/``; audio, transcripts and images come
    from ``output/``. The folder is removed when the context ends.

    Args:
        project: the show folder (``feeds/show.toml``, ``output/manifest.json``).
        host: address to listen on.
        port: TCP port; 0 picks a free one.

    Yields:
        The bound server, not yet serving.

    Raises:
        BuildError: nothing was built yet, the address cannot be bound, or the feed or site
            cannot be rendered.
        InputError: the show metadata or a site template override is wrong.
    """
    from pangocast.core.files import write_atomic
    from pangocast.core.project import load_show
    from pangocast.publish.feed import render_feed
    from pangocast.publish.manifest import read_manifest
    from pangocast.publish.site import render_site

    manifest = read_manifest(project.output)
    if manifest is None:
        raise BuildError("nothing built yet", path=project.output, hint="run 'pangocast build'")
    show = load_show(project)
    with tempfile.TemporaryDirectory(prefix="pangocast-preview-") as tmp:
        overlay = Path(tmp)
        server = make_server(project.output, host, port, overlay=overlay)
        try:
            preview = show.with_base_url(server.base_url)
            render_site(preview, manifest, overlay, template_dir=project.root / "templates")
            write_atomic(overlay / "feed.xml", render_feed(preview, manifest))
            yield server
        finally:
            server.server_close()


def preview_output(
    project: Project,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    ready: Callable[[str], None] | None = None,
) -> None:
    """``pangocast serve``: serve the built show until Ctrl-C (see :func:`preview_server`).

    Args:
        project: the show folder.
        host: address to listen on.
        port: TCP port; 0 picks a free one.
        ready: called with the preview's base URL once it accepts requests.

    Raises:
        BuildError: nothing was built yet, the address cannot be bound, or the feed or site
            cannot be rendered.
        InputError: the show metadata or a site template override is wrong.
    """
    with preview_server(project, host, port) as server:
        if ready is not None:
            ready(server.base_url)
        serve_forever(server)


def serve_forever(server: PreviewServer) -> None:
    """Serve until interrupted (Ctrl-C) or ``server.shutdown()``; closes the socket after."""
    log.info("serving at %s", server.base_url)
    server.serve_forever()


def preview_base_url(host: str, port: int) -> str:
    """The base URL for pages and feed served by the preview at ``host:port``.

    A wildcard address (``0.0.0.0``, ``::``, empty) is not something a browser can open, so
    it becomes the loopback address.

    >>> preview_base_url("127.0.0.1", 8000)
    'http://127.0.0.1:8000/'
    >>> preview_base_url("::", 8000)
    'http://[::1]:8000/'
    """
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/"
