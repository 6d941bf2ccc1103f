"""Managing the corpus: files, uploads, web pages and feeds in; documents out or re-indexed.

Every write goes through one lock per process, so an upload, a delete and an ingest never
interleave. Uploaded files are kept in `<data dir>/uploads/` (re-indexing reads them again);
nothing is ever written outside the data directory.
"""

from __future__ import annotations

import os
import threading
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO, Literal

from index.documents import SUPPORTED_SUFFIXES, Document, read_file, to_document
from index.embedding import Embedder
from index.feeds import Feed, FeedItem, item_document, load_feed, new_items
from index.formats.base import SkipFile
from index.owner import WRITE_LOCK_FILE, DataDirLock
from index.pipeline import IngestReport, Input, ingest_inputs, path_inputs
from index.provenance import DEFAULT_COLLECTION, checked_name
from index.store import DocRecord, Store
from index.web import FetchRules, read_url

UPLOADS = "uploads"
_STAGED = ".tmp-"  # an upload being received: .tmp-<pid>-<uuid>-<name>
_COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileResult:
    """What happened to one uploaded file."""

    name: str
    status: Literal["added", "updated", "unchanged", "skipped"]
    reason: str | None = None
    doc_id: str | None = None


class DocumentNotFound(LookupError):
    """No committed document has this id."""


@dataclass
class IngestOptions:
    """How documents are read and chunked (from the settings)."""

    chunk_tokens: int
    chunker: str
    max_bytes: int
    batch_chunks: int
    fetch_timeout_s: float
    fetch_allow: tuple[str, ...] = ()  # internal hosts or networks that may be fetched

    @property
    def web(self) -> FetchRules:
        """What a download by URL may do."""
        return FetchRules(self.max_bytes, self.fetch_timeout_s, self.fetch_allow)


class Library:
    """The write side of one corpus: ingest, upload, delete and re-index under one lock."""

    def __init__(
        self, store: Store, embedder: Embedder, data_dir: Path, options: IngestOptions
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.uploads = Path(data_dir).resolve() / UPLOADS
        self.options = options
        self.lock = _WriteLock(DataDirLock(data_dir, WRITE_LOCK_FILE))
        self.sweep_staged()

    def sweep_staged(self) -> int:
        """Remove uploads staged by processes that are gone (killed while receiving one)."""
        if not self.uploads.is_dir():
            return 0
        gone = [
            path
            for path in self.uploads.glob(f"{_STAGED}*")
            if not _alive(path.name.removeprefix(_STAGED).split("-", 1)[0])
        ]
        for path in gone:
            path.unlink(missing_ok=True)
        return len(gone)

    def _run(
        self,
        inputs: Sequence[Input],
        progress: bool,
        refresh: Sequence[str] = (),
        sync_prefixes: Sequence[str] | None = None,
        collection: str = DEFAULT_COLLECTION,
    ) -> IngestReport:
        """The one way in: ingest the inputs into a collection under the write lock."""
        checked_name(collection)
        options = self.options
        with self.lock:
            return ingest_inputs(
                inputs,
                self.store,
                self.embedder,
                options.chunk_tokens,
                progress=progress,
                batch_chunks=options.batch_chunks,
                chunker=options.chunker,
                sync_prefixes=sync_prefixes,
                refresh=refresh,
                collection=collection,
            )

    # --- files, web pages, feeds ------------------------------------------------------
    def ingest_paths(
        self,
        paths: Sequence[Path],
        sync: bool = False,
        progress: bool = True,
        within: Sequence[Path] | None = None,
        collection: str = DEFAULT_COLLECTION,
    ) -> IngestReport:
        """Ingest files and folders; with `sync`, drop documents whose files are gone.

        within: folders the files must resolve into (links out of them are skipped).
        """
        inputs, prefixes = path_inputs(paths, self.options.max_bytes, within)
        sync_prefixes = prefixes if sync else None
        return self._run(inputs, progress, sync_prefixes=sync_prefixes, collection=collection)

    def ingest_urls(
        self, urls: Sequence[str], progress: bool = True, collection: str = DEFAULT_COLLECTION
    ) -> IngestReport:
        """Fetch web pages and ingest their main text (a page seen before is re-read)."""
        inputs = [Input(url, partial(self._read_url, url)) for url in urls]
        return self._run(inputs, progress, collection=collection)

    def ingest_sources(
        self,
        paths: Sequence[Path],
        urls: Sequence[str],
        feeds: Sequence[str],
        sync: bool = False,
        progress: bool = True,
        within: Sequence[Path] | None = None,
        collection: str = DEFAULT_COLLECTION,
    ) -> IngestReport:
        """Files and folders, then web pages, then feeds: one report for the three runs."""
        reports = []
        if paths:
            reports.append(self.ingest_paths(paths, sync, progress, within, collection))
        if urls:
            reports.append(self.ingest_urls(urls, progress, collection))
        if feeds:
            reports.append(self.ingest_feeds(feeds, progress, collection))
        return IngestReport.merged(reports)

    def ingest_feeds(
        self,
        locations: Sequence[str],
        progress: bool = True,
        collection: str = DEFAULT_COLLECTION,
    ) -> IngestReport:
        """Ingest the items of RSS/Atom feeds (URLs or files) not in the collection yet."""
        # a summary-only item is read again: its page may answer now, and replaces it
        known = {
            d.origin.source
            for d in self.store.documents()
            if d.origin.collection == collection and not d.origin.summary_only
        }
        inputs, unreadable = [], []
        for location in locations:
            try:
                feed = load_feed(location, self.options.web)
            except SkipFile as skip:
                unreadable.append((location, skip.reason))
                continue
            for item in new_items(feed, known):
                read = partial(self._read_item, item, feed)
                inputs.append(Input(item.link or item.key, read))
        report = self._run(inputs, progress, collection=collection)
        report.skipped[:0] = unreadable
        return report

    def _read_url(self, url: str) -> Document:
        options = self.options
        return to_document(read_url(url, options.web), url, url)

    def _read_item(self, item: FeedItem, feed: Feed) -> Document:
        options = self.options
        found = item_document(item, feed, options.web)
        return to_document(found, item.key, item.link)

    # --- uploads ----------------------------------------------------------------------
    def upload(
        self,
        files: Sequence[tuple[str, BinaryIO]],
        progress: bool = False,
        collection: str = DEFAULT_COLLECTION,
    ) -> tuple[list[FileResult], IngestReport]:
        """Store uploaded files under the data directory and ingest them; one result each.

        A file is kept only if it was ingested: one that is skipped (bad name, too large,
        unreadable) leaves no trace, and an earlier upload of the same name stays as it was.
        Another collection's uploads live in their own folder (uploads/<collection>/).
        """
        folder = (
            UPLOADS if collection == DEFAULT_COLLECTION else f"{UPLOADS}/{checked_name(collection)}"
        )
        into = self.uploads.parent / folder
        into.mkdir(parents=True, exist_ok=True)
        results: dict[int, FileResult] = {}
        staged: list[tuple[int, str, Path]] = []
        for i, (name, stream) in enumerate(files):
            try:
                clean = upload_name(name)
                staged.append((i, clean, self._stage(clean, stream)))
            except SkipFile as skip:
                results[i] = FileResult(name or "(no name)", "skipped", skip.reason)
        sources = {i: f"{folder}/{clean}" for i, clean, _ in staged}
        limit = self.options.max_bytes
        inputs = [
            Input(
                sources[i],
                partial(read_file, tmp, sources[i], str(into / clean), limit),
                partial(os.replace, tmp, into / clean),  # before the commit
            )
            for i, clean, tmp in staged
        ]
        try:
            report = self._run(inputs, progress, collection=collection)
            skipped = dict(report.skipped)
            for i, clean, _ in staged:
                source = sources[i]
                if source in skipped:
                    results[i] = FileResult(clean, "skipped", skipped[source])
                    continue
                status = _status(report, source)
                results[i] = FileResult(clean, status, None, report.doc_ids.get(source))
        finally:
            for _, _, tmp in staged:
                tmp.unlink(missing_ok=True)
        return [results[i] for i in sorted(results)], report

    def _stage(self, name: str, stream: BinaryIO) -> Path:
        """Copy an upload into a hidden temporary file (same suffix), within the size limit."""
        limit = self.options.max_bytes
        tmp = self.uploads / f"{_STAGED}{os.getpid()}-{uuid.uuid4().hex}-{name}"
        size = 0
        try:
            with open(tmp, "xb") as out:
                while chunk := stream.read(_COPY_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise SkipFile(f"larger than {limit / 2**20:.3g} MB")
                    out.write(chunk)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp

    # --- delete, re-index -------------------------------------------------------------
    def delete(self, doc_id: str) -> DocRecord:
        """Remove a document from Chroma and announce it, so every derived index drops it."""
        with self.lock:
            record = self._record(doc_id)
            self.store.begin_write()
            self.store.delete_document(doc_id)
            self.store.publish(removed=[doc_id])
            self.store.end_write()
        if record.location and self._is_upload(Path(record.location)):
            Path(record.location).unlink(missing_ok=True)
        return record

    def reindex(self, doc_id: str) -> IngestReport:
        """Read a document's file or page again and embed it anew (settings may have changed).

        One locked write: the stored version stays searchable until the new one is embedded
        and replaces it; a failed read or embedding leaves it as it was.
        """
        record = self._record(doc_id)
        if not record.location:
            raise SkipFile("the document records no file or URL to read again; ingest it anew")
        source = record.origin.source
        reader: Callable[[], Document]
        if "://" in record.location:
            reader = partial(self._read_url, record.location)
        else:
            path = Path(record.location)
            if not path.is_file():
                raise SkipFile(f"its file is gone: {source}")  # the name, not the server's path
            reader = partial(read_file, path, source, str(path), self.options.max_bytes)
        document = reader()
        return self._run(
            [Input(source, lambda: document)],
            progress=False,
            refresh=[source],
            collection=record.origin.collection,
        )

    def _record(self, doc_id: str) -> DocRecord:
        found = self.store.documents([doc_id])
        if not found:
            raise DocumentNotFound(f"no document {doc_id} in the index")
        return found[0]

    def _is_upload(self, path: Path) -> bool:
        return self.uploads in path.resolve().parents  # uploads/ or uploads/<collection>/


class _WriteLock:
    """This process's threads, then other processes on the data directory, one writer at a
    time (another writer's uncommitted chunks are not "repaired" away under it)."""

    def __init__(self, between_processes: DataDirLock) -> None:
        self.threads = threading.Lock()
        self.processes = between_processes

    def __enter__(self) -> None:
        self.threads.acquire()
        try:
            self.processes.acquire()
        except BaseException:
            self.threads.release()
            raise

    def __exit__(self, *exc: object) -> None:
        self.processes.release()
        self.threads.release()


def _alive(pid: str) -> bool:
    """Whether the process with this id (as written in a staged file's name) still runs."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def upload_name(name: str | None) -> str:
    """An uploaded file's name as it will be stored, or SkipFile when it is not a plain name."""
    name = unicodedata.normalize("NFC", (name or "").strip())
    if not name:
        raise SkipFile("the file has no name")
    if "/" in name or "\\" in name or name in (".", "..") or ".." in name:
        raise SkipFile("the file name contains a path separator or '..'")
    if name.startswith(".") or any(unicodedata.category(ch) == "Cc" for ch in name):
        raise SkipFile("the file name is hidden or contains control characters")
    if len(name.encode()) > 200:
        raise SkipFile("the file name is longer than 200 bytes")
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise SkipFile(f"unsupported file type ({suffix or 'no suffix'}; supported: {kinds})")
    return name


def _status(report: IngestReport, source: str) -> Literal["added", "updated", "unchanged"]:
    if source in report.added:
        return "added"
    return "updated" if source in report.updated else "unchanged"
