"""The chat's turns as the stores hold them: the conversation's answers with their verdicts,
and the one turn being streamed (the only turn the UI keeps itself)."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.caller_view import CallerView
from assistant.citations import Answer
from assistant.feedback import FeedbackRecord


@dataclass
class ChatTurn:
    """A question and what answers it: the stored Answer, or the text streamed so far, or why
    it failed. `rating` and `flagged` are the readers' verdicts already stored on it."""

    question: str
    text: str = ""
    answer: Answer | None = None
    error: str | None = None
    rating: str | None = None
    flagged: frozenset[str] = frozenset()


def stored_turns(engine: CallerView, conversation_id: str | None) -> list[ChatTurn]:
    """A stored conversation's turns with the feedback given on them (none: a new chat)."""
    if not conversation_id:
        return []
    verdicts: dict[tuple[int, str | None], FeedbackRecord] = {
        (r.turn, r.citation_id): r for r in engine.feedback.records(conversation_id)
    }
    turns = []
    for stored in engine.conversations.turns(conversation_id):
        index = stored.n - 1
        answer = stored.answer.model_copy(update={"turn": index})
        verdict = verdicts.get((index, None))
        turns.append(
            ChatTurn(
                question=stored.question,
                text=answer.text,
                answer=answer,
                rating=verdict.rating if verdict else None,
                flagged=frozenset(
                    c.id
                    for c in answer.citations
                    if (v := verdicts.get((index, c.id))) and v.rating == "down"
                ),
            )
        )
    return turns


def last_answered(turns: list[ChatTurn]) -> ChatTurn | None:
    """The turn of the latest answer (the one the sources panel shows), if any."""
    return next((t for t in reversed(turns) if t.answer is not None), None)
