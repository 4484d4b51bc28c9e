"""From turns to speech.

Casting, the lexicon, text normalisation, the synthesis plan, the engines and the segment
cache.
"""

DEFAULT_ENGINE = "neural"
"""The engine a build uses unless told otherwise: offline, the best of the offline voices.
Declared here, not in ``engines/``, so the command line names it without importing one."""
