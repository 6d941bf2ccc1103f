"""The Gradio UI: a chat built for reading evidence (markers, sources, highlighted articles).

Every article text, question and model output is untrusted. It is escaped with `html.escape`
and placed inside HTML that this module builds; nothing is rendered as Markdown or raw HTML.
Direction is left to the browser: each message and passage element has `dir="auto"`, and the
lines of a message resolve their own direction (`unicode-bidi: plaintext`), so Arabic reads
right-to-left and English/Indonesian left-to-right in one conversation.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

import gradio as gr

from assistant.citations import Answer, CitationNotFound, resolve
from assistant.engine import Engine
from index.store import Store

LANGUAGES = [("العربية (ar)", "ar"), ("English (en)", "en"), ("Indonesia (id)", "id")]
DEFAULT_EXAMPLES = [
    "من يدرّب قوات حفتر على حرب الشوارع؟",
    "Who has been training Haftar's forces in street warfare?",
    "Siapa yang melatih pasukan Haftar dalam perang jalanan?",
    "ما القوات الغربية التي تدعم حفتر في بنغازي؟",
]
CITATION_URL = "/api/citations/"
_MARKER_RUN = re.compile(r"(?:\[\d{1,3}\])+")
_NUMBER = re.compile(r"\d+")
TITLE_CHARS = 90

CSS = """
#sanad-question textarea { unicode-bidi: plaintext; text-align: start; }
.sanad-chat { display: flex; flex-direction: column; gap: 10px; padding: 4px; }
.sanad-empty { color: var(--body-text-color-subdued); padding: 12px; }
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
.sanad-article-body {
  max-height: 420px; overflow-y: auto; border: 1px solid var(--border-color-primary);
  border-radius: 8px; padding: 8px 12px; background: var(--background-fill-primary);
}
.sanad-article-body p { margin: 0 0 6px 0; white-space: pre-wrap; text-align: start; }
.sanad-article mark { background: #fde047; color: #111; padding: 1px 0; border-radius: 2px; }
"""

# Clicks on [data-cid] (markers, sources) open the article; "copy link" copies the API URL.
CLICK_JS = """
element.addEventListener('click', (event) => {
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
  document.querySelectorAll('#sanad-sources li.sanad-source').forEach((li) => {
    li.classList.toggle('sanad-active', li.dataset.cid === cid);
  });
  trigger('click', {cid: cid});
});
"""

# After the article changes, bring its highlighted span into view.
SCROLL_JS = """
watch('value', () => {
  const mark = element.querySelector('mark');
  if (mark) mark.scrollIntoView({block: 'center', inline: 'nearest', behavior: 'instant'});
});
"""


# --- rendering (pure functions of escaped data) ----------------------------------------------
def citation_url(cid: str) -> str:
    """The API URL of a citation (relative to the server root)."""
    return CITATION_URL + quote(cid, safe=":-")


def badge(lang: str) -> str:
    """A coloured language badge (ar/en/id/other)."""
    code = lang if lang in ("ar", "en", "id") else "other"
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
    for match in _MARKER_RUN.finditer(line):
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
    return f'<div class="sanad-turn">{question}{body}</div>'


def render_transcript(turns: Sequence[dict[str, Any]]) -> str:
    """The whole conversation as escaped HTML."""
    if not turns:
        return (
            '<div class="sanad-chat"><div class="sanad-empty">Ask a question in Arabic, '
            "English or Indonesian; every statement links to the passage it quotes.</div></div>"
        )
    return f'<div class="sanad-chat">{"".join(render_turn(t) for t in turns)}</div>'


def render_source(citation: dict[str, Any]) -> str:
    """One entry of the sources panel: badge, title, source, quote, copy link."""
    cid = escape(citation["id"])
    url = escape(citation_url(citation["id"]))
    return (
        f'<li class="sanad-source" data-cid="{cid}" data-n="{int(citation["n"])}">'
        '<div class="sanad-source-head">'
        f'<bdi dir="ltr" class="sanad-n">[{int(citation["n"])}]</bdi>{badge(citation["lang"])}'
        f'<span class="sanad-title" dir="auto">{escape(citation["title"])}</span></div>'
        f'<div class="sanad-origin" dir="auto">{escape(citation["source"])}</div>'
        f'<blockquote class="sanad-quote" dir="auto">{escape(citation["quote"])}</blockquote>'
        f'<a class="sanad-copy" href="{url}" target="_blank" rel="noopener">copy link</a></li>'
    )


def render_sources(answer: dict[str, Any] | None) -> str:
    """The sources panel for an answer: every citation it makes."""
    if answer is None:
        return '<div class="sanad-sources"><h3>Sources</h3></div>'
    if not answer["citations"]:
        note = "No sources: the corpus holds no evidence for this question."
        return f'<div class="sanad-sources"><h3>Sources</h3><p>{note}</p></div>'
    items = "".join(render_source(c) for c in answer["citations"])
    return f'<div class="sanad-sources"><h3>Sources</h3><ol>{items}</ol></div>'


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


def render_article(store: Store, cid: str) -> str:
    """The cited article with the quoted span highlighted, or why it cannot be shown."""
    try:
        doc, text, start, end = resolve(store, cid)
    except CitationNotFound as exc:
        return f'<div class="sanad-article"><p dir="auto">{escape(str(exc))}</p></div>'
    published = f" · {escape(doc.published)}" if doc.published else ""
    side = "rtl" if doc.lang == "ar" else "ltr"  # the header sits on the article's side
    return (
        f'<div class="sanad-article" data-cid="{escape(cid)}" data-opened="{time.time_ns()}">'
        f'<h3 dir="{side}">{badge(doc.lang)} <span dir="auto">{escape(doc.title)}</span></h3>'
        f'<div class="sanad-origin" dir="{side}"><bdi>{escape(doc.source)}</bdi>{published}</div>'
        f'<div class="sanad-article-body">{render_article_text(text, start, end)}</div></div>'
    )


def empty_article() -> str:
    """The article panel before any citation is opened."""
    return (
        '<div class="sanad-article"><p class="sanad-empty">Click a marker such as [1] or a '
        "source to read the article with the quoted passage highlighted.</p></div>"
    )


# --- the app ---------------------------------------------------------------------------------
def document_choices(store: Store) -> list[tuple[str, str]]:
    """(title, doc_id) for the document filter, sorted by title."""
    docs = sorted(store.documents(), key=lambda d: (d.title.casefold(), d.doc_id))
    return [(shorten(d.title or d.source, TITLE_CHARS), d.doc_id) for d in docs]


def shorten(text: str, limit: int) -> str:
    """The text cut to `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def language_filter(langs: Sequence[str] | None) -> list[str] | None:
    """None (no filter) when every language or none is ticked."""
    chosen = [lang for lang in (langs or []) if lang in {code for _, code in LANGUAGES}]
    return chosen if 0 < len(chosen) < len(LANGUAGES) else None


def make_respond(engine: Engine) -> Callable[..., Iterator[tuple[Any, ...]]]:
    """The streaming chat handler bound to an engine."""

    def respond(
        question: str,
        turns: list[dict[str, Any]] | None,
        conversation_id: str | None,
        langs: list[str] | None,
        doc_ids: list[str] | None,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream the answer into the transcript, then show its sources and timings."""
        turns = list(turns or [])
        if not (question or "").strip():
            gr.Warning("Type a question first.")
            yield (gr.skip(),) * 6
            return
        turn: dict[str, Any] = {"question": question.strip(), "text": "", "answer": None}
        turns.append(turn)
        yield render_transcript(turns), turns, conversation_id, gr.skip(), gr.skip(), ""
        try:
            stream = engine.ask_stream(
                question, conversation_id, language_filter(langs), list(doc_ids or []) or None
            )
            for item in stream:
                if isinstance(item, Answer):
                    turn["answer"] = item.model_dump(mode="json")
                    conversation_id = item.conversation_id
                else:
                    turn["text"] += item
                    yield render_transcript(turns), turns, conversation_id, *(gr.skip(),) * 3
        except (ValueError, KeyError) as exc:
            turn["error"] = str(exc.args[0] if exc.args else exc)
        answer = turn["answer"]
        sources = render_sources(answer) if answer else gr.skip()
        yield (
            render_transcript(turns),
            turns,
            conversation_id,
            sources,
            render_timings(answer),
            "",
        )

    return respond


def make_ask_api(engine: Engine) -> Callable[[str], dict]:
    """The function behind Gradio's `/ask` endpoint."""

    def ask(question: str) -> dict:
        """Answer a question; returns the Answer as a dict (text, citations, timings...)."""
        try:
            return engine.ask(question).model_dump(mode="json")
        except ValueError as exc:
            raise gr.Error(str(exc)) from exc

    return ask


def html_panel(value: str, elem_id: str, js: str | None, **kwargs: Any) -> gr.HTML:
    """A gr.HTML showing our own escaped markup (the page's CSS comes with the transcript)."""
    return gr.HTML(
        value,
        elem_id=elem_id,
        js_on_load=js,
        apply_default_css=False,
        **kwargs,
    )


def build_ui(engine: Engine, examples: Sequence[str] | None = None) -> gr.Blocks:
    """The Gradio Blocks app: streaming chat, sources panel, article view, filters."""
    with gr.Blocks(title="Sanad — news answers with exact citations") as blocks:
        turns = gr.State([])
        conversation = gr.State(None)
        gr.Markdown("## Sanad · سند\nAnswers from the news corpus, each statement cited.")
        with gr.Row():
            with gr.Column(scale=3):
                transcript = html_panel(
                    render_transcript([]),
                    "sanad-transcript",
                    CLICK_JS,
                    autoscroll=True,
                    max_height=640,
                    head=f"<style>{CSS}</style>",
                )
                timings = html_panel(render_timings(None), "sanad-timings", None)
                with gr.Row():
                    question = gr.Textbox(
                        placeholder="اسأل · Ask · Tanya …",
                        show_label=False,
                        elem_id="sanad-question",
                        scale=5,
                    )
                    ask = gr.Button("Ask", variant="primary", elem_id="sanad-ask", scale=1)
                gr.Examples(
                    examples=[[e] for e in (examples or DEFAULT_EXAMPLES)],
                    inputs=[question],
                    label="Examples",
                )
                with gr.Row():
                    langs = gr.CheckboxGroup(
                        LANGUAGES,
                        value=[code for _, code in LANGUAGES],
                        label="Languages",
                        elem_id="sanad-langs",
                    )
                    docs = gr.Dropdown(
                        choices=document_choices(engine.store),
                        multiselect=True,
                        label="Documents (empty = all)",
                        elem_id="sanad-docs",
                    )
                new = gr.Button("New conversation", elem_id="sanad-new", size="sm")
            with gr.Column(scale=2):
                sources = html_panel(render_sources(None), "sanad-sources", CLICK_JS)
                article = html_panel(empty_article(), "sanad-article", SCROLL_JS)

        outputs = [transcript, turns, conversation, sources, timings, question]
        inputs = [question, turns, conversation, langs, docs]
        respond = make_respond(engine)
        for event in (question.submit, ask.click):
            event(respond, inputs, outputs, api_visibility="private")

        def open_citation(evt: gr.EventData) -> str:
            """Show the article of the clicked marker or source."""
            data = evt._data if isinstance(evt._data, dict) else {}
            return render_article(engine.store, str(data.get("cid", "")))

        for panel in (transcript, sources):
            panel.click(open_citation, None, article, api_visibility="private")

        def reset() -> tuple[Any, ...]:
            """Forget the conversation: empty transcript, panels and state."""
            empty = render_transcript([]), [], None, render_sources(None)
            return (*empty, render_timings(None), "", empty_article())

        new.click(reset, None, [*outputs, article], api_visibility="private")
        blocks.load(
            lambda: gr.update(choices=document_choices(engine.store)),
            None,
            docs,
            api_visibility="private",
        )
        gr.api(make_ask_api(engine), api_name="ask")
    # Gradio runs one event per listener at a time by default; the engine is thread-safe
    # (benchmarks/load.py), so several browser users are answered side by side.
    blocks.queue(default_concurrency_limit=engine.settings.ui_concurrency)
    return blocks
