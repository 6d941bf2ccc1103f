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
3. Optionally (`doc_blend`), a passage's centred score is blended with the mean centred score
   of its document's passages: a passage of an article about the question counts for more.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import ThreadpoolController

from assistant.query import Query
from index.derived import IndexView
from index.embedding import Embedder
from index.filters import Filters
from index.language import detect_language
from index.live import LiveIndex
from index.store import ChunkRecord, Store

if TYPE_CHECKING:
    from assistant.evidence import Candidate

# One BLAS thread for the product: OpenBLAS workers spin after each call and, on 2 cores,
# slowed the next question's embedding 2-3x (search p50 at 8k chunks: 65 ms -> 29 ms).
_BLAS = ThreadpoolController()


@dataclass(frozen=True)
class ScoredChunk:
    """A retrieved chunk with its fused score and the raw signals behind it.

    `evidence` is the cosine minus the question's similarity to the reference centroid of the
    passage's language: how far the passage stands above typical text in that language,
    independent of this corpus. It is one of the features of the answer decision (evidence.py).
    """

    chunk: ChunkRecord
    score: float
    dense: float
    bm25: float
    evidence: float


class Retriever:
    """Dense + BM25 retrieval over one store's derived index, which follows the store's changes."""

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
        doc_blend: float = 0.0,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.candidates = candidates
        self.bm25_weight = bm25_weight
        self.fair = fair
        self.use_bm25 = use_bm25
        self.language_prior = language_prior or {}
        self.max_per_doc = max_per_doc
        self.doc_blend = doc_blend
        self.live = LiveIndex(store, embedder.dim, self.language_prior, prior_chunks)

    def derived(self) -> IndexView:
        """The derived index as of the store's latest change (updated by the change only)."""
        return self.live.view()

    def query(
        self,
        question: str,
        standalone: str | None = None,
        language: str | None = None,
        timings: dict[str, float] | None = None,
    ) -> Query:
        """The question embedded once (its standalone form), with the centroids to score it."""
        started = time.perf_counter()
        standalone = standalone or question
        derived = self.derived()
        query = Query(
            question=question,
            standalone=standalone,
            language=language or detect_language(question),
            vector=self.embedder.embed_queries([standalone])[0],
            centroids={**self.language_prior, **derived.centroids},
            prior=self.language_prior,
            fair=self.fair,
        )
        if timings is not None:
            timings["embed_ms"] = (time.perf_counter() - started) * 1000
        return query

    def search(
        self,
        query: Query | str,
        k: int = 5,
        filters: Filters | None = None,
        timings: dict[str, float] | None = None,
        exclude_doc_ids: Sequence[str] | None = None,
    ) -> list[ScoredChunk]:
        """The k best chunks for the query (or a question), optionally restricted by `filters`.

        Dense candidates are exact cosine top-N over the derived copy of Chroma's vectors:
        Chroma's own query with a `lang` filter scans the whole collection (21 ms at 8k
        chunks, against 0.3 ms for the matrix product), and fairness needs one per language.
        """
        if isinstance(query, str):
            query = self.query(query, timings=timings)
        started = time.perf_counter()
        filters = filters or Filters()
        derived = self.derived()
        allowed = derived.allowed_rows(filters, exclude_doc_ids)
        with _BLAS.limit(limits=1, user_api="blas"):
            cosine = derived.cosine(query.vector)
        bm25 = derived.bm25_scores(query.standalone) if self.use_bm25 else None
        ranked: list[_Candidate] = []
        for lang, rows in derived.rows_by_lang.items():
            if filters.langs and lang not in filters.langs:
                continue
            if allowed is not None:
                rows = rows[allowed[rows]]
            ranked += self._rank_language(query, lang, rows, cosine, bm25, derived)
        ranked.sort(key=lambda c: (-c.score, derived.ids[c.row]))  # ties: by chunk id
        chosen = self._diverse(ranked, k, derived.doc_ids)
        records = {r.id: r for r in self.store.chunks_by_id([derived.ids[c.row] for c in chosen])}
        if timings is not None:
            timings["search_ms"] = (time.perf_counter() - started) * 1000
        return [
            ScoredChunk(records[derived.ids[c.row]], c.score, c.dense, c.bm25, c.evidence)
            for c in chosen
            if derived.ids[c.row] in records
        ]

    def related(
        self, query: Query, filters: Filters | None = None, exclude_doc_ids: Sequence[str] = ()
    ) -> Callable[[Candidate], list[ScoredChunk]]:
        """For this question and caller, where a candidate sentence's translations may be
        (`translations` of its language-centred vector), for the answerer's first line."""

        def look_up(sentence: Candidate) -> list[ScoredChunk]:
            return self.translations(
                query,
                sentence.centred,
                sentence.chunk.origin.lang,
                filters=filters,
                exclude_doc_ids=exclude_doc_ids,
            )

        return look_up

    def translations(
        self,
        query: Query,
        vector: np.ndarray,
        lang: str,
        k: int = 2,
        filters: Filters | None = None,
        exclude_doc_ids: Sequence[str] = (),
    ) -> list[ScoredChunk]:
        """Per language other than `lang`, the k chunks closest to a sentence's vector (where
        its translation would be), scored against the query as search scores them.

        Ranked within each language, so the language's centroid does not matter; `filters`
        are the caller's, as for the search that found the sentence.
        """
        filters = filters or Filters()
        derived = self.derived()
        allowed = derived.allowed_rows(filters, exclude_doc_ids)
        with _BLAS.limit(limits=1, user_api="blas"):
            closeness = derived.cosine(vector)
        rows: list[int] = []
        for other, candidates in derived.rows_by_lang.items():
            if other == lang or (filters.langs and other not in filters.langs):
                continue
            if allowed is not None:
                candidates = candidates[allowed[candidates]]
            if len(candidates):
                top = candidates[_top(closeness[candidates], k)]
                rows += top[np.argsort(-closeness[top], kind="stable")].tolist()
        records = {r.id: r for r in self.store.chunks_by_id([derived.ids[row] for row in rows])}
        relevance = derived.vectors.take(np.array(rows)) @ query.vector if rows else []
        out = []
        for row, value in zip(rows, relevance):
            record = records.get(derived.ids[row])
            if record is not None:
                dense = float(value)
                out.append(
                    ScoredChunk(
                        record,
                        dense - query.offset(record.origin.lang),
                        dense,
                        0.0,
                        dense - query.baseline(record.origin.lang),
                    )
                )
        return out

    def _diverse(
        self, ranked: list[_Candidate], k: int, doc_ids: Sequence[str]
    ) -> list[_Candidate]:
        """The first k candidates, with at most `max_per_doc` of one document (0 = any)."""
        if not self.max_per_doc:
            return ranked[:k]
        taken: dict[str, int] = {}
        out = []
        for hit in ranked:
            doc = doc_ids[hit.row]
            if taken.get(doc, 0) < self.max_per_doc:
                taken[doc] = taken.get(doc, 0) + 1
                out.append(hit)
                if len(out) == k:
                    break
        return out

    def _rank_language(
        self,
        query: Query,
        lang: str,
        rows: np.ndarray,
        cosine: np.ndarray,
        bm25: np.ndarray | None,
        derived: IndexView,
    ) -> list[_Candidate]:
        """One language's candidates (dense top-N and BM25 top-N) with fair scores."""
        if not len(rows):
            return []
        pool = rows[_top(cosine[rows], self.candidates)]
        if bm25 is not None and len(bm25):
            lexical_rows = rows[bm25[rows] > 0]
            pool = np.union1d(pool, lexical_rows[_top(bm25[lexical_rows], self.candidates)])
        cos = cosine[pool]
        offset = query.offset(lang)
        centred = cos - offset
        if self.doc_blend:  # a passage of an article about the question counts for more
            documents = derived.document_means(cosine, rows)
            documents = documents[np.searchsorted(rows, pool)] - offset
            centred = (1 - self.doc_blend) * centred + self.doc_blend * documents
        lexical = bm25[pool] if bm25 is not None and len(bm25) else np.zeros(len(pool))
        top = float(lexical.max()) if len(lexical) else 0.0
        hybrid = centred + self.bm25_weight * (lexical / top if top > 0 else lexical)
        order = sorted(range(len(pool)), key=lambda i: (-hybrid[i], derived.ids[pool[i]]))
        slots = np.sort(centred)[::-1]
        baseline = query.baseline(lang)
        return [
            _Candidate(
                row=int(pool[i]),
                score=float(slot),
                dense=float(cos[i]),
                bm25=float(lexical[i]),
                evidence=float(cos[i]) - baseline,
            )
            for i, slot in zip(order, slots)
        ]


@dataclass(frozen=True)
class _Candidate:
    """A scored row of the derived index, before its chunk is fetched from Chroma."""

    row: int
    score: float
    dense: float
    bm25: float
    evidence: float


def _top(values: np.ndarray, n: int) -> np.ndarray:
    """Positions of the n largest values (all of them when there are fewer), unordered."""
    if len(values) <= n:
        return np.arange(len(values))
    return np.argpartition(-values, n - 1)[:n]
