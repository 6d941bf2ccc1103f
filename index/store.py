"""Chroma storage: one collection of chunks, one of documents (the commit record of ingestion)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from index.provenance import Provenance

SCHEMA = 1
MARKER = ".sanad-data"
OWNER_FILES = ("owner.lock", "server.json", "write.lock")  # index/owner.py
_PAGE = 2000
LOG_KEEP = 20_000  # change-log generations kept; a reader further behind rebuilds in full
_LOG_VECTOR = [1.0]  # Chroma stores a vector with every record; the log needs none


class StoreError(RuntimeError):
    """The store cannot be used: unreachable server, foreign or damaged data, model mismatch."""


@dataclass(frozen=True)
class ChunkRecord:
    """One stored chunk: its span of the document, and the provenance needed to cite it."""

    id: str
    doc_id: str
    n: int
    text: str
    start: int
    end: int
    origin: Provenance  # its pages are the chunk's own: the page it starts on, breaks inside

    def page_at(self, offset: int) -> int | None:
        """The page of a document offset inside this chunk (None for formats without pages)."""
        return self.origin.pages.at(offset)

    def metadata(self, chunk_tokens: int) -> dict[str, Any]:
        """Chroma metadata (no None values)."""
        place = {"doc_id": self.doc_id, "n": self.n, "start": self.start, "end": self.end}
        return {**self.origin.to_meta(), **place, "chunk_tokens": chunk_tokens}

    @classmethod
    def from_chroma(cls, cid: str, text: str, meta: dict[str, Any]) -> ChunkRecord:
        """Build from Chroma's id, document and metadata."""
        return cls(
            id=cid,
            doc_id=str(meta["doc_id"]),
            n=int(meta["n"]),
            text=text,
            start=int(meta["start"]),
            end=int(meta["end"]),
            origin=Provenance.from_meta(meta),
        )


@dataclass(frozen=True)
class DocRecord:
    """A fully ingested document: written after all its chunks, so it marks completion."""

    doc_id: str
    origin: Provenance
    n_chunks: int
    chunk_tokens: int
    chunker: str = "cl100k"  # whose tokens bound the chunks: "cl100k" or "model"
    embed_dtype: str = "float32"  # the model's number format when it embedded the chunks
    location: str | None = None  # what re-indexing reads: an absolute path or a URL

    def page_at(self, offset: int) -> int | None:
        """The page a text offset lies on (None for formats without pages)."""
        return self.origin.pages.at(offset)

    def metadata(self) -> dict[str, Any]:
        """Chroma metadata (no None values)."""
        meta: dict[str, Any] = {
            **self.origin.to_meta(),
            "n_chunks": self.n_chunks,
            "chunk_tokens": self.chunk_tokens,
            "chunker": self.chunker,
            "embed_dtype": self.embed_dtype,
        }
        if self.location:
            meta["location"] = self.location
        return meta

    @classmethod
    def from_chroma(cls, doc_id: str, meta: dict[str, Any]) -> DocRecord:
        """Build from Chroma's id and metadata."""
        return cls(
            doc_id=doc_id,
            origin=Provenance.from_meta(meta),
            n_chunks=int(meta.get("n_chunks", 0)),
            chunk_tokens=int(meta.get("chunk_tokens", 0)),
            chunker=str(meta.get("chunker", "cl100k")),
            embed_dtype=str(meta.get("embed_dtype", "float32")),
            location=meta.get("location") or None,
        )


@dataclass(frozen=True)
class Change:
    """One entry of the change log: a document became visible ("add") or went away ("remove")."""

    generation: int
    op: str
    doc_id: str


def is_store_failure(exc: BaseException) -> bool:
    """Whether an exception means Chroma is unreachable or unusable (rather than a bug)."""
    import httpx
    from chromadb.errors import ChromaError

    return isinstance(
        exc, StoreError | ChromaError | httpx.TransportError | ConnectionError | TimeoutError
    )


def open_client(data_dir: Path, chroma_url: str = "") -> Any:
    """Connect to a Chroma server (`chroma_url`) or open the embedded store in `data_dir`."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise StoreError(f"SANAD_CHROMA_URL must be http://host:port, got {chroma_url!r}")
        try:
            return chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:
            raise StoreError(f"Chroma server at {chroma_url} is unreachable: {exc}") from exc
    check_data_dir(data_dir)
    try:
        client = chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=chroma_settings)
    except Exception as exc:
        raise StoreError(f"cannot open the Chroma data in {data_dir / 'chroma'}: {exc}") from exc
    mark_data_dir(data_dir)
    return client


def mark_data_dir(data_dir: Path) -> None:
    """Mark a checked data directory as Sanad's (check_data_dir accepts it from now on)."""
    (data_dir / MARKER).write_text(f"sanad data directory, schema {SCHEMA}\n", encoding="utf-8")


def check_data_dir(data_dir: Path) -> None:
    """Refuse a data directory that holds something other than Sanad's data."""
    if data_dir.exists() and not data_dir.is_dir():
        raise StoreError(f"data directory {data_dir} is a file, not a directory")
    foreign = data_dir.is_dir() and any(p.name not in OWNER_FILES for p in data_dir.iterdir())
    if foreign and not (data_dir / MARKER).exists():
        raise StoreError(
            f"{data_dir} is not empty and is not a Sanad data directory (no {MARKER}); "
            "refusing to write into it. Choose another SANAD_DATA_DIR."
        )
    data_dir.mkdir(parents=True, exist_ok=True)


class Store:
    """Chunk and document collections of one corpus, with a change log for derived indexes.

    Every write ends with `publish`: it appends what changed to the log collection under the
    next generation, then records that generation (and the committed document count) on the
    documents collection. Readers follow the log from the generation they hold.
    """

    def __init__(
        self, client: Any, name: str, embed_model: str, dim: int, embed_dtype: str = "float32"
    ) -> None:
        self.client = client
        self.name = name
        self.embed_dtype = embed_dtype
        identity = {"sanad_schema": SCHEMA, "embed_model": embed_model, "dim": dim}
        try:
            self.chunks = client.get_or_create_collection(
                name,
                configuration={"hnsw": {"space": "cosine"}},
                metadata=identity,
                embedding_function=None,
            )
            self.docs = client.get_or_create_collection(
                f"{name}-docs",
                configuration={"hnsw": {"space": "cosine"}},
                metadata={**identity, "generation": 0},
                embedding_function=None,
            )
            self.log = client.get_or_create_collection(
                f"{name}-log", metadata={"sanad_schema": SCHEMA}, embedding_function=None
            )
        except Exception as exc:
            raise StoreError(f"cannot open Chroma collection {name!r}: {exc}") from exc
        self._check_identity(identity)

    def reconnect(self) -> None:
        """Fetch the collections again: after an outage, Chroma may have been recreated."""
        self.chunks = self.client.get_collection(self.name, embedding_function=None)
        self.docs = self.client.get_collection(f"{self.name}-docs", embedding_function=None)
        self.log = self.client.get_collection(f"{self.name}-log", embedding_function=None)

    def _check_identity(self, identity: dict[str, Any]) -> None:
        meta = dict(self.chunks.metadata or {})
        if meta.get("sanad_schema") != SCHEMA:
            raise StoreError(f"collection {self.name!r} was not written by Sanad (schema {SCHEMA})")
        if meta.get("embed_model") != identity["embed_model"] or meta.get("dim") != identity["dim"]:
            raise StoreError(
                f"collection {self.name!r} was embedded with {meta.get('embed_model')!r} "
                f"(dim {meta.get('dim')}), not {identity['embed_model']!r}; "
                "use another SANAD_COLLECTION or the same model"
            )

    def dtypes(self) -> list[str]:
        """The number formats that embedded this collection's vectors (a switch shows here)."""
        recorded = str((self.chunks.metadata or {}).get("embed_dtypes", ""))
        return [d for d in recorded.split(",") if d]

    # --- write side -------------------------------------------------------------------
    def put_chunks(
        self, records: Sequence[ChunkRecord], embeddings: np.ndarray, chunk_tokens: int
    ) -> None:
        """Upsert chunks with their vectors (idempotent: ids are deterministic)."""
        if records and self.embed_dtype not in self.dtypes():
            meta = dict(self.chunks.metadata or {})
            meta["embed_dtypes"] = ",".join(sorted({*self.dtypes(), self.embed_dtype}))
            self.chunks.modify(metadata=meta)
        step = max(1, min(_PAGE, self.client.get_max_batch_size()))
        for i in range(0, len(records), step):
            part = records[i : i + step]
            self.chunks.upsert(
                ids=[r.id for r in part],
                embeddings=embeddings[i : i + step],
                documents=[r.text for r in part],
                metadatas=[r.metadata(chunk_tokens) for r in part],
            )

    def commit_documents(
        self, docs: Sequence[DocRecord], texts: Sequence[str], embeddings: np.ndarray
    ) -> None:
        """Record documents as complete (one write); their chunks must already be stored."""
        self.docs.upsert(
            ids=[d.doc_id for d in docs],
            embeddings=embeddings,
            documents=list(texts),
            metadatas=[d.metadata() for d in docs],
        )

    def delete_document(self, doc_id: str) -> None:
        """Remove a document's record first (so it reads as incomplete), then its chunks."""
        self.docs.delete(ids=[doc_id])
        self.chunks.delete(where={"doc_id": doc_id})

    def publish(self, added: Sequence[str] = (), removed: Sequence[str] = ()) -> int:
        """Log committed and deleted documents under the next generation, then announce it.

        The log entries are written before the generation that names them, so a reader that
        sees generation g finds every entry up to g. Returns the new generation.
        """
        if not added and not removed:
            return self.head()[0]
        generation = self.head()[0] + 1
        entries = [("remove", d) for d in dict.fromkeys(removed)]
        entries += [("add", d) for d in dict.fromkeys(added)]
        for i in range(0, len(entries), _PAGE):
            part = entries[i : i + _PAGE]
            self.log.upsert(
                ids=[f"{generation}:{op}:{doc_id}" for op, doc_id in part],
                embeddings=[_LOG_VECTOR] * len(part),
                metadatas=[{"generation": generation, "op": op, "doc_id": d} for op, d in part],
            )
        self._update_head(
            generation=generation, documents=self.docs.count(), chunks=self.chunks.count()
        )
        if generation % 1000 == 0:  # keep the log bounded
            self.log.delete(where={"generation": {"$lte": generation - LOG_KEEP}})
        return generation

    # --- read side --------------------------------------------------------------------
    def head(self) -> tuple[int, int]:
        """The latest published generation and the committed document count it recorded."""
        self.docs = self.client.get_collection(f"{self.name}-docs", embedding_function=None)
        meta = dict(self.docs.metadata or {})
        return int(meta.get("generation", 0)), int(meta.get("documents", -1))

    def begin_write(self) -> None:
        """Mark the store as being written: if the writer dies, the next run repairs it."""
        self._update_head(writing=True)

    def end_write(self) -> None:
        """Record a completed write with the counts it left."""
        self._update_head(writing=False, documents=self.docs.count(), chunks=self.chunks.count())

    def settled(self) -> bool:
        """Whether the last write completed and the counts are still the ones it left.

        An interrupted write leaves the writing mark; chunks or records changed by anything
        else show in the counts. Unknown counts (older data) are unsettled.
        """
        meta = dict(self.docs.metadata or {})
        recorded = (meta.get("documents", -1), meta.get("chunks", -1))
        return not meta.get("writing", True) and recorded == (
            self.docs.count(),
            self.chunks.count(),
        )

    def _update_head(self, **values: Any) -> None:
        """Change fields of the documents collection's metadata (read fresh, then written)."""
        self.head()  # the latest metadata, so that nothing newer is overwritten
        meta = dict(self.docs.metadata or {})
        meta.update(values)
        self.docs.modify(metadata=meta)

    def changes(self, after: int, upto: int) -> list[Change] | None:
        """Log entries of generations after..upto in order; None when some generation is gone."""
        if upto <= after:
            return []
        got = self.log.get(
            where={"$and": [{"generation": {"$gt": after}}, {"generation": {"$lte": upto}}]},
            include=["metadatas"],
        )
        entries = [
            Change(int(m["generation"]), str(m["op"]), str(m["doc_id"])) for m in got["metadatas"]
        ]
        if {e.generation for e in entries} != set(range(after + 1, upto + 1)):
            return None
        return sorted(entries, key=lambda e: (e.generation, e.op != "remove"))

    def generation(self) -> tuple[int, int, int]:
        """A cheap fingerprint of the corpus state: generation counter and both counts."""
        generation = self.head()[0]
        return generation, self.docs.count(), self.chunks.count()

    def documents(self, ids: Sequence[str] | None = None) -> list[DocRecord]:
        """All committed documents, or those of `ids` that are committed (metadata only)."""
        pages: list[dict[str, Any]] = []
        if ids is None:
            for offset in range(0, self.docs.count(), _PAGE):
                pages.append(self.docs.get(include=["metadatas"], limit=_PAGE, offset=offset))
        else:
            ids = list(ids)
            for i in range(0, len(ids), _PAGE):
                pages.append(self.docs.get(ids=ids[i : i + _PAGE], include=["metadatas"]))
        return [
            DocRecord.from_chroma(i, m)
            for got in pages
            for i, m in zip(got["ids"], got["metadatas"])
        ]

    def documents_by_source(self) -> list[DocRecord]:
        """All committed documents, ordered by source (then id): how lists show them."""
        return sorted(self.documents(), key=lambda d: (d.origin.source, d.doc_id))

    def document(self, doc_id: str) -> tuple[DocRecord, str] | None:
        """A committed document and its full text, or None."""
        got = self.docs.get(ids=[doc_id], include=["metadatas", "documents"])
        if not got["ids"]:
            return None
        return DocRecord.from_chroma(doc_id, got["metadatas"][0]), got["documents"][0]

    def chunk_doc_ids(self) -> dict[str, int]:
        """How many chunks each doc_id has in the chunk collection (committed or not)."""
        counts: dict[str, int] = {}
        for _, metas, _ in self.iter_chunks(include_embeddings=False, fields=["metadatas"]):
            for meta in metas:
                counts[meta["doc_id"]] = counts.get(meta["doc_id"], 0) + 1
        return counts

    def delete_chunks_of(self, doc_ids: Sequence[str]) -> None:
        """Remove every chunk of the given documents."""
        for doc_id in doc_ids:
            self.chunks.delete(where={"doc_id": doc_id})

    def iter_chunks(
        self, include_embeddings: bool = True, fields: list[str] | None = None
    ) -> Iterator[tuple[list[str], list[dict[str, Any]], dict[str, Any]]]:
        """Page through all chunks: (ids, metadatas, the rest of Chroma's answer)."""
        include = list(fields or ["metadatas", "documents"])
        if include_embeddings:
            include.append("embeddings")
        total = self.chunks.count()
        for offset in range(0, total, _PAGE):
            got = self.chunks.get(include=include, limit=_PAGE, offset=offset)
            yield got["ids"], got["metadatas"], got

    def chunks_of(self, doc_ids: Sequence[str]) -> Iterator[dict[str, Any]]:
        """Every chunk of the given documents with its text, metadata and vector, by page."""
        doc_ids = list(doc_ids)
        for i in range(0, len(doc_ids), 200):
            part = doc_ids[i : i + 200]
            where = {"doc_id": part[0]} if len(part) == 1 else {"doc_id": {"$in": part}}
            yield self.chunks.get(where=where, include=["metadatas", "documents", "embeddings"])

    def chunks_by_id(self, ids: Sequence[str]) -> list[ChunkRecord]:
        """Stored chunks for the given ids (missing ids are left out)."""
        if not ids:
            return []
        got = self.chunks.get(ids=list(ids), include=["documents", "metadatas"])
        return [
            ChunkRecord.from_chroma(i, t, m)
            for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])
        ]
