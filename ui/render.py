"""Rendering of the chat: transcript, sources and article as escaped HTML, and its CSS/JS.

Every article text, question and model output is untrusted. It is escaped with `html.escape`
and placed inside HTML that this module builds; nothing is rendered as Markdown or raw HTML.
Direction is left to the browser: each message and passage element has `dir="auto"`, and the
lines of a message resolve their own direction (`unicode-bidi: plaintext`), so Arabic reads
right-to-left and English/Indonesian left-to-right in one conversation.
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

import gradio as gr

from assistant.citations import (
    MARKER_RUN,
    Answer,
    Citation,
    CitationNotFound,
    DocumentLookup,
    resolve,
)
from index.language import LANGS
from ui.assets import asset
from ui.turns import ChatTurn

CITATION_URL = "/api/citations/"
_NUMBER = re.compile(r"\d+")

CSS = asset("sanad.css")

# Clicks: feedback buttons ([data-feedback]) send a verdict; markers and sources ([data-cid])
# open the article (remembering what opened it, for focus on close); "copy link" copies the
# API URL. Enter or Space on a focused source opens it too.
CLICK_JS = asset("click.js")

# The article drawer: shown over the sources column (so the answer stays in view beside it),
# focused and scrolled to its highlight whenever a citation opens; Escape or the close button
# hides it and gives focus back to the marker or source.
DRAWER_JS = asset("drawer.js")


# --- rendering (pure functions of escaped data) ----------------------------------------------
def citation_url(cid: str) -> str:
    """The API URL of a citation (relative to the server root)."""
    return CITATION_URL + quote(cid, safe=":-")


def badge(lang: str) -> str:
    """A coloured language badge (ar/en/id/other)."""
    code = lang if lang in LANGS else "other"
    return f'<span class="sanad-badge sanad-lang-{code}">{escape(lang or "?")}</span>'


def render_markers(run: str, by_n: dict[int, Citation]) -> str:
    """A run of markers like "[1][2]" as links, isolated so they keep their order in RTL."""
    parts = []
    for number in _NUMBER.findall(run):
        citation = by_n.get(int(number))
        if citation is None:
            parts.append(escape(f"[{number}]"))
            continue
        parts.append(
            f'<a class="sanad-marker" href="{escape(citation_url(citation.id))}" '
            f'data-cid="{escape(citation.id)}" title="{escape(citation.title)}">'
            f"[{int(number)}]</a>"
        )
    return f'<bdi dir="ltr" class="sanad-markers">{"".join(parts)}</bdi>'


def render_text_line(line: str, by_n: dict[int, Citation]) -> str:
    """One line of an answer: escaped text with its marker runs turned into links."""
    out, pos = [], 0
    for match in MARKER_RUN.finditer(line):
        out.append(escape(line[pos : match.start()]))
        out.append(render_markers(match.group(0), by_n))
        pos = match.end()
    out.append(escape(line[pos:]))
    return f'<p class="sanad-line">{"".join(out)}</p>'


def render_lines(text: str, by_n: dict[int, Citation]) -> str:
    """Every non-empty line of a message."""
    lines = [line for line in text.split("\n") if line.strip()]
    return "".join(render_text_line(line, by_n) for line in lines) or '<p class="sanad-line">…</p>'


def render_turn(turn: ChatTurn) -> str:
    """A question and its (possibly partial or failed) answer."""
    question = (
        '<div class="sanad-msg sanad-user" dir="auto">'
        f'<p class="sanad-line">{escape(turn.question)}</p></div>'
    )
    answer = turn.answer
    if turn.error:
        body = (
            '<div class="sanad-msg sanad-bot sanad-error" dir="auto">'
            f'<p class="sanad-line">{escape(turn.error)}</p></div>'
        )
    elif answer is None:
        body = (
            '<div class="sanad-msg sanad-bot sanad-pending" dir="auto">'
            f"{render_lines(turn.text, {})}</div>"
        )
    else:
        by_n = {c.n: c for c in answer.citations}
        body = (
            f'<div class="sanad-msg sanad-bot" dir="auto" lang="{escape(answer.language)}">'
            f"{render_lines(answer.text, by_n)}</div>"
        )
        if answer.notice:
            body += f'<div class="sanad-notice" dir="auto">{escape(answer.notice)}</div>'
        if answer.turn is not None:
            body += render_verdict(answer.turn, turn.rating)
    return f'<div class="sanad-turn">{question}{body}</div>'


def pressed(on: bool) -> str:
    """The aria-pressed value of a toggle button."""
    return "true" if on else "false"


def render_verdict(turn: int, rating: str | None) -> str:
    """The helpful / not helpful buttons under an answer (turn = its index in the conversation)."""
    buttons = "".join(
        f'<button type="button" data-feedback="{value}" data-turn="{int(turn)}" '
        f'aria-pressed="{pressed(rating == value)}">{label}</button>'
        for value, label in (("up", "✓ Helpful"), ("down", "✗ Not helpful"))
    )
    label = "Was this answer helpful?"
    return f'<div class="sanad-verdict" role="group" aria-label="{label}">{buttons}</div>'


def render_transcript(turns: Sequence[ChatTurn]) -> str:
    """The whole conversation as escaped HTML."""
    if not turns:
        return (
            '<div class="sanad-chat"><div class="sanad-empty">Ask a question in Arabic, '
            "English or Indonesian; every statement links to the passage it quotes.</div></div>"
        )
    return f'<div class="sanad-chat">{"".join(render_turn(t) for t in turns)}</div>'


def render_origin(
    where: str, published: str | None, page: int | None, summary_only: bool = False
) -> str:
    """The "site · date · p. N" line of a source or an article; parts not known are left out.
    A feed item stored as its summary (its page unread) says so."""
    parts = [f'<bdi class="sanad-site">{escape(where)}</bdi>']
    if published:
        parts.append(f'<bdi class="sanad-date" dir="ltr">{escape(published)}</bdi>')
    if page is not None:
        parts.append(f'<bdi class="sanad-page" dir="ltr">p. {int(page)}</bdi>')
    if summary_only:
        parts.append('<span class="sanad-summary-only">feed summary only</span>')
    return " · ".join(parts)


def render_origin_of(citation: Citation) -> str:
    """The origin line of a citation: its site (else its source), date and PDF page."""
    where = citation.site or citation.source
    return render_origin(where, citation.published, citation.page, citation.summary_only)


def render_flag(cid: str, turn: int | None, flagged: bool) -> str:
    """The "does not support" button of a source (none for an answer not stored yet)."""
    if turn is None:
        return ""
    return (
        f'<button type="button" class="sanad-flag" data-feedback="down" data-turn="{int(turn)}" '
        f'data-citation="{escape(cid)}" aria-pressed="{pressed(flagged)}">'
        "Doesn't support the statement</button>"
    )


def render_source(citation: Citation, turn: int | None = None, flagged: bool = False) -> str:
    """One entry of the sources panel: badge, title, source, quote, copy link, flag button."""
    cid = escape(citation.id)
    url = escape(citation_url(citation.id))
    return (
        f'<li class="sanad-source" data-cid="{cid}" data-n="{int(citation.n)}" tabindex="0">'
        '<div class="sanad-source-head">'
        f'<bdi dir="ltr" class="sanad-n">[{int(citation.n)}]</bdi>{badge(citation.lang)}'
        f'<span class="sanad-title" dir="auto">{escape(citation.title)}</span></div>'
        f'<div class="sanad-origin" dir="auto">{render_origin_of(citation)}</div>'
        f'<blockquote class="sanad-quote" dir="auto">{escape(citation.quote)}</blockquote>'
        '<div class="sanad-source-foot">'
        f'<a class="sanad-copy" href="{url}" target="_blank" rel="noopener">copy link</a>'
        f"{render_flag(citation.id, turn, flagged)}</div></li>"
    )


def render_sources(answer: Answer | None, flagged: Collection[str] = ()) -> str:
    """The sources panel for an answer: every citation it makes (`flagged`: marked as not
    supporting the statement)."""
    if answer is None:
        return '<div class="sanad-sources"><h3>Sources</h3></div>'
    if not answer.citations:
        note = "No sources: the corpus holds no evidence for this question."
        return f'<div class="sanad-sources"><h3>Sources</h3><p>{note}</p></div>'
    items = "".join(render_source(c, answer.turn, c.id in flagged) for c in answer.citations)
    hint = '<p class="sanad-hint">Click a marker or a source to read the article beside.</p>'
    return f'<div class="sanad-sources"><h3>Sources</h3>{hint}<ol>{items}</ol></div>'


def render_timings(answer: Answer | None) -> str:
    """One small line with the per-stage timings of an answer."""
    if answer is None or not answer.timings_ms:
        return '<div class="sanad-timings"></div>'
    stages = " · ".join(
        f"{escape(name.removesuffix('_ms'))} {ms:.0f} ms" for name, ms in answer.timings_ms.items()
    )
    return f'<div class="sanad-timings">{escape(answer.mode)} · {stages}</div>'


def highlight_line(line: str, offset: int, start: int, end: int) -> str:
    """A line of the article (at `offset`), the part inside [start, end) in `<mark>`."""
    lo, hi = max(start - offset, 0), min(end - offset, len(line))
    if lo >= hi:
        return escape(line)
    return f"{escape(line[:lo])}<mark>{escape(line[lo:hi])}</mark>{escape(line[hi:])}"


def render_article_text(text: str, start: int, end: int) -> str:
    """The article, one `dir="auto"` paragraph per line, with the cited span highlighted."""
    out, offset = [], 0
    for line in text.split("\n"):
        if line.strip():
            out.append(f'<p dir="auto">{highlight_line(line, offset, start, end)}</p>')
        offset += len(line) + 1
    return "".join(out)


def drawer(cid: str, label: str, inner: str) -> str:
    """The article drawer: a dialog beside the answer, with a close button (or Escape)."""
    return (
        f'<div class="sanad-article sanad-drawer" role="dialog" aria-label="{escape(label)}" '
        f'tabindex="-1" data-cid="{escape(cid)}" data-opened="{time.time_ns()}">{inner}</div>'
    )


def close_button() -> str:
    """The drawer's close button."""
    return (
        '<button type="button" class="sanad-drawer-close" aria-label="Close the article (Escape)"'
        ' title="Close (Escape)">✕</button>'
    )


def render_article(store: DocumentLookup, cid: str) -> str:
    """The cited article in the drawer with the quoted span highlighted, or why it cannot be
    shown."""
    try:
        doc, text, start, end = resolve(store, cid)
    except CitationNotFound as exc:
        head = f'<div class="sanad-drawer-head"><h3 dir="auto">{escape(str(exc))}</h3>'
        return drawer(cid, "Citation not found", head + close_button() + "</div>")
    about = doc.origin
    side = "rtl" if about.lang == "ar" else "ltr"  # the header sits on the article's side
    origin = render_origin(
        about.site or about.source, about.published, doc.page_at(start), about.summary_only
    )
    head = (
        f'<div class="sanad-drawer-head"><h3 dir="{side}">{badge(about.lang)} '
        f'<span dir="auto">{escape(about.title)}</span></h3>{close_button()}</div>'
    )
    return drawer(
        cid,
        f"Article: {about.title}",
        f'{head}<div class="sanad-origin" dir="{side}">{origin}</div>'
        f'<div class="sanad-article-body" lang="{escape(about.lang)}">'
        f"{render_article_text(text, start, end)}</div>",
    )


def empty_article() -> str:
    """The drawer before any citation is opened: nothing shown."""
    return '<div class="sanad-article sanad-drawer" hidden></div>'


def render_status(message: str) -> str:
    """The status line of the Documents tab."""
    return f'<div class="sanad-status" dir="auto">{escape(message)}</div>'


def html_panel(value: str, elem_id: str, js: str | None, **kwargs: Any) -> gr.HTML:
    """A gr.HTML showing our own escaped markup (the page's CSS comes with the transcript)."""
    return gr.HTML(
        value,
        elem_id=elem_id,
        js_on_load=js,
        apply_default_css=False,
        **kwargs,
    )


def info(message: str) -> None:
    """A toast: Gradio renders its text as HTML, so titles and file names are escaped."""
    gr.Info(escape(message))


def warning(message: str) -> None:
    """A warning toast, escaped like `info`."""
    gr.Warning(escape(message))
