"""Answerers: turn retrieved passages into an Answer whose statements cite exact spans.

ExtractiveAnswerer (default, no LLM) quotes the evidence sentences verbatim. A point that
several articles make, in any language, is quoted once and cited to each of them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from assistant.citations import Answer, Citation, citation_id
from assistant.messages import NO_EVIDENCE, say
from assistant.retrieval import Retriever, ScoredChunk
from index.chunking import is_debris
from index.language import sentence_spans
from index.store import ChunkRecord


class Answerer(Protocol):
    """Anything that answers from retrieved passages."""

    mode: str

    def answer(self, question: str, language: str, passages: list[ScoredChunk]) -> Answer:
        """A complete answer."""
        ...

    def stream(
        self, question: str, language: str, passages: list[ScoredChunk]
    ) -> Iterator[str | Answer]:
        """Text deltas as they come, then the final Answer."""
        ...


def make_citation(n: int, chunk: ChunkRecord, start: int, end: int) -> Citation:
    """A citation of chunk-local span [start, end): offsets become document offsets."""
    return Citation(
        id=citation_id(chunk.doc_id, chunk.start + start, chunk.start + end),
        n=n,
        doc_id=chunk.doc_id,
        source=chunk.source,
        title=chunk.title,
        lang=chunk.lang,
        start=chunk.start + start,
        end=chunk.start + end,
        quote=chunk.text[start:end],
    )


def abstain(question: str, language: str, mode: str = "extractive") -> Answer:
    """The honest answer when the corpus holds no evidence: no citations."""
    return Answer(
        question=question,
        language=language,
        text=say(NO_EVIDENCE, language),
        grounded=False,
        mode=mode,
    )


@dataclass(frozen=True)
class _Sentence:
    chunk: ChunkRecord
    start: int  # chunk-local
    end: int
    score: float
    centred: np.ndarray  # unit vector with the language centroid removed


class ExtractiveAnswerer:
    """Quotes the strongest evidence sentences; abstains when the evidence is weak."""

    mode = "extractive"

    def __init__(
        self,
        retriever: Retriever,
        min_score: float,
        max_points: int = 3,
        same_point: float = 0.22,
        duplicate: float = 0.9,
        point_margin: float = 0.04,
        support_margin: float = 0.3,
    ) -> None:
        self.retriever = retriever
        self.min_score = min_score
        self.max_points = max_points
        self.same_point = same_point
        self.duplicate = duplicate
        self.support_margin = support_margin
        self.point_margin = point_margin

    def answer(self, question: str, language: str, passages: list[ScoredChunk]) -> Answer:
        """Quote the evidence sentences with their markers, or abstain."""
        started = time.perf_counter()
        if not passages or max(p.evidence for p in passages) < self.min_score:
            return abstain(question, language)
        sentences = self._score_sentences(question, passages)
        if not sentences:
            return abstain(question, language)
        points = self._points(sentences)
        citations: list[Citation] = []
        lines: list[str] = []
        for group in points:
            markers = []
            for sentence in group:
                n = len(citations) + 1
                citations.append(make_citation(n, sentence.chunk, sentence.start, sentence.end))
                markers.append(f"[{n}]")
            quote = group[0].chunk.text[group[0].start : group[0].end]
            lines.append(f"“{quote}” {''.join(markers)}")
        return Answer(
            question=question,
            language=language,
            text="\n".join(lines),
            grounded=True,
            citations=citations,
            timings_ms={"compose_ms": (time.perf_counter() - started) * 1000},
        )

    def stream(
        self, question: str, language: str, passages: list[ScoredChunk]
    ) -> Iterator[str | Answer]:
        """The extractive answer is ready at once: its text, then the answer."""
        answer = self.answer(question, language, passages)
        yield answer.text
        yield answer

    def _score_sentences(self, question: str, passages: list[ScoredChunk]) -> list[_Sentence]:
        """Every content sentence of the passages, scored fairly against the question."""
        spans: list[tuple[ScoredChunk, int, int]] = []
        seen: set[tuple[str, int]] = set()  # overlapping chunks repeat a sentence
        for hit in passages:
            for start, end in sentence_spans(hit.chunk.text):
                text = hit.chunk.text[start:end]
                where = (hit.chunk.doc_id, hit.chunk.start + start)
                if len(text.split()) >= 4 and not is_debris(text) and where not in seen:
                    seen.add(where)
                    spans.append((hit, start, end))
        if not spans:
            return []
        embedder = self.retriever.embedder
        query = embedder.embed_queries([question])[0]
        vectors = embedder.embed_sentences([h.chunk.text[s:e] for h, s, e in spans])
        centroids = self.retriever.derived().centroids
        out = []
        for (hit, start, end), vector in zip(spans, vectors):
            centroid = centroids[hit.chunk.lang]
            offset = float(query @ centroid) if self.retriever.fair else 0.0
            score = float(vector @ query) - offset + hit.score
            centred = vector - centroid
            centred /= max(float(np.linalg.norm(centred)), 1e-12)
            out.append(_Sentence(hit.chunk, start, end, score, centred))
        out.sort(key=lambda s: -s.score)
        return out

    def _points(self, sentences: list[_Sentence]) -> list[list[_Sentence]]:
        """The strongest distinct sentences, each with the same point in other articles.

        Similarity between sentences is measured on language-centred vectors, so that a
        translation in another language is as close as a paraphrase in the same language.
        """
        best = sentences[0].score
        heads: list[_Sentence] = []
        for sentence in sentences:
            if len(heads) == self.max_points or sentence.score < best - self.point_margin:
                break
            if all(_similar(h, sentence) < self.duplicate for h in heads):
                heads.append(sentence)
        used = {id(h) for h in heads}
        groups = []
        for head in heads:
            group = [head]
            for doc_id in dict.fromkeys(s.chunk.doc_id for s in sentences):
                others = [
                    s
                    for s in sentences
                    if s.chunk.doc_id == doc_id
                    and id(s) not in used
                    and s.score >= head.score - self.support_margin
                ]
                if doc_id == head.chunk.doc_id or not others:
                    continue
                match = max(others, key=lambda s: _similar(s, head))
                if _similar(match, head) >= self.same_point:
                    group.append(match)  # the same point in another article: cite it too
                    used.add(id(match))
            groups.append(group)
        return groups


def _similar(a: _Sentence, b: _Sentence) -> float:
    """Cosine of two sentences' language-centred vectors."""
    return float(a.centred @ b.centred)
