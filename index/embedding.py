"""The sentence-transformers embedding model: passages and queries, normalised vectors."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from concurrent.futures import Future
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from index import openvino_encoder

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

BUILTIN = "builtin"
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}
BF16_FLAGS = ("amx_bf16", "avx512_bf16")  # CPU features (/proc/cpuinfo) that run bf16 natively


def resolve_model(embed_model: str, model_dir: Path) -> str:
    """Return a loadable model path or id; `builtin` materialises the bundled e5-small."""
    if embed_model == BUILTIN:
        from index.models import ensure_default_model

        return str(ensure_default_model(model_dir))
    return embed_model


def cpu_bf16_features(cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str]:
    """The bf16 features this CPU reports (empty when it has none or the file is unreadable)."""
    try:
        words = set(cpuinfo.read_text(encoding="ascii", errors="replace").split())
    except OSError:
        return []
    return [flag for flag in BF16_FLAGS if flag in words]


def resolve_dtype(setting: str) -> str:
    """The dtype to run the model in: `auto` is bfloat16 where the CPU and oneDNN support it."""
    if setting != "auto":
        return setting
    import torch

    native = bool(cpu_bf16_features()) and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    return "bfloat16" if native else "float32"


def resolve_runtime(setting: str, dtype: str) -> str:
    """What runs the model: `auto` is OpenVINO, except for bf16 on an AMX CPU (torch).

    On AMX, torch's bf16 weights run 3.3x fp32 against 1.9-2.9x for OpenVINO (DESIGN.md); on
    AVX512_BF16 without AMX, OpenVINO runs 2.2-2.4x and torch 1.5-1.75x (README).
    """
    if setting != "auto":
        return setting
    if dtype == "bfloat16" and "amx_bf16" in cpu_bf16_features():
        return "torch"
    return "openvino" if openvino_encoder.available() else "torch"


@lru_cache(maxsize=4)
def shared_embedder(model: str, batch_size: int, dtype: str, runtime: str) -> Embedder:
    """One loaded model per process and configuration: engines of one process share it."""
    return Embedder(model, batch_size=batch_size, dtype=dtype, runtime=runtime)


class Embedder:
    """One loaded model shared by ingestion and retrieval; safe to call from many threads."""

    def __init__(
        self,
        model: str,
        batch_size: int = 32,
        cache_size: int = 20_000,
        dtype: str = "float32",
        runtime: str = "torch",
    ) -> None:
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self.name = model
        self.batch_size = batch_size
        self.dtype = resolve_dtype(dtype)
        wanted = resolve_runtime(runtime, self.dtype) == "openvino"
        # OpenVINO converts from the fp32 weights and sets the precision itself.
        weights = "float32" if wanted else self.dtype
        self._model = SentenceTransformer(
            model, device="cpu", model_kwargs={"dtype": getattr(torch, weights)}
        )
        self._openvino: dict[bool, Any] = {}  # serving? -> its own compiled model
        if wanted and Path(model).is_dir() and openvino_encoder.convertible(self._model):
            ir = openvino_encoder.ensure_ir(self._model, Path(model))
            # Two compiled models: one compiled model runs its requests one after another, and
            # a question must not wait for an ingestion batch (measured: 10 s behind one).
            self._openvino = {
                serving: openvino_encoder.OpenVinoEncoder(
                    ir,
                    self._model.tokenizer,
                    self._model.max_seq_length,
                    self.dtype,
                    throughput=not serving,
                )
                for serving in (True, False)
            }
        elif runtime == "openvino":
            raise ValueError(
                f"OpenVINO cannot run {model}: needs the openvino package and a "
                "local mean-pooled, normalised sentence-transformers folder"
            )
        self.runtime = "openvino" if self._openvino else "torch"
        prompts = dict(self._model.prompts or {})
        if "query" not in prompts and "e5" in Path(model).name.lower():
            prompts = dict(E5_PROMPTS)
        self._prompts = prompts
        # One encode at a time per path: ingestion batches never hold up a question (the model
        # and its tokenizer are safe to run from two threads; measured in test_embedding.py).
        self._ingest_lock = threading.Lock()
        self._serving_lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._inflight: dict[tuple[str, str], Future] = {}
        self._cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self._model.get_embedding_dimension())

    def count_tokens(self, text: str) -> int:
        """Number of the model's own tokens in text (no special tokens, no truncation)."""
        return len(self._model.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _encode(
        self, texts: list[str], prompt: str, progress: bool, serving: bool = True
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._serving_lock if serving else self._ingest_lock:
            if self._openvino:
                encoder = self._openvino[serving]
                return _unit_rows(encoder.encode([prompt + t for t in texts], self.batch_size))
            vectors = self._model.encode(
                texts,
                prompt=prompt or None,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return _unit_rows(np.asarray(vectors, dtype=np.float32))

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Embed passages with the passage prompt; rows are L2-normalised."""
        return self._encode(texts, self._prompts.get("passage", ""), progress, serving=False)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions with the query prompt; rows are L2-normalised (cached)."""
        return self._cached(texts, "query")

    def embed_sentences(self, texts: list[str]) -> np.ndarray:
        """Embed short evidence sentences as passages, remembering recent ones."""
        return self._cached(texts, "passage")

    def _cached(self, texts: list[str], kind: str) -> np.ndarray:
        """Encode only texts neither cached nor being encoded by another thread; keep an LRU.

        Concurrent requests for the same text (many users asking the same question) wait
        for the one encoding instead of repeating it.
        """
        known: dict[str, np.ndarray] = {}
        waiting: dict[str, Future] = {}
        mine: dict[str, Future] = {}
        with self._cache_lock:
            for text in dict.fromkeys(texts):
                key = (kind, text)
                if key in self._cache:
                    known[text] = self._cache[key]
                    self._cache.move_to_end(key)
                elif key in self._inflight:
                    waiting[text] = self._inflight[key]
                else:
                    mine[text] = self._inflight[key] = Future()
        try:
            vectors = self._encode(list(mine), self._prompts.get(kind, ""), False)
        except BaseException as exc:
            self._settle(kind, mine, exc)
            raise
        known.update(zip(mine, vectors))
        self._settle(kind, mine, known)
        known.update({text: future.result() for text, future in waiting.items()})
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([known[t] for t in texts])

    def _settle(
        self, kind: str, mine: dict[str, Future], outcome: dict[str, np.ndarray] | BaseException
    ) -> None:
        """Publish this thread's encodings (or its failure) to the cache and to waiters."""
        with self._cache_lock:
            for text, future in mine.items():
                del self._inflight[(kind, text)]
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                    continue
                self._cache[(kind, text)] = outcome[text]
                future.set_result(outcome[text])
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows renormalised in fp32 (bf16 leaves norms of 1 +- 0.004, which moves rankings)."""
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
