"""Speech engines, chosen by name.

The registry maps a name to the module and class that implement it; modules are imported
only when an engine is asked for, so ``pangocast --help`` never loads LiteRT or aiohttp.
"""

from __future__ import annotations

import importlib

from pangocast.core.errors import EngineUnavailableError
from pangocast.voice.engines.base import Engine, Voice, VoiceInfo

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "Engine",
    "Voice",
    "VoiceInfo",
    "engine_class",
    "get_engine",
]

ENGINES: dict[str, tuple[str, str]] = {
    "neural": ("pangocast.voice.engines.neural", "NeuralEngine"),
    "espeak": ("pangocast.voice.engines.espeak", "EspeakEngine"),
    "edge": ("pangocast.voice.engines.edge", "EdgeEngine"),
}
DEFAULT_ENGINE = "neural"


def engine_class(name: str) -> type[Engine]:
    """The class registered under ``name``.

    Raises:
        EngineUnavailableError: no engine has that name.
    """
    if name not in ENGINES:
        raise EngineUnavailableError(
            f"unknown engine '{name}'",
            hint="choose one of: " + ", ".join(ENGINES),
        )
    module, cls = ENGINES[name]
    found: type[Engine] = getattr(importlib.import_module(module), cls)
    return found


def get_engine(name: str) -> Engine:
    """A new engine instance by registry name.

    Raises:
        EngineUnavailableError: unknown name, or the engine's prerequisites are missing.
    """
    return engine_class(name)()
