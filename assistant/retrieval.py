"""Hybrid retrieval that ranks passages fairly across languages.

Multilingual embeddings score passages in the question's language higher than equally good
passages in another language. Two steps remove that bias:

1. Language centring: a passage's dense score is its cosine minus the question's similarity
   to the centroid of the passage's language (how much better than a typical passage of that
   language it is). Within a language this changes nothing; across languages it removes the
   offset that comes from sharing the question's language.
2. BM25 reorders passages only *within* a language: each language's candidates are sorted by
   centred dense + weighted BM25, and then take the language's centred dense scores in that
   order. Lexical overlap, which exists only in the question's own language, therefore never
   lifts a language above another.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.derived import DerivedIndex
from index.embedding import Embedder
from index.store import ChunkRecord, Store


@dataclass(frozen=True)
class ScoredChunk:
    """A retrieved chunk with its fused score and the raw signals behind it.

    `evidence` is the cosine minus the question's similarity to the reference centroid of the
    passage's language: how far the passage stands above typical text in that language,
    independent of this corpus. Abstention compares it with a calibrated threshold.
    """

    chunk: ChunkRecord
    score: float
    dense: float
    bm25: float
    evidence: float


class Retriever:
    """Dense (Chroma) + BM25 retrieval over one store, with cached derived indexes."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        candidates: int = 30,
        bm25_weight: float = 0.05,
        fair: bool = True,
        use_bm25: bool = True,
        language_prior: dict[str, np.ndarray] | None = None,
        prior_chunks: float = 50.0,
        max_per_doc: int = 0,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.candidates = candidates
        self.bm25_weight = bm25_weight
        self.fair = fair
        self.use_bm25 = use_bm25
        self.language_prior = language_prior or {}
        self.prior_chunks = prior_chunks
        self.max_per_doc = max_per_doc
        self._derived: DerivedIndex | None = None
        self._lock = threading.Lock()

    def derived(self) -> DerivedIndex:
        """The derived index for the store's current state (rebuilt only when it changed)."""
        fingerprint = self.store.generation()
        with self._lock:
            if self._derived is None or self._derived.fingerprint != fingerprint:
                self._derived = DerivedIndex.build(
                    self.store, self.language_prior, self.prior_chunks
                )
            return self._derived

    def search(
        self,
        question: str,
        k: int = 5,
        langs: Sequence[str] | None = None,
        doc_ids: Sequence[str] | None = None,
        timings: dict[str, float] | None = None,
        exclude_doc_ids: Sequence[str] | None = None,
    ) -> list[ScoredChunk]:
        """The k best chunks for the question, optionally restricted to languages/documents."""
        t0 = time.perf_counter()
        query = self.embedder.embed_queries([question])[0]
        t1 = time.perf_counter()
        derived = self.derived()
        present = sorted(set(derived.langs.tolist()))
        wanted = [lang for lang in present if not langs or lang in langs]
        bm25 = derived.bm25_scores(question) if self.use_bm25 else None
        results: list[ScoredChunk] = []
        for lang in wanted:
            results += self._search_language(
                query, lang, doc_ids, exclude_doc_ids, derived, bm25
            )
        results.sort(key=lambda r: (-r.score, r.chunk.id))
        if timings is not None:
            timings["embed_ms"] = (t1 - t0) * 1000
            timings["search_ms"] = (time.perf_counter() - t1) * 1000
        return self._diverse(results, k)

    def _diverse(self, ranked: list[ScoredChunk], k: int) -> list[ScoredChunk]:
        """The first k results, with at most `max_per_doc` chunks of one document (0 = any)."""
        if not self.max_per_doc:
            return ranked[:k]
        taken: dict[str, int] = {}
        out = []
        for hit in ranked:
            if taken.get(hit.chunk.doc_id, 0) < self.max_per_doc:
                taken[hit.chunk.doc_id] = taken.get(hit.chunk.doc_id, 0) + 1
                out.append(hit)
                if len(out) == k:
                    break
        return out

    def _search_language(
        self,
        query: np.ndarray,
        lang: str,
        doc_ids: Sequence[str] | None,
        exclude_doc_ids: Sequence[str] | None,
        derived: DerivedIndex,
        bm25: np.ndarray | None,
    ) -> list[ScoredChunk]:
        dense_hits = self.store.query(
            query, self.candidates, langs=[lang], doc_ids=doc_ids, exclude_doc_ids=exclude_doc_ids
        )
        chunks = {c.id: c for c, _ in dense_hits}
        if bm25 is not None and len(bm25):
            mask = derived.langs == lang
            if doc_ids:
                mask &= np.isin(derived.doc_ids, list(doc_ids))
            if exclude_doc_ids:
                mask &= ~np.isin(derived.doc_ids, list(exclude_doc_ids))
            pool = np.flatnonzero(mask & (bm25 > 0))
            best = pool[np.argsort(-bm25[pool], kind="stable")[: self.candidates]]
            missing = [derived.ids[i] for i in best if derived.ids[i] not in chunks]
            chunks.update({c.id: c for c in self.store.chunks_by_id(missing)})
        ids = sorted(i for i in chunks if i in derived.position)
        if not ids:
            return []
        rows = np.array([derived.position[i] for i in ids])
        cosine = derived.embeddings[rows] @ query
        offset = float(query @ derived.centroids[lang]) if self.fair else 0.0
        centred = cosine - offset
        lexical = bm25[rows] if bm25 is not None and len(bm25) else np.zeros(len(ids))
        top = float(lexical.max()) if len(lexical) else 0.0
        hybrid = centred + self.bm25_weight * (lexical / top if top > 0 else lexical)
        order = np.lexsort((np.array(ids), -hybrid))
        slots = np.sort(centred)[::-1]
        reference = self.language_prior.get(lang)
        baseline = float(query @ reference) if reference is not None else offset
        return [
            ScoredChunk(
                chunk=chunks[ids[i]],
                score=float(slot),
                dense=float(cosine[i]),
                bm25=float(lexical[i]),
                evidence=float(cosine[i]) - baseline,
            )
            for i, slot in zip(order, slots)
        ]
