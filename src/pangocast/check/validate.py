"""``pangocast check``: validate a built ``output/`` the way feed validators and apps do.

Podbase and Cast Feed Validator check the feed's XML and tags, that every enclosure is
reachable with the declared size, guid stability, artwork and the referenced files. This
module does the same against the local ``output/`` folder and goes further where a local
check can: it decodes every MP3 (a truncated file is caught by its incomplete last frame and
its short decoded duration), measures loudness, and compares ID3 chapters with the chapters
JSON.

Findings are data (:class:`Finding`); the command line prints them. The feed's own checks
live in :mod:`pangocast.check.feed`, those of the files it points to in
:mod:`pangocast.check.media`; this module walks ``output/`` and puts them together.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from pangocast.check.feed import (
    NS,
    check_channel,
    check_feed_against_previous,
    check_items,
    items_of,
    parse_duration,
    parse_feed,
)
from pangocast.check.findings import Finding, Severity, has_errors
from pangocast.check.media import (
    check_artwork,
    check_chapters_file,
    check_mp3,
    check_transcript,
    compare_chapters,
    id3_chapters,
    read_chapters_json,
    stamp_seconds,
)
from pangocast.core.errors import PangocastError
from pangocast.core.project import ShowConfig
from pangocast.publish.feed import FEED_NAME
from pangocast.publish.manifest import MANIFEST_NAME, BuiltEpisode, is_pending, read_manifest

__all__ = ["Finding", "Severity", "check_output", "has_errors"]


def _local_path(url: str, base: str, output: Path) -> Path | None:
    """The file under ``output/`` a public URL points to, or None if outside the base."""
    if not url.startswith(base):
        return None
    rel = url[len(base) :].split("?", 1)[0].split("#", 1)[0]
    if not rel or ".." in PurePosixPath(rel).parts or rel.startswith("/"):
        return None
    return output / rel


def check_output(
    output: Path,
    show: ShowConfig,
    *,
    previous_feed: bytes | None = None,
    loudness: bool = True,
) -> list[Finding]:
    """Validate a built ``output/`` folder: feed, audio, artwork, transcripts, chapters.

    Args:
        output: The ``output/`` folder (``feed.xml``, ``manifest.json`` and the files).
        show: Show metadata; its base URL maps feed URLs to files under ``output/``.
        previous_feed: The feed as last published, to check guid stability against.
        loudness: Decode every MP3 to measure loudness, true peak and decoded duration
            (the slow part).

    Returns:
        Every finding, in the order checked; empty means all is well.
    """
    out: list[Finding] = []
    feed_path = output / FEED_NAME
    if not feed_path.is_file():
        return [Finding("error", FEED_NAME, "no feed: run 'pangocast build' first")]
    data = feed_path.read_bytes()
    root, problems = parse_feed(data)
    out += problems
    if root is None:
        return out
    out += check_channel(root, show)
    out += check_items(root)
    channel = root.find("channel")

    # Resolve URLs against the base the feed was built for, so that one wrong base URL
    # is one finding (reported by check_channel), not one per file.
    base = show.base_url
    for link in channel.findall("atom:link", NS):
        href = link.get("href") or ""
        if link.get("rel") == "self" and href.endswith("/" + FEED_NAME):
            base = href[: -len(FEED_NAME)]

    def local(url: str | None, where: str) -> Path | None:
        if not url:
            return None
        path = _local_path(url, base, output)
        if path is None:
            out.append(Finding("error", where, f"URL {url} is not under the base URL {base}"))
        return path

    manifest: list[BuiltEpisode] = []
    try:
        built = read_manifest(output)
    except PangocastError as exc:
        out.append(Finding("error", MANIFEST_NAME, exc.what))
    else:
        if built is None:
            out.append(Finding("warning", MANIFEST_NAME, "no build manifest: durations unchecked"))
        elif is_pending(built, data):
            # Killed between the manifest and the feed: the feed (what listeners get) is
            # the previous build's, complete on its own; the manifest describes the next.
            out.append(
                Finding(
                    "warning",
                    MANIFEST_NAME,
                    "the last build stopped before publishing its feed: the feed is the"
                    " previous build's; run 'pangocast build' to finish",
                )
            )
        else:
            manifest = list(built.episodes)
    by_guid = {e.guid: e for e in manifest}

    image = channel.find("itunes:image", NS)
    cover = local(image.get("href") if image is not None else None, "itunes:image")
    if cover is not None:
        out += check_artwork(cover, where=cover.relative_to(output).as_posix())

    items = items_of(channel)
    for item in items:
        episode = by_guid.get(item.guid or "")
        expected = episode.duration if episode else None
        declared = parse_duration(item.duration) if item.duration else None
        duration = expected if expected is not None else declared
        if item.image:
            art = local(item.image, item.label)
            if art is not None:
                out += check_artwork(art, where=art.relative_to(output).as_posix())
        audio = local(item.enclosure_url, item.label)
        if audio is not None:
            length = item.enclosure_length or ""
            out += check_mp3(
                audio,
                where=audio.relative_to(output).as_posix(),
                declared_length=int(length) if length.isdigit() else None,
                declared_duration=declared,
                expected_duration=expected,
                loudness=loudness,
            )
        for url, mime, _ in item.transcripts:
            path = local(url, item.label)
            if path is not None:
                out += check_transcript(
                    path, where=path.relative_to(output).as_posix(), duration=duration, mime=mime
                )
        json_chapters: list[tuple[float, str]] | None = None
        chapters_path = local(item.chapters_url, item.label)
        if chapters_path is not None:
            rel = chapters_path.relative_to(output).as_posix()
            found = check_chapters_file(chapters_path, where=rel, duration=duration)
            out += found
            if not has_errors(found):
                json_chapters = read_chapters_json(chapters_path)
        if json_chapters is not None and item.psc_chapters:
            try:
                psc = [(stamp_seconds(start), title) for start, title in item.psc_chapters]
            except ValueError:
                psc = []
                out.append(Finding("error", item.label, "a psc:chapter start is not a time"))
            diff = compare_chapters(json_chapters, psc, tolerance=1.0)
            if diff:
                out.append(
                    Finding("warning", item.label, f"psc:chapters disagree with JSON: {diff}")
                )
        if json_chapters is not None and audio is not None and audio.is_file():
            id3 = id3_chapters(audio)
            if id3:
                diff = compare_chapters(json_chapters, id3)
                if diff:
                    out.append(
                        Finding(
                            "error",
                            audio.relative_to(output).as_posix(),
                            f"ID3 chapters disagree with the chapters JSON: {diff}",
                        )
                    )

    feed_guids = {i.guid for i in items if i.guid}
    for ep in manifest:
        where = f"episode {ep.slug}"
        if ep.guid not in feed_guids:
            out.append(Finding("error", where, f"built but missing from the feed ({ep.guid})"))
            continue
        item = next(i for i in items if i.guid == ep.guid)
        if item.enclosure_url and item.enclosure_url != base + ep.audio:
            out.append(Finding("error", where, f"the feed's enclosure is not the built {ep.audio}"))
        for kind, rel in sorted(ep.transcripts.items()):
            if not (output / rel).is_file():
                urls = {u for u, _, _ in item.transcripts}
                if not any(u.endswith(rel) for u in urls):  # else reported above
                    out.append(Finding("error", rel, f"{kind} transcript does not exist"))
        if (
            ep.chapters_file
            and not (output / ep.chapters_file).is_file()
            and not (item.chapters_url or "").endswith(ep.chapters_file)
        ):
            out.append(Finding("error", ep.chapters_file, "chapters file does not exist"))
    if manifest:
        built_guids = {e.guid for e in manifest}
        for item in items:
            if item.guid and item.guid not in built_guids:
                out.append(Finding("warning", item.label, "in the feed but not in manifest.json"))

    if previous_feed is not None:
        out += check_feed_against_previous(data, previous_feed)
    return out
