"""Read-side indexes derived from Chroma's chunks: the vector matrix, BM25, language centroids."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from index.language import LANGS, normalize_for_search
from index.store import Store

_WORD = re.compile(r"\w+")
_STEMMERS = {"ar": "arabic", "en": "english", "id": "indonesian"}


def _stemmer(lang: str) -> Stemmer.Stemmer | None:
    name = _STEMMERS.get(lang)
    return Stemmer.Stemmer(name) if name else None


def lexical_tokens(text: str, lang: str) -> list[str]:
    """Words of a passage for BM25: normalised (Arabic diacritics, alef forms) and stemmed."""
    words = _WORD.findall(normalize_for_search(text))
    stemmer = _stemmer(lang)
    return stemmer.stemWords(words) if stemmer else words


def query_tokens(text: str) -> list[str]:
    """Words of a question for BM25, stemmed by every language's stemmer (the union)."""
    words = _WORD.findall(normalize_for_search(text))
    tokens = set(words)
    for lang in LANGS:
        tokens.update(_stemmer(lang).stemWords(words))
    return sorted(tokens)


PRIOR_FILE = Path(__file__).with_name("language_prior.npz")


def load_language_prior(model_name: str, path: Path = PRIOR_FILE) -> dict[str, np.ndarray]:
    """Reference language centroids for the model (empty for any other model)."""
    if not path.exists():
        return {}
    with np.load(path) as data:
        if str(data["model"]) != model_name:
            return {}
        return {lang: data[lang] for lang in data.files if lang != "model"}


def shrunk_centroids(
    embeddings: np.ndarray,
    langs: np.ndarray,
    prior: dict[str, np.ndarray],
    prior_chunks: float,
) -> dict[str, np.ndarray]:
    """Per-language mean vectors, shrunk toward reference centroids by `prior_chunks`.

    A small corpus cannot tell a language's mean from its topic (one English article about
    one event); the reference centroid, from topically diverse text, stands in for it until
    the corpus holds enough chunks of that language to speak for itself.
    """
    out = {}
    for lang in sorted(set(langs.tolist())):
        rows = embeddings[langs == lang]
        if lang in prior and prior_chunks > 0:
            ref = prior[lang].astype(np.float32)
            out[lang] = (rows.sum(axis=0) + prior_chunks * ref) / (len(rows) + prior_chunks)
        else:
            out[lang] = rows.mean(axis=0)
    return out


@dataclass
class DerivedIndex:
    """Read-side copies of Chroma's chunks (vectors, BM25, centroids), rebuilt on change."""

    fingerprint: tuple[int, int, int]
    ids: list[str]
    langs: np.ndarray
    doc_ids: np.ndarray
    embeddings: np.ndarray
    centroids: dict[str, np.ndarray] = field(default_factory=dict)
    bm25: bm25s.BM25 | None = None
    rows_by_lang: dict[str, np.ndarray] = field(default_factory=dict)
    doc_codes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @classmethod
    def build(
        cls,
        store: Store,
        prior: dict[str, np.ndarray] | None = None,
        prior_chunks: float = 50.0,
    ) -> DerivedIndex:
        """Read every chunk from the store; build the vector matrix, BM25 and the centroids."""
        fingerprint = store.generation()
        ids: list[str] = []
        langs: list[str] = []
        doc_ids: list[str] = []
        tokens: list[list[str]] = []
        vectors: list[np.ndarray] = []
        for page_ids, metas, got in store.iter_chunks(include_embeddings=True):
            ids += page_ids
            langs += [m.get("lang", "other") for m in metas]
            doc_ids += [m["doc_id"] for m in metas]
            tokens += [
                lexical_tokens(t, m.get("lang", "other")) for t, m in zip(got["documents"], metas)
            ]
            vectors.append(np.asarray(got["embeddings"], dtype=np.float32))
        order = sorted(range(len(ids)), key=ids.__getitem__)  # rows in chunk-id order
        embeddings = (
            np.vstack(vectors)[order] if vectors else np.zeros((0, 1), dtype=np.float32)
        )
        lang_arr = np.array([langs[i] for i in order], dtype=object)
        index = cls(
            fingerprint=fingerprint,
            ids=[ids[i] for i in order],
            langs=lang_arr,
            doc_ids=np.array([doc_ids[i] for i in order], dtype=object),
            doc_codes=np.unique([doc_ids[i] for i in order], return_inverse=True)[1]
            if ids
            else np.zeros(0, dtype=np.int64),
            embeddings=embeddings,
            centroids=shrunk_centroids(embeddings, lang_arr, prior or {}, prior_chunks),
            rows_by_lang={
                lang: np.flatnonzero(lang_arr == lang) for lang in sorted(set(langs))
            },
        )
        if ids:
            index.bm25 = bm25s.BM25()
            index.bm25.index([tokens[i] for i in order], show_progress=False)
        return index

    def allowed_rows(
        self, doc_ids: Sequence[str] | None, exclude_doc_ids: Sequence[str] | None
    ) -> np.ndarray | None:
        """A mask of the rows the document filters allow (None: no filter)."""
        if not doc_ids and not exclude_doc_ids:
            return None
        mask = np.ones(len(self.ids), dtype=bool)
        if doc_ids:
            mask &= np.isin(self.doc_ids, list(doc_ids))
        if exclude_doc_ids:
            mask &= ~np.isin(self.doc_ids, list(exclude_doc_ids))
        return mask

    def document_means(self, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """For each row, the mean of `values` over the rows of its document (among `rows`)."""
        codes = self.doc_codes[rows]
        sums = np.bincount(codes, weights=values[rows])
        counts = np.bincount(codes)
        return (sums[codes] / counts[codes]).astype(np.float32)

    def bm25_scores(self, question: str) -> np.ndarray:
        """BM25 score of every chunk (in `ids` order) for the question."""
        if self.bm25 is None:
            return np.zeros(0, dtype=np.float32)
        vocab = self.bm25.vocab_dict
        known = [t for t in query_tokens(question) if t in vocab]
        if not known:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(known), dtype=np.float32)
