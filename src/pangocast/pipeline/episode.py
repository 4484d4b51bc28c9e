"""Delivering one episode: assemble its turns with the sting and music, master, encode and
tag it, verify the MP3, and write its transcripts and chapters; or keep the published
episode when nothing it is made of changed (its fingerprint)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from pangocast.audio.jingles import find_file
from pangocast.audio.pacing import Pacing
from pangocast.audio.pcm import Audio
from pangocast.core.errors import AudioError, BuildError, Notice, PangocastError
from pangocast.core.files import commit_file, write_atomic
from pangocast.core.project import Project, ShowConfig
from pangocast.pipeline.episode_stream import EpisodeStream
from pangocast.pipeline.events import BuildEvents, EpisodeReport
from pangocast.pipeline.turn_prep import TurnPrep, voice_cached_turn
from pangocast.publish.manifest import BuiltEpisode
from pangocast.script.catalogue import guid_of
from pangocast.voice.plan import EpisodePlan
from pangocast.voice.segments import SegmentStore

PIPELINE_VERSION = "5"  # bump when assembly, mastering or tagging change the MP3 of same input


DECODE_TOLERANCE = 0.25
"""Seconds the decoded MP3 may differ from the assembled audio (encoder delay and padding
are a few 26 ms frames); more means the encoder wrote a short or damaged file."""


def _file_hash(path: Path | None) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path is not None else "-"


@dataclass
class EpisodeDelivery:
    """What every episode of one build is delivered with, and what the build has done so
    far: :meth:`finish` delivers one episode once its segments are in."""

    project: Project
    show: ShowConfig
    cache: SegmentStore
    pacing: Pacing
    engine_name: str
    cover: str | None
    """The show cover's path under ``output/`` (None: no cover)."""
    events: BuildEvents
    """Progress and warnings go to the build's events (the one way warnings reach a user)."""
    prep: TurnPrep | None
    """Turns voiced ahead in a background thread (None: voiced at assembly)."""
    made: set[str]
    """Segment keys synthesized by this build."""
    missing: set[str]
    """Segment keys the cache lacked when the build planned."""
    failed: dict[str, PangocastError]
    """Segment keys that could not be synthesized, and why."""
    built: dict[str, BuiltEpisode]
    """Delivered (or kept) episodes by slug: what the feed will list."""

    def fingerprint(self, plan: EpisodePlan, number: int) -> str:
        """Hash of everything the episode's MP3 is made of: a new one means a new MP3."""
        audio_dir, show = self.project.audio, self.show
        return plan.fingerprint(
            {
                "pipeline": PIPELINE_VERSION,
                "engine": self.engine_name,
                "pacing": self.pacing.as_dict(),
                "meta": _meta_key(plan, number, guid_of(plan.episode)),
                "cover": self.cover,
                "show": [show.title, show.author],
                # the files the episode is assembled with, whichever format they are in
                "sting": _file_hash(find_file(audio_dir, "sting")),
                "music": _file_hash(find_file(audio_dir, "music")) if show.music else None,
            }
        )

    def is_published(self, fingerprint: str, previous: BuiltEpisode | None) -> bool:
        """True when ``previous`` (the published episode) is the MP3 of ``fingerprint``:
        the episode is kept as it is, and its segments are not read."""
        return (
            previous is not None
            and previous.audio.endswith(f"-{fingerprint[:10]}.mp3")
            and (self.project.output / previous.audio).is_file()
        )

    def finish(
        self, plan: EpisodePlan, *, number: int, previous: BuiltEpisode | None
    ) -> EpisodeReport:
        """Deliver one episode, or keep it as published when its inputs did not change; the
        report says which, or why it failed (:attr:`built` gets the episode)."""
        from pangocast.audio.jingles import load_or_make

        slug = plan.meta.slug
        self.events.episode_started(slug, plan.meta.title)
        keys = {j.key for j in plan.jobs()}
        er = EpisodeReport(
            slug,
            plan.meta.title,
            "built",
            synthesized=len(keys & self.made),
            reused=len(keys - self.missing),
        )
        try:
            failed_keys = [j.key for j in plan.jobs() if j.key in self.failed]
            if failed_keys:
                raise _located(self.failed[failed_keys[0]], plan, failed_keys[0])
            fingerprint = self.fingerprint(plan, number)
            if self.is_published(fingerprint, previous):
                assert previous is not None
                self.built[slug] = previous
                er.status = "unchanged"
                er.duration = previous.duration
                er.audio = previous.audio
            else:
                rate = engine_rate(plan, self.cache)
                sting = load_or_make(self.project.audio, "sting", rate=rate)
                ep = self.assemble(plan, fingerprint, number, sting)
                self.built[slug] = ep
                er.duration = ep.duration
                er.audio = ep.audio
        except PangocastError as exc:
            er.status = "failed"
            er.error = exc
        finally:
            if self.prep is not None:
                self.prep.forget(plan.all_turns())  # what was voiced ahead and is not used
                self.prep.forget_stream(plan)
        self.events.episode_done(er)
        return er

    def new_stream(self, plan: EpisodePlan, sting: Audio | int) -> EpisodeStream:
        """A stream to place ``plan``'s turns on, with ``sting`` (or the show's, loaded at
        that rate) around them.

        Raises:
            AudioError: the sting or music file cannot be decoded.
        """
        if isinstance(sting, int):
            from pangocast.audio.jingles import load_or_make

            sting = load_or_make(self.project.audio, "sting", rate=sting)
        music = self.project.audio if self.show.music else None
        return EpisodeStream(plan, sting, self.pacing, music)

    def assemble(
        self, plan: EpisodePlan, fingerprint: str, number: int, sting: Audio
    ) -> BuiltEpisode:
        """Assemble, master, encode, verify and publish the episode's MP3, transcripts and
        chapters under names that carry ``fingerprint``.

        Raises:
            AudioError: encoding failed or the MP3 does not decode to the assembled length.
            BuildError: a file could not be written.
        """
        from pangocast.audio import delivery
        from pangocast.audio import mp3 as encode
        from pangocast.publish import transcripts

        prep, cache, output = self.prep, self.cache, self.project.output
        rate = sting.rate
        turns = plan.all_turns()
        # what the thread voiced (and placed on the episode's stream) waits for it here
        ahead = [prep.take(tp, rate) if prep is not None else None for tp in turns]
        stream = prep.stream(plan) if prep is not None else None
        if stream is None or stream.rate != rate:
            stream = self.new_stream(plan, sting)
        for i, tp in enumerate(turns):
            if not stream.holds(i):  # the thread placed most turns already
                stream.add(i, ahead[i] or voice_cached_turn(tp, cache, rate, self.pacing.sentence))
            ahead[i] = None
        timeline, measured = stream.finish()
        del stream  # the joined audio holds every sample now
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
            album=self.show.title,
            date=meta.date.isoformat(),
            comment=meta.summary,
            cover=(output / self.cover) if self.cover else None,
            language=self.show.language,
        )
        try:
            # deliver() masters, encodes, tags and measures the decoded MP3, re-mastering
            # when the encoder moved loudness or peaks out of spec.
            try:
                delivered = delivery.deliver(
                    timeline.audio, tmp, tags, chapters=timeline.chapters, measured=measured
                )
            except AudioError as exc:
                raise AudioError(
                    f"episode '{meta.slug}' could not be encoded to MP3: {exc.what}",
                    path=plan.episode.source,
                    hint="the published episode is unchanged; check that ffmpeg works"
                    " (pangocast --debug build) and build again",
                ) from exc
            if not delivery.within_spec(delivered.loudness):
                self.events.warning(
                    Notice(
                        f"{meta.slug}: loudness {delivered.loudness.integrated_lufs:.1f} LUFS,"
                        f" true peak {delivered.loudness.true_peak_dbtp:.1f} dBTP is out of spec",
                        path=plan.episode.source,
                    )
                )
            _verify_mp3(delivered.decoded_seconds, duration, meta.slug, plan.episode.source)
            try:
                commit_file(tmp, final)  # on disk and readable before the feed points at it
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
        return BuiltEpisode(
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
            sentences=timeline.sentences,
            highlights=highlights,
            transcripts={k: v[0] for k, v in files.items()},
            chapters_file=chapters_rel,
            engine=plan.turns[0].voice.engine if plan.turns else "",
        )


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


def engine_rate(plan: EpisodePlan, cache: SegmentStore) -> int:
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
