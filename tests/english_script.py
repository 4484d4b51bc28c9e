"""A small English episode script's header, for tests that build an English show."""

from __future__ import annotations

HEADER = """+++
title = "Small library, big promises"
slug = "small-library"
date = 2025-03-14
host = "Ana Ruiz"
guests = ["Ben Okoro"]
narrator = "Narrator"
summary = "Ben Okoro on saying no."
+++
"""
"""Host Ana Ruiz, guest Ben Okoro, the narrator named in English; slug ``small-library``."""
