"""Ingestion: files -> documents -> chunks -> vectors in Chroma; incremental and crash-safe.

A document is written chunks first, then its record in the documents collection; the record
is the commit. A run killed at any point leaves chunks without a record (orphans) or a record
whose source has a newer version; the next run's `reconcile` removes both before ingesting.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from tqdm import tqdm

from index.chunking import chunk_text
from index.documents import Document, SkipFile, in_collection, iter_input_files, read_document
from index.embedding import Embedder
from index.provenance import DEFAULT_COLLECTION
from index.store import ChunkRecord, DocRecord, Store


@dataclass
class IngestReport:
    """What one ingestion run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    doc_ids: dict[str, str] = field(default_factory=dict)  # source -> its stored version
    repaired: int = 0
    chunks_embedded: int = 0
    tokens_embedded: int = 0
    seconds: float = 0.0

    @classmethod
    def merged(cls, reports: Sequence[IngestReport]) -> IngestReport:
        """One report for several runs (files, pages, feeds) done one after another."""
        out = cls()
        for report in reports:
            for name in ("added", "updated", "unchanged", "removed", "skipped"):
                getattr(out, name).extend(getattr(report, name))
            out.doc_ids.update(report.doc_ids)
            out.repaired += report.repaired
            out.chunks_embedded += report.chunks_embedded
            out.tokens_embedded += report.tokens_embedded
            out.seconds += report.seconds
        return out

    def summary(self) -> str:
        """One human line."""
        line = (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.removed)} removed, "
            f"{len(self.skipped)} skipped; {self.chunks_embedded} chunks embedded "
            f"in {self.seconds:.1f} s"
        )
        if not self.chunks_embedded:
            line += " (nothing to embed: the index is up to date)"
        if self.repaired:
            line += f"; repaired {self.repaired} interrupted write(s)"
        return line


@dataclass
class _Pending:
    doc: Document
    records: list[ChunkRecord]
    tokens: int
    replaces: list[str]
    rewrites: bool = False  # a stored version has the same doc_id: replaced once embedded
    place: Callable[[], None] | None = None  # run after embedding, before the commit


def reconcile(store: Store) -> int:
    """Remove what an interrupted run left: orphan chunks and incomplete or stale records.

    Reading every chunk's metadata costs time with the corpus, so it happens only when the
    last write did not complete or the counts changed since.
    """
    store.head()  # fresh metadata
    if store.settled():
        return 0
    docs = store.documents()
    counts = store.chunk_doc_ids()
    repaired = 0
    committed = {d.doc_id for d in docs}
    orphans = [doc_id for doc_id in counts if doc_id not in committed]
    store.delete_chunks_of(orphans)
    repaired += len(orphans)  # never committed, so never visible: nothing to publish
    broken = [doc.doc_id for doc in docs if counts.get(doc.doc_id, 0) != doc.n_chunks]
    for doc_id in broken:
        store.delete_document(doc_id)
    store.publish(removed=broken)
    store.end_write()
    return repaired + len(broken)


@dataclass(frozen=True)
class Input:
    """One thing to ingest: the name reports give it, and how to read it into a Document."""

    name: str
    read: Callable[[], Document]
    place: Callable[[], None] | None = None  # puts the file where its record will say it is


def file_inputs(
    paths: Iterable[Path], max_bytes: int, within: Sequence[Path] | None = None
) -> list[Input]:
    """An Input for each file given and each file below each folder given.

    within: the folders files must resolve into (a link out of them is skipped, unread).
    """
    inputs = []
    for file, root in iter_input_files(paths):
        source_root = _source_root(file, root)
        real = file.resolve()
        if within is not None and not any(real.is_relative_to(r) for r in within):
            inputs.append(Input(str(file), partial(_outside, file)))
            continue
        inputs.append(Input(str(file), partial(read_document, real, source_root, max_bytes)))
    return inputs


def _outside(file: Path) -> Document:
    """The skip of a file that links out of the folders it may be read from."""
    raise SkipFile(f"{file.name} links to a file outside the folders ingestion may read")


def path_inputs(
    paths: Iterable[Path], max_bytes: int, within: Sequence[Path] | None = None
) -> tuple[list[Input], list[str]]:
    """The inputs of files and folders, and the source prefixes they cover (for a sync).

    FileNotFoundError names the first path that does not exist.
    """
    paths = [Path(p) for p in paths]
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"no such file or directory: {path}")
    return file_inputs(paths, max_bytes, within), [_source_prefix(p) for p in paths]


def ingest_inputs(
    inputs: Sequence[Input],
    store: Store,
    embedder: Embedder,
    chunk_tokens: int,
    progress: bool = True,
    batch_chunks: int = 1024,
    chunker: str = "cl100k",
    sync_prefixes: Sequence[str] | None = None,
    refresh: Iterable[str] = (),
    collection: str = DEFAULT_COLLECTION,
) -> IngestReport:
    """Read, chunk, embed and commit the inputs into `collection`; a source already stored
    with the same text and chunking costs nothing (unless named in `refresh`: embedded
    anew), one with new text replaces its old version. An old version stays stored until its
    replacement is embedded.

    Chunks hold at most `chunk_tokens` tokens of `chunker`: "model" (the embedding model's
    own tokenizer, one bound for every language) or "cl100k" (tiktoken's).

    Chunks are embedded and written `batch_chunks` at a time: big batches let the model
    group texts of similar length (less padding); a crash loses at most one batch of work.
    With `sync_prefixes`, stored sources under those prefixes that no input produced are
    removed. Sources, versions and duplicates are those of `collection` only: another
    collection's documents are neither replaced, removed nor named.
    """
    started = time.perf_counter()
    report = IngestReport(repaired=reconcile(store))
    store.begin_write()
    count = embedder.count_tokens if chunker == "model" else None
    known: dict[str, list[DocRecord]] = {}
    owner: dict[str, str] = {}
    for record in store.documents():
        if record.origin.collection != collection:
            continue
        known.setdefault(record.origin.source, []).append(record)
        owner[record.doc_id] = record.origin.source
    seen: set[str] = set()
    refresh = set(refresh)
    pending: list[_Pending] = []
    removed: list[str] = []  # deleted versions, published with the next batch
    bar = tqdm(inputs, desc="ingest", unit="doc", file=sys.stderr, disable=not progress)
    for item in bar:
        try:
            doc = in_collection(item.read(), collection)
        except SkipFile as skip:
            report.skipped.append((item.name, skip.reason))  # the caller reports them
            continue
        if owner.setdefault(doc.doc_id, doc.origin.source) != doc.origin.source:
            report.skipped.append((item.name, f"same text as {owner[doc.doc_id]}"))
            continue
        seen.add(doc.origin.source)
        report.doc_ids[doc.origin.source] = doc.doc_id
        versions = known.get(doc.origin.source, [])
        current = [
            v
            for v in versions
            if v.doc_id == doc.doc_id and (v.chunk_tokens, v.chunker) == (chunk_tokens, chunker)
        ]
        if current and doc.origin.source not in refresh:
            for stale in versions:
                if stale is not current[0]:
                    store.delete_document(stale.doc_id)
                    removed.append(stale.doc_id)
                    report.repaired += 1
            if item.place is not None:
                item.place()
            report.unchanged.append(doc.origin.source)
            continue
        records = _chunk_records(doc, chunk_tokens, count)
        if not records:
            report.skipped.append((item.name, "no text content to index"))
            report.doc_ids.pop(doc.origin.source)
            continue
        replaces = [v.doc_id for v in versions if v.doc_id != doc.doc_id]
        rewrites = len(replaces) < len(versions)  # same text: other chunking, or refreshed
        tokens = sum(r.tokens for r in records)
        pending.append(
            _Pending(doc, [r.record for r in records], tokens, replaces, rewrites, item.place)
        )
        (report.updated if versions else report.added).append(doc.origin.source)
        if sum(len(p.records) for p in pending) >= batch_chunks:
            _flush(pending, removed, store, embedder, (chunk_tokens, chunker), report, bar)
    _flush(pending, removed, store, embedder, (chunk_tokens, chunker), report, bar)
    bar.close()
    if sync_prefixes is not None:
        for source, versions in known.items():
            if source not in seen and any(source.startswith(pre) for pre in sync_prefixes):
                for version in versions:
                    store.delete_document(version.doc_id)
                    removed.append(version.doc_id)
                report.removed.append(source)
    store.publish(removed=removed)
    store.end_write()
    report.seconds = time.perf_counter() - started
    return report


@dataclass(frozen=True)
class _Chunked:
    record: ChunkRecord
    tokens: int


def _chunk_records(
    doc: Document, chunk_tokens: int, count: Callable[[str], int] | None
) -> list[_Chunked]:
    """The document's chunks as records that carry what a citation shows (date, site, page)."""
    out = []
    for c in chunk_text(doc.text, chunk_tokens, count):
        origin = doc.origin.within(c.start, c.end)
        record = ChunkRecord(f"{doc.doc_id}:{c.n}", doc.doc_id, c.n, c.text, c.start, c.end, origin)
        out.append(_Chunked(record, c.tokens))
    return out


def _flush(
    pending: list[_Pending],
    removed: list[str],
    store: Store,
    embedder: Embedder,
    chunking: tuple[int, str],
    report: IngestReport,
    bar: tqdm,
) -> None:
    """Embed the pending documents' chunks in one batch, write them, commit the documents, and
    publish them (with the versions they replace and the deletions since the last batch)."""
    if not pending:
        return
    records = [r for p in pending for r in p.records]
    bar.set_postfix_str(f"embedding {len(records)} chunks")
    vectors = embedder.embed_passages([r.text for r in records])
    for item in pending:  # embedded: only now may a version with the same ids go
        if item.rewrites:
            store.delete_document(item.doc.doc_id)
            removed.append(item.doc.doc_id)
    store.put_chunks(records, vectors, chunking[0])  # all chunks first, in one write...
    for item in pending:  # files in place before a record points at them
        if item.place is not None:
            item.place()
    means, row = [], 0
    for item in pending:
        mean = vectors[row : row + len(item.records)].mean(axis=0)
        means.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
        row += len(item.records)
        report.chunks_embedded += len(item.records)
        report.tokens_embedded += item.tokens
    store.commit_documents(  # ...then the records that mark the documents complete
        [
            DocRecord(
                doc_id=item.doc.doc_id,
                origin=item.doc.origin,
                n_chunks=len(item.records),
                chunk_tokens=chunking[0],
                chunker=chunking[1],
                embed_dtype=embedder.dtype,
                location=item.doc.location,
            )
            for item in pending
        ],
        [item.doc.text for item in pending],
        np.vstack(means),
    )
    for item in pending:
        for old in item.replaces:
            store.delete_document(old)
            removed.append(old)
    store.publish(added=[item.doc.doc_id for item in pending], removed=removed)
    removed.clear()
    bar.set_postfix_str(f"{report.chunks_embedded} chunks")
    pending.clear()


def _source_root(file: Path, root: Path) -> Path:
    """Sources are named from the folder that was given, e.g. `seeds/000.txt`."""
    root = root.resolve()
    return root.parent if root.is_dir() and root != file.resolve() else root


def _source_prefix(path: Path) -> str:
    """The source-name prefix of everything below an ingested path."""
    path = path.resolve()
    return f"{path.name}/" if path.is_dir() else path.name
