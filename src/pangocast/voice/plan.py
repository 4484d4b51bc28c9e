"""Planning a build: from episode scripts to the exact segments each engine must speak.

A turn is split into sentences; each sentence becomes one segment whose text is what the
engine receives (lexicon applied, then normalised for offline engines). The segment key
covers that text, the engine and model version, the voice and its prosody, so editing one
sentence, recasting a voice or changing a lexicon entry marks exactly the affected
segments stale.

The show's language decides the default spoken intro, how its guests are joined in it and
whether offline engines get the Mandarin normalisation (numbers read as hanzi).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pangocast.core.messages import messages_for, primary_subtag
from pangocast.core.models import Episode, EpisodeMeta, Turn
from pangocast.core.project import DEFAULT_LANGUAGE, ShowConfig
from pangocast.voice.casting import CastEntry, EngineCasting, cast_episode
from pangocast.voice.engines.base import Engine, Voice
from pangocast.voice.lexicon import Lexicon
from pangocast.voice.normalize import normalize_for_speech, split_sentences
from pangocast.voice.segments import segment_key
from pangocast.voice.synth import SegmentJob

MAX_SENTENCE_CHARS = 120


@dataclass(frozen=True)
class PlannedSentence:
    """A sentence as shown (``text``) and the segment that speaks it (None if silent)."""

    text: str
    job: SegmentJob | None


@dataclass(frozen=True)
class TurnPlan:
    """A spoken turn and its sentences."""

    turn: Turn
    voice: Voice
    sentences: tuple[PlannedSentence, ...]


@dataclass(frozen=True)
class EpisodePlan:
    """Everything needed to assemble one episode."""

    episode: Episode
    meta: EpisodeMeta
    cast: Mapping[str, CastEntry]
    intro: TurnPlan | None
    turns: tuple[TurnPlan, ...]
    outro: TurnPlan | None

    def jobs(self) -> list[SegmentJob]:
        """Every segment of the episode, in order."""
        out: list[SegmentJob] = []
        for tp in self.all_turns():
            out.extend(s.job for s in tp.sentences if s.job is not None)
        return out

    def all_turns(self) -> list[TurnPlan]:
        """Intro, turns and outro, in order."""
        return [
            *([self.intro] if self.intro else []),
            *self.turns,
            *([self.outro] if self.outro else []),
        ]

    def fingerprint(self, extra: Mapping[str, object]) -> str:
        """Hash of every input of the assembled episode (segments, text, settings)."""
        data = {
            "segments": [
                [
                    tp.turn.kind,
                    tp.turn.speaker,
                    [(s.text, s.job.key if s.job else None) for s in tp.sentences],
                ]
                for tp in self.all_turns()
            ],
            "extra": extra,
        }
        raw = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class Planner:
    """Turns episodes into segment plans for one engine, in the show's ``language``."""

    def __init__(
        self,
        engine: Engine,
        rules: EngineCasting,
        lexicon: Lexicon,
        *,
        language: str = DEFAULT_LANGUAGE,
    ) -> None:
        self.engine = engine
        self.rules = rules
        self.lexicon = lexicon
        self.engine_version = engine.version()
        self.messages = messages_for(language)
        # The normalisation reads numbers and dates in Mandarin: other languages' engines
        # read digits themselves.
        self.mandarin = primary_subtag(language) == "zh"

    def speech_text(self, text: str, voice: Voice) -> str:
        """What the engine receives for ``text``: lexicon, then (offline) normalisation."""
        said = self.lexicon.apply(text, self.engine.name, voice.id)
        if self.engine.offline and self.mandarin:
            said = normalize_for_speech(said)
        return said.strip()

    def plan_turn(self, turn: Turn, voice: Voice) -> TurnPlan:
        """Split ``turn`` into sentences and give each its segment."""
        pieces = (
            [turn.text]
            if turn.kind == "chapter"
            else split_sentences(turn.text, MAX_SENTENCE_CHARS)
        )
        sentences: list[PlannedSentence] = []
        for piece in pieces:
            said = self.speech_text(piece, voice)
            if not any(ch.isalnum() for ch in said):
                sentences.append(PlannedSentence(piece, None))
                continue
            key = segment_key(self.engine.name, self.engine_version, voice, said)
            sentences.append(PlannedSentence(piece, SegmentJob(key, said, voice)))
        return TurnPlan(turn, voice, tuple(sentences))

    def plan(
        self,
        episode: Episode,
        *,
        show_title: str,
        intro_template: str | None = None,
        outro_text: str | None = None,
        intro: bool = True,
    ) -> EpisodePlan:
        """The plan of one episode (its metadata must be complete: a script).

        Args:
            episode: the episode script.
            show_title: the show's title, for the intro.
            intro_template: the spoken intro (``{show}``, ``{guests}``, ``{title}``); None
                is the show language's default.
            outro_text: the show's outro, replacing the script's column footer.
            intro: False for no spoken intro at all (a preview).
        """
        assert episode.meta is not None, "plan() needs an episode script with metadata"
        meta = episode.meta
        if outro_text:
            # A configured outro replaces the column footer the script carries.
            episode = episode.without_outro()
        cast = cast_episode(episode, self.rules)
        narrator_voice = cast[meta.narrator].voice if meta.narrator in cast else self.rules.narrator
        turns = tuple(self.plan_turn(t, cast[t.speaker].voice) for t in episode.turns if t.spoken)
        opening = None
        if intro:
            template = intro_template or self.messages("intro")
            guests = self.messages.names(meta.guests) or meta.host
            text = template.format(show=show_title, guests=guests, title=meta.title)
            turn = Turn("speech", "narrator", meta.narrator, text)
            opening = self.plan_turn(turn, narrator_voice)
        outro = None
        if outro_text:
            outro = self.plan_turn(
                Turn("speech", "narrator", meta.narrator, outro_text), narrator_voice
            )
        return EpisodePlan(episode, meta, cast, opening, turns, outro)

    def plan_in_show(self, episode: Episode, show: ShowConfig) -> EpisodePlan:
        """The plan of ``episode`` as the show publishes it: its title, intro and outro."""
        return self.plan(
            episode, show_title=show.title, intro_template=show.intro, outro_text=show.outro
        )


def all_jobs(plans: Sequence[EpisodePlan]) -> list[SegmentJob]:
    """Every segment of every plan (duplicates kept; synthesis makes each key once)."""
    return [j for p in plans for j in p.jobs()]
