"""BM25 that grows and shrinks with the corpus: postings appended per chunk, scored at query time.

bm25s (the reference this index is tested against) bakes the corpus statistics (document count,
document frequencies, mean length) into its score matrix when it indexes, so a change to the
corpus means indexing everything again. Here the postings keep raw term counts, and the
statistics are read at query time from the rows that are alive, so adding or deleting chunks
costs time in proportion to the change and the scores equal bm25s's on the same rows (Lucene
variant, k1 = 1.5, b = 0.75).
"""

from __future__ import annotations

import re
import threading
from array import array
from collections import Counter
from functools import cache

import numpy as np
import Stemmer

from index.language import LANGS, normalize_for_search

K1 = 1.5
B = 0.75
_WORD = re.compile(r"\w+")
_STEMMERS = {"ar": "arabic", "en": "english", "id": "indonesian"}


@cache
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


class LexicalIndex:
    """Term postings (row, count) over rows numbered by the caller; rows are only appended.

    Readers score against a prefix of the rows and an alive mask that they hold, so rows
    appended after they started never reach them.
    """

    def __init__(self) -> None:
        self._rows: dict[str, array] = {}
        self._counts: dict[str, array] = {}
        self._lock = threading.Lock()  # appends against the copies readers take

    def add(self, row: int, tokens: list[str]) -> int:
        """Index one chunk's tokens under `row`; returns the chunk's length in tokens."""
        with self._lock:
            for term, count in Counter(tokens).items():
                rows = self._rows.get(term)
                if rows is None:
                    rows = self._rows[term] = array("i")
                    self._counts[term] = array("f")
                rows.append(row)
                self._counts[term].append(count)
        return len(tokens)

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Copies of a term's rows and counts (empty for an unknown term)."""
        with self._lock:
            rows = self._rows.get(term)
            if rows is None:
                return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
            return np.array(rows, dtype=np.int32), np.array(self._counts[term], dtype=np.float32)

    def scores(self, question: str, alive: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """BM25 of every row of `alive` (False rows score 0) for the question's tokens.

        `lengths` are the rows' token counts; N and the mean length are over the alive rows.
        """
        n = len(alive)
        out = np.zeros(n, dtype=np.float32)
        docs = int(alive.sum())
        if not docs:
            return out
        mean_length = float(lengths[alive].sum()) / docs
        for term in query_tokens(question):
            rows, counts = self.postings(term)
            keep = rows < n
            rows, counts = rows[keep], counts[keep]
            keep = alive[rows]
            rows, counts = rows[keep], counts[keep]
            if not len(rows):
                continue
            idf = np.log(1 + (docs - len(rows) + 0.5) / (len(rows) + 0.5))
            norm = K1 * ((1 - B) + B * lengths[rows] / mean_length)
            out[rows] += (idf * counts / (norm + counts)).astype(np.float32)
        return out
