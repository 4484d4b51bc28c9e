"""Pangocast: turn written interviews into a podcast.

The library never prints; the ``pangocast`` command line (``pangocast.cli``) is a thin
layer over the functions exported here.
"""

from pangocast.core.errors import PangocastError

__all__ = ["PangocastError", "__version__"]
__version__ = "0.1.0"
