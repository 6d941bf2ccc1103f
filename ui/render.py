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
from collections.abc import Sequence
from html import escape
from typing import Any
from urllib.parse import quote

import gradio as gr

from assistant.citations import MARKER_RUN, CitationNotFound, resolve
from index.language import LANGS
from index.store import Store

CITATION_URL = "/api/citations/"
_NUMBER = re.compile(r"\d+")

CSS = """
#sanad-question textarea, #sanad-conv-title input, #sanad-conv-title textarea,
#sanad-history-search input, #sanad-history-search textarea, #sanad-feedback-comment textarea {
  unicode-bidi: plaintext; text-align: start;
}
.sanad-chat { display: flex; flex-direction: column; gap: 10px; padding: 4px; }
.sanad-empty { color: var(--body-text-color-subdued); padding: 12px; }
.sanad-hint { color: var(--body-text-color-subdued); font-size: 0.85em; margin: 0 0 6px 0; }
.sanad-msg {
  border-radius: 10px; padding: 10px 14px; text-align: start;
  border: 1px solid var(--border-color-primary); line-height: 1.7;
}
.sanad-user { background: var(--color-accent-soft); font-weight: 600; }
.sanad-bot { background: var(--background-fill-secondary); }
.sanad-pending { opacity: 0.75; }
.sanad-error { border-color: #d9534f; color: #b52b27; }
.sanad-line {
  margin: 0 0 6px 0; unicode-bidi: plaintext; text-align: start; white-space: pre-wrap;
}
.sanad-line:last-child { margin-bottom: 0; }
.sanad-notice { font-size: 0.85em; color: var(--body-text-color-subdued); margin-top: 4px; }
.sanad-markers { white-space: nowrap; }
.sanad-chat a.sanad-marker {
  color: #2563eb; text-decoration: none; font-weight: 700;
  padding: 0 1px; cursor: pointer;
}
.sanad-chat a.sanad-marker:hover { text-decoration: underline; }
.sanad-timings { font-size: 0.8em; color: var(--body-text-color-subdued); padding: 2px 4px; }
.sanad-sources h3, .sanad-article h3 { margin: 4px 0 8px 0; font-size: 1em; }
.sanad-sources ol { list-style: none; margin: 0; padding: 0; }
.sanad-source {
  border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px;
  margin-bottom: 8px; cursor: pointer; background: var(--background-fill-primary);
}
.sanad-source:hover { border-color: var(--color-accent); }
.sanad-source.sanad-active { border-color: var(--color-accent); box-shadow: 0 0 0 2px #fde047; }
.sanad-source-head { display: flex; gap: 6px; align-items: baseline; flex-wrap: wrap; }
.sanad-n { font-weight: 700; }
.sanad-title { font-weight: 600; unicode-bidi: plaintext; }
.sanad-origin { font-size: 0.8em; color: var(--body-text-color-subdued); }
.sanad-quote {
  margin: 6px 0; padding: 4px 10px; border-inline-start: 3px solid var(--color-accent);
  unicode-bidi: plaintext; text-align: start; font-size: 0.92em;
}
.sanad-sources a.sanad-copy { font-size: 0.8em; color: #2563eb; text-decoration: underline; }
.sanad-badge {
  display: inline-block; font-size: 0.72em; font-weight: 700; text-transform: uppercase;
  border-radius: 4px; padding: 0 6px; color: #fff; background: #6b7280;
  font-family: ui-monospace, monospace; direction: ltr;
}
.sanad-lang-ar { background: #0f766e; }
.sanad-lang-en { background: #1d4ed8; }
.sanad-lang-id { background: #b45309; }
.sanad-drawer {
  position: fixed; top: 0; right: 0; z-index: 1000; height: 100vh; box-sizing: border-box;
  width: min(600px, 42vw); display: flex; flex-direction: column; gap: 6px;
  padding: 12px 16px; background: var(--background-fill-primary);
  border-left: 1px solid var(--border-color-primary); box-shadow: -8px 0 24px rgb(0 0 0 / 18%);
}
.sanad-drawer[hidden] { display: none; }
.sanad-drawer:focus { outline: none; }
.sanad-drawer-head { display: flex; gap: 8px; align-items: flex-start; }
.sanad-drawer-head h3 { flex: 1; }
.sanad-drawer-close {
  border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 2px 10px;
  background: var(--background-fill-secondary); cursor: pointer; font-size: 1em;
}
.sanad-article-body {
  flex: 1; min-height: 0; overflow-y: auto; border: 1px solid var(--border-color-primary);
  border-radius: 8px; padding: 8px 12px; background: var(--background-fill-primary);
}
.sanad-verdict { display: flex; gap: 6px; margin-top: 4px; }
.sanad-verdict button, .sanad-flag {
  font-size: 0.8em; border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 1px 8px; background: var(--background-fill-primary); cursor: pointer;
}
.sanad-verdict button[aria-pressed="true"], .sanad-flag[aria-pressed="true"] {
  background: var(--color-accent-soft); border-color: var(--color-accent); font-weight: 700;
}
.sanad-source-foot { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
.sanad-article-body p { margin: 0 0 6px 0; white-space: pre-wrap; text-align: start; }
.sanad-article mark { background: #fde047; color: #111; padding: 1px 0; border-radius: 2px; }
.sanad-status { padding: 6px 4px; unicode-bidi: plaintext; text-align: start; }
.sanad-history ul { list-style: none; margin: 0; padding: 0; }
.sanad-conv {
  display: block; width: 100%; text-align: start; margin-bottom: 4px; padding: 6px 8px;
  border: 1px solid transparent; border-radius: 6px; background: none; cursor: pointer;
}
.sanad-conv:hover, .sanad-conv:focus-visible { border-color: var(--color-accent); }
.sanad-conv[aria-current="true"] { background: var(--color-accent-soft); }
.sanad-conv-title {
  display: block; unicode-bidi: plaintext; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap;
}
.sanad-conv-meta { display: block; font-size: 0.75em; color: var(--body-text-color-subdued); }
"""

# Clicks: feedback buttons ([data-feedback]) send a verdict; markers and sources ([data-cid])
# open the article (remembering what opened it, for focus on close); "copy link" copies the
# API URL. Enter or Space on a focused source opens it too.
CLICK_JS = """
element.addEventListener('click', (event) => {
  const vote = event.target.closest('[data-feedback]');
  if (vote) {
    event.preventDefault();
    trigger('click', {feedback: vote.dataset.feedback, turn: Number(vote.dataset.turn),
                      citation: vote.dataset.citation || null});
    return;
  }
  const copy = event.target.closest('a.sanad-copy');
  if (copy) {
    event.preventDefault();
    const url = new URL(copy.getAttribute('href'), window.location.href).href;
    const show = (label) => {
      copy.textContent = label;
      setTimeout(() => { copy.textContent = 'copy link'; }, 2000);
    };
    if (navigator.clipboard) {
      navigator.clipboard.writeText(url).then(() => show('copied'), () => show(url));
    } else {
      show(url);
    }
    return;
  }
  const target = event.target.closest('[data-cid]');
  if (!target) return;
  event.preventDefault();
  const cid = target.dataset.cid;
  window.sanadOpener = target;
  document.querySelectorAll('#sanad-sources li.sanad-source').forEach((li) => {
    li.classList.toggle('sanad-active', li.dataset.cid === cid);
  });
  trigger('click', {cid: cid});
});
element.addEventListener('keydown', (event) => {
  const li = event.target.closest ? event.target.closest('li.sanad-source') : null;
  if (li && event.target === li && (event.key === 'Enter' || event.key === ' ')) {
    event.preventDefault();
    li.click();
  }
});
"""

# The article drawer: shown over the sources column (so the answer stays in view beside it),
# focused and scrolled to its highlight whenever a citation opens; Escape or the close button
# hides it and gives focus back to the marker or source.
DRAWER_JS = """
const drawer = () => element.querySelector('.sanad-drawer');
const place = (open) => {
  const column = document.querySelector('#sanad-side-column');
  if (!column || innerWidth < 900) return;  // narrow screens: the CSS width
  const left = Math.min(column.getBoundingClientRect().left, innerWidth - 480);
  open.style.left = Math.max(0, left) + 'px';
  open.style.width = 'auto';
};
const close = () => {
  const open = drawer();
  if (!open || open.hidden) return;
  open.hidden = true;
  const opener = window.sanadOpener;
  if (opener && opener.isConnected) opener.focus({preventScroll: true});
};
watch('value', () => {
  const open = drawer();
  if (!open) return;
  open.hidden = false;
  place(open);
  const mark = open.querySelector('mark');
  if (mark) mark.scrollIntoView({block: 'center', inline: 'nearest', behavior: 'instant'});
  open.focus({preventScroll: true});
});
element.addEventListener('click', (event) => {
  if (event.target.closest('.sanad-drawer-close')) close();
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') close();
});
"""


# --- rendering (pure functions of escaped data) ----------------------------------------------
def citation_url(cid: str) -> str:
    """The API URL of a citation (relative to the server root)."""
    return CITATION_URL + quote(cid, safe=":-")


def badge(lang: str) -> str:
    """A coloured language badge (ar/en/id/other)."""
    code = lang if lang in LANGS else "other"
    return f'<span class="sanad-badge sanad-lang-{code}">{escape(lang or "?")}</span>'


def render_markers(run: str, by_n: dict[int, dict[str, Any]]) -> str:
    """A run of markers like "[1][2]" as links, isolated so they keep their order in RTL."""
    parts = []
    for number in _NUMBER.findall(run):
        citation = by_n.get(int(number))
        if citation is None:
            parts.append(escape(f"[{number}]"))
            continue
        cid = escape(citation["id"])
        title = escape(citation.get("title", ""))
        parts.append(
            f'<a class="sanad-marker" href="{escape(citation_url(citation["id"]))}" '
            f'data-cid="{cid}" title="{title}">[{int(number)}]</a>'
        )
    return f'<bdi dir="ltr" class="sanad-markers">{"".join(parts)}</bdi>'


def render_text_line(line: str, by_n: dict[int, dict[str, Any]]) -> str:
    """One line of an answer: escaped text with its marker runs turned into links."""
    out, pos = [], 0
    for match in MARKER_RUN.finditer(line):
        out.append(escape(line[pos : match.start()]))
        out.append(render_markers(match.group(0), by_n))
        pos = match.end()
    out.append(escape(line[pos:]))
    return f'<p class="sanad-line">{"".join(out)}</p>'


def render_lines(text: str, by_n: dict[int, dict[str, Any]]) -> str:
    """Every non-empty line of a message."""
    lines = [line for line in text.split("\n") if line.strip()]
    return "".join(render_text_line(line, by_n) for line in lines) or '<p class="sanad-line">…</p>'


def render_turn(turn: dict[str, Any]) -> str:
    """A question and its (possibly partial or failed) answer."""
    question = (
        '<div class="sanad-msg sanad-user" dir="auto">'
        f'<p class="sanad-line">{escape(turn["question"])}</p></div>'
    )
    answer = turn.get("answer")
    if turn.get("error"):
        body = (
            '<div class="sanad-msg sanad-bot sanad-error" dir="auto">'
            f'<p class="sanad-line">{escape(turn["error"])}</p></div>'
        )
    elif answer is None:
        body = (
            '<div class="sanad-msg sanad-bot sanad-pending" dir="auto">'
            f"{render_lines(turn.get('text', ''), {})}</div>"
        )
    else:
        by_n = {c["n"]: c for c in answer["citations"]}
        lang = escape(answer.get("language") or "")
        body = (
            f'<div class="sanad-msg sanad-bot" dir="auto" lang="{lang}">'
            f"{render_lines(answer['text'], by_n)}</div>"
        )
        if answer.get("notice"):
            body += f'<div class="sanad-notice" dir="auto">{escape(answer["notice"])}</div>'
        if answer.get("turn") is not None:
            body += render_verdict(int(answer["turn"]), turn.get("rating"))
    return f'<div class="sanad-turn">{question}{body}</div>'


def pressed(on: bool) -> str:
    """The aria-pressed value of a toggle button."""
    return "true" if on else "false"


def render_verdict(turn: int, rating: str | None) -> str:
    """The helpful / not helpful buttons under an answer (turn = its index in the conversation)."""
    buttons = "".join(
        f'<button type="button" data-feedback="{value}" data-turn="{turn}" '
        f'aria-pressed="{pressed(rating == value)}">{label}</button>'
        for value, label in (("up", "✓ Helpful"), ("down", "✗ Not helpful"))
    )
    label = "Was this answer helpful?"
    return f'<div class="sanad-verdict" role="group" aria-label="{label}">{buttons}</div>'


def render_transcript(turns: Sequence[dict[str, Any]]) -> str:
    """The whole conversation as escaped HTML."""
    if not turns:
        return (
            '<div class="sanad-chat"><div class="sanad-empty">Ask a question in Arabic, '
            "English or Indonesian; every statement links to the passage it quotes.</div></div>"
        )
    return f'<div class="sanad-chat">{"".join(render_turn(t) for t in turns)}</div>'


def render_origin(where: str, published: str | None, page: int | None) -> str:
    """The "site · date · p. N" line of a source or an article; parts not known are left out."""
    parts = [f'<bdi class="sanad-site">{escape(where)}</bdi>']
    if published:
        parts.append(f'<bdi class="sanad-date" dir="ltr">{escape(published)}</bdi>')
    if page is not None:
        parts.append(f'<bdi class="sanad-page" dir="ltr">p. {int(page)}</bdi>')
    return " · ".join(parts)


def render_origin_of(citation: dict[str, Any]) -> str:
    """The origin line of a citation: its site (else its source), date and PDF page."""
    where = citation.get("site") or citation["source"]
    return render_origin(where, citation.get("published"), citation.get("page"))


def render_flag(cid: str, turn: int | None, flagged: bool) -> str:
    """The "does not support" button of a source (none for an answer not stored yet)."""
    if turn is None:
        return ""
    return (
        f'<button type="button" class="sanad-flag" data-feedback="down" data-turn="{int(turn)}" '
        f'data-citation="{escape(cid)}" aria-pressed="{pressed(flagged)}">'
        "Doesn't support the statement</button>"
    )


def render_source(citation: dict[str, Any], turn: int | None = None, flagged: bool = False) -> str:
    """One entry of the sources panel: badge, title, source, quote, copy link, flag button."""
    cid = escape(citation["id"])
    url = escape(citation_url(citation["id"]))
    return (
        f'<li class="sanad-source" data-cid="{cid}" data-n="{int(citation["n"])}" tabindex="0">'
        '<div class="sanad-source-head">'
        f'<bdi dir="ltr" class="sanad-n">[{int(citation["n"])}]</bdi>{badge(citation["lang"])}'
        f'<span class="sanad-title" dir="auto">{escape(citation["title"])}</span></div>'
        f'<div class="sanad-origin" dir="auto">{render_origin_of(citation)}</div>'
        f'<blockquote class="sanad-quote" dir="auto">{escape(citation["quote"])}</blockquote>'
        '<div class="sanad-source-foot">'
        f'<a class="sanad-copy" href="{url}" target="_blank" rel="noopener">copy link</a>'
        f"{render_flag(citation['id'], turn, flagged)}</div></li>"
    )


def render_sources(answer: dict[str, Any] | None, flagged: Sequence[str] = ()) -> str:
    """The sources panel for an answer: every citation it makes (`flagged`: marked as not
    supporting the statement)."""
    if answer is None:
        return '<div class="sanad-sources"><h3>Sources</h3></div>'
    if not answer["citations"]:
        note = "No sources: the corpus holds no evidence for this question."
        return f'<div class="sanad-sources"><h3>Sources</h3><p>{note}</p></div>'
    turn = answer.get("turn")
    items = "".join(render_source(c, turn, c["id"] in flagged) for c in answer["citations"])
    hint = '<p class="sanad-hint">Click a marker or a source to read the article beside.</p>'
    return f'<div class="sanad-sources"><h3>Sources</h3>{hint}<ol>{items}</ol></div>'


def render_timings(answer: dict[str, Any] | None) -> str:
    """One small line with the per-stage timings of an answer."""
    if not answer or not answer.get("timings_ms"):
        return '<div class="sanad-timings"></div>'
    stages = " · ".join(
        f"{escape(name.removesuffix('_ms'))} {ms:.0f} ms"
        for name, ms in answer["timings_ms"].items()
    )
    mode = escape(answer.get("mode", ""))
    return f'<div class="sanad-timings">{mode} · {stages}</div>'


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


def render_article(store: Store, cid: str) -> str:
    """The cited article in the drawer with the quoted span highlighted, or why it cannot be
    shown."""
    try:
        doc, text, start, end = resolve(store, cid)
    except CitationNotFound as exc:
        head = f'<div class="sanad-drawer-head"><h3 dir="auto">{escape(str(exc))}</h3>'
        return drawer(cid, "Citation not found", head + close_button() + "</div>")
    about = doc.origin
    side = "rtl" if about.lang == "ar" else "ltr"  # the header sits on the article's side
    origin = render_origin(about.site or about.source, about.published, doc.page_at(start))
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
