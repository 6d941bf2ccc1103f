"""Chroma storage: one collection of chunks, one of documents (the commit record of ingestion)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

SCHEMA = 1
MARKER = ".sanad-data"
_PAGE = 2000


class StoreError(RuntimeError):
    """The store cannot be used: unreachable server, foreign or damaged data, model mismatch."""


@dataclass(frozen=True)
class ChunkRecord:
    """One stored chunk with the metadata needed to cite it."""

    id: str
    doc_id: str
    n: int
    text: str
    lang: str
    title: str
    source: str
    start: int
    end: int
    published: str | None = None

    @classmethod
    def from_chroma(cls, cid: str, text: str, meta: dict[str, Any]) -> ChunkRecord:
        """Build from Chroma's id, document and metadata."""
        return cls(
            id=cid,
            doc_id=str(meta["doc_id"]),
            n=int(meta["n"]),
            text=text,
            lang=str(meta.get("lang", "other")),
            title=str(meta.get("title", "")),
            source=str(meta.get("source", "")),
            start=int(meta["start"]),
            end=int(meta["end"]),
            published=meta.get("published") or None,
        )


@dataclass(frozen=True)
class DocRecord:
    """A fully ingested document: written after all its chunks, so it marks completion."""

    doc_id: str
    title: str
    lang: str
    source: str
    published: str | None
    n_chunks: int
    chunk_tokens: int
    chunker: str = "cl100k"  # whose tokens bound the chunks: "cl100k" or "model"

    def metadata(self) -> dict[str, Any]:
        """Chroma metadata (no None values)."""
        meta = {
            "title": self.title,
            "lang": self.lang,
            "source": self.source,
            "n_chunks": self.n_chunks,
            "chunk_tokens": self.chunk_tokens,
            "chunker": self.chunker,
        }
        if self.published:
            meta["published"] = self.published
        return meta

    @classmethod
    def from_chroma(cls, doc_id: str, meta: dict[str, Any]) -> DocRecord:
        """Build from Chroma's id and metadata."""
        return cls(
            doc_id=doc_id,
            title=str(meta.get("title", "")),
            lang=str(meta.get("lang", "other")),
            source=str(meta.get("source", "")),
            published=meta.get("published") or None,
            n_chunks=int(meta.get("n_chunks", 0)),
            chunk_tokens=int(meta.get("chunk_tokens", 0)),
            chunker=str(meta.get("chunker", "cl100k")),
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
    _check_data_dir(data_dir)
    try:
        client = chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=chroma_settings)
    except Exception as exc:
        raise StoreError(f"cannot open the Chroma data in {data_dir / 'chroma'}: {exc}") from exc
    (data_dir / MARKER).write_text(f"sanad data directory, schema {SCHEMA}\n", encoding="utf-8")
    return client


def _check_data_dir(data_dir: Path) -> None:
    """Refuse a data directory that holds something other than Sanad's data."""
    if data_dir.exists() and not data_dir.is_dir():
        raise StoreError(f"data directory {data_dir} is a file, not a directory")
    if data_dir.is_dir() and any(data_dir.iterdir()) and not (data_dir / MARKER).exists():
        raise StoreError(
            f"{data_dir} is not empty and is not a Sanad data directory (no {MARKER}); "
            "refusing to write into it. Choose another SANAD_DATA_DIR."
        )
    data_dir.mkdir(parents=True, exist_ok=True)


class Store:
    """Chunk and document collections of one corpus, with a generation counter for caches."""

    def __init__(self, client: Any, name: str, embed_model: str, dim: int) -> None:
        self.client = client
        self.name = name
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
        except Exception as exc:
            raise StoreError(f"cannot open Chroma collection {name!r}: {exc}") from exc
        self._check_identity(identity)

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

    # --- write side -------------------------------------------------------------------
    def put_chunks(
        self, records: Sequence[ChunkRecord], embeddings: np.ndarray, chunk_tokens: int
    ) -> None:
        """Upsert chunks with their vectors (idempotent: ids are deterministic)."""
        step = max(1, min(_PAGE, self.client.get_max_batch_size()))
        for i in range(0, len(records), step):
            part = records[i : i + step]
            self.chunks.upsert(
                ids=[r.id for r in part],
                embeddings=embeddings[i : i + step],
                documents=[r.text for r in part],
                metadatas=[_chunk_meta(r, chunk_tokens) for r in part],
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

    def bump_generation(self) -> None:
        """Tell readers that the corpus changed (derived indexes must be rebuilt)."""
        meta = dict(self.docs.metadata or {})
        meta["generation"] = int(meta.get("generation", 0)) + 1
        self.docs.modify(metadata=meta)

    # --- read side --------------------------------------------------------------------
    def generation(self) -> tuple[int, int, int]:
        """A cheap fingerprint of the corpus state: generation counter and both counts."""
        self.docs = self.client.get_collection(f"{self.name}-docs", embedding_function=None)
        meta = dict(self.docs.metadata or {})
        return int(meta.get("generation", 0)), self.docs.count(), self.chunks.count()

    def documents(self) -> list[DocRecord]:
        """All committed documents (metadata only)."""
        out: list[DocRecord] = []
        for offset in range(0, self.docs.count(), _PAGE):
            got = self.docs.get(include=["metadatas"], limit=_PAGE, offset=offset)
            out += [DocRecord.from_chroma(i, m) for i, m in zip(got["ids"], got["metadatas"])]
        return out

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

    def chunks_by_id(self, ids: Sequence[str]) -> list[ChunkRecord]:
        """Stored chunks for the given ids (missing ids are left out)."""
        if not ids:
            return []
        got = self.chunks.get(ids=list(ids), include=["documents", "metadatas"])
        return [
            ChunkRecord.from_chroma(i, t, m)
            for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])
        ]


def _chunk_meta(record: ChunkRecord, chunk_tokens: int) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "doc_id": record.doc_id,
        "n": record.n,
        "lang": record.lang,
        "title": record.title,
        "source": record.source,
        "start": record.start,
        "end": record.end,
        "chunk_tokens": chunk_tokens,
    }
    if record.published:
        meta["published"] = record.published
    return meta
