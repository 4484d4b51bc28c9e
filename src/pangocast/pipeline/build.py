"""``pangocast build``: scripts -> segments -> episodes -> feed and site, incrementally.

Order of work, chosen so a failure never damages what is published:
1. read every input (scripts, casting, lexicon, show) and plan all segments;
2. synthesize the segments the cache lacks (in parallel);
3. per episode, reuse the published MP3 when its inputs are unchanged, else assemble,
   master, encode and tag it under a new content-hashed name;
4. write transcripts, chapters, cover, site and manifest, and the feed last;
5. only then remove files the new feed no longer references.

Every file goes to a hidden temporary name and is renamed into place, so a build killed at
any point leaves each file old or new, never partial (temporaries it left are swept by the
next build). ``feed.xml`` is the commit point: it is written after every file it references,
and nothing the previous feed references is removed before it is replaced. The manifest,
written just before the feed, records the feed's hash, so a manifest whose feed never went
live is recognisable (:func:`pangocast.publish.manifest.is_pending`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib
import json
import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

from pangocast import __version__
from pangocast.audio.pcm import Audio
from pangocast.audio.timeline import Timeline, VoicedTurn, assemble
from pangocast.core.errors import (
    AudioError,
    BuildError,
    EngineError,
    PangocastError,
    ScriptError,
)
from pangocast.core.files import write_atomic
from pangocast.core.models import Episode
from pangocast.core.project import Project, ShowConfig, load_show
from pangocast.pipeline.turn_prep import TurnPrep, voice_cached_turn
from pangocast.publish.manifest import (
    MANIFEST_NAME,
    BuiltEpisode,
    Manifest,
    manifest_to_text,
    read_manifest,
)
from pangocast.publish.output import (
    VERSIONED_DIRS,
    build_lock,
    prune_unreferenced,
    sweep_temporary,
)
from pangocast.script.format import load_script
from pangocast.voice.casting import load_casting, with_fallback
from pangocast.voice.engines import DEFAULT_ENGINE, engine_class, get_engine
from pangocast.voice.lexicon import load_lexicon
from pangocast.voice.plan import DEFAULT_INTRO, EpisodePlan, Planner, TurnPlan, all_jobs
from pangocast.voice.segments import SegmentCache
from pangocast.voice.synth import SegmentJob, SegmentResult, default_workers, synthesize_missing

PIPELINE_VERSION = "3"  # bump when assembly/mastering changes the sound of unchanged input

DECODE_TOLERANCE = 0.25
"""Seconds the decoded MP3 may differ from the assembled audio (encoder delay and padding
are a few 26 ms frames); more means the encoder wrote a short or damaged file."""

Status = Literal["built", "unchanged", "failed"]


@dataclass(frozen=True)
class BuildOptions:
    """What to build and how."""

    engine: str = DEFAULT_ENGINE
    episodes: Sequence[str] = ()
    """Slugs or script file names to (re)build; empty = all."""
    jobs: int | None = None
    base_url: str | None = None
    keep_going: bool = False


class BuildEvents:
    """Progress callbacks; the library calls them, the CLI draws bars. All optional."""

    def planned(self, episodes: int, segments: int, to_synthesize: int) -> None:
        """After planning: how much work there is."""

    def segment_done(self, seconds: float, ok: bool) -> None:
        """One segment synthesized (``seconds`` of audio)."""

    def episode_started(self, slug: str, title: str) -> None:
        """Assembly of one episode begins."""

    def episode_done(self, report: EpisodeReport) -> None:
        """One episode finished (built, unchanged or failed)."""

    def warning(self, message: str) -> None:
        """Something the producer should know."""


@dataclass
class EpisodeReport:
    """The outcome for one episode."""

    slug: str
    title: str
    status: Status
    synthesized: int = 0
    reused: int = 0
    duration: float = 0.0
    audio: str | None = None
    error: PangocastError | None = None


@dataclass
class BuildReport:
    """The outcome of a build."""

    episodes: list[EpisodeReport] = field(default_factory=list)
    synthesized: int = 0
    reused: int = 0
    audio_seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    feed: Path | None = None

    @property
    def failed(self) -> list[EpisodeReport]:
        """Episodes that could not be built."""
        return [e for e in self.episodes if e.status == "failed"]


def load_episodes(project: Project) -> list[Episode]:
    """Every episode script of the show, validated.

    Raises:
        ScriptError: a script is malformed, or two scripts share a slug or guid.
        ConfigError: there is no scripts/ folder.
    """
    episodes = [load_script(p) for p in project.script_files()]
    if not episodes:
        raise ScriptError(
            "no episode scripts",
            path=project.scripts,
            hint="run 'pangocast import ARTICLE' or add a script (see README)",
        )
    seen: dict[str, str] = {}
    for ep in episodes:
        assert ep.meta is not None
        for key in (ep.meta.slug, guid_of(ep)):
            if key in seen:
                raise ScriptError(
                    f"slug or guid '{key}' is used by two scripts (also {seen[key]})",
                    path=ep.source,
                    line=_header_line(Path(str(ep.source)), key),
                    hint="give every episode its own slug (and guid)",
                )
            seen[key] = str(ep.source)
    return episodes


def _header_line(path: Path, value: str) -> int | None:
    """The 1-based line of the script's header that sets ``slug`` or ``guid`` to ``value``."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for i, line in enumerate(lines, 1):
        key, _, rest = line.partition("=")
        if key.strip() in ("slug", "guid") and rest.strip().strip("\"'") == value:
            return i
    return None


def guid_of(ep: Episode) -> str:
    """The episode's permanent guid: set in the script, else derived from its slug."""
    assert ep.meta is not None
    return ep.meta.guid or f"pangocast:{ep.meta.slug}"


def select(episodes: list[Episode], wanted: Sequence[str]) -> list[Episode]:
    """The episodes named by slug or script file name.

    Raises:
        ScriptError: a name matches no episode.
    """
    if not wanted:
        return episodes
    out: list[Episode] = []
    for w in wanted:
        hits = [
            e
            for e in episodes
            if e.meta is not None
            and w in (e.meta.slug, Path(str(e.source)).name, Path(str(e.source)).stem)
        ]
        if not hits:
            names = ", ".join(e.meta.slug for e in episodes if e.meta)
            raise ScriptError(f"no episode named '{w}'", hint=f"known episodes: {names}")
        out.extend(h for h in hits if h not in out)
    return out


def _numbered(episodes: list[Episode]) -> dict[str, int]:
    """Episode numbers: from the script, else by date then file name."""
    order = sorted(episodes, key=lambda e: (e.meta.date if e.meta else dt.date.min, str(e.source)))
    return {
        e.meta.slug: (e.meta.episode or i + 1) for i, e in enumerate(order) if e.meta is not None
    }


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else "-"


def build(
    project: Project, options: BuildOptions, events: BuildEvents | None = None
) -> BuildReport:
    """Build the show under ``project`` (see module docstring).

    Raises:
        PangocastError: bad input, an unusable engine, or (without ``keep_going``) the first
            episode that failed. Published output is left as it was.
    """
    ev = events or BuildEvents()
    with build_lock(project.root), contextlib.ExitStack() as cleanup:
        added = _Added(project.output)
        try:
            return _build(project, options, ev, added, cleanup)
        except BaseException:
            added.remove()
            raise


class _Added:
    """Files a build adds to the versioned folders of ``output/`` (audio, transcripts...).

    Episodes are assembled while others are still being synthesized, so a build that
    fails or is interrupted may already have written some: until the build starts to
    publish, no feed refers to them, and :meth:`remove` takes them away again.
    """

    def __init__(self, output: Path) -> None:
        self.output = output
        self.before = self._files()
        self.publishing = False

    def _files(self) -> set[Path]:
        folders = (self.output / d for d in VERSIONED_DIRS)
        return {f for d in folders if d.is_dir() for f in d.iterdir() if f.is_file()}

    def remove(self) -> None:
        """Remove what was added, unless publishing began (the feed may refer to it)."""
        if not self.publishing:
            for f in self._files() - self.before:
                f.unlink(missing_ok=True)


def _build(
    project: Project,
    options: BuildOptions,
    ev: BuildEvents,
    added: _Added,
    cleanup: contextlib.ExitStack,
) -> BuildReport:
    from pangocast.audio import pacing as pacing_mod

    sweep_temporary(project.output)  # left by a killed build; we hold the lock

    engine_class(options.engine)  # an unknown engine name is the first thing to report
    show = load_show(project)
    if options.base_url:
        show = show.with_base_url(options.base_url)
    rules = load_casting(project.voices).for_engine(options.engine)
    lexicon = load_lexicon(project.voices)
    pacing = pacing_mod.load_pacing(project)
    all_episodes = load_episodes(project)
    chosen = select(all_episodes, options.episodes)
    numbers = _numbered(all_episodes)

    engine = get_engine(options.engine)
    planner = Planner(engine, rules, lexicon)
    plans = [
        planner.plan(
            ep,
            show_title=show.title,
            intro_template=show.intro or DEFAULT_INTRO,
            outro_text=show.outro,
        )
        for ep in chosen
    ]
    cache = SegmentCache(project.segments)
    jobs = all_jobs(plans)
    unique_keys = {j.key for j in jobs}
    missing = {k for k in unique_keys if not cache.has(k)}
    ev.planned(len(plans), len(unique_keys), len(missing))
    if missing:  # episodes will be assembled: have their modules ready by then
        _preload(ASSEMBLY_MODULES)
    workers = options.jobs or default_workers()
    prep: TurnPrep | None = None
    if missing and workers > 1:
        # the turns of the episodes that wait for segments are voiced as they complete
        prep = TurnPrep(cache, pacing.sentence, lambda plan: engine_rate(plan, cache))
        cleanup.callback(prep.close)

    report = BuildReport()
    unvoiced: set[str] = set()
    output = project.output
    previous = read_manifest(output)
    published = {e.slug: e for e in previous.episodes} if previous else {}
    cover = _cover(project, show, output)
    built: dict[str, BuiltEpisode] = {}
    made: set[str] = set()  # keys synthesized by this build
    failed: dict[str, PangocastError] = {}
    waiting = _Waiting()
    for i, plan in enumerate(plans):
        plan_missing = {j.key for j in plan.jobs()} & missing
        waiting.track(i, plan_missing)
        if prep is not None and plan_missing:
            prep.watch(plan, missing)

    def warn(msg: str) -> None:
        report.warnings.append(msg)
        ev.warning(msg)

    def finish(i: int) -> None:
        if not waiting.finish(i):
            return
        er = _finish_episode(
            project, show, plans[i], cache, previous=published.get(plans[i].meta.slug),
            made=made, missing=missing, failed=failed, engine_name=options.engine,
            pacing=pacing, number=numbers[plans[i].meta.slug], cover=cover, built=built,
            events=ev, warn=warn, prep=prep,
        )  # fmt: skip
        report.episodes.append(er)
        if er.status == "failed":
            if not options.keep_going:
                assert er.error is not None
                raise er.error
        else:
            report.audio_seconds += er.duration

    # With parallel workers, an episode whose segments are all in is assembled at once
    # (in this process), while the workers go on with the others: assembly and encoding
    # overlap synthesis. The longest episodes are synthesized first, so the one assembled
    # after the last segment (while a core may idle) is the shortest. One worker runs in
    # this process: nothing could overlap, so the work keeps its plain order.
    overlap = workers > 1 and len(missing) > 1

    def on_done(job: SegmentJob, result: SegmentResult | None) -> None:
        if result is not None:
            unvoiced.update(result.unvoiced)
            made.add(job.key)
            waiting.done(job.key)
            if prep is not None:
                prep.segment_done(job.key)
        ev.segment_done(result.seconds if result else 0.0, result is not None)
        while overlap and waiting.ready:
            finish(waiting.ready.popleft())

    order = sorted(range(len(plans)), key=lambda i: -sum(len(j.text) for j in plans[i].jobs()))
    ordered = [j for i in order for j in plans[i].jobs()] if overlap else jobs
    synth = synthesize_missing(
        options.engine,
        [j for j in ordered if j.key in missing],  # the cache was just checked for the rest
        cache,
        workers=options.jobs,
        on_done=on_done,
    )
    failed.update(synth.failed)
    # Only the engine refusing a voice calls for the fallback; a cache that cannot be
    # written (disk full) would fail with any voice.
    failed_voices = {j.voice for j in jobs if isinstance(synth.failed.get(j.key), EngineError)}
    if failed_voices and rules.fallback is not None and rules.fallback not in failed_voices:
        # A refused voice (e.g. blocked by the service) is replaced by the fallback voice
        # in the episodes it broke, which are planned and synthesized again.
        names = ", ".join(sorted(v.label() for v in failed_voices))
        warn(f"voice(s) {names} failed; using fallback voice {rules.fallback.label()}")
        planner = Planner(engine, with_fallback(rules, failed_voices), lexicon)
        for i, plan in enumerate(plans):
            if any(j.key in synth.failed for j in plan.jobs()):
                plans[i] = planner.plan(
                    plan.episode,
                    show_title=show.title,
                    intro_template=show.intro or DEFAULT_INTRO,
                    outro_text=show.outro,
                )
                waiting.track(i, {j.key for j in plans[i].jobs() if not cache.has(j.key)})
        retry_jobs = all_jobs(plans)
        missing |= {j.key for j in retry_jobs if not cache.has(j.key)}
        again = synthesize_missing(
            options.engine, retry_jobs, cache, workers=options.jobs, on_done=on_done
        )
        synth.done.extend(again.done)
        synth.failed = again.failed
        failed.clear()
        failed.update(again.failed)
    report.synthesized = len(synth.done)
    report.reused = len(unique_keys) - len(missing)
    if unvoiced:
        warn("some text could not be voiced: " + ", ".join(sorted(unvoiced)[:20]))
    for i in range(len(plans)):  # all, when nothing was synthesized; else those held back
        finish(i)
    rank = {plan.meta.slug: i for i, plan in enumerate(plans)}
    report.episodes.sort(key=lambda e: rank[e.slug])

    # Episodes not rebuilt this time stay published as they were.
    for slug, old in published.items():
        if slug not in built and any(e.meta and e.meta.slug == slug for e in all_episodes):
            built[slug] = old
    if not built:
        raise BuildError("no episode could be built", hint="see the errors above")
    added.publishing = True
    report.feed = _publish(
        project.templates,
        output,
        show,
        list(built.values()),
        cover,
        previous,
        stamp=project.cache / PUBLISHED_STAMP,
    )
    return report


ASSEMBLY_MODULES = (
    "pangocast.audio.mastering",
    "pangocast.audio.mp3",
    "pangocast.publish.transcripts",
    "pangocast.publish.shownotes",
    "pangocast.publish.feed",
    "pangocast.publish.site",
)
"""What assembling and publishing episodes imports. scipy's signal package alone takes
1-2.5 s to import: a build that synthesizes imports them while its workers make the
segments, so a one-sentence edit does not wait for them after its segment is made."""


def _preload(modules: Sequence[str]) -> None:
    """Import ``modules`` in a background thread. A module the build then imports while
    the thread is at it waits for that import to finish (Python's module locks); one that
    fails to import fails again, with its real error, where the build imports it."""

    def load() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # reported by the build's own import of it
                return

    threading.Thread(target=load, name="pangocast-preload", daemon=True).start()


class _Waiting:
    """Which episodes still wait for segments, and which are ready to assemble."""

    def __init__(self) -> None:
        self._missing: dict[int, set[str]] = {}
        self._episodes_of: dict[str, list[int]] = {}
        self._finished: set[int] = set()
        self.ready: deque[int] = deque()
        """Episodes (by index) whose segments are all in, in the order they got ready."""

    def track(self, episode: int, missing: set[str]) -> None:
        """Episode ``episode`` waits for the segments ``missing`` (again, after a re-plan)."""
        self._missing[episode] = set(missing)
        for key in missing:
            self._episodes_of.setdefault(key, []).append(episode)
        if not missing:
            self.ready.append(episode)

    def done(self, key: str) -> None:
        """Segment ``key`` is in the cache."""
        for episode in self._episodes_of.pop(key, ()):
            waiting = self._missing[episode]
            if key in waiting:
                waiting.discard(key)
                if not waiting:
                    self.ready.append(episode)

    def finish(self, episode: int) -> bool:
        """Mark ``episode`` finished; False when it already was."""
        if episode in self._finished:
            return False
        self._finished.add(episode)
        return True


def _finish_episode(
    project: Project,
    show: ShowConfig,
    plan: EpisodePlan,
    cache: SegmentCache,
    *,
    previous: BuiltEpisode | None,
    made: set[str],
    missing: set[str],
    failed: dict[str, PangocastError],
    engine_name: str,
    pacing: object,
    number: int,
    cover: str | None,
    built: dict[str, BuiltEpisode],
    events: BuildEvents,
    warn: Callable[[str], None],
    prep: TurnPrep | None = None,
) -> EpisodeReport:
    """Publish one episode's files, or keep them as published when its inputs did not
    change; the report says which, or why it failed (``built`` gets the episode)."""
    from pangocast.audio.jingles import load_or_make
    from pangocast.audio.pacing import Pacing

    assert isinstance(pacing, Pacing)
    slug = plan.meta.slug
    events.episode_started(slug, plan.meta.title)
    keys = {j.key for j in plan.jobs()}
    er = EpisodeReport(
        slug, plan.meta.title, "built", synthesized=len(keys & made), reused=len(keys - missing)
    )
    try:
        failed_keys = [j.key for j in plan.jobs() if j.key in failed]
        if failed_keys:
            raise _located(failed[failed_keys[0]], plan, failed_keys[0])
        extra = {
            "pipeline": PIPELINE_VERSION,
            "engine": engine_name,
            "pacing": pacing.as_dict(),
            "meta": _meta_key(plan, number, guid_of(plan.episode)),
            "cover": cover,
            "show": [show.title, show.author],
            "sting": _file_hash(project.audio / "sting.wav"),
            "music": _file_hash(project.audio / "music.wav") if show.music else None,
        }
        fingerprint = plan.fingerprint(extra)
        output = project.output
        if (
            previous is not None
            and previous.audio.endswith(f"-{fingerprint[:10]}.mp3")
            and (output / previous.audio).is_file()
        ):
            built[slug] = previous
            er.status = "unchanged"
            er.duration = previous.duration
            er.audio = previous.audio
        else:
            sting = load_or_make(project.audio, "sting", rate=engine_rate(plan, cache))
            ep = _assemble_episode(
                plan,
                cache,
                output,
                show,
                pacing,
                fingerprint,
                number,
                cover,
                sting,
                warn,
                project.audio if show.music else None,
                prep=prep,
            )
            built[slug] = ep
            er.duration = ep.duration
            er.audio = ep.audio
    except PangocastError as exc:
        er.status = "failed"
        er.error = exc
    finally:
        if prep is not None:
            prep.forget(plan.all_turns())  # what was voiced ahead and is not used
    events.episode_done(er)
    return er


def _located(exc: PangocastError, plan: EpisodePlan, key: str) -> PangocastError:
    """``exc`` (a segment's failure) pointing at the script line of the turn it belongs to."""
    if exc.path is not None:
        return exc
    lines = (
        tp.turn.line
        for tp in plan.all_turns()
        for s in tp.sentences
        if s.job is not None and s.job.key == key
    )
    line = next(lines, None)
    located = type(exc)(exc.what, path=plan.episode.source, line=line, hint=exc.hint)
    located.__cause__ = exc
    return located


def engine_rate(plan: EpisodePlan, cache: SegmentCache) -> int:
    """The sample rate of the episode's segments (they share one engine)."""
    for job in plan.jobs():
        audio = cache.get(job.key)
        if audio is not None:
            return audio.rate
    raise BuildError(f"episode '{plan.meta.slug}' has no synthesized audio")


def _meta_key(plan: EpisodePlan, number: int, guid: str) -> list[object]:
    m = plan.meta
    return [
        m.title,
        m.date.isoformat(),
        m.host,
        list(m.guests),
        m.summary,
        number,
        guid,
        m.season,
        m.episode_type,
    ]


def _assemble_episode(
    plan: EpisodePlan,
    cache: SegmentCache,
    output: Path,
    show: ShowConfig,
    pacing: object,
    fingerprint: str,
    number: int,
    cover: str | None,
    sting: Audio,
    warn: Callable[[str], None],
    music: Path | None = None,
    *,
    prep: TurnPrep | None = None,
) -> BuiltEpisode:
    from pangocast.audio import delivery
    from pangocast.audio import mp3 as encode
    from pangocast.audio.pacing import Pacing, pause_between
    from pangocast.publish import shownotes, transcripts

    assert isinstance(pacing, Pacing)
    rate = sting.rate

    def voiced(tp: TurnPlan) -> VoicedTurn:
        ahead = prep.take(tp, rate) if prep is not None else None
        return ahead or voice_cached_turn(tp, cache, rate, pacing.sentence)

    turns = [voiced(tp) for tp in plan.all_turns()]
    timeline = assemble(
        turns,
        rate,
        gap=lambda prev, nxt: pause_between(prev, nxt, pacing),
        sentence_gap=pacing.sentence,
        intro=[sting],
        outro=[sting],
        intro_title=plan.meta.title,
    )
    del turns  # the joined audio holds every sample now
    if music is not None:
        timeline = _with_music(timeline, music, plan)
    duration = timeline.audio.duration
    meta = plan.meta
    stem = f"{meta.slug}-{fingerprint[:10]}"
    audio_rel = f"audio/{stem}.mp3"
    final = output / audio_rel
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".tmp-{os.getpid()}-{final.name}")
    tags = encode.Id3Tags(
        title=meta.title,
        artist=", ".join([meta.host, *meta.guests]),
        album=show.title,
        date=meta.date.isoformat(),
        comment=meta.summary,
        cover=(output / cover) if cover else None,
    )
    try:
        # deliver() masters, encodes, tags and measures the decoded MP3, re-mastering
        # when the encoder moved loudness or peaks out of spec.
        try:
            delivered = delivery.deliver(timeline.audio, tmp, tags, chapters=timeline.chapters)
        except AudioError as exc:
            raise AudioError(
                f"episode '{meta.slug}' could not be encoded to MP3: {exc.what}",
                path=plan.episode.source,
                hint="the published episode is unchanged; check that ffmpeg works"
                " (pangocast --debug build) and build again",
            ) from exc
        if not delivery.within_spec(delivered.loudness):
            warn(
                f"{meta.slug}: loudness {delivered.loudness.integrated_lufs:.1f} LUFS, "
                f"true peak {delivered.loudness.true_peak_dbtp:.1f} dBTP is out of spec"
            )
        _verify_mp3(delivered.decoded_seconds, duration, meta.slug, plan.episode.source)
        try:
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())  # on disk before the feed can point at it
            os.chmod(tmp, 0o644)  # readable by the web server that publishes output/
            os.replace(tmp, final)
        except OSError as exc:
            raise BuildError(
                f"cannot write the episode's MP3: {exc.strerror or exc}",
                path=final,
                hint="check free space and permissions of output/",
            ) from exc
    finally:
        tmp.unlink(missing_ok=True)
    size = final.stat().st_size
    sentences = list(timeline.sentences)
    files = {
        "vtt": (f"transcripts/{stem}.vtt", transcripts.to_vtt(sentences)),
        "srt": (f"transcripts/{stem}.srt", transcripts.to_srt(sentences)),
        "json": (f"transcripts/{stem}.json", transcripts.to_json(sentences)),
    }
    for rel, text in files.values():
        write_atomic(output / rel, text)
    chapters_rel = f"chapters/{stem}.json"
    write_atomic(output / chapters_rel, transcripts.chapters_json(list(timeline.chapters)))
    highlights = tuple(t.text for t in plan.episode.turns if t.kind == "highlight")
    ep = BuiltEpisode(
        slug=meta.slug,
        guid=guid_of(plan.episode),
        title=meta.title,
        date=meta.date,
        summary=meta.summary,
        host=meta.host,
        guests=meta.guests,
        episode=number,
        season=meta.season,
        episode_type=meta.episode_type,
        audio=audio_rel,
        audio_bytes=size,
        duration=round(duration, 3),
        chapters=timeline.chapters,
        turns=timeline.turns,
        highlights=highlights,
        transcripts={k: v[0] for k, v in files.items()},
        chapters_file=chapters_rel,
        engine=plan.turns[0].voice.engine if plan.turns else "",
    )
    html, text = shownotes.render_notes(ep)

    return replace(ep, notes_html=html, notes_text=text)


def _verify_mp3(got: float, expected: float, slug: str, source: str | None) -> None:
    """The encoded MP3, decoded as a player would (by :func:`delivery.deliver`, which
    measured it), must last the assembled duration: ``got`` seconds vs ``expected``.

    Raises:
        AudioError: it decodes to another duration (a short, empty or damaged file must
            never be renamed to where the feed points).
    """
    hint = "the published episode is unchanged; build again, or report the ffmpeg version"
    if abs(got - expected) > DECODE_TOLERANCE:
        raise AudioError(
            f"episode '{slug}': the encoded MP3 plays {got:.2f} s, the assembled audio"
            f" lasts {expected:.2f} s (truncated or damaged MP3)",
            path=source,
            hint=hint,
        )


MUSIC_TAIL = 1.5  # seconds the bed plays on after the intro's last word


def _with_music(timeline: Timeline, audio_dir: Path, plan: EpisodePlan) -> Timeline:
    """The timeline with the music bed ducked under the spoken intro and the outro."""
    from pangocast.audio.jingles import duck, load_or_make, mix

    audio = timeline.audio
    rate = audio.rate
    samples = audio.samples.copy()
    regions: list[tuple[float, float]] = []
    if plan.intro is not None and timeline.turns:
        regions.append((0.0, min(audio.duration, timeline.turns[0].end + MUSIC_TAIL)))
    plans = plan.all_turns()
    first_outro = next((i for i, tp in enumerate(plans) if tp.turn.outro or tp is plan.outro), None)
    if first_outro is not None and first_outro < len(timeline.turns):
        regions.append((max(0.0, timeline.turns[first_outro].start - 1.0), audio.duration))
    for start, end in regions:
        a, b = int(start * rate), int(end * rate)
        if b - a < rate:
            continue
        voice = Audio(samples[a:b], rate)
        bed = load_or_make(audio_dir, "music", rate=rate, seconds=(b - a) / rate)
        samples[a:b] = mix(voice, duck(bed, voice)).samples[: b - a]
    return replace(timeline, audio=Audio(samples, rate))


def _cover(project: Project, show: ShowConfig, output: Path) -> str | None:
    """Publish the show cover under a content-hashed name; returns its path under output/."""
    if show.cover:
        src = project.root / show.cover
        if not src.is_file():
            raise BuildError("cover art not found", path=src, hint="fix 'cover' in feeds/show.toml")
        data = src.read_bytes()
        suffix = src.suffix.lower()
    else:
        generated = project.cache / "cover.png"
        key = hashlib.sha256(f"{show.title}|{show.author}".encode()).hexdigest()[:10]
        marker = project.cache / "cover.key"
        if not generated.is_file() or not marker.is_file() or marker.read_text() != key:
            generated.parent.mkdir(parents=True, exist_ok=True)
            # no marker while the image is rewritten: a build killed meanwhile redraws it
            marker.unlink(missing_ok=True)
            from pangocast.publish.artwork import render_cover  # Pillow: only when drawing

            render_cover(show.title, show.author, generated)
            marker.write_text(key)
        data = generated.read_bytes()
        suffix = ".png"
    rel = f"images/cover-{hashlib.sha256(data).hexdigest()[:10]}{suffix}"
    if not (output / rel).is_file():
        write_atomic(output / rel, data)
    return rel


PUBLISHED_STAMP = "published.json"
"""Under ``.cache/``: what the last published feed and pages were rendered from (a hash of
the show metadata, templates and Pangocast version), the feed's hash and the files written;
a build whose episodes and these inputs are unchanged re-renders nothing."""


def _render_inputs(show: ShowConfig, templates: Path) -> str:
    """Hash of what the feed and pages are made of besides the episodes and the cover."""
    h = hashlib.sha256()
    h.update(json.dumps([__version__, asdict(show)], default=str, sort_keys=True).encode())
    shipped = Path(__file__).resolve().parent.parent / "templates"
    for folder in (shipped, templates):
        files = sorted(f for f in folder.rglob("*") if f.is_file()) if folder.is_dir() else []
        for f in files:
            h.update(f"{f.relative_to(folder)}\0".encode())
            h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def _still_published(stamp: Path, inputs: str, previous: Manifest, output: Path) -> bool:
    """True when the feed and pages on disk are the ones rendered from ``inputs`` and the
    ``previous`` manifest: the same feed, complete (not pending), every page in place."""
    try:
        data = json.loads(stamp.read_text(encoding="utf-8"))
        feed = (output / "feed.xml").read_bytes()
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict) or data.get("inputs") != inputs:
        return False
    sha = hashlib.sha256(feed).hexdigest()
    if sha != data.get("feed_sha256") or sha != previous.feed_sha256:
        return False
    pages = data.get("files")
    return isinstance(pages, list) and all((output / str(f)).is_file() for f in pages)


def _publish(
    templates: Path,
    output: Path,
    show: ShowConfig,
    episodes: list[BuiltEpisode],
    cover: str | None,
    previous: Manifest | None,
    *,
    stamp: Path | None = None,
) -> Path:
    episodes.sort(key=lambda e: (e.date, e.slug), reverse=True)
    same = previous is not None and previous.cover == cover and list(previous.episodes) == episodes
    referenced = [p for e in episodes for p in _files_of(e)] + ([cover] if cover else [])
    inputs = _render_inputs(show, templates)
    if (
        same
        and previous is not None
        and stamp is not None
        and _still_published(stamp, inputs, previous, output)
    ):
        # Nothing the feed and the pages are made of changed, and they are in place.
        prune_unreferenced(output, referenced, slugs=[e.slug for e in episodes])
        return output / "feed.xml"

    from pangocast.publish.feed import render_feed
    from pangocast.publish.site import render_site

    build_date = (
        previous.build_date
        if same and previous is not None and previous.build_date
        else dt.datetime.now(dt.UTC).replace(microsecond=0)
    )
    manifest = Manifest(tuple(episodes), cover=cover, build_date=build_date)
    # Render everything first: a malformed text fails here, before anything is replaced.
    feed_bytes = render_feed(show, manifest)
    manifest = replace(manifest, feed_sha256=hashlib.sha256(feed_bytes).hexdigest())
    # Pages and manifest may run ahead of the feed (a kill between the renames): they only
    # reference files already complete, and nothing the old feed uses is removed yet.
    pages = render_site(show, manifest, output, template_dir=templates)
    write_atomic(output / MANIFEST_NAME, manifest_to_text(manifest))
    feed = write_atomic(output / "feed.xml", feed_bytes)  # the commit point
    if stamp is not None:
        written = [p.relative_to(output).as_posix() for p in pages]
        record = {"inputs": inputs, "feed_sha256": manifest.feed_sha256, "files": written}
        write_atomic(stamp, json.dumps(record, indent=1) + "\n")
    prune_unreferenced(output, referenced, slugs=[e.slug for e in episodes])
    return feed


def _files_of(e: BuiltEpisode) -> list[str]:
    return [e.audio, *e.transcripts.values(), *([e.chapters_file] if e.chapters_file else [])]


__all__ = [
    "BuildEvents",
    "BuildOptions",
    "BuildReport",
    "EpisodeReport",
    "__version__",
    "build",
    "load_episodes",
    "select",
]
