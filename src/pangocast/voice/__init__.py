"""From turns to speech.

Casting, the lexicon, text normalisation, the synthesis plan, the engines and the segment
cache.
"""
