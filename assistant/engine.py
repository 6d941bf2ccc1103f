"""The loaded parts of Sanad (settings, model, store, retriever), built once per process."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from assistant.config import Settings
from assistant.retrieval import Retriever
from index.derived import load_language_prior
from index.embedding import BUILTIN, Embedder, resolve_model
from index.models import DEFAULT_MODEL_NAME
from index.pipeline import IngestReport, ingest
from index.store import Store, open_client


class Engine:
    """Lazily loads the embedding model and opens the store named by the settings."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        if embedder is not None:
            self.embedder = embedder  # share one loaded model (tests, benchmarks)

    @cached_property
    def embedder(self) -> Embedder:
        """The embedding model (converted from the bundled weights on first use)."""
        path = resolve_model(self.settings.embed_model, self.settings.model_dir)
        return Embedder(path, batch_size=self.settings.embed_batch_size)

    @property
    def model_name(self) -> str:
        """The model's identity as recorded in the collection."""
        name = self.settings.embed_model
        return DEFAULT_MODEL_NAME if name == BUILTIN else name

    @cached_property
    def store(self) -> Store:
        """The Chroma store (embedded in the data dir, or the server at SANAD_CHROMA_URL)."""
        client = open_client(self.settings.data_dir, self.settings.chroma_url)
        return Store(client, self.settings.collection, self.model_name, self.embedder.dim)

    @cached_property
    def retriever(self) -> Retriever:
        """Hybrid, language-fair retrieval over the store."""
        return Retriever(
            self.store,
            self.embedder,
            candidates=self.settings.candidates,
            bm25_weight=self.settings.bm25_weight,
            language_prior=load_language_prior(self.model_name),
            prior_chunks=self.settings.lang_prior_chunks,
            max_per_doc=self.settings.max_per_doc,
        )

    def ingest(self, paths: list[Path], sync: bool = False, progress: bool = True) -> IngestReport:
        """Ingest files or folders with the configured chunk size and size limit."""
        for path in paths:
            if not Path(path).exists():
                raise FileNotFoundError(f"no such file or directory: {path}")
        return ingest(
            paths,
            self.store,
            self.embedder,
            chunk_tokens=self.settings.chunk_tokens,
            max_bytes=int(self.settings.max_file_mb * 1024 * 1024),
            sync=sync,
            progress=progress,
        )
