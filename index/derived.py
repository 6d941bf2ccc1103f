"""Read-side indexes derived from Chroma's committed chunks: vectors, BM25, language centroids.

`DerivedIndex` holds them in structures that only grow at the end (rows are appended, a deleted
document's rows are marked dead), so that adding or deleting a document costs time in proportion
to its chunks. `IndexView` is what a search reads: a fixed number of rows and its own alive mask,
unaffected by the updates that follow it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from index.filters import DocFacts, Filters, facts_of
from index.lexical import LexicalIndex, lexical_tokens
from index.store import Change, Store

PRIOR_FILE = Path(__file__).with_name("language_prior.npz")
_BLOCK = 8192  # vector rows per block: appending never copies the matrix


def load_language_prior(model_name: str, path: Path = PRIOR_FILE) -> dict[str, np.ndarray]:
    """Reference language centroids for the model (empty for any other model)."""
    if not path.exists():
        return {}
    with np.load(path) as data:
        if str(data["model"]) != model_name:
            return {}
        return {lang: data[lang] for lang in data.files if lang != "model"}


def shrunk_centroid(
    total: np.ndarray, count: int, reference: np.ndarray | None, prior_chunks: float
) -> np.ndarray:
    """A language's mean vector from its sum and count, shrunk toward a reference centroid.

    A small corpus cannot tell a language's mean from its topic (one English article about
    one event); the reference centroid, from topically diverse text, stands in for it until
    the corpus holds enough chunks of that language to speak for itself.
    """
    if reference is not None and prior_chunks > 0:
        mean = (total + prior_chunks * reference.astype(np.float64)) / (count + prior_chunks)
    else:
        mean = total / max(count, 1)
    return mean.astype(np.float32)


class _Column:
    """A growable 1-d array: appends write past the rows that views already hold."""

    def __init__(self, dtype: Any) -> None:
        self.data = np.zeros(64, dtype=dtype)
        self.size = 0

    def extend(self, values: Sequence[Any]) -> None:
        """Append values, doubling the capacity when needed."""
        end = self.size + len(values)
        if end > len(self.data):
            grown = np.zeros(max(end, 2 * len(self.data)), dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : end] = values
        self.size = end


class _Vectors:
    """Row vectors in fixed-size blocks, so that appending never copies what is stored."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.blocks: list[np.ndarray] = []
        self.size = 0

    def extend(self, rows: np.ndarray) -> None:
        """Append row vectors."""
        done = 0
        while done < len(rows):
            if self.size == len(self.blocks) * _BLOCK:
                self.blocks.append(np.zeros((_BLOCK, self.dim), dtype=np.float32))
            at = self.size % _BLOCK
            take = min(_BLOCK - at, len(rows) - done)
            self.blocks[-1][at : at + take] = rows[done : done + take]
            done += take
            self.size += take

    def dot(self, query: np.ndarray, n: int) -> np.ndarray:
        """The first n rows times the query."""
        parts = [
            block[: min(_BLOCK, n - i * _BLOCK)] @ query
            for i, block in enumerate(self.blocks)
            if i * _BLOCK < n
        ]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of the given rows."""
        return np.stack([self.blocks[row // _BLOCK][row % _BLOCK] for row in rows])

    def rows(self, n: int) -> np.ndarray:
        """A copy of the first n rows as one matrix."""
        if not n:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack(self.blocks)[:n]


class DerivedIndex:
    """Chunks of the committed documents as of `generation`, updated document by document."""

    def __init__(
        self, dim: int, prior: dict[str, np.ndarray] | None = None, prior_chunks: float = 50.0
    ) -> None:
        self.generation = -1
        self.prior = prior or {}
        self.prior_chunks = prior_chunks
        self.ids: list[str] = []
        self.row_docs: list[str] = []
        self.lang_names: list[str] = []
        self.collection_names: list[str] = []
        self._vectors = _Vectors(dim)
        self._langs = _Column(np.int16)
        self._collections = _Column(np.int16)  # per row: a caller's collections mask it fast
        self._docs = _Column(np.int32)
        self._lengths = _Column(np.float32)
        self._alive = _Column(np.bool_)
        self._doc_codes: dict[str, int] = {}
        self._doc_rows: dict[str, np.ndarray] = {}
        self._doc_facts: dict[str, DocFacts] = {}
        self._sums: dict[str, np.ndarray] = {}
        self._counts: dict[str, int] = {}
        self.lexical = LexicalIndex()
        self.dead = 0
        self._view: IndexView | None = None

    @property
    def documents(self) -> int:
        """How many documents the index holds."""
        return len(self._doc_rows)

    @property
    def rows(self) -> int:
        """Rows stored, dead ones included."""
        return len(self.ids)

    @classmethod
    def build(
        cls,
        store: Store,
        dim: int,
        prior: dict[str, np.ndarray] | None = None,
        prior_chunks: float = 50.0,
    ) -> DerivedIndex:
        """Read every committed document's chunks from the store (the full rebuild)."""
        index = cls(dim, prior, prior_chunks)
        index.generation = store.head()[0]
        expected = {d.doc_id: d.n_chunks for d in store.documents()}
        pages = [got for _, _, got in store.iter_chunks(include_embeddings=True)]
        index._add_complete(pages, expected)
        return index

    def apply(self, store: Store, changes: list[Change], generation: int) -> None:
        """Bring the index to `generation` by replaying the change log's entries up to it."""
        final = {change.doc_id: change.op for change in changes}
        for doc_id in final:
            self._remove(doc_id)
        added = [doc_id for doc_id, op in final.items() if op == "add"]
        if added:
            expected = {d.doc_id: d.n_chunks for d in store.documents(added)}
            self._add_complete(list(store.chunks_of(added)), expected)
        self.generation = generation
        self._view = None

    def _add_complete(self, pages: list[dict[str, Any]], expected: dict[str, int]) -> None:
        """Add the documents of `expected` whose chunks in `pages` are all there."""
        chunks: dict[str, list[tuple[int, str, str, dict[str, Any], Any]]] = {}
        for got in pages:
            for cid, text, meta, vector in zip(
                got["ids"], got["documents"], got["metadatas"], got["embeddings"]
            ):
                if meta["doc_id"] in expected:
                    chunks.setdefault(meta["doc_id"], []).append(
                        (int(meta["n"]), cid, text, meta, vector)
                    )
        for doc_id in sorted(chunks):
            parts = sorted(chunks[doc_id], key=lambda part: part[0])
            if len(parts) == expected[doc_id]:
                self._add(doc_id, parts)
        self._view = None

    def _add(self, doc_id: str, parts: list[tuple[int, str, str, dict[str, Any], Any]]) -> None:
        """Append one document's chunks (ordered by position)."""
        self._remove(doc_id)
        start = len(self.ids)
        code = self._doc_codes.setdefault(doc_id, len(self._doc_codes))
        vectors = np.asarray([part[4] for part in parts], dtype=np.float32)
        langs, lengths = [], []
        for row, (_, cid, text, meta, _) in enumerate(parts, start):
            lang = str(meta.get("lang", "other"))
            if lang not in self.lang_names:
                self.lang_names.append(lang)
            langs.append(self.lang_names.index(lang))
            lengths.append(self.lexical.add(row, lexical_tokens(text, lang)))
            self.ids.append(cid)
            self.row_docs.append(doc_id)
            self._sums[lang] = self._sums.get(lang, 0.0) + vectors[row - start].astype(np.float64)
            self._counts[lang] = self._counts.get(lang, 0) + 1
        self._vectors.extend(vectors)
        self._langs.extend(langs)
        self._docs.extend([code] * len(parts))
        facts = facts_of(parts[0][3])
        if facts.collection not in self.collection_names:
            self.collection_names.append(facts.collection)
        self._collections.extend([self.collection_names.index(facts.collection)] * len(parts))
        self._lengths.extend(lengths)
        self._alive.extend([True] * len(parts))
        self._doc_rows[doc_id] = np.arange(start, len(self.ids))
        self._doc_facts[doc_id] = facts

    def _remove(self, doc_id: str) -> None:
        """Mark a document's rows dead (a new alive mask: views keep theirs)."""
        rows = self._doc_rows.pop(doc_id, None)
        if rows is None:
            return
        del self._doc_facts[doc_id]
        for row, vector in zip(rows, self._vectors.take(rows).astype(np.float64)):
            lang = self.lang_names[int(self._langs.data[row])]
            self._sums[lang] = self._sums[lang] - vector
            self._counts[lang] -= 1
        alive = self._alive.data.copy()
        alive[rows] = False
        self._alive.data = alive
        self.dead += len(rows)
        self._view = None

    def view(self) -> IndexView:
        """An immutable snapshot of the current rows for searching."""
        if self._view is None:
            n = len(self.ids)
            centroids = {
                lang: shrunk_centroid(
                    self._sums[lang], count, self.prior.get(lang), self.prior_chunks
                )
                for lang, count in self._counts.items()
                if count > 0
            }
            self._view = IndexView(
                generation=self.generation,
                ids=self.ids,
                doc_ids=self.row_docs,
                n=n,
                alive=self._alive.data[:n],
                langs=self._langs.data[:n],
                lang_names=tuple(self.lang_names),
                collections=self._collections.data[:n],
                collection_names=tuple(self.collection_names),
                docs=self._docs.data[:n],
                doc_codes=dict(self._doc_codes),
                doc_facts=dict(self._doc_facts),
                lengths=self._lengths.data[:n],
                vectors=self._vectors,
                lexical=self.lexical,
                centroids=centroids,
            )
        return self._view


@dataclass(eq=False)  # identity: a view is one moment of one index
class IndexView:
    """The rows a search sees: the first `n` rows and the alive mask of one moment.

    `ids`, `doc_ids` and `vectors` are shared with the index, which only appends to them: a
    view reads rows below `n` only.
    """

    generation: int
    ids: list[str]
    doc_ids: list[str]
    n: int
    alive: np.ndarray
    langs: np.ndarray
    lang_names: tuple[str, ...]
    collections: np.ndarray
    collection_names: tuple[str, ...]
    docs: np.ndarray
    doc_codes: dict[str, int]
    doc_facts: dict[str, DocFacts]
    lengths: np.ndarray
    vectors: _Vectors
    lexical: LexicalIndex
    centroids: dict[str, np.ndarray]

    def __len__(self) -> int:
        """Live chunks."""
        return int(self.alive.sum())

    def chunk_ids(self) -> list[str]:
        """The ids of the live chunks."""
        return [self.ids[row] for row in np.flatnonzero(self.alive)]

    def cosine(self, query: np.ndarray) -> np.ndarray:
        """Every row's vector times the (normalised) query."""
        return self.vectors.dot(query, self.n)

    def embeddings(self) -> np.ndarray:
        """The live rows' vectors as one matrix (a copy, for inspection)."""
        return self.vectors.rows(self.n)[self.alive]

    @cached_property
    def rows_by_lang(self) -> dict[str, np.ndarray]:
        """The live rows of each language."""
        out = {}
        for code, lang in enumerate(self.lang_names):
            rows = np.flatnonzero((self.langs == code) & self.alive)
            if len(rows):
                out[lang] = rows
        return dict(sorted(out.items()))

    def allowed_rows(
        self, filters: Filters, exclude_doc_ids: Sequence[str] | None = None
    ) -> np.ndarray | None:
        """A mask of the rows the document filters allow (None: no filter).

        A filter of collections alone (a caller's rights) is one vectorised test of the rows'
        collection codes; other filters test each document's facts.
        """
        if not filters.restricts_documents and not exclude_doc_ids:
            return None
        if filters.collections is not None and not exclude_doc_ids:
            named = replace(filters, collections=None)
            if not named.restricts_documents:
                codes = [
                    code
                    for code, name in enumerate(self.collection_names)
                    if name in filters.collections
                ]
                return np.isin(self.collections, codes)
        excluded = set(exclude_doc_ids or ())
        candidates = filters.doc_ids or self.doc_facts  # few named documents: test only those
        codes = [
            self.doc_codes[doc_id]
            for doc_id in candidates
            if doc_id in self.doc_facts
            and doc_id not in excluded
            and filters.allows(doc_id, self.doc_facts[doc_id])
        ]
        return np.isin(self.docs, codes)

    def document_means(self, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """For each row, the mean of `values` over the rows of its document (among `rows`)."""
        codes = self.docs[rows]
        sums = np.bincount(codes, weights=values[rows])
        counts = np.bincount(codes)
        return (sums[codes] / counts[codes]).astype(np.float32)

    def bm25_scores(self, question: str) -> np.ndarray:
        """BM25 score of every row for the question (dead rows score 0)."""
        return self.lexical.scores(question, self.alive, self.lengths)
