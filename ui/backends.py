"""What the CLI's corpus commands run against: this process's engine, or the server that owns
the data directory (index/owner.py), reached over its HTTP API with the local key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from assistant.citations import Answer, CitationContext, CitationNotFound
from assistant.engine import Engine, StoreUnavailable
from assistant.retrieval import ScoredChunk
from index.filters import Filters
from index.owner import ServerAddress
from index.pipeline import IngestReport
from index.provenance import DEFAULT_COLLECTION, Pages, Provenance
from index.store import ChunkRecord


@dataclass(frozen=True)
class IngestJob:
    """What `sanad ingest` was asked to read, and into which collection."""

    paths: Sequence[Path]
    urls: Sequence[str]
    feeds: Sequence[str]
    sync: bool = False
    collection: str = DEFAULT_COLLECTION


class Backend(Protocol):
    """The corpus operations of the CLI."""

    def search(self, question: str, k: int, filters: Filters) -> list[ScoredChunk]:
        """The best passages for a question."""
        ...

    def ask(self, question: str, conversation_id: str | None, filters: Filters) -> Answer:
        """A cited answer (a new conversation when none is given)."""
        ...

    def cite(self, citation_id: str) -> CitationContext:
        """A citation with its context; CitationNotFound when it does not resolve."""
        ...

    def ingest(self, job: IngestJob) -> IngestReport:
        """Ingest files and folders, web pages and feeds into a collection."""
        ...


class LocalBackend:
    """The corpus opened in this process."""

    def __init__(self, engine: Engine, progress: bool = True) -> None:
        self.engine = engine
        self.progress = progress

    def search(self, question: str, k: int, filters: Filters) -> list[ScoredChunk]:
        """The engine's search."""
        return self.engine.search(question, k, filters)

    def ask(self, question: str, conversation_id: str | None, filters: Filters) -> Answer:
        """The engine's answer."""
        return self.engine.ask(question, conversation_id, filters)

    def cite(self, citation_id: str) -> CitationContext:
        """The citation looked up in the store."""
        return self.engine.citation(citation_id)

    def ingest(self, job: IngestJob) -> IngestReport:
        """The library's ingestion, with progress bars (into an existing collection)."""
        self.engine.accounts.check_collection(job.collection)
        return self.engine.library.ingest_sources(
            job.paths, job.urls, job.feeds, job.sync, self.progress, collection=job.collection
        )


class RemoteBackend:
    """The running server that owns the data directory (its API, with the local key)."""

    def __init__(self, address: ServerAddress, timeout: float = 3600.0) -> None:
        self.address = address
        self.client = httpx.Client(
            base_url=address.url,
            headers={"Authorization": f"Bearer {address.key}"},
            timeout=timeout,
            trust_env=False,  # loopback: never through a proxy
        )

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The JSON answer; the server's error message as the matching exception."""
        try:
            response = self.client.request(method, path, json=body)
        except httpx.TransportError as exc:
            raise StoreUnavailable(f"the server at {self.address.url} did not answer") from exc
        if response.status_code < 400:
            return response.json()
        message = response.json().get("error", {}).get("message", response.text)
        if response.status_code == 404:
            raise CitationNotFound(message)
        if response.status_code in (422, 409):
            raise ValueError(message)
        raise StoreUnavailable(f"the server at {self.address.url} answered: {message}")

    def search(self, question: str, k: int, filters: Filters) -> list[ScoredChunk]:
        """POST /api/search, as the engine's results."""
        found = self._call(
            "POST", "/api/search", {"question": question, "k": k, **filters.describe()}
        )
        return [_scored(p) for p in found["passages"]]

    def ask(self, question: str, conversation_id: str | None, filters: Filters) -> Answer:
        """POST /api/ask."""
        body = {"question": question, "conversation_id": conversation_id, **filters.describe()}
        return Answer.model_validate(self._call("POST", "/api/ask", body))

    def cite(self, citation_id: str) -> CitationContext:
        """GET /api/citations/{id}."""
        return CitationContext.model_validate(self._call("GET", f"/api/citations/{citation_id}"))

    def ingest(self, job: IngestJob) -> IngestReport:
        """POST /api/ingest with absolute paths (the server's working folder is not ours)."""
        body = {
            "collection": job.collection,
            "paths": [str(Path(p).resolve()) for p in job.paths],
            "urls": list(job.urls),
            "feeds": [f if "://" in f else str(Path(f).resolve()) for f in job.feeds],
            "sync": job.sync,
        }
        found = self._call("POST", "/api/ingest", body)
        found.pop("summary", None)
        found["skipped"] = [tuple(pair) for pair in found["skipped"]]
        return IngestReport(**found)


def _scored(passage: dict[str, Any]) -> ScoredChunk:
    """An API passage as the search result the CLI prints."""
    start, end = int(passage["start"]), int(passage["end"])
    page = passage.get("page")
    origin = Provenance(
        title=passage["title"],
        source=passage["source"],
        lang=passage["lang"],
        published=passage.get("published"),
        site=passage.get("site"),
        url=passage.get("url"),
        pages=Pages(int(page), (start,)) if page is not None else Pages(),
    )
    chunk_id = str(passage["chunk_id"])
    n = int(chunk_id.rsplit(":", 1)[1])
    chunk = ChunkRecord(chunk_id, passage["doc_id"], n, passage["text"], start, end, origin)
    score = float(passage["score"])
    return ScoredChunk(chunk, score, score, 0.0, 0.0)
