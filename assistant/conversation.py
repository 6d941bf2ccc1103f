"""Conversations: follow-up questions in context, and every turn persisted in sqlite."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
import uuid
from pathlib import Path

from pydantic import BaseModel

from assistant.citations import Answer

FOLLOW_UP_WORDS = 8
_ANAPHORA = re.compile(
    r"\b(it|its|they|them|their|he|him|his|she|her|this|that|these|those|there|"
    r"itu|tersebut|dia|mereka|nya|ini)\b|"
    r"(^|\s)(و?ماذا عن|و?ماذا|ذلك|تلك|هذا|هذه|هو|هي|هم|و?كيف)(\s|$|؟)",
    re.IGNORECASE,
)


class Turn(BaseModel):
    """One question and its answer within a conversation."""

    n: int
    question: str
    standalone: str
    answer: Answer
    created: float


def is_follow_up(question: str) -> bool:
    """A short question or one that points back ("it", "ذلك", "itu") depends on context."""
    return len(question.split()) < FOLLOW_UP_WORDS or bool(_ANAPHORA.search(question))


def standalone_question(question: str, history: list[Turn]) -> str:
    """The question to retrieve with: a follow-up is joined to the previous question."""
    if history and is_follow_up(question):
        return f"{history[-1].standalone} {question}"
    return question


class ConversationStore:
    """Turns and their citations in sqlite (in the data directory), safe across threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(
                """
                CREATE TABLE IF NOT EXISTS conversations (
                    id TEXT PRIMARY KEY, created REAL NOT NULL);
                CREATE TABLE IF NOT EXISTS turns (
                    conversation_id TEXT NOT NULL REFERENCES conversations(id),
                    n INTEGER NOT NULL, question TEXT NOT NULL, standalone TEXT NOT NULL,
                    answer TEXT NOT NULL, created REAL NOT NULL,
                    PRIMARY KEY (conversation_id, n));
                """
            )

    def create(self) -> str:
        """Start a conversation and return its id."""
        cid = uuid.uuid4().hex
        with self._lock:
            self._db.execute("INSERT INTO conversations VALUES (?, ?)", (cid, time.time()))
        return cid

    def exists(self, conversation_id: str) -> bool:
        """Whether the conversation is known."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
        return row is not None

    def turns(self, conversation_id: str) -> list[Turn]:
        """The conversation's turns in order (empty for an unknown id)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT n, question, standalone, answer, created FROM turns "
                "WHERE conversation_id = ? ORDER BY n",
                (conversation_id,),
            ).fetchall()
        return [
            Turn(n=n, question=q, standalone=s, answer=Answer.model_validate_json(a), created=c)
            for n, q, s, a, c in rows
        ]

    def add_turn(self, conversation_id: str, question: str, standalone: str, answer: Answer) -> int:
        """Append a turn (atomically numbered) and return its number."""
        payload = answer.model_dump_json()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                (n,) = self._db.execute(
                    "SELECT COALESCE(MAX(n), 0) + 1 FROM turns WHERE conversation_id = ?",
                    (conversation_id,),
                ).fetchone()
                self._db.execute(
                    "INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?)",
                    (conversation_id, n, question, standalone, payload, time.time()),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return int(n)

    def export(self, conversation_id: str) -> dict:
        """The conversation as JSON-ready data."""
        return {
            "conversation_id": conversation_id,
            "turns": [json.loads(t.model_dump_json()) for t in self.turns(conversation_id)],
        }
