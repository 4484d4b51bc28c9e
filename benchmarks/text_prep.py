"""What the lexicon and the normaliser do to the bundled show, and what they cost.

Prints, over every sentence segment of the six bundled scripts (default neural casting):
how many segments the lexicon changed and how many terms it replaced, how many segments
the normaliser changed (numbers, punctuation, soundless marks), how many characters the
neural engine would still leave unvoiced, and the extra synthesis cost of the prepared
text against the raw sentence on a sample (ratio of neural synthesis times, same voice).

Usage: python benchmarks/text_prep.py [--sample N]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from pangocast.core.project import Project  # noqa: E402
from pangocast.script.catalogue import load_episodes  # noqa: E402
from pangocast.voice.casting import cast_episode, load_casting  # noqa: E402
from pangocast.voice.engines.neural import NeuralEngine  # noqa: E402
from pangocast.voice.lexicon import load_lexicon  # noqa: E402
from pangocast.voice.normalize import normalize_for_speech, split_sentences  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample", type=int, default=40, help="sentences timed")
    args = parser.parse_args()
    project = Project(ROOT)
    rules = load_casting(project.voices).for_engine("neural")
    lexicon = load_lexicon(project.voices)
    terms = lexicon.terms_for("neural", "baker")
    engine = NeuralEngine()
    pattern = re.compile(
        "|".join(
            rf"(?<![A-Za-z0-9]){re.escape(t)}(?![A-Za-z0-9])"
            for t in sorted(terms, key=len, reverse=True)
        )
    )
    segments = lex_changed = lex_terms = norm_changed = 0
    unvoiced: set[str] = set()
    pairs: list[tuple[str, str]] = []
    for ep in load_episodes(project):
        cast = cast_episode(ep, rules)
        for turn in ep.turns:
            if not turn.spoken:
                continue
            voice = cast[turn.speaker].voice
            pieces = [turn.text] if turn.kind == "chapter" else split_sentences(turn.text, 120)
            for s in pieces:
                segments += 1
                after_lex = lexicon.apply(s, "neural", voice.id)
                if after_lex != s:
                    lex_changed += 1
                    lex_terms += len(pattern.findall(s))
                said = normalize_for_speech(after_lex)
                if said != normalize_for_speech(s) or said != after_lex:
                    norm_changed += int(said != after_lex)
                unvoiced.update(engine.unvoiced(said))
                if s != said and len(pairs) < 10_000:
                    pairs.append((s, said))
    print(f"segments (sentences) in the six scripts: {segments}")
    print(f"lexicon: changed {lex_changed} segments, {lex_terms} term replacements")
    print(f"normaliser: changed {norm_changed} segments")
    print(f"unvoiced pieces left for the neural engine: {len(unvoiced)} {sorted(unvoiced)[:10]}")

    voice = rules.narrator
    sample = pairs[:: max(1, len(pairs) // args.sample)][: args.sample]
    engine.synthesize("预热。", voice)
    raw_t: list[float] = []
    prep_t: list[float] = []
    for raw, said in sample:
        t0 = time.perf_counter()
        engine.synthesize(raw, voice)
        t1 = time.perf_counter()
        engine.synthesize(said, voice)
        t2 = time.perf_counter()
        raw_t.append(t1 - t0)
        prep_t.append(t2 - t1)
    ratio = sum(prep_t) / sum(raw_t)
    print(
        f"synthesis of {len(sample)} changed sentences: raw {sum(raw_t):.2f} s, "
        f"prepared {sum(prep_t):.2f} s, ratio {ratio:.2f} "
        f"(median per-sentence ratio "
        f"{statistics.median(p / r for p, r in zip(prep_t, raw_t, strict=True)):.2f})"
    )
    print("(prepared text voices the Latin words and numbers the raw text drops or misreads)")


if __name__ == "__main__":
    main()
