"""The loaded parts of Sanad (settings, model, store, retriever), built once per process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

from assistant.answering import Answerer, ExtractiveAnswerer
from assistant.citations import Answer
from assistant.config import Settings
from assistant.conversation import ConversationStore, standalone_question
from assistant.feedback import FeedbackStore
from assistant.library import IngestOptions, Library
from assistant.retrieval import Retriever
from index.derived import load_language_prior
from index.embedding import BUILTIN, Embedder, resolve_model, shared_embedder
from index.filters import Filters
from index.language import detect_language
from index.models import DEFAULT_MODEL_NAME
from index.pipeline import IngestReport
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
        s = self.settings
        path = resolve_model(s.embed_model, s.model_dir)
        return shared_embedder(path, s.embed_batch_size, s.embed_dtype, s.embed_runtime)

    @property
    def model_name(self) -> str:
        """The model's identity as recorded in the collection."""
        name = self.settings.embed_model
        return DEFAULT_MODEL_NAME if name == BUILTIN else name

    @cached_property
    def store(self) -> Store:
        """The Chroma store (embedded in the data dir, or the server at SANAD_CHROMA_URL)."""
        client = open_client(self.settings.data_dir, self.settings.chroma_url)
        return Store(
            client,
            self.settings.collection,
            self.model_name,
            self.embedder.dim,
            self.embedder.dtype,
        )

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
            doc_blend=self.settings.doc_blend,
        )

    @cached_property
    def library(self) -> Library:
        """The write side: ingest, upload, delete and re-index, one write at a time."""
        settings = self.settings
        options = IngestOptions(
            chunk_tokens=settings.chunk_tokens,
            chunker=settings.chunker,
            max_bytes=int(settings.max_file_mb * 1024 * 1024),
            batch_chunks=settings.ingest_batch_chunks,
            fetch_timeout_s=settings.fetch_timeout_s,
        )
        return Library(self.store, self.embedder, settings.data_dir, options)

    def ingest(self, paths: list[Path], sync: bool = False, progress: bool = True) -> IngestReport:
        """Ingest files or folders with the configured chunk size and size limit."""
        return self.library.ingest_paths(paths, sync=sync, progress=progress)

    @cached_property
    def extractive(self) -> ExtractiveAnswerer:
        """The offline answerer (also the LLM's fallback)."""
        return ExtractiveAnswerer(self.retriever, min_score=self.settings.min_evidence)

    @cached_property
    def answerer(self) -> Answerer:
        """The answerer chosen by SANAD_ANSWER_MODE."""
        if self.settings.answer_mode == "llm":
            from assistant.llm import LLMAnswerer, build_llm

            return LLMAnswerer(build_llm(self.settings), fallback=self.extractive)
        return self.extractive

    @cached_property
    def conversations(self) -> ConversationStore:
        """Persisted conversations (sqlite in the data directory)."""
        return ConversationStore(self.settings.data_dir / "conversations.sqlite3")

    @cached_property
    def feedback(self) -> FeedbackStore:
        """Readers' verdicts on answers and citations (beside the conversations)."""
        return FeedbackStore(self.conversations)

    def answer_settings(self, filters: Filters | None) -> dict[str, Any]:
        """What produces an answer now: answer mode, models, retrieval settings and filters."""
        s = self.settings
        llm = s.llm_model or (Path(s.llm_gguf_path).name if s.llm_gguf_path else "")
        return {
            "answer_mode": s.answer_mode,
            "llm_model": llm if s.answer_mode == "llm" else None,
            "embed_model": self.model_name,
            "embed_dtype": self.embedder.dtype,
            "top_k": s.top_k,
            "candidates": s.candidates,
            "bm25_weight": s.bm25_weight,
            "lang_prior_chunks": s.lang_prior_chunks,
            "max_per_doc": s.max_per_doc,
            "doc_blend": s.doc_blend,
            "min_evidence": s.min_evidence,
            "chunk_tokens": s.chunk_tokens,
            "chunker": s.chunker,
            "filters": filters.describe() if filters else {},
        }

    def ask_stream(
        self,
        question: str,
        conversation_id: str | None = None,
        filters: Filters | None = None,
    ) -> Iterator[str | Answer]:
        """Answer a question in its conversation: text deltas, then the stored Answer."""
        question = validate_question(question, self.settings.max_question_chars)
        conversations = self.conversations
        if conversation_id is None or not conversations.exists(conversation_id):
            if conversation_id is not None:
                raise KeyError(f"unknown conversation {conversation_id}")
            conversation_id = conversations.create()
        history = conversations.turns(conversation_id)
        standalone = standalone_question(question, history)
        timings: dict[str, float] = {}
        passages = self.retriever.search(standalone, self.settings.top_k, filters, timings)
        language = detect_language(question)
        started = time.perf_counter()
        for item in self.answerer.stream(question, language, passages):
            if isinstance(item, Answer):
                item.timings_ms = {
                    **timings,
                    **item.timings_ms,
                    "answer_ms": (time.perf_counter() - started) * 1000,
                }
                item.conversation_id = conversation_id
                conversations.add_turn(
                    conversation_id, question, standalone, item, self.answer_settings(filters)
                )
            yield item

    def ask(
        self,
        question: str,
        conversation_id: str | None = None,
        filters: Filters | None = None,
    ) -> Answer:
        """Answer a question (see ask_stream) and return only the final Answer."""
        final = None
        for item in self.ask_stream(question, conversation_id, filters):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final


def validate_question(question: str, max_chars: int) -> str:
    """The question stripped, or ValueError when it is empty or too long."""
    question = (question or "").strip()
    if not question:
        raise ValueError("the question is empty")
    if len(question) > max_chars:
        raise ValueError(f"the question is longer than {max_chars} characters")
    return question
