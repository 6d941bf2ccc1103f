"""Whether the retrieved evidence answers the question: sentence features and two fitted models.

Every candidate sentence of the retrieved passages gets the same few features in every
language: its dense score against the question (minus the question's similarity to a
corpus-independent reference centroid of the sentence's language) and its margin over the best
sentence of its passage, how many of the question's content words it holds (in its own
language, also weighted by how few of the candidates hold each word; across Arabic and Latin
script, the share of the question's names it holds: assistant/names.py), whether the
question's numbers occur in it (across scripts), and whether it holds what the question word
asks for (a year for "when", a number for "how many"). Headlines and page debris are not
candidates. A sentence model picks the sentence that answers (it is quoted first; fitted
listwise, as a choice among a question's candidates); a decision model, over that sentence's
features and the best of all candidates, gives the probability that the evidence answers.
The answer abstains below `SANAD_MIN_EVIDENCE`. Both are logistic regressions fitted on the
public sets by `benchmarks/fit_evidence.py`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.answer_signals import (
    content_words,
    has_answer_type,
    numbers_in,
    question_type,
)
from assistant.names import cross_script_names
from assistant.query import Query
from assistant.retrieval import ScoredChunk
from index.chunking import is_debris
from index.embedding import Embedder
from index.language import sentence_spans
from index.store import ChunkRecord

MODEL_FILE = Path(__file__).with_name("evidence_model.json")
SENTENCE_FEATURES = (
    "dense",
    "dense_gap",
    "rank_gap",
    "chunk",
    "same_lang",
    "cover",
    "cover_chunk",
    "q_numbers",
    "numbers_matched",
    "type_known",
    "type_missing",
    "log_words",
    "idf_cover",
    "dense_in_chunk",
)
DECISION_FEATURES = (
    "best_logit",
    "best_dense",
    "same_lang",
    "same_lang_dense",
    "chunk",
    "cover",
    "cover_chunk",
    "type_missing",
    "numbers_matched",
    "q_numbers",
    "type_known",
)
_S = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
_MIN_WORDS = 4
_HEADLINE_WORDS = 20
_TERMINAL = ".!?؟…\"'”’»)"


@dataclass(frozen=True)
class Candidate:
    """A content sentence of a retrieved chunk: chunk-local span, features and scores."""

    chunk: ChunkRecord
    start: int
    end: int
    rank: float  # fair dense score of the sentence plus its passage's fused score
    features: np.ndarray  # SENTENCE_FEATURES
    logit: float  # how likely this sentence, of all candidates, is the one that answers
    centred: np.ndarray  # unit vector with the language centroid removed

    @property
    def text(self) -> str:
        """The sentence, exactly as in the document."""
        return self.chunk.text[self.start : self.end]


@dataclass(frozen=True)
class LogisticModel:
    """Standardised logistic regression over named features."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def logit(self, features: np.ndarray) -> np.ndarray:
        """Log-odds for each row of features."""
        return (features - self.mean) / self.scale @ self.weights + self.bias

    def probability(self, features: np.ndarray) -> np.ndarray:
        """Probability for each row of features."""
        return 1.0 / (1.0 + np.exp(-self.logit(features)))

    def to_json(self) -> dict:
        """The few numbers that define the model."""
        return {
            "features": list(self.names),
            "mean": self.mean.round(6).tolist(),
            "scale": self.scale.round(6).tolist(),
            "weights": self.weights.round(6).tolist(),
            "bias": round(float(self.bias), 6),
        }

    @classmethod
    def from_json(cls, data: dict, names: tuple[str, ...]) -> LogisticModel:
        """A model from its numbers; its features must be `names`, in order."""
        if tuple(data["features"]) != names:
            raise ValueError(f"model features {data['features']} != {list(names)}")
        return cls(
            names,
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            np.asarray(data["weights"], dtype=np.float64),
            float(data["bias"]),
        )


@dataclass(frozen=True)
class EvidenceModel:
    """Which sentence answers (sentence model), and whether it does (decision model)."""

    sentence: LogisticModel
    decision: LogisticModel

    def assess(
        self, features: np.ndarray, logits: np.ndarray, eligible: np.ndarray | None = None
    ) -> tuple[int, float]:
        """The answering sentence's row (among eligible ones) and the probability it answers."""
        best = int(np.argmax(logits if eligible is None else np.where(eligible, logits, -np.inf)))
        row = decision_features(features, logits, best)
        return best, float(self.decision.probability(row[None, :])[0])

    def to_json(self) -> dict:
        """Both models' numbers, as from_json reads them."""
        return {"sentence": self.sentence.to_json(), "decision": self.decision.to_json()}

    @classmethod
    def from_json(cls, data: dict) -> EvidenceModel:
        """Both models from the JSON written by benchmarks/fit_evidence.py."""
        return cls(
            LogisticModel.from_json(data["sentence"], SENTENCE_FEATURES),
            LogisticModel.from_json(data["decision"], DECISION_FEATURES),
        )


def decision_features(features: np.ndarray, logits: np.ndarray, best: int) -> np.ndarray:
    """Question-level features: the answering sentence's, and the best over all candidates."""
    chosen = features[best]
    same = chosen[_S["same_lang"]]
    return np.array(
        [
            logits[best],
            features[:, _S["dense"]].max(),
            same,
            same * chosen[_S["dense"]],
            features[:, _S["chunk"]].max(),
            chosen[_S["cover"]],
            chosen[_S["cover_chunk"]],
            chosen[_S["type_missing"]],
            chosen[_S["numbers_matched"]],
            chosen[_S["q_numbers"]],
            chosen[_S["type_known"]],
        ]
    )


@lru_cache(maxsize=1)
def shipped_model() -> EvidenceModel:
    """The fitted models shipped in assistant/evidence_model.json."""
    return EvidenceModel.from_json(json.loads(MODEL_FILE.read_text(encoding="utf-8")))


def is_headline(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is a short line of its own with no sentence-final punctuation.

    Long lines without a final stop are prose (a Wikipedia paragraph ending in "[3]").
    """
    if len(text[start:end].split()) > _HEADLINE_WORDS:
        return False
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    whole_line = not text[line_start:start].strip() and not text[end:line_end].strip()
    return whole_line and text[start:end].rstrip()[-1:] not in _TERMINAL


class EvidenceScorer:
    """Scores the sentences of retrieved passages as answers to a question."""

    def __init__(self, embedder: Embedder, model: EvidenceModel | None = None) -> None:
        self.embedder = embedder
        self.model = model or shipped_model()

    def line_evidence(self, candidates: list[Candidate]) -> np.ndarray:
        """For each candidate alone, the probability that the evidence answers if it is quoted.

        Each sentence is judged as if it were the only candidate: a further line must answer
        by itself, not on the strength of the best passage retrieved.
        """
        rows = [decision_features(c.features[None, :], np.array([c.logit]), 0) for c in candidates]
        return self.model.decision.probability(np.array(rows)) if rows else np.zeros(0)

    def assess(
        self, candidates: list[Candidate], quantity: bool = False
    ) -> tuple[Candidate | None, float]:
        """The sentence that answers best, and the probability that the evidence answers.

        quantity: the question asks "how many"; a sentence that states no quantity is not
        its answer while another candidate states one.
        """
        if not candidates:
            return None, 0.0
        features = np.vstack([c.features for c in candidates])
        eligible = features[:, _S["type_missing"]] == 0 if quantity else None
        if eligible is not None and not eligible.any():
            eligible = None
        logits = np.array([c.logit for c in candidates])
        best, probability = self.model.assess(features, logits, eligible)
        return candidates[best], probability

    def candidates(self, query: Query, passages: list[ScoredChunk]) -> list[Candidate]:
        """Every content sentence of the passages (no headline, no debris), best rank first.

        The question's vector is the query's (embedded once, for retrieval); its words are
        those asked.
        """
        spans = self._spans(passages)
        if not spans:
            return []
        question, language = query.question, query.language
        vectors = self.embedder.embed_sentences([h.chunk.text[s:e] for h, s, e in spans])
        cosine = vectors @ query.vector
        dense = np.array(
            [c - query.baseline(h.chunk.origin.lang) for c, (h, _, _) in zip(cosine, spans)]
        )
        q_words = content_words(question, language)
        q_numbers = numbers_in(question)
        q_type = question_type(question, language)
        ranks = np.array(
            [
                float(c) - query.offset(h.chunk.origin.lang) + h.score
                for c, (h, _, _) in zip(cosine, spans)
            ]
        )
        chunk_cover = {  # once per chunk, not once per sentence of it
            hit.chunk.id: _coverage(
                q_words, question, language, hit.chunk.text, hit.chunk.origin.lang
            )
            for hit, _, _ in spans
        }
        sentences = [hit.chunk.text[start:end] for hit, start, end in spans]
        words = [
            content_words(text, language) if hit.chunk.origin.lang == language else None
            for text, (hit, _, _) in zip(sentences, spans)
        ]
        idf = _idf(q_words, [w for w in words if w is not None])
        chunk_dense: dict[str, float] = {}
        for (hit, _, _), value in zip(spans, dense):
            chunk_dense[hit.chunk.id] = max(value, chunk_dense.get(hit.chunk.id, -np.inf))
        rows = []
        for (hit, _, _), sentence, own, value, rank in zip(spans, sentences, words, dense, ranks):
            same = own is not None
            rows.append(
                [
                    value,
                    value - dense.max(),
                    rank - ranks.max(),
                    hit.evidence,
                    float(same),
                    len(q_words & own) / len(q_words)
                    if same and q_words
                    else _coverage(q_words, question, language, sentence, hit.chunk.origin.lang),
                    chunk_cover[hit.chunk.id],
                    float(bool(q_numbers)),
                    len(q_numbers & numbers_in(sentence)) / len(q_numbers) if q_numbers else 0.0,
                    float(q_type is not None),
                    float(
                        q_type is not None
                        and not has_answer_type(sentence, hit.chunk.origin.lang, q_type)
                    ),
                    math.log(len(sentence.split())),
                    sum(idf[w] for w in q_words & own) / sum(idf.values()) if same and idf else 0.0,
                    value - chunk_dense[hit.chunk.id],
                ]
            )
        features = np.asarray(rows, dtype=np.float64)
        logits = self.model.sentence.logit(features)
        out = []
        for i, ((hit, start, end), vector) in enumerate(zip(spans, vectors)):
            centred = vector - query.centroids.get(hit.chunk.origin.lang, 0.0)
            centred /= max(float(np.linalg.norm(centred)), 1e-12)
            out.append(
                Candidate(
                    hit.chunk, start, end, float(ranks[i]), features[i], float(logits[i]), centred
                )
            )
        out.sort(key=lambda c: -c.rank)
        return out

    @staticmethod
    def _spans(passages: list[ScoredChunk]) -> list[tuple[ScoredChunk, int, int]]:
        """Chunk-local spans of the passages' content sentences, each sentence once."""
        spans: list[tuple[ScoredChunk, int, int]] = []
        seen: set[tuple[str, int]] = set()  # overlapping chunks repeat a sentence
        for hit in passages:
            text = hit.chunk.text
            for start, end in sentence_spans(text):
                sentence = text[start:end]
                where = (hit.chunk.doc_id, hit.chunk.start + start)
                if (
                    len(sentence.split()) >= _MIN_WORDS
                    and where not in seen
                    and not is_debris(sentence)
                    and not is_headline(text, start, end)
                ):
                    seen.add(where)
                    spans.append((hit, start, end))
        return spans


def _idf(q_words: set[str], sentences: list[set[str]]) -> dict[str, float]:
    """Weight of each question word by how few of the candidate sentences hold it: a word
    every sentence on the topic repeats says little about which one answers."""
    n = len(sentences)
    return {w: math.log((n + 1) / (sum(w in s for s in sentences) + 0.5)) for w in q_words}


def _coverage(q_words: set[str], question: str, language: str, text: str, lang: str) -> float:
    """Share of the question's words the text holds: content words in the question's language,
    names across Arabic and Latin script, nothing for other pairs (English/Indonesian)."""
    if lang == language:
        return len(q_words & content_words(text, lang)) / len(q_words) if q_words else 0.0
    return cross_script_names(question, language, text, lang)
