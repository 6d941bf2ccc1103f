"""Whether one sentence says what another says: the test behind every extra marker on a line.

An extra marker claims "this passage says the same thing". It is decided per sentence pair by
a logistic regression over a few signals that mean the same in every language pair:
- the cosine of the two sentences' language-centred vectors (a translation is as close as a
  paraphrase), and its margin over each sentence's nearest other candidates (a sentence that
  is close to everything on the topic is not a translation of any of them);
- whether each is the other's best match within the other's article;
- numbers that must agree across scripts ("١٩٩٩" = "1999") and names matched by consonant
  skeletons across Arabic and Latin script (assistant/names.py).
The model is fitted on XQuAD's parallel articles by `python -m benchmarks.corroboration
--write` (held-out figures in the README); a pair counts when its probability reaches
`threshold`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.answer_signals import numbers_in
from assistant.evidence import Candidate, LogisticModel
from assistant.names import name_agreement

MODEL_FILE = Path(__file__).with_name("corroboration_model.json")
PAIR_FEATURES = (
    "cosine",
    "margin",
    "mutual_best",
    "numbers_shared",
    "numbers_one_side",
    "numbers_conflict",
    "names",
    "names_known",
)
_NEIGHBOURS = 3


class Corroborator:
    """Probabilities that candidate sentences of different documents say the same thing."""

    def __init__(self, model: LogisticModel, threshold: float) -> None:
        self.model = model
        self.threshold = threshold

    def probabilities(self, candidates: list[Candidate]) -> np.ndarray:
        """Matrix P[i, j] that sentence j says what sentence i says (0 within one document)."""
        n = len(candidates)
        out = np.zeros((n, n))
        if n < 2:
            return out
        rows, pairs = pair_rows(candidates)
        if pairs:
            p = self.model.probability(rows)
            for (i, j), value in zip(pairs, p):
                out[i, j] = out[j, i] = value
        return out

    @classmethod
    def from_json(cls, data: dict) -> Corroborator:
        """The model and threshold written by benchmarks/corroboration.py."""
        return cls(LogisticModel.from_json(data["model"], PAIR_FEATURES), float(data["threshold"]))


@lru_cache(maxsize=1)
def shipped_corroborator() -> Corroborator:
    """The fitted pair model shipped in assistant/corroboration_model.json."""
    return Corroborator.from_json(json.loads(MODEL_FILE.read_text(encoding="utf-8")))


def pair_rows(candidates: list[Candidate]) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """PAIR_FEATURES of every pair (i < j) of sentences from different documents."""
    vectors = np.vstack([c.centred for c in candidates])
    cosine = vectors @ vectors.T
    docs = np.array([c.chunk.doc_id for c in candidates])
    other = docs[:, None] != docs[None, :]
    neighbours = np.array([_mean_top(cosine[i][other[i]]) for i in range(len(candidates))])
    best_in_doc = _best_in_documents(cosine, docs)
    numbers = [numbers_in(c.text) for c in candidates]
    rows, pairs = [], []
    for i in range(len(candidates)):
        for j in range(i + 1, len(candidates)):
            if not other[i, j]:
                continue
            a, b = candidates[i], candidates[j]
            shared, one_side, conflict = _number_agreement(numbers[i], numbers[j])
            names, known = name_agreement(a.text, a.chunk.origin.lang, b.text, b.chunk.origin.lang)
            rows.append(
                [
                    cosine[i, j],
                    cosine[i, j] - (neighbours[i] + neighbours[j]) / 2,
                    float(best_in_doc[i, j] and best_in_doc[j, i]),
                    shared,
                    one_side,
                    conflict,
                    names,
                    known,
                ]
            )
            pairs.append((i, j))
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(PAIR_FEATURES)), pairs


def _mean_top(values: np.ndarray) -> float:
    """Mean of the few largest values (0 when there are none)."""
    if not len(values):
        return 0.0
    k = min(_NEIGHBOURS, len(values))
    return float(np.sort(values)[-k:].mean())


def _best_in_documents(cosine: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """B[i, j]: j is the sentence of its document closest to sentence i."""
    best = np.zeros_like(cosine, dtype=bool)
    for doc in set(docs.tolist()):
        columns = np.flatnonzero(docs == doc)
        winners = columns[np.argmax(cosine[:, columns], axis=1)]
        best[np.arange(len(docs)), winners] = True
    return best


def _number_agreement(a: set[str], b: set[str]) -> tuple[float, float, float]:
    """Share of shared numbers, whether only one side has any, whether both have but none agree."""
    if not a and not b:
        return 0.0, 0.0, 0.0
    if not a or not b:
        return 0.0, 1.0, 0.0
    shared = len(a & b) / len(a | b)
    return shared, 0.0, float(shared == 0.0)
