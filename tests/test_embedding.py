"""The shared embedder under concurrency: one encoding per text, same vectors for everyone."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from index.embedding import Embedder


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
