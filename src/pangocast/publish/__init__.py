"""What the build writes under ``output/``.

The manifest, the feed, the site, show notes, transcripts and artwork; the preview server.
"""
