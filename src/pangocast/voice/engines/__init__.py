"""Speech engines, chosen by name.

The registry maps a name to the module and class that implement it; modules are imported
only when an engine is asked for, so ``pangocast --help`` never loads LiteRT or aiohttp.
Other engines (a plugin, or a test's stand-in) join the registry with
:func:`register_engine` and are then chosen by name like the built-in ones.
"""

from __future__ import annotations

import importlib

from pangocast.core.errors import EngineUnavailableError
from pangocast.core.project import ShowConfig
from pangocast.voice import DEFAULT_ENGINE
from pangocast.voice.engines.base import Engine, Voice, VoiceInfo

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "Engine",
    "Voice",
    "VoiceInfo",
    "choose_engine",
    "engine_class",
    "get_engine",
    "register_engine",
    "unregister_engine",
]

ENGINES: dict[str, tuple[str, str] | type[Engine]] = {
    "neural": ("pangocast.voice.engines.neural", "NeuralEngine"),
    "espeak": ("pangocast.voice.engines.espeak", "EspeakEngine"),
    "edge": ("pangocast.voice.engines.edge", "EdgeEngine"),
    "kokoro": ("pangocast.voice.engines.kokoro", "KokoroEngine"),
}


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
    entry = ENGINES[name]
    if isinstance(entry, type):
        return entry
    module, cls = entry
    found: type[Engine] = getattr(importlib.import_module(module), cls)
    return found


def register_engine(name: str, engine: type[Engine] | tuple[str, str]) -> None:
    """Make ``engine`` (a class, or the module and class name to import when it is first
    asked for) available under ``name``. The worker processes of an offline engine's pool
    are handed the class itself, so it must be importable there: defined at the top level
    of a module, not inside a function.

    Raises:
        EngineUnavailableError: ``name`` is taken.
    """
    if name in ENGINES:
        raise EngineUnavailableError(
            f"an engine named '{name}' is already registered", hint="choose another name"
        )
    ENGINES[name] = engine


def unregister_engine(name: str) -> None:
    """Remove the engine registered under ``name`` (nothing happens if there is none)."""
    ENGINES.pop(name, None)


def choose_engine(named: str | None, show: ShowConfig | None) -> str:
    """The engine a command uses: the one it ``named``, else the show's ``engine`` (from
    ``feeds/show.toml``), else :data:`DEFAULT_ENGINE`."""
    return named or (show.engine if show is not None else None) or DEFAULT_ENGINE


def get_engine(name: str) -> Engine:
    """A new engine instance by registry name.

    Raises:
        EngineUnavailableError: unknown name, or the engine's prerequisites are missing.
    """
    return engine_class(name)()
