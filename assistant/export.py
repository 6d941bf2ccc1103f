"""A conversation to take away: JSON, and Markdown that reads right in Arabic and English.

Every answer comes with its numbered citations: quote, article title, source, site, date,
language, PDF page and the citation id that `sanad cite` and `/api/citations/{id}` resolve.

Markdown viewers give each paragraph the direction of its first strong letter, so a line
whose letters are mostly Arabic starts with a right-to-left mark (U+200F) and a mostly
left-to-right line that begins with an Arabic word starts with a left-to-right mark (U+200E).
Article text, questions and answers are untrusted: their Markdown and HTML characters are
backslash-escaped, so a viewer shows them as text (the answers' own [n] markers stay).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from pydantic import BaseModel, Field

from assistant.citations import MARKER_RUN, Citation
from assistant.conversation import ConversationStore

RLM, LRM = "\u200f", "\u200e"
_ESCAPED = re.compile(r"([\\`*_\[\]<>|~&#!{}])")
_LINE_START = re.compile(r"^(\s*)([-+=>]|\d+[.)])")


class ExportedTurn(BaseModel):
    """One question and its answer with the citations it makes."""

    turn: int = Field(description="0-based index (what POST /api/feedback takes).")
    asked: str = Field(description="When it was answered (ISO 8601, UTC).")
    question: str
    answer: str
    language: str
    grounded: bool
    mode: str
    notice: str | None = None
    citations: list[Citation]


class ConversationExport(BaseModel):
    """A whole conversation, self-contained."""

    conversation_id: str
    title: str
    created: str
    updated: str
    exported: str
    turns: list[ExportedTurn]


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="seconds")


def conversation_export(store: ConversationStore, conversation_id: str) -> ConversationExport:
    """The stored conversation as an export (ConversationNotFound for an unknown id)."""
    summary = store.summary(conversation_id)
    turns = [
        ExportedTurn(
            turn=t.n - 1,
            asked=_iso(t.created),
            question=t.question,
            answer=t.answer.text,
            language=t.answer.language,
            grounded=t.answer.grounded,
            mode=t.answer.mode,
            notice=t.answer.notice,
            citations=t.answer.citations,
        )
        for t in store.turns(conversation_id)
    ]
    return ConversationExport(
        conversation_id=summary.conversation_id,
        title=summary.title,
        created=_iso(summary.created),
        updated=_iso(summary.updated),
        exported=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        turns=turns,
    )


# --- Markdown ----------------------------------------------------------------------------------
def is_rtl(ch: str) -> bool:
    """Whether a character is a strong right-to-left letter (Arabic, Hebrew...)."""
    return unicodedata.bidirectional(ch) in ("R", "AL")


def directed(line: str) -> str:
    """The line with a direction mark in front when its first strong letter would mislead."""
    rtl = sum(is_rtl(ch) for ch in line)
    ltr = sum(unicodedata.bidirectional(ch) == "L" for ch in line)
    first = next((ch for ch in line if is_rtl(ch) or unicodedata.bidirectional(ch) == "L"), "")
    if rtl > ltr:
        return RLM + line
    if first and is_rtl(first):
        return LRM + line
    return line


def md_escape(text: str) -> str:
    """Text shown literally by a Markdown viewer: no emphasis, links, HTML or block syntax."""
    lines = []
    for line in text.split("\n"):
        line = _ESCAPED.sub(r"\\\1", line)
        lines.append(_LINE_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", line))
    return "\n".join(lines)


def md_answer(text: str) -> str:
    """An answer's text escaped, its [n] markers kept, one paragraph per line."""
    paragraphs = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        parts, pos = [], 0
        for match in MARKER_RUN.finditer(line):
            parts.append(md_escape(line[pos : match.start()]))
            parts.append(match.group(0))
            pos = match.end()
        parts.append(md_escape(line[pos:]))
        paragraphs.append(directed("".join(parts).strip()))
    return "\n\n".join(paragraphs)


def md_quote(text: str) -> str:
    """A quote as a Markdown block quote, each line escaped and directed."""
    return "\n".join(
        f"> {directed(md_escape(line.strip()))}" if line.strip() else ">"
        for line in text.split("\n")
    )


def md_citation(c: Citation) -> str:
    """One citation: heading with its number and title, its facts, its id and the quote."""
    facts = [
        ("Language", c.lang),
        ("Source", c.source),
        ("Site", c.site),
        ("Published", c.published),
        ("Page", str(c.page) if c.page is not None else None),
        ("URL", c.url),
    ]
    lines = [f"### [{c.n}] {directed(md_escape(c.title or c.source))}", ""]
    lines += [f"- {name}: {directed(md_escape(value))}" for name, value in facts if value]
    lines += [f"- Citation id: `{c.id}`", "", md_quote(c.quote)]
    return "\n".join(lines)


def to_markdown(export: ConversationExport) -> str:
    """The conversation as Markdown: each question, its answer, then its sources."""
    out = [
        f"# {directed(md_escape(export.title))}",
        "",
        f"- Conversation: `{export.conversation_id}`",
        f"- Started: {export.created} · last answer: {export.updated}",
        f"- Exported: {export.exported}",
        "",
        "Check any citation with `sanad cite <citation id>` or `GET /api/citations/<citation id>`.",
    ]
    for t in export.turns:
        out += ["", "---", "", f"## {t.turn + 1}. {directed(md_escape(t.question))}", ""]
        out.append(md_answer(t.answer) or "*(no answer)*")
        if t.notice:
            out += ["", f"*{directed(md_escape(t.notice))}*"]
        if t.citations:
            out += ["", "**Sources**"]
            for c in t.citations:
                out += ["", md_citation(c)]
    return "\n".join(out) + "\n"
