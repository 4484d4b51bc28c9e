"""What "consistent published output" means, as checks the fault-injection tests share.

``problems(project)`` is the oracle: ``pangocast check`` finds no error; every file under
``output/`` with a final (non-temporary) name is complete (MP3s walk to their last frame and
decode, JSON/XML/HTML parse to their end, images have a header); every relative link of every
page resolves to a file; and (unless a kill is being inspected) no temporary file is left.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.html
from lxml import etree

from pangocast.audio.ffmpeg import decoded_duration
from pangocast.check.media import scan_mp3
from pangocast.check.validate import check_output
from pangocast.core.errors import PangocastError
from pangocast.core.project import Project, load_show
from pangocast.publish.images import image_info
from pangocast.voice.segments import SegmentCache
from tests.conftest import ROOT, TINY_SCRIPT

SECOND = (
    TINY_SCRIPT.replace('slug = "tiny"', 'slug = "second"')
    .replace("测试节目:两位嘉宾", "第二个测试节目")
    .replace("2019-07-01", "2019-08-01")
)
THIRD = (
    TINY_SCRIPT.replace('slug = "tiny"', 'slug = "third"')
    .replace("测试节目:两位嘉宾", "第三个测试节目")
    .replace("2019-07-01", "2019-09-01")
    .replace("我也是。", "我们下次再见。")
    .replace("你好,请介绍一下自己。", "今天我们聊聊开源社区。")
    .replace("我在 UCloud 做技术。", "我在社区里写代码,也做评审。")
)


def new_show(root: Path, scripts: dict[str, str] | None = None) -> Project:
    """A show folder with the project's voices/, feeds/, audio/ and the given scripts."""
    root.mkdir(parents=True)
    for d in ("voices", "feeds", "audio"):
        shutil.copytree(ROOT / d, root / d)
    (root / "scripts").mkdir()
    chosen = (
        scripts if scripts is not None else {"01-tiny.txt": TINY_SCRIPT, "02-second.txt": SECOND}
    )
    for name, text in chosen.items():
        (root / "scripts" / name).write_text(text, encoding="utf-8")
    return Project(root)


def edit(project: Project, name: str, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in the script ``name``."""
    path = project.scripts / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def is_temporary(name: str) -> bool:
    """A name the build writes before renaming (hidden ``.tmp-*`` or ``.*.part``)."""
    return name.startswith(".tmp-") or (name.startswith(".") and name.endswith(".part"))


def feed_items(output: Path) -> dict[str, tuple[str, str]]:
    """guid -> (enclosure URL, length) of the published feed."""
    root = etree.fromstring((output / "feed.xml").read_bytes())
    items: dict[str, tuple[str, str]] = {}
    for item in root.iter("item"):
        enclosure = item.find("enclosure")
        assert enclosure is not None
        items[item.findtext("guid") or ""] = (enclosure.get("url", ""), enclosure.get("length", ""))
    return items


def _incomplete(path: Path) -> str | None:
    """Why the file at ``path`` is not a complete file of its kind, or None."""
    data = path.read_bytes()
    suffix = path.suffix
    try:
        if suffix == ".mp3":
            scan = scan_mp3(data)
            if scan.problem:
                return scan.problem
            decoded_duration(path)
        elif suffix == ".json":
            json.loads(data)
        elif suffix == ".xml":
            etree.fromstring(data)
        elif suffix == ".html":
            if not data.decode("utf-8").rstrip().endswith("</html>"):
                return "page does not end with </html>"
            lxml.html.document_fromstring(data)
        elif suffix == ".vtt":
            if not data.startswith(b"WEBVTT"):
                return "not WebVTT"
        elif suffix in (".png", ".jpg"):
            if image_info(data) is None:
                return "image header unreadable"
        elif not data:
            return "empty file"
    except (ValueError, etree.XMLSyntaxError, PangocastError) as exc:
        return f"unreadable: {exc}"
    return None


def broken_links(output: Path) -> list[str]:
    """Relative ``href``/``src`` of every page that do not resolve to a file."""
    out: list[str] = []
    for page in output.rglob("*.html"):
        if is_temporary(page.name):
            continue
        doc = lxml.html.document_fromstring(page.read_bytes())
        for el in doc.iter():
            for attr in ("href", "src"):
                url = el.get(attr) if isinstance(el.tag, str) else None
                if not url or url.startswith("#"):
                    continue
                parts = urlsplit(url)
                if parts.scheme or parts.netloc:
                    continue
                target = (page.parent / unquote(parts.path)).resolve()
                if url.endswith("/") or target.is_dir():
                    target = target / "index.html"
                if not target.is_file():
                    rel = page.relative_to(output).as_posix()
                    out.append(f"{rel}: {attr}={url} does not exist")
    return out


def problems(
    project: Project, *, temporaries_ok: bool = False, loudness: bool = False
) -> list[str]:
    """Everything inconsistent or incomplete under ``output/`` (empty: all is well)."""
    output = project.output
    found = [
        f"check: {f.where}: {f.message}"
        for f in check_output(output, load_show(project), loudness=loudness)
        if f.severity == "error"
    ]
    for path in sorted(output.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(output).as_posix()
        if is_temporary(path.name):
            if not temporaries_ok:
                found.append(f"{rel}: temporary file left behind")
            continue
        why = _incomplete(path)
        if why:
            found.append(f"{rel}: {why}")
    return found + broken_links(output)


def cache_problems(project: Project) -> list[str]:
    """Cache entries that are not complete segments (a temp ``.part`` file is not one)."""
    cache = SegmentCache(project.cache / "segments")
    keys: list[str] = cache.keys()
    return [k for k in keys if not cache.has(k) or cache.get(k) is None]


def output_files(project: Project) -> dict[str, bytes]:
    """Every non-temporary file under ``output/`` and its bytes."""
    out = project.output
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in out.rglob("*")
        if p.is_file() and not is_temporary(p.name)
    }


def html_injections(data: bytes | str) -> list[str]:
    """Markup in a page that only unescaped user text could have made: inline script,
    ``on*`` event attributes, ``javascript:`` URLs, and elements user text is full of
    (``b``, ``i``, ``textarea``, ``img`` without a real source)."""
    doc = lxml.html.document_fromstring(data)
    found: list[str] = []
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag == "script" and (el.text or "").strip():
            found.append(f"inline <script>: {(el.text or '')[:60]!r}")
        if el.tag in ("b", "i") or (el.tag == "textarea" and el.get("id") != "embed-snippet"):
            found.append(f"<{el.tag}> element: {el.text_content()[:60]!r}")
        if el.tag == "img" and (el.get("src") or "") in ("", "x"):
            found.append(f"<img src={el.get('src')!r}>")
        for name, value in el.attrib.items():
            if name.lower().startswith("on"):
                found.append(f"<{el.tag} {name}={value!r}>")
            if value.strip().lower().startswith("javascript:"):
                found.append(f"<{el.tag} {name}={value!r}>")
    return found
