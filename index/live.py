"""The derived index of a store, kept current by replaying the store's change log.

Every process follows the log itself: a search reads the store's head (one small request),
and when the generation moved it replays the entries since the one it holds, which costs time
in proportion to the change. A full rebuild runs only when the log cannot be followed (the
reader fell behind the kept log, a writer died between its commit and its log entry, the
document counts disagree) or when deleted rows make up half the index; while one runs in the
background, searches keep using the current index.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np

from index.derived import DerivedIndex, IndexView
from index.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Update:
    """How the index last changed: "full" or "incremental", its duration and size."""

    kind: str
    seconds: float
    generation: int
    changes: int


class LiveIndex:
    """A DerivedIndex that follows the store; safe to read from many threads."""

    def __init__(
        self,
        store: Store,
        dim: int,
        prior: dict[str, np.ndarray] | None = None,
        prior_chunks: float = 50.0,
        max_dead_fraction: float = 0.5,
    ) -> None:
        self.store = store
        self.dim = dim
        self.prior = prior or {}
        self.prior_chunks = prior_chunks
        self.max_dead_fraction = max_dead_fraction
        self.updates: list[Update] = []
        self._index: DerivedIndex | None = None
        self._lock = threading.Lock()  # one updater at a time
        self._rebuilding: threading.Thread | None = None

    @property
    def generation(self) -> int:
        """The store generation the current index holds (-1 before the first build)."""
        index = self._index
        return index.generation if index is not None else -1

    def view(self) -> IndexView:
        """The index as of the store's latest generation (built on first use)."""
        generation, documents = self.store.head()
        index = self._index
        if index is not None and index.generation == generation:
            return index.view()
        with self._lock:
            if self._index is None:
                self._index = self._full()
            if self._index.generation != generation:
                self._follow(self._index, generation, documents)
            return self._index.view()

    def rebuild(self) -> IndexView:
        """Rebuild in full now (recovery) and return the result."""
        index = self._full()
        with self._lock:
            self._index = index
            return index.view()

    def wait(self) -> None:
        """Block until a background rebuild (if any) has finished."""
        thread = self._rebuilding
        if thread is not None:
            thread.join()

    def _full(self) -> DerivedIndex:
        """A fresh index from every committed document, brought up to the latest generation."""
        started = time.perf_counter()
        index = DerivedIndex.build(self.store, self.dim, self.prior, self.prior_chunks)
        self._catch_up(index)
        self._record("full", started, index.generation, index.documents)
        return index

    def _catch_up(self, index: DerivedIndex) -> bool:
        """Replay the log from the index's generation to the latest; False when it cannot."""
        generation = self.store.head()[0]
        if generation != index.generation:
            changes = self.store.changes(index.generation, generation)
            if changes is None:
                return False
            index.apply(self.store, changes, generation)
        return True

    def _follow(self, index: DerivedIndex, generation: int, documents: int) -> None:
        """Replay the log up to `generation`; start a rebuild when it cannot be trusted."""
        started = time.perf_counter()
        changes = self.store.changes(index.generation, generation)
        if changes is None:
            log.warning("change log incomplete after generation %d; rebuilding", index.generation)
            self._rebuild_in_background()
            return
        index.apply(self.store, changes, generation)
        self._record("incremental", started, generation, len(changes))
        if documents >= 0 and index.documents != documents and self.store.head()[0] == generation:
            log.warning(
                "index holds %d documents, the store %d; rebuilding", index.documents, documents
            )
            self._rebuild_in_background()
        elif index.dead > max(1000, self.max_dead_fraction * index.rows):
            self._rebuild_in_background()  # compaction: deleted rows still cost every search

    def _rebuild_in_background(self) -> None:
        """Build a fresh index in a thread and swap it in; searches meanwhile use the old one."""
        if self._rebuilding is not None and self._rebuilding.is_alive():
            return

        def run() -> None:
            try:
                fresh = self._full()
            except Exception:  # the current index keeps serving; the next change retries
                log.exception("background rebuild of the derived index failed")
                return
            with self._lock:
                if self._catch_up(fresh):
                    self._index = fresh

        self._rebuilding = threading.Thread(target=run, name="sanad-rebuild", daemon=True)
        self._rebuilding.start()

    def _record(self, kind: str, started: float, generation: int, changes: int) -> None:
        self.updates.append(Update(kind, time.perf_counter() - started, generation, changes))
        del self.updates[:-100]
