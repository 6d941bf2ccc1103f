"""Conversations: follow-up questions in context, and every turn persisted in sqlite.

A conversation has a title (its first question until renamed) and its turns; each turn keeps
the answer with its citations and the settings that produced it (`settings`), so that an
export or a feedback record says exactly what the reader saw and how it was made. Deleting a
conversation removes its turns and its feedback in one transaction, with sqlite's
`secure_delete` so the text does not linger in free pages of the file.
"""

from __future__ import annotations

import copy
import json
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from assistant.citations import Answer
from assistant.sqlite_tx import locked_transaction
from index.language import normalize_for_search

FOLLOW_UP_WORDS = 8
TITLE_CHARS = 120
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
    settings: dict[str, Any] = Field(
        default_factory=dict, description="What produced the answer (mode, model, retrieval)."
    )


class ConversationSummary(BaseModel):
    """A conversation as the history list shows it."""

    conversation_id: str
    title: str
    created: float = Field(description="Unix time of the conversation's start.")
    updated: float = Field(description="Unix time of its last answer.")
    turns: int


class ConversationNotFound(KeyError):
    """An id that names no stored conversation."""


def _one_line(text: str | None) -> str | None:
    """Text on one line without control characters, at most TITLE_CHARS long; None if blank."""
    line = " ".join("".join(ch if ch.isprintable() else " " for ch in text or "").split())
    if not line:
        return None
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


def clean_title(title: str) -> str:
    """A title on one line, at most TITLE_CHARS long; ValueError when it is empty."""
    line = _one_line(title)
    if line is None:
        raise ValueError("the title is empty")
    return line


def _search_key(text: str | None) -> str:
    """Text folded for the history search (case, NFKC, Arabic letter variants, harakat)."""
    return normalize_for_search(text or "")


def is_follow_up(question: str) -> bool:
    """A short question or one that points back ("it", "ذلك", "itu") depends on context."""
    return len(question.split()) < FOLLOW_UP_WORDS or bool(_ANAPHORA.search(question))


def standalone_question(question: str, previous: str | None) -> str:
    """The question to retrieve with: a follow-up is joined to the previous turn's
    standalone question."""
    if previous and is_follow_up(question):
        return f"{previous} {question}"
    return question


def standalone_of(questions: Sequence[str]) -> str | None:
    """The standalone question of the last of several asked in turn (None for none)."""
    standalone = None
    for question in questions:
        standalone = standalone_question(question, standalone)
    return standalone


class ConversationStore:
    """Conversations, their turns and their feedback in sqlite (in the data directory).

    One connection guarded by a lock, so the store is safe across the server's threads.
    Each conversation has an owner (a user's name; "" for the single user of a local Sanad):
    a store sees only its owner's conversations (`scoped`), the others do not exist for it.
    """

    owner: str = ""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.create_function("search_key", 1, _search_key, deterministic=True)
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
            self._add_columns(
                "conversations",
                {"title": "TEXT", "updated": "REAL", "owner": "TEXT NOT NULL DEFAULT ''"},
            )
            self._add_columns(
                "turns", {"settings": "TEXT NOT NULL DEFAULT '{}'", "search_text": "TEXT"}
            )
            self._backfill()

    def _add_columns(self, table: str, columns: dict[str, str]) -> None:
        """Add the columns a store written by an earlier version lacks."""
        have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
        for name, kind in columns.items():
            if name not in have:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")

    def _backfill(self) -> None:
        """Conversations written by an earlier version (no `updated`) get what new ones have:
        their first question as title and their last answer's time as `updated`; turns get
        their folded search text."""
        self._db.execute(
            "UPDATE turns SET search_text = search_key(question || char(10) || "
            "COALESCE(json_extract(answer, '$.text'), '')) WHERE search_text IS NULL"
        )
        rows = self._db.execute(
            "SELECT c.id, (SELECT t.question FROM turns t WHERE t.conversation_id = c.id "
            "ORDER BY t.n LIMIT 1), (SELECT MAX(t.created) FROM turns t "
            "WHERE t.conversation_id = c.id) FROM conversations c WHERE c.updated IS NULL"
        ).fetchall()
        if rows:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "UPDATE conversations SET title = COALESCE(title, ?), "
                "updated = COALESCE(?, created) WHERE id = ?",
                [(_one_line(question), last, cid) for cid, question, last in rows],
            )
            self._db.execute("COMMIT")

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """The connection inside one write transaction (rolled back on error), under the lock."""
        return locked_transaction(self._db, self._lock)

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock, for reads."""
        with self._lock:
            yield self._db

    def scoped(self, owner: str) -> ConversationStore:
        """This store as `owner` sees it (the same database)."""
        view = copy.copy(self)
        view.owner = owner
        return view

    def create(self) -> str:
        """Start a conversation of the owner and return its id."""
        cid = uuid.uuid4().hex
        now = time.time()
        with self._lock:
            self._db.execute(
                "INSERT INTO conversations (id, created, updated, owner) VALUES (?, ?, ?, ?)",
                (cid, now, now, self.owner),
            )
        return cid

    def exists(self, conversation_id: str) -> bool:
        """Whether the conversation is known and the owner's."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM conversations WHERE id = ? AND owner = ?",
                (conversation_id, self.owner),
            ).fetchone()
        return row is not None

    def turns(self, conversation_id: str) -> list[Turn]:
        """The conversation's turns in order (empty for an unknown id or another's)."""
        if not self.exists(conversation_id):
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT n, question, standalone, answer, created, settings FROM turns "
                "WHERE conversation_id = ? ORDER BY n",
                (conversation_id,),
            ).fetchall()
        return [
            Turn(
                n=n,
                question=q,
                standalone=s,
                answer=Answer.model_validate_json(a),
                created=c,
                settings=json.loads(settings),
            )
            for n, q, s, a, c, settings in rows
        ]

    def add_turn(
        self,
        conversation_id: str,
        question: str,
        standalone: str,
        answer: Answer,
        settings: dict[str, Any] | None = None,
    ) -> int:
        """Append a turn (atomically numbered; `answer.turn` set to its 0-based index) and
        return its number; the first question becomes the title."""
        now = time.time()
        with self.transaction() as db:
            (n,) = db.execute(
                "SELECT COALESCE(MAX(n), 0) + 1 FROM turns WHERE conversation_id = ?",
                (conversation_id,),
            ).fetchone()
            answer.turn = int(n) - 1
            db.execute(
                "INSERT INTO turns (conversation_id, n, question, standalone, answer, created, "
                "settings, search_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    n,
                    question,
                    standalone,
                    answer.model_dump_json(),
                    now,
                    json.dumps(settings or {}, ensure_ascii=False),
                    _search_key(f"{question}\n{answer.text}"),
                ),
            )
            db.execute(
                "UPDATE conversations SET updated = ?, title = COALESCE(title, ?) WHERE id = ?",
                (now, _one_line(question), conversation_id),
            )
        return int(n)

    _SUMMARY = (
        "SELECT c.id AS id, COALESCE(c.title, '') AS title, c.created AS created, "
        "COALESCE(c.updated, c.created) AS updated, "
        "(SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id) AS n_turns "
        "FROM conversations c"
    )

    def summaries(
        self, query: str = "", offset: int = 0, limit: int = 50
    ) -> tuple[int, list[ConversationSummary]]:
        """Conversations with at least one turn, most recently active first: the total and one
        page. `query` keeps those whose title, questions or answers contain it (ignoring case,
        harakat and Arabic letter variants)."""
        sql = f"SELECT * FROM ({self._SUMMARY} WHERE c.owner = ?) AS s WHERE s.n_turns > 0"
        params: list[Any] = [self.owner]
        key = _search_key(query.strip())
        if key:  # each turn's folded question and answer are stored (search_text)
            sql += (
                " AND (instr(search_key(s.title), ?) > 0 OR EXISTS (SELECT 1 FROM turns t "
                "WHERE t.conversation_id = s.id AND instr(t.search_text, ?) > 0))"
            )
            params += [key, key]
        with self._lock:
            rows = self._db.execute(
                f"SELECT *, COUNT(*) OVER () FROM ({sql}) ORDER BY updated DESC, id "
                "LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
            if rows:
                total = rows[0][-1]
            else:
                (total,) = self._db.execute(f"SELECT COUNT(*) FROM ({sql})", params).fetchone()
        return int(total), [self._summary(row[:-1]) for row in rows]

    @staticmethod
    def _summary(row: tuple[Any, ...]) -> ConversationSummary:
        cid, title, created, updated, n_turns = row
        return ConversationSummary(
            conversation_id=cid,
            title=title or "Untitled conversation",
            created=created,
            updated=updated,
            turns=n_turns,
        )

    def summary(self, conversation_id: str) -> ConversationSummary:
        """One conversation's summary, or ConversationNotFound."""
        with self._lock:
            row = self._db.execute(
                f"{self._SUMMARY} WHERE c.id = ? AND c.owner = ?", (conversation_id, self.owner)
            ).fetchone()
        if row is None:
            raise ConversationNotFound(f"unknown conversation {conversation_id}")
        return self._summary(row)

    def rename(self, conversation_id: str, title: str) -> ConversationSummary:
        """Give a conversation a new title (ValueError when empty; ConversationNotFound)."""
        title = clean_title(title)
        with self.transaction() as db:
            changed = db.execute(
                "UPDATE conversations SET title = ? WHERE id = ? AND owner = ?",
                (title, conversation_id, self.owner),
            ).rowcount
        if not changed:
            raise ConversationNotFound(f"unknown conversation {conversation_id}")
        return self.summary(conversation_id)

    def delete(self, conversation_id: str) -> ConversationSummary:
        """Delete a conversation with its turns and feedback; returns what was deleted."""
        gone = self.summary(conversation_id)
        with self.transaction() as db:
            db.execute("DELETE FROM turns WHERE conversation_id = ?", (conversation_id,))
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        with self._lock:  # the deleted text is still in the write-ahead log: empty it now
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return gone

    def export(self, conversation_id: str) -> dict:
        """The conversation as JSON-ready data."""
        return {
            "conversation_id": conversation_id,
            "turns": [json.loads(t.model_dump_json()) for t in self.turns(conversation_id)],
        }
