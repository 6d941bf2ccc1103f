"""Answerers: turn retrieved passages into an Answer whose statements cite exact spans.

ExtractiveAnswerer (default, no LLM) quotes the evidence sentences verbatim. A point that
several articles make, in any language, is quoted once and cited to each of them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Protocol

from assistant.citations import Answer, Citation, citation_id
from assistant.evidence import Candidate, EvidenceScorer
from assistant.messages import NO_EVIDENCE, say
from assistant.retrieval import Retriever, ScoredChunk
from index.language import sentence_spans
from index.store import ChunkRecord

_OPEN_ENDINGS = ":,،;؛-–—"


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
        site=chunk.site,
        published=chunk.published,
        url=chunk.url,
        page=chunk.page_at(chunk.start + start),
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


class ExtractiveAnswerer:
    """Quotes the sentence that answers first, then other strong points; abstains otherwise."""

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
        scorer: EvidenceScorer | None = None,
    ) -> None:
        self.scorer = scorer or EvidenceScorer(retriever)
        self.min_score = min_score
        self.max_points = max_points
        self.same_point = same_point
        self.duplicate = duplicate
        self.support_margin = support_margin
        self.point_margin = point_margin

    def decide(
        self, question: str, language: str, passages: list[ScoredChunk]
    ) -> tuple[list[Candidate], Candidate | None, float]:
        """The scored sentences, the one that answers (None: abstain) and the evidence."""
        sentences = self.scorer.candidates(question, language, passages) if passages else []
        best, evidence = self.scorer.assess(sentences)
        return sentences, best if evidence >= self.min_score else None, evidence

    def answer(self, question: str, language: str, passages: list[ScoredChunk]) -> Answer:
        """Quote the evidence sentences with their markers, or abstain."""
        started = time.perf_counter()
        sentences, best, evidence = self.decide(question, language, passages)
        if best is None:
            return abstain(question, language).model_copy(update={"evidence": evidence})
        citations: list[Citation] = []
        lines: list[str] = []
        for group in self._points(sentences, best):
            markers = []
            for sentence in group:
                n = len(citations) + 1
                start, end = sentence.start, sentence.end
                if sentence is group[0]:
                    end = continued_end(sentence.chunk.text, start, end)
                citations.append(make_citation(n, sentence.chunk, start, end))
                markers.append(f"[{n}]")
            lines.append(f"“{citations[-len(group)].quote}” {''.join(markers)}")
        return Answer(
            question=question,
            language=language,
            text="\n".join(lines),
            grounded=True,
            citations=citations,
            evidence=evidence,
            timings_ms={"compose_ms": (time.perf_counter() - started) * 1000},
        )

    def stream(
        self, question: str, language: str, passages: list[ScoredChunk]
    ) -> Iterator[str | Answer]:
        """The extractive answer is ready at once: its text, then the answer."""
        answer = self.answer(question, language, passages)
        yield answer.text
        yield answer

    def _points(self, sentences: list[Candidate], best: Candidate) -> list[list[Candidate]]:
        """The answering sentence, then other strong distinct ones, each with its support.

        The same point in another article (compared on language-centred vectors, so that a
        translation is as close as a paraphrase) is cited on the same line.
        """
        top = sentences[0].rank
        heads: list[Candidate] = [best]
        for sentence in sentences:
            if len(heads) == self.max_points or sentence.rank < top - self.point_margin:
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
                    and s.rank >= head.rank - self.support_margin
                ]
                if doc_id == head.chunk.doc_id or not others:
                    continue
                match = max(others, key=lambda s: _similar(s, head))
                if _similar(match, head) >= self.same_point:
                    group.append(match)  # the same point in another article: cite it too
                    used.add(id(match))
            groups.append(group)
        return groups


def continued_end(text: str, start: int, end: int) -> int:
    """End of the sentence at [start, end), extended over the next one when it continues it.

    A sentence that stops at a colon or comma, or whose successor starts in lower case,
    is not complete on its own ("... met with:" followed by the names).
    """
    spans = sentence_spans(text[end:])
    if not spans:
        return end
    nxt_start, nxt_end = spans[0]
    head = text[start:end].rstrip()
    follower = text[end + nxt_start : end + nxt_end]
    if head[-1:] in _OPEN_ENDINGS or follower[:1].islower():
        return end + nxt_end
    return end


def _similar(a: Candidate, b: Candidate) -> float:
    """Cosine of two sentences' language-centred vectors."""
    return float(a.centred @ b.centred)
