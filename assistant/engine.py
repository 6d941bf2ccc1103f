"""The loaded parts of Sanad (settings, model, store, retriever), built once per process."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from assistant.access import OWNER, Access, Forbidden
from assistant.accounts import Accounts
from assistant.answering import Answerer, ExtractiveAnswerer
from assistant.citations import Answer, CitationContext, lookup
from assistant.config import Settings
from assistant.conversation import (
    ConversationNotFound,
    ConversationStore,
    standalone_of,
    standalone_question,
)
from assistant.feedback import FeedbackStore
from assistant.query import Query
from assistant.retrieval import Retriever, ScoredChunk
from index.derived import load_language_prior
from index.embedding import BUILTIN, Embedder, resolve_model, shared_embedder
from index.filters import Filters
from index.library import DocumentNotFound, IngestOptions, Library
from index.models import DEFAULT_MODEL_NAME
from index.pipeline import IngestReport
from index.store import (
    DocRecord,
    Store,
    StoreError,
    check_data_dir,
    is_store_failure,
    mark_data_dir,
    open_client,
)

log = logging.getLogger("sanad.engine")
T = TypeVar("T")


class StoreUnavailable(RuntimeError):
    """The vector store cannot be used now; the engine reconnects on its next use."""


class Engine:
    """Lazily loads the embedding model and opens the store named by the settings."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._store_failed = False
        self.search_failure: str | None = None  # why the last search or ask failed, if it did
        self._reconnecting = threading.Lock()
        if embedder is not None:
            self.embedder = embedder  # share one loaded model (tests, benchmarks)

    @cached_property
    def embedder(self) -> Embedder:
        """The embedding model (converted from the bundled weights on first use)."""
        s = self.settings
        path = resolve_model(s.embed_model, s.model_dir)
        return shared_embedder(path, s.embed_batch_size, s.embed_dtype, s.embed_runtime)

    @property
    def model_loaded(self) -> bool:
        """Whether this process has loaded the embedding model yet."""
        return "embedder" in self.__dict__

    @property
    def built_retriever(self) -> Retriever | None:
        """The retriever if this process has built it (asking never builds it)."""
        return self.__dict__.get("retriever")

    @property
    def store_location(self) -> str:
        """Where Chroma lives, for messages."""
        return self.settings.chroma_url or str(Path(self.settings.data_dir) / "chroma")

    def store_unavailable(self, exc: BaseException) -> StoreUnavailable:
        """Note a store failure (the next use reconnects first) and the error to raise."""
        self._store_failed = True
        log.warning(
            "vector store unavailable at %s: %s: %s", self.store_location, type(exc).__name__, exc
        )
        where = self.settings.chroma_url or "in the data directory"  # no server path to clients
        return StoreUnavailable(f"the vector store (Chroma {where}) is unreachable; retry shortly")

    def _recover(self) -> None:
        """After a store failure, fetch the collections again before the next use."""
        if not self._store_failed:
            return
        with self._reconnecting:
            if self._store_failed and "store" in self.__dict__:
                self.store.reconnect()
            self._store_failed = False

    @contextmanager
    def _store_failures(self) -> Iterator[None]:
        """Inside: a Chroma failure becomes StoreUnavailable (the next use reconnects)."""
        try:
            yield
        except (StoreUnavailable, StoreError):
            raise  # StoreError: the store cannot be used as configured; its message says why
        except Exception as exc:
            if is_store_failure(exc):
                raise self.store_unavailable(exc) from exc
            raise

    def use_store(self, work: Callable[[], T]) -> T:
        """Run store work; a Chroma failure becomes StoreUnavailable and is recovered from."""
        with self._store_failures():
            self._recover()
            return work()

    def _retrieve(self, work: Callable[[], T]) -> T:
        """Store work of a search or ask; its outcome is what /healthz reports."""
        try:
            result = self.use_store(work)
        except StoreUnavailable as exc:
            self.search_failure = str(exc)
            raise
        self.search_failure = None
        return result

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
            fetch_allow=settings.fetch_allowed,
        )
        return Library(self.store, self.embedder, settings.data_dir, options)

    def ingest(
        self,
        paths: list[Path],
        sync: bool = False,
        progress: bool = True,
        within: list[Path] | None = None,
    ) -> IngestReport:
        """Ingest files or folders with the configured chunk size and size limit (`within`:
        the folders the files must resolve into)."""
        return self.library.ingest_paths(paths, sync=sync, progress=progress, within=within)

    @cached_property
    def extractive(self) -> ExtractiveAnswerer:
        """The offline answerer (also the LLM's fallback)."""
        return ExtractiveAnswerer(self.embedder, min_score=self.settings.min_evidence)

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

    @cached_property
    def accounts(self) -> Accounts:
        """Users, keys, collections and grants (sqlite in the data directory)."""
        check_data_dir(self.settings.data_dir)  # never in another program's folder
        mark_data_dir(self.settings.data_dir)
        return Accounts(self.settings.data_dir / "accounts.sqlite3", self.settings.session_hours)

    # --- what a caller may see --------------------------------------------------------
    def conversations_of(self, access: Access) -> ConversationStore:
        """The caller's own conversations."""
        return self.conversations.scoped(access.user or "")

    def feedback_of(self, access: Access) -> FeedbackStore:
        """Feedback on the caller's own conversations."""
        return self.feedback.scoped(access.user or "")

    def documents(self, access: Access = OWNER) -> list[DocRecord]:
        """The documents the caller may read, by source."""
        docs = self.store.documents_by_source()
        return [d for d in docs if access.can_read(d.origin.collection)]

    def document(self, doc_id: str, access: Access = OWNER) -> tuple[DocRecord, str] | None:
        """A document the caller may read and its text (None: unknown or not theirs)."""
        found = self.store.document(doc_id)
        if found is None or not access.can_read(found[0].origin.collection):
            return None
        return found

    def citation(self, citation_id: str, access: Access = OWNER) -> CitationContext:
        """A citation of a document the caller may read (CitationNotFound otherwise)."""
        return lookup(ReadableStore(self, access), citation_id)

    def writable(self, doc_id: str, access: Access) -> DocRecord:
        """A document the caller may change: DocumentNotFound when they cannot read it,
        Forbidden when they can read but not write its collection."""
        found = self.store.documents([doc_id])
        if not found or not access.can_read(found[0].origin.collection):
            raise DocumentNotFound(f"no document {doc_id} in the index")
        if not access.can_write(found[0].origin.collection):
            raise Forbidden(f"no write access to collection {found[0].origin.collection}")
        return found[0]

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

    def search(
        self, question: str, k: int, filters: Filters | None = None, access: Access = OWNER
    ) -> list[ScoredChunk]:
        """The best passages the caller may read; ValueError for a bad question,
        StoreUnavailable."""
        question = validate_question(question, self.settings.max_question_chars)
        filters = access.restrict(filters)
        return self._retrieve(lambda: self.retriever.search(question, k, filters))

    def ask_stream(
        self,
        question: str,
        conversation_id: str | None = None,
        filters: Filters | None = None,
        previous: Sequence[str] = (),
        access: Access = OWNER,
    ) -> Iterator[str | Answer]:
        """Answer a question in the caller's conversation, from passages they may read: text
        deltas, then the stored Answer.

        previous: the questions asked before this one when the client keeps the conversation
        (OpenAI-style messages) instead of a stored conversation id.
        Raises ValueError (bad question) and ConversationNotFound at once, before anything
        is streamed; StoreUnavailable while streaming.
        """
        question = validate_question(question, self.settings.max_question_chars)
        conversations = self.conversations_of(access)
        if conversation_id is not None and not conversations.exists(conversation_id):
            raise ConversationNotFound(f"unknown conversation {conversation_id}")
        filters = access.restrict(filters)
        return self._answer(question, conversation_id, filters, previous, conversations)

    def _answer(
        self,
        question: str,
        conversation_id: str | None,
        filters: Filters,
        previous: Sequence[str],
        conversations: ConversationStore,
    ) -> Iterator[str | Answer]:
        """The answer stream of a validated question (see ask_stream)."""
        history = conversations.turns(conversation_id) if conversation_id else []
        before = history[-1].standalone if history else standalone_of(previous)
        standalone = standalone_question(question, before)
        timings: dict[str, float] = {}

        def retrieve() -> tuple[Query, list[ScoredChunk]]:
            query = self.retriever.query(question, standalone, timings=timings)
            return query, self.retriever.search(query, self.settings.top_k, filters, timings)

        query, passages = self._retrieve(retrieve)
        if conversation_id is None:
            conversation_id = conversations.create()
        started = time.perf_counter()
        related = self.retriever.related(query, filters)
        with self._store_failures():  # the answerer reads the derived index, hence the store
            for item in self.answerer.stream(query, passages, related):
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
        access: Access = OWNER,
    ) -> Answer:
        """Answer a question (see ask_stream) and return only the final Answer."""
        final = None
        for item in self.ask_stream(question, conversation_id, filters, access=access):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final


class ReadableStore:
    """The store's documents that the caller may read (the others do not exist here)."""

    def __init__(self, engine: Engine, access: Access) -> None:
        self._engine = engine
        self._access = access

    def documents(self, ids: Sequence[str] | None = None) -> list[DocRecord]:
        """The readable documents (of `ids`, when given)."""
        docs = self._engine.store.documents(ids)
        return [d for d in docs if self._access.can_read(d.origin.collection)]

    def document(self, doc_id: str) -> tuple[DocRecord, str] | None:
        """A readable document and its text (None: unknown or not the caller's)."""
        return self._engine.document(doc_id, self._access)


def validate_question(question: str, max_chars: int) -> str:
    """The question stripped, or ValueError when it is empty or too long."""
    question = (question or "").strip()
    if not question:
        raise ValueError("the question is empty")
    if len(question) > max_chars:
        raise ValueError(f"the question is longer than {max_chars} characters")
    return question
