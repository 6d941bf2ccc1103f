"""The sentence-transformers embedding model: passages and queries, normalised vectors."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

BUILTIN = "builtin"
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}


def resolve_model(embed_model: str, model_dir: Path) -> str:
    """Return a loadable model path or id; `builtin` materialises the bundled e5-small."""
    if embed_model == BUILTIN:
        from index.models import ensure_default_model

        return str(ensure_default_model(model_dir))
    return embed_model


class Embedder:
    """One loaded model shared by ingestion and retrieval; safe to call from many threads."""

    def __init__(self, model: str, batch_size: int = 32) -> None:
        from sentence_transformers import SentenceTransformer

        self.name = model
        self.batch_size = batch_size
        self._model = SentenceTransformer(model, device="cpu")
        prompts = dict(self._model.prompts or {})
        if "query" not in prompts and "e5" in Path(model).name.lower():
            prompts = dict(E5_PROMPTS)
        self._prompts = prompts
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self._model.get_embedding_dimension())

    def tokenizer_max_length(self) -> int:
        """Longest input in model tokens; longer text is truncated by the model."""
        return int(self._model.max_seq_length)

    def _encode(self, texts: list[str], prompt: str, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                texts,
                prompt=prompt or None,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Embed passages with the passage prompt; rows are L2-normalised."""
        return self._encode(texts, self._prompts.get("passage", ""), progress)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions with the query prompt; rows are L2-normalised."""
        return self._encode(texts, self._prompts.get("query", ""), False)
