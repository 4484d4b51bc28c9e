"""Full-text search of the site: a Pagefind index of the episode pages, built offline.

Pagefind (https://pagefind.app) indexes static HTML into a folder of small compressed files
that its own script (``pagefind/pagefind.js``) and WebAssembly query in the browser, so
search needs no server: it works from ``pangocast serve``, any static host and a bucket.
The extended binary (PyPI ``pagefind-bin-extended``, pulled in by ``pagefind[extended]``)
is used because it segments Chinese, Japanese and Thai text into words at indexing time;
the standard one indexes a run of hanzi as one "word" and Chinese search finds nothing.

What is indexed is marked in the episode template with ``data-pagefind-body`` (title,
summary, people, transcript, notes). Each transcript caption is a ``<span>`` whose id is
:func:`cue_anchor` (its start time in it); Pagefind records every element with an id as an
anchor with its word position, so the site's search script (``assets/search.js``) maps
each hit to the caption it falls in and links to ``episodes/<slug>/#t=<start>``, which the
player honours.

The index is made from the pages in memory (written to a temporary folder, never from
``output/``, where the pages of removed episodes may still lie until pruning), then
copied into ``output/pagefind/`` file by file, after the feed's commit (before it, the
live site keeps its index: nothing but pages may change under the old feed): a file whose
bytes did not change is not written again (Pagefind's output is deterministic), new files
go in before the entry file that names them, and files of an older index are removed last.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

from pangocast.core.errors import BuildError
from pangocast.core.files import write_atomic

SEARCH_DIR = "pagefind"
"""The search bundle's folder under output/."""
ENTRY = "pagefind-entry.json"
"""The bundle's entry file: it names the current index files, so it is written last."""
HASHED_SUFFIXES = (".pf_fragment", ".pf_index", ".pf_filter", ".pf_meta")
"""Bundle files with a content hash in their name (immutable once written)."""
_UNUSED = ("pagefind-ui.", "pagefind-modular-ui.", "pagefind-component-ui.", "pagefind-highlight.")
"""Pagefind's own search widgets: the site has its own small interface, so not published."""
TIMEOUT = 600.0
"""Seconds the indexer may take (the bundled show takes about one)."""
INSTALL_HINT = "install Pangocast's dependencies again: pip install 'pagefind[extended]'"


def cue_anchor(number: int, start: float) -> str:
    """The id of the ``number``-th caption of a page, starting at ``start`` seconds.

    The search script reads the time back from the id (``cue-<n>-at-<milliseconds>``).

    >>> cue_anchor(3, 41.2504)
    'cue-3-at-41250'
    """
    return f"cue-{number}-at-{max(0, round(start * 1000))}"


def is_content_addressed(rel: str) -> bool:
    """True for a bundle file under output/ whose name holds its content's hash."""
    return rel.startswith(f"{SEARCH_DIR}/") and rel.endswith(HASHED_SUFFIXES)


def is_entry(rel: str) -> bool:
    """True for the bundle's entry file (it must reach a host after the files it names)."""
    return rel == f"{SEARCH_DIR}/{ENTRY}"


def indexer_version() -> str:
    """The installed Pagefind binary package's version ("" when it is not installed): a
    new one may write another index, so the site is rendered again."""
    try:
        return metadata.version("pagefind-bin-extended")
    except metadata.PackageNotFoundError:
        return ""


def pagefind_binary() -> Path:
    """The extended Pagefind executable shipped by ``pagefind-bin-extended``.

    Raises:
        BuildError: the package is not installed, or holds no executable.
    """
    try:
        from pagefind_bin_extended import get_executable
    except ImportError:
        raise BuildError(
            "the search indexer (Pagefind, extended build) is not installed",
            hint=INSTALL_HINT,
        ) from None
    try:
        return Path(get_executable())
    except (FileNotFoundError, OSError) as exc:
        raise BuildError(f"the Pagefind executable is missing: {exc}", hint=INSTALL_HINT) from exc


def build_search_index(pages: Mapping[str, str], output: Path) -> list[Path]:
    """Index ``pages`` with Pagefind into ``output/pagefind/``
    (:func:`index_pages`, then :func:`install_index`).

    Raises:
        BuildError: Pagefind is missing or fails, or a bundle file cannot be written.
    """
    return install_index(index_pages(pages), output)


def install_index(files: Mapping[str, bytes], output: Path) -> list[Path]:
    """Put an index made by :func:`index_pages` into ``output/pagefind/``: changed files
    only, the entry last, the files of an older index removed. A build does it after the
    feed's commit: until then the live site keeps the index it had.

    Returns:
        Every file of the bundle now in ``output/pagefind/``, whether rewritten or not
        (none for an empty index: an older index is removed).

    Raises:
        BuildError: a bundle file cannot be written.
    """
    return _install(files, output / SEARCH_DIR)


def index_pages(pages: Mapping[str, str]) -> dict[str, bytes]:
    """Pagefind's bundle for ``pages``, made in a temporary folder: path under
    ``pagefind/`` to bytes (empty without pages: Pagefind refuses an empty site).

    Args:
        pages: path under output/ (``episodes/<slug>/index.html``) to the page's HTML.

    Raises:
        BuildError: Pagefind is missing or fails.
    """
    if not pages:
        return {}
    binary = pagefind_binary()
    with tempfile.TemporaryDirectory(prefix="pangocast-search-") as tmp:
        site, bundle = Path(tmp) / "site", Path(tmp) / "bundle"
        for rel, html in pages.items():
            path = site / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(html, encoding="utf-8")
        site.mkdir(exist_ok=True)
        _run(binary, site, bundle)
        files = {
            p.relative_to(bundle).as_posix(): p.read_bytes()
            for p in sorted(bundle.rglob("*"))
            if p.is_file() and not p.name.startswith(_UNUSED)
        }
    if ENTRY not in files:
        raise BuildError("the search indexer wrote no index", hint=INSTALL_HINT)
    return files


def _run(binary: Path, site: Path, bundle: Path) -> None:
    cmd = [str(binary), "--site", str(site), "--output-path", str(bundle), "--silent"]
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=TIMEOUT, cwd=site, check=False
        )
    except subprocess.TimeoutExpired:
        raise BuildError(
            f"the search indexer did not finish in {TIMEOUT:.0f} s", path=binary
        ) from None
    except OSError as exc:
        raise BuildError(
            f"cannot run the search indexer: {exc.strerror or exc}", path=binary, hint=INSTALL_HINT
        ) from exc
    if done.returncode != 0:
        said = " ".join((done.stderr or done.stdout).split())[-300:]
        raise BuildError(
            f"the search indexer failed (exit code {done.returncode}): {said}",
            path=binary,
            hint="report it with the pages of output/episodes/",
        )


def _install(files: Mapping[str, bytes], folder: Path) -> list[Path]:
    """Put ``files`` in ``folder``: changed ones only, the entry last, old ones removed."""
    order = sorted(files, key=lambda rel: (rel == ENTRY, rel))
    placed: list[Path] = []
    for rel in order:
        path = folder / rel
        try:
            same = path.is_file() and path.read_bytes() == files[rel]
        except OSError:
            same = False
        if not same:
            write_atomic(path, files[rel], what="search index file")
        placed.append(path)
    keep = set(placed)
    if folder.is_dir():
        for old in sorted(folder.rglob("*"), reverse=True):
            try:
                if old.is_file() and old not in keep:
                    old.unlink()
                elif old.is_dir() and not any(old.iterdir()):
                    old.rmdir()
            except OSError:
                continue  # the next build tries again; no entry names it
        if not placed:
            with contextlib.suppress(OSError):
                folder.rmdir()
    return placed
