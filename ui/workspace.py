"""The research workspace around the chat: the conversations sidebar (open, search, rename,
delete), Markdown/JSON downloads of a conversation, and feedback on answers and citations.

Each signed-in user sees their own conversations (ui/viewer.py: the request's caller).
Titles, questions and answers are untrusted: the history list escapes them like the chat.
Downloads are files written to a private temporary folder whenever the open conversation
changes, because the browser cannot call the token-guarded export route itself.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from dataclasses import asdict, dataclass
from html import escape
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder

from assistant.caller_view import CallerView
from assistant.conversation import ConversationNotFound, ConversationSummary
from assistant.export import conversation_export, to_markdown
from assistant.feedback import TurnNotFound
from ui.assets import asset
from ui.outputs import Outputs
from ui.render import (
    empty_article,
    info,
    render_sources,
    render_timings,
    render_transcript,
    warning,
)
from ui.turns import ChatTurn, last_answered, stored_turns
from ui.viewer import Viewer

HISTORY_LIMIT = 100

# A click on a conversation in the sidebar opens it.
HISTORY_JS = asset("history.js")


def _when(timestamp: float) -> str:
    """A timestamp as "YYYY-MM-DD HH:MM" UTC."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def render_conversation_item(summary: ConversationSummary, current: str | None) -> str:
    """One conversation in the sidebar: its title, number of answers and last activity."""
    answers = f"{summary.turns} answer{'s' if summary.turns != 1 else ''}"
    cid = summary.conversation_id
    return (
        f'<li><button type="button" class="sanad-conv" data-conv="{escape(cid)}"'
        f' aria-current="{"true" if cid == current else "false"}">'
        f'<span class="sanad-conv-title" dir="auto">{escape(summary.title)}</span>'
        f'<span class="sanad-conv-meta">{answers} · {_when(summary.updated)}</span></button></li>'
    )


def render_history(engine: CallerView, query: str | None, current: str | None) -> str:
    """The sidebar's list: conversations matching `query`, most recently active first."""
    query = (query or "").strip()
    total, page = engine.conversations.summaries(query, 0, HISTORY_LIMIT)
    if not page:
        empty = f"No conversation mentions “{query}”." if query else "No conversations yet."
        return f'<div class="sanad-history">{render_note(empty)}</div>'
    items = "".join(render_conversation_item(s, current) for s in page)
    more = (
        f'<p class="sanad-hint">The {len(page)} most recent of {total}; search to find others.</p>'
        if total > len(page)
        else ""
    )
    return f'<nav class="sanad-history" aria-label="Conversations"><ul>{items}</ul>{more}</nav>'


def sources_of(turns: list[ChatTurn]) -> str:
    """The sources panel for the latest answer, with its flagged citations."""
    turn = last_answered(turns)
    return render_sources(turn.answer, turn.flagged) if turn else render_sources(None)


class ExportFiles:
    """Markdown and JSON exports of conversations, written to a private temporary folder.

    The folder is inside Gradio's cache, so Gradio serves these files as they are instead of
    keeping copies of its own: a deleted conversation's files go with it. `close` removes the
    folder (the server calls it on shutdown, SIGTERM included).
    """

    def __init__(self) -> None:
        cache = Path(get_upload_folder())
        cache.mkdir(parents=True, exist_ok=True)
        self._folder = tempfile.TemporaryDirectory(prefix="sanad-exports-", dir=cache)
        self.root = Path(self._folder.name)

    def close(self) -> None:
        """Remove every export file and the folder."""
        self._folder.cleanup()

    def write(self, view: CallerView, conversation_id: str | None) -> tuple[str | None, str | None]:
        """Fresh (Markdown, JSON) files of the caller's conversation; (None, None) when there
        is none."""
        if not conversation_id:
            return None, None
        try:
            export = conversation_export(view.conversations, conversation_id)
        except ConversationNotFound:
            return None, None
        folder = self.root / conversation_id
        folder.mkdir(exist_ok=True)
        name = f"sanad-conversation-{conversation_id[:8]}"
        md, js = folder / f"{name}.md", folder / f"{name}.json"
        md.write_text(to_markdown(export), encoding="utf-8")
        js.write_text(export.model_dump_json(indent=2), encoding="utf-8")
        return str(md), str(js)

    def forget(self, conversation_id: str) -> None:
        """Remove a deleted conversation's files."""
        shutil.rmtree(self.root / conversation_id, ignore_errors=True)

    def buttons(self, view: CallerView, conversation_id: str | None) -> Outputs:
        """Updates of the two download buttons (disabled when nothing can be exported)."""
        md, js = self.write(view, conversation_id)
        return {
            "markdown": gr.update(value=md, interactive=bool(md)),
            "json": gr.update(value=js, interactive=bool(js)),
        }


@dataclass
class Vote:
    """The verdict the feedback form is about (sent again with the comment)."""

    conversation_id: str
    turn: int
    rating: str
    citation_id: str | None

    def describe(self) -> str:
        """What the verdict says, for the form's heading."""
        if self.citation_id:
            return "Recorded: this passage does not support the statement."
        return "Recorded: helpful." if self.rating == "up" else "Recorded: not helpful."


def vote_of(data: dict[str, Any], conversation_id: str | None) -> Vote | None:
    """The verdict a feedback button click carries, or None for other clicks."""
    rating, turn = data.get("feedback"), data.get("turn")
    if rating not in ("up", "down") or not isinstance(turn, int) or not conversation_id:
        return None
    citation = data.get("citation")
    return Vote(conversation_id, turn, rating, citation if isinstance(citation, str) else None)


def record_vote(engine: CallerView, vote: Vote, comment: str | None = None) -> str | None:
    """Store the verdict; returns why it could not be stored, or None."""
    try:
        engine.feedback.add(vote.conversation_id, vote.turn, vote.rating, vote.citation_id, comment)
    except (ConversationNotFound, TurnNotFound, ValueError) as exc:
        return str(exc.args[0] if exc.args else exc)
    return None


def render_note(message: str) -> str:
    """A status line in the sidebar or the feedback form."""
    return f'<p class="sanad-status" dir="auto">{escape(message)}</p>' if message else ""


def click_data(evt: gr.EventData) -> dict[str, Any]:
    """The payload a panel's `trigger('click', {...})` sent."""
    return evt._data if isinstance(evt._data, dict) else {}


class Workspace:
    """The sidebar's and the feedback form's handlers; each serves its request's caller.

    Everything shown is read from the stores (conversations, feedback); the page keeps only
    the open conversation's id and the verdict the feedback form is about. Handlers return
    their outputs by name (ui/outputs.py).
    """

    VIEW = (
        "transcript", "conversation", "sources", "timings", "question", "article", "title",
        "markdown", "json", "history", "feedback", "confirm", "status",
    )  # fmt: skip
    ANSWERED = ("title", "markdown", "json", "history")
    RENAMED = ("title", "markdown", "json", "history", "status")
    ASK_DELETE = ("confirm", "status")
    VOTED = ("transcript", "sources", "feedback", "feedback_note", "pending")
    SENT = ("feedback", "comment", "pending")

    def __init__(self, viewer: Viewer, files: ExportFiles | None = None) -> None:
        self.viewer = viewer
        self.files = files or ExportFiles()

    def view(
        self, engine: CallerView, conversation_id: str | None, query: str | None, note: str = ""
    ) -> Outputs:
        """Everything the chat shows for a conversation (None: a new, empty one)."""
        turns = stored_turns(engine, conversation_id)
        last = last_answered(turns)
        title = engine.conversations.summary(conversation_id).title if conversation_id else ""
        return {
            "transcript": render_transcript(turns),
            "conversation": conversation_id,
            "sources": sources_of(turns),
            "timings": render_timings(last.answer if last else None),
            "question": "",
            "article": empty_article(),
            "title": title,
            **self.files.buttons(engine, conversation_id),
            "history": render_history(engine, query, conversation_id),
            "feedback": gr.update(visible=False),
            "confirm": gr.update(visible=False),
            "status": render_note(note),
        }

    def open(
        self, query: str | None, evt: gr.EventData, request: gr.Request | None = None
    ) -> Outputs:
        """Open the conversation clicked in the sidebar, with its turns, sources and verdicts."""
        engine = self.viewer(request)
        conversation_id = str(click_data(evt).get("conversation") or "")
        if not engine.conversations.exists(conversation_id):
            warning("That conversation no longer exists.")
            return self.view(engine, None, query)
        return self.view(engine, conversation_id, query)

    def new(self, query: str | None, request: gr.Request | None = None) -> Outputs:
        """Start afresh: an empty chat; the history stays."""
        return self.view(self.viewer(request), None, query)

    def answered(
        self, conversation_id: str | None, query: str | None, request: gr.Request | None = None
    ) -> Outputs:
        """After an answer: the title box, fresh downloads and the history list."""
        engine = self.viewer(request)
        if not conversation_id or not engine.conversations.exists(conversation_id):
            return self.files.buttons(engine, None)
        return {
            "title": engine.conversations.summary(conversation_id).title,
            **self.files.buttons(engine, conversation_id),
            "history": render_history(engine, query, conversation_id),
        }

    def search(
        self, query: str | None, conversation_id: str | None, request: gr.Request | None = None
    ) -> str:
        """The history list filtered by the search box."""
        return render_history(self.viewer(request), query, conversation_id)

    def rename(
        self,
        conversation_id: str | None,
        title: str | None,
        query: str | None,
        request: gr.Request | None = None,
    ) -> Outputs:
        """Give the open conversation the title in the title box."""
        engine = self.viewer(request)
        try:
            if not conversation_id:
                raise ValueError("Open or start a conversation first.")
            summary = engine.conversations.rename(conversation_id, title or "")
        except (ConversationNotFound, ValueError) as exc:
            warning(str(exc.args[0] if exc.args else exc))
            return {}
        return {
            "title": summary.title,
            **self.files.buttons(engine, conversation_id),
            "history": render_history(engine, query, conversation_id),
            "status": render_note(f"Renamed to “{summary.title}”."),
        }

    def ask_delete(self, conversation_id: str | None, request: gr.Request | None = None) -> Outputs:
        """Name the conversation about to go and show the "Confirm delete" button."""
        engine = self.viewer(request)
        if not conversation_id or not engine.conversations.exists(conversation_id):
            warning("Open a conversation first.")
            return {"confirm": gr.update(visible=False)}
        title = engine.conversations.summary(conversation_id).title
        note = f"Delete “{title}” and the feedback on it? Press “Confirm delete”."
        return {"confirm": gr.update(visible=True), "status": render_note(note)}

    def delete(
        self, conversation_id: str | None, query: str | None, request: gr.Request | None = None
    ) -> Outputs:
        """Delete the open conversation (turns, feedback, downloads); the chat starts afresh."""
        engine = self.viewer(request)
        note = ""
        if conversation_id:
            try:
                summary = engine.conversations.delete(conversation_id)
                note = f"Deleted “{summary.title}”."
                self.files.forget(conversation_id)
            except ConversationNotFound:
                note = "That conversation was already deleted."
        return self.view(engine, None, query, note)

    def vote(
        self, conversation_id: str | None, evt: gr.EventData, request: gr.Request | None = None
    ) -> Outputs:
        """A feedback button: record the verdict at once, show it, offer a comment box."""
        engine = self.viewer(request)
        vote = vote_of(click_data(evt), conversation_id)
        if vote is None:
            return {}
        error = record_vote(engine, vote)
        if error:
            warning(error)
            return {}
        turns = stored_turns(engine, vote.conversation_id)  # now with this verdict
        return {
            "transcript": render_transcript(turns),
            "sources": sources_of(turns),
            "feedback": gr.update(visible=True),
            "feedback_note": render_note(f"{vote.describe()} Add a comment?"),
            "pending": asdict(vote),
        }

    def send(
        self, pending: dict[str, Any] | None, comment: str | None, request: gr.Request | None = None
    ) -> Outputs:
        """The feedback form's Send: store the comment with the verdict it is about."""
        if not pending:
            return self.close_feedback()
        error = record_vote(self.viewer(request), Vote(**pending), comment)
        if error:
            warning(error)
            return {}
        info("Thank you: your feedback is saved.")
        return self.close_feedback()

    @staticmethod
    def close_feedback() -> Outputs:
        """The feedback form hidden and emptied."""
        return {"feedback": gr.update(visible=False), "comment": "", "pending": None}
