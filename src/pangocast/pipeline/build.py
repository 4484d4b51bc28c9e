"""``pangocast build``: scripts -> segments -> episodes -> feed and site, incrementally.

Order of work, chosen so a failure never damages what is published:
1. read every input (scripts, casting, lexicon, show) and plan all segments;
2. synthesize the segments the cache lacks (in parallel);
3. per episode, reuse the published MP3 when its inputs are unchanged, else assemble,
   master, encode and tag it under a new content-hashed name;
4. render the audiograms that are not on disk yet (when asked for);
5. write transcripts, chapters, cover, site and manifest, and the feed last;
6. only then remove files the new feed no longer references.

Every file goes to a hidden temporary name and is renamed into place, so a build killed at
any point leaves each file old or new, never partial (temporaries it left are swept by the
next build). ``feed.xml`` is the commit point: it is written after every file it references,
and nothing the previous feed references is removed before it is replaced. The manifest,
written just before the feed, records the feed's hash, so a manifest whose feed never went
live is recognisable (:func:`pangocast.publish.manifest.is_pending`).
"""

from __future__ import annotations

import contextlib

from pangocast.audio.pacing import load_pacing
from pangocast.core.errors import BuildError, EngineError, Notice, PangocastError
from pangocast.core.messages import language_notice
from pangocast.core.project import Project, load_show
from pangocast.pipeline.audiograms import attach_audiograms
from pangocast.pipeline.episode import EpisodeDelivery, engine_rate
from pangocast.pipeline.events import BuildEvents, BuildOptions, BuildReport, EpisodeReport
from pangocast.pipeline.publishing import AddedFiles, publish, publish_cover
from pangocast.pipeline.schedule import ASSEMBLY_MODULES, CLUSTER_MODULES, Waiting, preload
from pangocast.pipeline.turn_prep import TurnPrep
from pangocast.publish.manifest import BuiltEpisode, read_manifest
from pangocast.publish.output import build_lock, sweep_temporary
from pangocast.script.catalogue import in_show_order, load_episodes, numbered, select
from pangocast.voice.casting import load_casting, with_fallback
from pangocast.voice.engines import choose_engine, engine_class, get_engine
from pangocast.voice.lexicon import load_lexicon
from pangocast.voice.plan import EpisodePlan, Planner, all_jobs
from pangocast.voice.segments import open_cache
from pangocast.voice.synth import SegmentJob, SegmentResult, default_workers, synthesize_missing


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
        added = AddedFiles(project.output)
        try:
            return _build(project, options, ev, added, cleanup)
        except BaseException:
            added.remove()
            raise


def _build(
    project: Project,
    options: BuildOptions,
    ev: BuildEvents,
    added: AddedFiles,
    cleanup: contextlib.ExitStack,
) -> BuildReport:
    sweep_temporary(project.output)  # left by a killed build; we hold the lock
    if options.cluster:
        # distributed takes 1.5-2 s to import: while the build plans, not while the
        # cluster's workers wait for their first segment
        preload(CLUSTER_MODULES)

    if options.engine:
        engine_class(options.engine)  # an unknown engine name is the first thing to report
    show = load_show(project)
    engine_name = choose_engine(options.engine, show)
    engine_class(engine_name)
    notice = language_notice(show.language)
    if notice is not None:
        ev.warning(notice)
    if options.base_url:
        show = show.with_base_url(options.base_url)
    rules = load_casting(project.voices).for_engine(engine_name)
    lexicon = load_lexicon(project.voices)
    pacing = load_pacing(project)
    all_episodes = load_episodes(project)
    chosen = select(all_episodes, options.episodes)
    numbers = numbered(all_episodes)

    engine = get_engine(engine_name)
    planner = Planner(engine, rules, lexicon, language=show.language)
    plans = [planner.plan_in_show(ep, show) for ep in chosen]
    cache = open_cache(options.cache, project.segments)
    jobs = all_jobs(plans)
    unique_keys = {j.key for j in jobs}
    missing = unique_keys - cache.present(unique_keys)

    report = BuildReport()
    unvoiced: set[str] = set()
    output = project.output
    previous = read_manifest(output)
    published = {e.slug: e for e in previous.episodes} if previous else {}
    cover = publish_cover(project, show, output)
    built: dict[str, BuiltEpisode] = {}
    made: set[str] = set()  # keys synthesized by this build
    failed: dict[str, PangocastError] = {}
    delivery = EpisodeDelivery(
        project,
        show,
        cache,
        pacing,
        engine_name,
        cover,
        ev,
        None,
        made=made,
        missing=missing,
        failed=failed,
        built=built,
    )
    _verify_segments(delivery, plans, numbers, published, missing, ev)
    ev.planned(len(plans), len(unique_keys), len(missing))
    if missing:  # episodes will be assembled: have their modules ready by then
        preload(ASSEMBLY_MODULES)
    # on a cluster this process only assembles: it has a core for the work below
    workers = 2 if options.cluster else options.jobs or default_workers()
    if missing and workers > 1:
        # the turns of the episodes that wait for segments are voiced as they complete,
        # placed in order and measured for mastering as far as they are final
        delivery.prep = TurnPrep(
            cache, pacing.sentence, lambda plan: engine_rate(plan, cache), delivery.new_stream
        )
        cleanup.callback(delivery.prep.close)
    prep = delivery.prep
    waiting = Waiting()
    for i, plan in enumerate(plans):
        plan_missing = {j.key for j in plan.jobs()} & missing
        waiting.track(i, plan_missing)
        if prep is not None and plan_missing:
            prep.watch(plan, missing)

    def finish(i: int) -> None:
        if not waiting.finish(i):
            return
        slug = plans[i].meta.slug
        er = delivery.finish(plans[i], number=numbers[slug], previous=published.get(slug))
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
        engine_name,
        [j for j in ordered if j.key in missing],  # the cache was just checked for the rest
        cache,
        workers=options.jobs,
        on_done=on_done,
        cluster=options.cluster,
    )
    failed.update(synth.failed)
    # Only the engine refusing a voice calls for the fallback; a cache that cannot be
    # written (disk full) would fail with any voice.
    failed_voices = {j.voice for j in jobs if isinstance(synth.failed.get(j.key), EngineError)}
    if failed_voices and rules.fallback is not None and rules.fallback not in failed_voices:
        # A refused voice (e.g. blocked by the service) is replaced by the fallback voice
        # in the episodes it broke, which are planned and synthesized again.
        names = ", ".join(sorted(v.label() for v in failed_voices))
        fallback = rules.fallback.label()
        ev.warning(
            Notice(
                f"voice(s) {names} failed; using fallback voice {fallback}",
                path=project.voices / "casting.toml",
            )
        )
        planner = Planner(
            engine, with_fallback(rules, failed_voices), lexicon, language=show.language
        )
        for i, plan in enumerate(plans):
            if any(j.key in synth.failed for j in plan.jobs()):
                plans[i] = planner.plan_in_show(plan.episode, show)
                waiting.track(i, {j.key for j in plans[i].jobs() if not cache.has(j.key)})
        retry_jobs = all_jobs(plans)
        missing |= {j.key for j in retry_jobs if not cache.has(j.key)}
        again = synthesize_missing(
            engine_name,
            retry_jobs,
            cache,
            workers=options.jobs,
            on_done=on_done,
            cluster=options.cluster,
        )
        synth.done.extend(again.done)
        synth.failed = again.failed
        failed.clear()
        failed.update(again.failed)
    report.synthesized = len(synth.done)
    report.reused = len(unique_keys) - len(missing)
    if unvoiced:
        ev.warning(Notice("some text could not be voiced: " + ", ".join(sorted(unvoiced)[:20])))
    for i in range(len(plans)):  # all, when nothing was synthesized; else those held back
        finish(i)
    # the report lists episodes as the feed and the site do
    rank = {slug: i for i, slug in enumerate(in_show_order(all_episodes, numbers))}
    report.episodes.sort(key=lambda e: rank[e.slug])

    # Episodes not rebuilt this time stay published as they were.
    for slug, old in published.items():
        if slug not in built and any(e.meta and e.meta.slug == slug for e in all_episodes):
            built[slug] = old
    if not built:
        raise BuildError("no episode could be built", hint="see the errors above")
    attach_audiograms(
        built,
        output,
        cover,
        enabled=show.audiograms if options.audiograms is None else options.audiograms,
        whole_episodes=show.audiogram_episodes,
        events=ev,
        keep_going=options.keep_going,
    )
    added.publishing = True
    report.feed = publish(project, show, list(built.values()), cover, previous)
    return report


def _verify_segments(
    delivery: EpisodeDelivery,
    plans: list[EpisodePlan],
    numbers: dict[str, int],
    published: dict[str, BuiltEpisode],
    missing: set[str],
    ev: BuildEvents,
) -> None:
    """Check the cached segments of every episode that will be assembled against their
    checksums; damaged ones join ``missing`` (synthesized again) with one warning. An
    episode kept as published reads no segment, so its segments are not read here."""
    cache = delivery.cache
    keys: dict[str, None] = {}
    for plan in plans:
        slug = plan.meta.slug
        if not delivery.is_published(
            delivery.fingerprint(plan, numbers[slug]), published.get(slug)
        ):
            keys.update((j.key, None) for j in plan.jobs() if j.key not in missing)
    damaged = cache.verify(keys)
    if damaged:
        missing.update(damaged)
        ev.warning(
            Notice(
                f"{len(damaged)} cached segment(s) did not match their checksum"
                " (damaged in storage); they are synthesized again",
                path=cache.location,
                hint="check the disk or bucket holding the segment cache",
            )
        )


__all__ = [
    "BuildEvents",
    "BuildOptions",
    "BuildReport",
    "EpisodeReport",
    "build",
    "engine_rate",
]
