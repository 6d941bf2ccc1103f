"""Answerers: turn retrieved passages into an Answer whose statements cite exact spans.

ExtractiveAnswerer (default, no LLM) quotes the evidence sentences verbatim. A point that
several articles make, in any language, is quoted once and cited to each of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import numpy as np

from assistant.answer_signals import question_type
from assistant.citations import Answer, Citation, citation_id
from assistant.corroboration import Corroborator, shipped_corroborator
from assistant.evidence import Candidate, EvidenceScorer
from assistant.messages import NO_EVIDENCE, say
from assistant.query import Query
from assistant.retrieval import ScoredChunk
from index.embedding import Embedder
from index.language import sentence_spans
from index.store import ChunkRecord

_OPEN_ENDINGS = ":,،;؛-–—"
_TRANSLATION_CANDIDATES = 2  # per looked-up chunk, its sentences closest to the quoted one

# Where a quoted sentence's translations may be: chunks of the other languages closest to it,
# from the documents the caller may read (Engine builds one per question).
Related = Callable[[Candidate], list[ScoredChunk]]


class Answerer(Protocol):
    """Anything that answers from retrieved passages."""

    mode: str

    def answer(
        self, query: Query, passages: list[ScoredChunk], related: Related | None = None
    ) -> Answer:
        """A complete answer."""
        ...

    def stream(
        self, query: Query, passages: list[ScoredChunk], related: Related | None = None
    ) -> Iterator[str | Answer]:
        """Text deltas as they come, then the final Answer."""
        ...


def make_citation(n: int, chunk: ChunkRecord, start: int, end: int) -> Citation:
    """A citation of chunk-local span [start, end): offsets become document offsets."""
    begin, stop = chunk.start + start, chunk.start + end
    cid = citation_id(chunk.doc_id, begin, stop)
    return Citation.of(
        chunk.doc_id, chunk.origin, begin, stop, id=cid, n=n, quote=chunk.text[start:end]
    )


def abstain(query: Query, mode: str = "extractive") -> Answer:
    """The honest answer when the corpus holds no evidence: no citations."""
    return Answer(
        question=query.question,
        language=query.language,
        text=say(NO_EVIDENCE, query.language),
        grounded=False,
        mode=mode,
    )


class ExtractiveAnswerer:
    """Quotes the sentence that answers first, then other points that answer; abstains otherwise.

    Each line is one point: the sentence quoted (in the asker's language when some article
    says it in that language) and a marker for every other article whose sentence says the
    same thing (assistant/corroboration.py). A sentence that says what a line already says
    is never a line of its own, and a line after the first appears only when the evidence
    decision holds for it too.
    """

    mode = "extractive"

    def __init__(
        self,
        embedder: Embedder,
        min_score: float,
        max_points: int = 3,
        line_min: float | None = None,
        duplicate: float = 0.9,
        scorer: EvidenceScorer | None = None,
        corroborator: Corroborator | None = None,
    ) -> None:
        self.scorer = scorer or EvidenceScorer(embedder)
        self.corroborator = corroborator or shipped_corroborator()
        self.min_score = min_score
        self.max_points = max_points
        self.line_min = min_score if line_min is None else line_min
        self.duplicate = duplicate

    def decide(
        self, query: Query, passages: list[ScoredChunk]
    ) -> tuple[list[Candidate], Candidate | None, float]:
        """The scored sentences, the one that answers (None: abstain) and the evidence."""
        sentences = self.scorer.candidates(query, passages) if passages else []
        return sentences, *self.choose(query, sentences)

    def choose(self, query: Query, sentences: list[Candidate]) -> tuple[Candidate | None, float]:
        """The sentence that answers best, and the evidence (None below min_score); to a "how
        many" question, one that states a quantity."""
        quantity = question_type(query.question, query.language) == "number"
        best, evidence = self.scorer.assess(sentences, quantity)
        return (best if evidence >= self.min_score else None), evidence

    def same_point(self, sentences: list[Candidate]) -> np.ndarray:
        """P[i, j] that sentences i and j say the same thing (near-copies count as 1)."""
        same = self.corroborator.probabilities(sentences)
        vectors = np.vstack([s.centred for s in sentences])
        same = np.maximum(same, (vectors @ vectors.T >= self.duplicate).astype(float))
        np.fill_diagonal(same, 0.0)
        return same

    def answer(
        self, query: Query, passages: list[ScoredChunk], related: Related | None = None
    ) -> Answer:
        """Quote the evidence sentences with their markers, or abstain.

        related: where the first line's translations may be, when retrieval missed them; their
        sentences may only be markers of that line.
        """
        started = time.perf_counter()
        sentences, best, evidence = self.decide(query, passages)
        answer = self._respond(query, passages, sentences, best, evidence, related)
        if answer.grounded:
            answer.timings_ms = {"compose_ms": (time.perf_counter() - started) * 1000}
        return answer

    def answer_from(
        self,
        query: Query,
        passages: list[ScoredChunk],
        sentences: list[Candidate],
        related: Related | None = None,
    ) -> Answer:
        """As `answer`, from the passages' sentences already scored (a benchmark rescores
        them with another sentence model instead of embedding them again)."""
        return self._respond(query, passages, sentences, *self.choose(query, sentences), related)

    def _respond(
        self,
        query: Query,
        passages: list[ScoredChunk],
        sentences: list[Candidate],
        best: Candidate | None,
        evidence: float,
        related: Related | None,
    ) -> Answer:
        """The answer once the sentence to quote first is chosen (None: abstain)."""
        if best is None:
            return abstain(query).model_copy(update={"evidence": evidence})
        support = self.translations(query, passages, best, related) if related else []
        return self.compose(query, sentences, best, evidence, support)

    def translations(
        self, query: Query, passages: list[ScoredChunk], best: Candidate, related: Related
    ) -> list[Candidate]:
        """Sentences of the chunks where `best`'s translations may be, not already retrieved:
        of each chunk, the few closest to `best` (a translation is among them; the others
        would only cost pair scores)."""
        seen = {hit.chunk.id for hit in passages}
        extra = [hit for hit in related(best) if hit.chunk.id not in seen]
        by_chunk: dict[str, list[Candidate]] = {}
        for sentence in self.scorer.candidates(query, extra) if extra else []:
            by_chunk.setdefault(sentence.chunk.id, []).append(sentence)
        return [
            sentence
            for sentences in by_chunk.values()
            for sentence in sorted(sentences, key=lambda c: -float(c.centred @ best.centred))[
                :_TRANSLATION_CANDIDATES
            ]
        ]

    def compose(
        self,
        query: Query,
        sentences: list[Candidate],
        best: Candidate,
        evidence: float,
        support: Sequence[Candidate] = (),
    ) -> Answer:
        """The grounded answer: one line per point, each with the markers of its sources."""
        citations: list[Citation] = []
        lines: list[str] = []
        for group in self.points(sentences, best, query.language, support):
            for i, sentence in enumerate(group):
                start, end = sentence.start, sentence.end
                if i == 0:
                    end = continued_end(sentence.chunk.text, start, end)
                citations.append(make_citation(len(citations) + 1, sentence.chunk, start, end))
            markers = "".join(f"[{c.n}]" for c in citations[-len(group) :])
            lines.append(f"“{citations[-len(group)].quote}” {markers}")
        return Answer(
            question=query.question,
            language=query.language,
            text="\n".join(lines),
            grounded=True,
            citations=citations,
            evidence=evidence,
        )

    def stream(
        self, query: Query, passages: list[ScoredChunk], related: Related | None = None
    ) -> Iterator[str | Answer]:
        """The extractive answer is ready at once: its text, then the answer."""
        answer = self.answer(query, passages, related)
        yield answer.text
        yield answer

    def points(
        self,
        sentences: list[Candidate],
        best: Candidate,
        language: str,
        support: Sequence[Candidate] = (),
    ) -> list[list[Candidate]]:
        """Lines as groups of sentences saying one thing, the one to quote first in each.

        The first line is the answering sentence's point; further lines are the next
        sentences (by the sentence model) whose own evidence decision holds. A candidate
        that says what a line already says joins that line as a marker (one per article).
        `support` sentences (from `translations`) are only ever markers: never the quote,
        never a line of their own.
        """
        heads = len(sentences)
        sentences = [*sentences, *support]
        index = {id(s): i for i, s in enumerate(sentences)}
        same = self.same_point(sentences)
        line_p = self.scorer.line_evidence(sentences)
        ordered = [index[id(best)]] + [
            i
            for i in np.argsort([-s.logit for s in sentences[:heads]], kind="stable").tolist()
            if sentences[i] is not best and line_p[i] >= self.line_min
        ]
        groups: list[list[int]] = []
        used: set[int] = set()
        for head in ordered:
            if head in used:
                continue
            joined = next(
                (g for g in groups if same[g, head].max() >= self.corroborator.threshold), None
            )
            if joined is not None:  # the same point as a line already given: its marker
                if sentences[head].chunk.doc_id not in {sentences[m].chunk.doc_id for m in joined}:
                    joined.append(head)
                used.add(head)
                continue
            if len(groups) == self.max_points:
                continue
            group = [head, *self._support(sentences, same[head], head, used)]
            used.update(group)
            groups.append(group)
        return [  # a support sentence is never the quote: the search did not find it for this
            _asker_first([sentences[i] for i in g if i < heads], language)
            + [sentences[i] for i in g if i >= heads]
            for g in groups
        ]

    def _support(
        self, sentences: list[Candidate], same: np.ndarray, head: int, used: set[int]
    ) -> list[int]:
        """Per other article, its sentence most likely to say what the head says, if likely."""
        best: dict[str, int] = {}
        for j, s in enumerate(sentences):
            doc = s.chunk.doc_id
            if j in used or doc == sentences[head].chunk.doc_id:
                continue
            if same[j] >= self.corroborator.threshold and (
                doc not in best or same[j] > same[best[doc]]
            ):
                best[doc] = j
        return sorted(best.values(), key=lambda j: -same[j])


def _asker_first(group: list[Candidate], language: str) -> list[Candidate]:
    """The group with the sentence to quote first: the asker's language when one is in it."""
    if group[0].chunk.origin.lang == language:
        return group
    mine = [s for s in group if s.chunk.origin.lang == language]
    if not mine:
        return group
    quoted = max(mine, key=lambda s: s.logit)
    return [quoted, *[s for s in group if s is not quoted]]


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
