"""The shared embedder under concurrency: one encoding per text, same vectors for everyone."""

from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from index.embedding import Embedder, cpu_bf16_features, resolve_dtype
from index.language import detect_language
from tests.conftest import SEEDS


def test_concurrent_requests_for_one_text_encode_it_once(model_path):
    embedder = Embedder(model_path)  # a private cache, so other tests cannot pre-fill it
    encoded: list[str] = []
    encode = embedder._encode

    def slow_encode(texts, prompt, progress):
        encoded.extend(texts)
        time.sleep(0.3)  # keep the first encoding in flight while the others arrive
        return encode(texts, prompt, progress)

    embedder._encode = slow_encode
    question = "Siapa yang melatih milisi Haftar dalam perang jalanan?"
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: embedder.embed_queries([question]), range(8)))
    assert encoded.count(question) == 1
    for vectors in results:
        np.testing.assert_array_equal(vectors, results[0])
    assert abs(float(np.linalg.norm(results[0][0])) - 1.0) < 1e-5


def test_a_failed_encoding_reaches_every_waiter_and_is_not_cached(model_path):
    embedder = Embedder(model_path)
    started = threading.Event()

    def failing_encode(texts, prompt, progress):
        started.set()
        time.sleep(0.2)
        raise RuntimeError("model failure")

    embedder._encode = failing_encode
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(embedder.embed_queries, ["حفتر"]) for _ in range(4)]
        for future in futures:
            with pytest.raises(RuntimeError, match="model failure"):
                future.result()
    assert started.is_set()
    del embedder._encode  # the real model again: nothing stale was cached or left in flight
    assert embedder.embed_queries(["حفتر"]).shape == (1, embedder.dim)


MIXED = [
    "query: من درب ميليشيات حفتر على حرب الشوارع؟",
    "query: Who trained Haftar's militias in street warfare?",
    "query: Siapa yang melatih milisi Haftar dalam perang jalanan?",
]


def seed_paragraphs(count: int = 24) -> list[str]:
    """Paragraphs of the five seed articles (Arabic, English and Indonesian)."""
    paragraphs = [
        p.strip()
        for path in sorted(SEEDS.glob("*.txt"))
        for p in path.read_text(encoding="utf-8").split("\n\n")
        if len(p.split()) >= 8
    ]
    return paragraphs[:: max(1, len(paragraphs) // count)][:count]


@pytest.mark.parametrize("other", ["bf16_embedder", "openvino_embedder"])
def test_bfloat16_vectors_agree_with_float32(embedder, other, request):
    """torch with bf16 weights, and OpenVINO in bf16, against the torch fp32 reference."""
    other = request.getfixturevalue(other)
    assert other.dtype == "bfloat16" and embedder.dtype == "float32"
    passages = seed_paragraphs(9)  # bf16 runs emulated on most CPUs: a few of each language
    assert {detect_language(p) for p in passages} == {"ar", "en", "id"}
    for ours, reference in (
        (other.embed_passages(passages), embedder.embed_passages(passages)),
        (other.embed_queries(MIXED), embedder.embed_queries(MIXED)),
    ):
        assert ours.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)  # renormalised
        cosine = (ours * reference).sum(axis=1)
        assert cosine.min() >= 0.99, cosine


def test_openvino_runs_only_the_models_it_converts(openvino_embedder, model_path, tmp_path):
    assert openvino_embedder.runtime == "openvino" and openvino_embedder.dim == 384
    cls_pooled = tmp_path / "cls-model"
    shutil.copytree(model_path, cls_pooled, ignore=shutil.ignore_patterns("openvino-*"))
    pooling = cls_pooled / "1_Pooling" / "config.json"
    pooling.write_text(pooling.read_text().replace('"mean"', '"cls"'))
    with pytest.raises(ValueError, match="OpenVINO cannot run"):
        Embedder(str(cls_pooled), runtime="openvino")
    assert Embedder(str(cls_pooled), runtime="auto").runtime == "torch"
    assert not list(cls_pooled.glob("openvino-*"))


def test_auto_dtype_follows_the_cpu_features(tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("flags\t\t: fpu sse2 avx2 avx512f\n")
    bf16 = tmp_path / "bf16"
    bf16.write_text("flags\t\t: fpu avx512f avx512_bf16 amx_bf16 amx_tile\n")
    assert cpu_bf16_features(plain) == []
    assert cpu_bf16_features(bf16) == ["amx_bf16", "avx512_bf16"]
    assert cpu_bf16_features(tmp_path / "missing") == []
    assert resolve_dtype("float32") == "float32" and resolve_dtype("bfloat16") == "bfloat16"
    assert resolve_dtype("auto") in ("float32", "bfloat16")


@pytest.mark.parametrize("which", ["embedder", "openvino_embedder"])
def test_questions_are_encoded_while_an_ingestion_batch_runs(which, request):
    embedder = request.getfixturevalue(which)
    passages = seed_paragraphs(32) * 2
    alone = Embedder.embed_passages(embedder, passages[:4])  # the model, not a remembered vector
    expected = Embedder.embed_queries(embedder, MIXED)
    embedder._cache.clear()
    with ThreadPoolExecutor(2) as pool:
        batch = pool.submit(Embedder.embed_passages, embedder, passages)
        time.sleep(0.2)
        asked = pool.submit(embedder.embed_queries, MIXED)
        during = asked.result()
        assert not batch.done()  # the question did not wait for the batch
        vectors = batch.result()
    np.testing.assert_allclose(during, expected, atol=1e-5)
    np.testing.assert_allclose(vectors[:4], alone, atol=1e-5)


def test_auto_runtime_is_torch_for_bf16_on_amx_only(monkeypatch):
    import index.embedding as embedding

    monkeypatch.setattr(embedding, "cpu_bf16_features", lambda: ["amx_bf16", "avx512_bf16"])
    assert embedding.resolve_runtime("auto", "bfloat16") == "torch"
    assert embedding.resolve_runtime("auto", "float32") == "openvino"
    monkeypatch.setattr(embedding, "cpu_bf16_features", lambda: ["avx512_bf16"])
    assert embedding.resolve_runtime("auto", "bfloat16") == "openvino"
    assert embedding.resolve_runtime("torch", "bfloat16") == "torch"
