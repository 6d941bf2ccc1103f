"""Readers' feedback: an answer helpful or not, a citation that does not support its statement.

Each record is self-contained for review: the question, the answer, its citations and the
settings that produced it are copied from the stored turn, so a team can turn it into a test
question without the conversation. One verdict per answer and one per cited passage: a new
verdict on the same answer (or citation) replaces the earlier one. Records live in the
conversations' sqlite file and go with their conversation when it is deleted.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.citations import Citation
from assistant.conversation import ConversationNotFound, ConversationStore

COMMENT_CHARS = 2000
Rating = Literal["up", "down"]


class TurnNotFound(LookupError):
    """A turn index past the end of its conversation."""


class FeedbackRecord(BaseModel):
    """One verdict with everything needed to review it."""

    id: str
    created: str = Field(description="When it was given (ISO 8601, UTC).")
    conversation_id: str
    turn: int = Field(description="The answer's 0-based index in its conversation.")
    rating: Rating = Field(description="up: helpful; down: not helpful / does not support.")
    citation_id: str | None = Field(
        None, description="Set when the verdict is on one cited passage, not the whole answer."
    )
    comment: str | None = None
    question: str
    standalone: str = Field(description="The question as retrieved with (follow-ups joined).")
    answer: str
    language: str
    grounded: bool
    mode: str = Field(description="How the answer was made: extractive or llm.")
    citation: Citation | None = Field(None, description="The passage the verdict is about.")
    citations: list[Citation]
    settings: dict[str, Any] = Field(description="Answer mode, models and retrieval settings.")


def clean_comment(comment: str | None) -> str | None:
    """The comment stripped (None when empty); ValueError when longer than COMMENT_CHARS."""
    text = (comment or "").strip()
    if len(text) > COMMENT_CHARS:
        raise ValueError(f"the comment is longer than {COMMENT_CHARS} characters")
    return text or None


class FeedbackStore:
    """Feedback records in the conversations' database (a table of its own)."""

    def __init__(self, conversations: ConversationStore) -> None:
        self.conversations = conversations
        with conversations.transaction() as db:
            db.execute(
                """
                CREATE TABLE IF NOT EXISTS feedback (
                    id TEXT PRIMARY KEY,
                    conversation_id TEXT NOT NULL
                        REFERENCES conversations(id) ON DELETE CASCADE,
                    turn INTEGER NOT NULL,
                    citation_key TEXT NOT NULL,
                    created TEXT NOT NULL,
                    record TEXT NOT NULL,
                    UNIQUE (conversation_id, turn, citation_key))
                """
            )

    def add(
        self,
        conversation_id: str,
        turn: int,
        rating: Rating,
        citation_id: str | None = None,
        comment: str | None = None,
    ) -> FeedbackRecord:
        """Record a verdict on an answer or on one of its citations (replacing an earlier one).

        ConversationNotFound, TurnNotFound, or ValueError (a citation the answer does not
        make, a comment too long, an unknown rating).
        """
        if rating not in ("up", "down"):
            raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
        comment = clean_comment(comment)
        if not self.conversations.exists(conversation_id):
            raise ConversationNotFound(f"unknown conversation {conversation_id}")
        turns = self.conversations.turns(conversation_id)
        if not 0 <= turn < len(turns):
            raise TurnNotFound(
                f"conversation {conversation_id} has {len(turns)} answer(s); "
                f"turn {turn} is not one of them (turns count from 0)"
            )
        stored = turns[turn]
        answer = stored.answer
        cited = None
        if citation_id is not None:
            cited = next((c for c in answer.citations if c.id == citation_id), None)
            if cited is None:
                raise ValueError(f"answer {turn} does not cite {citation_id}")
        record = FeedbackRecord(
            id=uuid.uuid4().hex,
            created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            conversation_id=conversation_id,
            turn=turn,
            rating=rating,
            citation_id=citation_id,
            comment=comment,
            question=stored.question,
            standalone=stored.standalone,
            answer=answer.text,
            language=answer.language,
            grounded=answer.grounded,
            mode=answer.mode,
            citation=cited,
            citations=answer.citations,
            settings=stored.settings,
        )
        with self.conversations.transaction() as db:
            db.execute(
                "DELETE FROM feedback WHERE conversation_id = ? AND turn = ? AND citation_key = ?",
                (conversation_id, turn, citation_id or ""),
            )
            db.execute(
                "INSERT INTO feedback VALUES (?, ?, ?, ?, ?, ?)",
                (
                    record.id,
                    conversation_id,
                    turn,
                    citation_id or "",
                    record.created,
                    record.model_dump_json(),
                ),
            )
        return record

    def scoped(self, owner: str) -> FeedbackStore:
        """This store as `owner` sees it: feedback on their own conversations."""
        view = copy.copy(self)
        view.conversations = self.conversations.scoped(owner)
        return view

    def records(
        self, conversation_id: str | None = None, everyone: bool = False
    ) -> list[FeedbackRecord]:
        """The owner's records (`everyone`: every user's, for an admin), or one
        conversation's, oldest first."""
        sql = "SELECT f.record FROM feedback f JOIN conversations c ON c.id = f.conversation_id"
        where, params = [], []
        if not everyone:
            where.append("c.owner = ?")
            params.append(self.conversations.owner)
        if conversation_id is not None:
            where.append("f.conversation_id = ?")
            params.append(conversation_id)
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self.conversations.reading() as db:
            rows = db.execute(sql + " ORDER BY f.created, f.rowid", params).fetchall()
        return [FeedbackRecord.model_validate_json(row[0]) for row in rows]

    def jsonl(self, conversation_id: str | None = None, everyone: bool = False) -> Iterator[str]:
        """The records of `records` as JSON lines (UTF-8 text, no ASCII escapes)."""
        for record in self.records(conversation_id, everyone):
            yield record.model_dump_json() + "\n"
