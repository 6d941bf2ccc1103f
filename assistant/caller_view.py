"""The engine as one caller sees it: what the browser app's handlers use instead of the engine.

Every read goes through the caller's Access (their collections, their conversations and
feedback), and every write through their write rights, so a handler cannot show or change
what is not theirs by forgetting a check.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import BinaryIO

from assistant.access import Access, Forbidden
from assistant.citations import Answer
from assistant.config import Settings
from assistant.conversation import ConversationStore
from assistant.engine import Engine, ReadableStore
from assistant.feedback import FeedbackStore
from index.filters import Filters
from index.library import FileResult
from index.pipeline import IngestReport
from index.provenance import DEFAULT_COLLECTION
from index.store import DocRecord


class WritableLibrary:
    """Uploads into the caller's collection; deletes and re-indexes of what they may write."""

    def __init__(self, engine: Engine, access: Access) -> None:
        self._engine = engine
        self._access = access

    @property
    def collections(self) -> list[str]:
        """The existing collections the caller may write, by name."""
        return [c for c in self._engine.accounts.collections() if self._access.can_write(c)]

    @property
    def collection(self) -> str | None:
        """Where the caller's uploads go unless they choose: `default` if they may write it,
        else the first collection they may write (None: they may write none)."""
        writable = self.collections
        if DEFAULT_COLLECTION in writable:
            return DEFAULT_COLLECTION
        return writable[0] if writable else None

    def upload(
        self,
        files: Sequence[tuple[str, BinaryIO]],
        progress: bool = False,
        collection: str | None = None,
    ) -> tuple[list[FileResult], IngestReport]:
        """Upload into `collection` (default: `collection` above); Forbidden unless the
        caller may write that existing collection."""
        collection = collection or self.collection
        if collection is None:
            raise Forbidden("your account may not upload: it has no collection to write")
        if collection not in self.collections:
            raise Forbidden(f"no write access to collection {collection}")
        return self._engine.library.upload(files, progress, collection=collection)

    def delete(self, doc_id: str) -> DocRecord:
        """Delete a document the caller may write (DocumentNotFound, Forbidden)."""
        self._engine.writable(doc_id, self._access)
        return self._engine.library.delete(doc_id)

    def reindex(self, doc_id: str) -> IngestReport:
        """Re-index a document the caller may write (DocumentNotFound, Forbidden)."""
        self._engine.writable(doc_id, self._access)
        return self._engine.library.reindex(doc_id)


class CallerView:
    """One caller's engine: the attributes and use cases the browser app needs."""

    def __init__(self, engine: Engine, access: Access) -> None:
        self.engine = engine
        self.access = access
        self.settings: Settings = engine.settings
        self.store = ReadableStore(engine, access)
        self.library = WritableLibrary(engine, access)

    @property
    def conversations(self) -> ConversationStore:
        """The caller's conversations."""
        return self.engine.conversations_of(self.access)

    @property
    def feedback(self) -> FeedbackStore:
        """Feedback on the caller's conversations."""
        return self.engine.feedback_of(self.access)

    def ask_stream(
        self, question: str, conversation_id: str | None = None, filters: Filters | None = None
    ) -> Iterator[str | Answer]:
        """The engine's answer stream, from what the caller may read, in their conversation."""
        return self.engine.ask_stream(question, conversation_id, filters, access=self.access)

    def ask(self, question: str) -> Answer:
        """The engine's answer (a new conversation of the caller)."""
        return self.engine.ask(question, access=self.access)
