"""The Gradio UI: a chat built for reading evidence (markers, sources, highlighted articles).

Every article text, question and model output is untrusted. It is escaped with `html.escape`
and placed inside HTML that this module builds; nothing is rendered as Markdown or raw HTML.
Direction is left to the browser: each message and passage element has `dir="auto"`, and the
lines of a message resolve their own direction (`unicode-bidi: plaintext`), so Arabic reads
right-to-left and English/Indonesian left-to-right in one conversation.

The Documents tab lists the corpus and changes it (upload, delete, re-index) through
`engine.library`; after every change the table and the chat's document and source pickers
are refreshed. Its tables are Gradio Dataframes, which show every cell as plain text.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from html import escape
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import gradio as gr

from assistant.citations import Answer, CitationNotFound, resolve
from assistant.engine import Engine
from assistant.library import DocumentNotFound, Library
from index.documents import SUPPORTED_SUFFIXES
from index.filters import Filters, host_of
from index.formats.base import SkipFile
from index.store import DocRecord, Store

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
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
DOC_COLUMNS = ["title", "source", "site", "published", "language", "pages", "chunks", "doc_id"]
DOC_TYPES = ["str", "str", "str", "str", "str", "str", "number", "str"]
DOC_WIDTHS = ["27%", "18%", "11%", "10%", "9%", "6%", "6%", "13%"]
RESULT_COLUMNS = ["file", "status", "reason"]

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
.sanad-status { padding: 6px 4px; unicode-bidi: plaintext; text-align: start; }
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


def render_source(citation: dict[str, Any]) -> str:
    """One entry of the sources panel: badge, title, source, quote, copy link."""
    cid = escape(citation["id"])
    url = escape(citation_url(citation["id"]))
    return (
        f'<li class="sanad-source" data-cid="{cid}" data-n="{int(citation["n"])}">'
        '<div class="sanad-source-head">'
        f'<bdi dir="ltr" class="sanad-n">[{int(citation["n"])}]</bdi>{badge(citation["lang"])}'
        f'<span class="sanad-title" dir="auto">{escape(citation["title"])}</span></div>'
        f'<div class="sanad-origin" dir="auto">{render_origin_of(citation)}</div>'
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
    side = "rtl" if doc.lang == "ar" else "ltr"  # the header sits on the article's side
    origin = render_origin(doc.site or doc.source, doc.published, doc.page_at(start))
    return (
        f'<div class="sanad-article" data-cid="{escape(cid)}" data-opened="{time.time_ns()}">'
        f'<h3 dir="{side}">{badge(doc.lang)} <span dir="auto">{escape(doc.title)}</span></h3>'
        f'<div class="sanad-origin" dir="{side}">{origin}</div>'
        f'<div class="sanad-article-body">{render_article_text(text, start, end)}</div></div>'
    )


def empty_article() -> str:
    """The article panel before any citation is opened."""
    return (
        '<div class="sanad-article"><p class="sanad-empty">Click a marker such as [1] or a '
        "source to read the article with the quoted passage highlighted.</p></div>"
    )


# --- filters and document pickers --------------------------------------------------------------
def sorted_documents(store: Store) -> list[DocRecord]:
    """Every stored document, sorted by title."""
    return sorted(store.documents(), key=lambda d: (d.title.casefold(), d.doc_id))


def document_choices(docs: Sequence[DocRecord], with_source: bool = False) -> list[tuple[str, str]]:
    """(label, doc_id) for a document picker: the title, and with `with_source` its source."""
    return [(document_label(d) if with_source else title_of(d), d.doc_id) for d in docs]


def title_of(doc: DocRecord) -> str:
    """A document's title (its source when it has none), shortened for a picker."""
    return shorten(doc.title or doc.source, TITLE_CHARS)


def document_label(doc: DocRecord) -> str:
    """How the Documents tab names a document: "title — source"."""
    return f"{title_of(doc)} — {doc.source}"


def source_names(doc: DocRecord) -> set[str]:
    """The names a document offers the source filter: site, top-level folder, URL hosts."""
    names = {doc.site or "", host_of(doc.source), host_of(doc.url or "")}
    if "://" not in doc.source and "/" in doc.source:
        names.add(doc.source.split("/", 1)[0])
    names.discard("")
    return names


def source_choices(docs: Sequence[DocRecord]) -> list[str]:
    """The distinct source names of the documents, sorted."""
    names = set().union(*(source_names(d) for d in docs))
    return sorted(names, key=str.casefold)


def shorten(text: str, limit: int) -> str:
    """The text cut to `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def language_filter(langs: Sequence[str] | None) -> list[str] | None:
    """None (no filter) when every language or none is ticked."""
    chosen = [lang for lang in (langs or []) if lang in {code for _, code in LANGUAGES}]
    return chosen if 0 < len(chosen) < len(LANGUAGES) else None


def parse_day(value: str | None, label: str) -> dt.date | None:
    """A YYYY-MM-DD date from a date box (None when empty), or ValueError naming the box."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if _DAY.fullmatch(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise ValueError(f"{label}: “{text}” is not a date (YYYY-MM-DD).")


def chat_filters(
    langs: Sequence[str] | None,
    doc_ids: Sequence[str] | None,
    sources: Sequence[str] | None,
    date_from: str | None,
    date_to: str | None,
) -> Filters:
    """The chat's filter controls as Filters; ValueError on a bad date or an empty range."""
    return Filters.of(
        language_filter(langs),
        doc_ids,
        sources,
        parse_day(date_from, "From"),
        parse_day(date_to, "To"),
    )


# --- the chat ----------------------------------------------------------------------------------
def make_respond(engine: Engine) -> Callable[..., Iterator[tuple[Any, ...]]]:
    """The streaming chat handler bound to an engine."""

    def respond(
        question: str,
        turns: list[dict[str, Any]] | None,
        conversation_id: str | None,
        langs: list[str] | None,
        doc_ids: list[str] | None,
        sources: list[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream the answer into the transcript, then show its sources and timings."""
        try:
            if not (question or "").strip():
                raise ValueError("Type a question first.")
            filters = chat_filters(langs, doc_ids, sources, date_from, date_to)
        except ValueError as exc:
            gr.Warning(str(exc))
            yield (gr.skip(),) * 6
            return
        turns = list(turns or [])
        turn: dict[str, Any] = {"question": question.strip(), "text": "", "answer": None}
        turns.append(turn)
        yield render_transcript(turns), turns, conversation_id, gr.skip(), gr.skip(), ""
        try:
            for item in engine.ask_stream(question, conversation_id, filters):
                if isinstance(item, Answer):
                    turn["answer"] = item.model_dump(mode="json")
                    conversation_id = item.conversation_id
                else:
                    turn["text"] += item
                    yield render_transcript(turns), turns, conversation_id, *(gr.skip(),) * 3
        except (ValueError, KeyError) as exc:
            turn["error"] = str(exc.args[0] if exc.args else exc)
        answer = turn["answer"]
        sources_html = render_sources(answer) if answer else gr.skip()
        yield (
            render_transcript(turns),
            turns,
            conversation_id,
            sources_html,
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


# --- the documents tab -------------------------------------------------------------------------
def document_rows(docs: Sequence[DocRecord]) -> list[list[Any]]:
    """One row per document, in DOC_COLUMNS order (Gradio shows each cell as plain text)."""
    return [
        [
            d.title,
            d.source,
            d.site or "",
            d.published or "",
            d.lang,
            str(len(d.page_starts)) if d.page_starts else "",
            d.n_chunks,
            d.doc_id,
        ]
        for d in docs
    ]


def refreshed(
    store: Store, doc_filter: Sequence[str] | None, source_filter: Sequence[str] | None
) -> tuple[Any, ...]:
    """The table, the document to manage and the chat's pickers, after the corpus changed.

    The chat keeps the documents and sources it had chosen that still exist.
    """
    docs = sorted_documents(store)
    ids = {d.doc_id for d in docs}
    names = source_choices(docs)
    return (
        document_rows(docs),
        gr.update(choices=document_choices(docs, with_source=True), value=None),
        gr.update(choices=document_choices(docs), value=[i for i in doc_filter or [] if i in ids]),
        gr.update(choices=names, value=[n for n in source_filter or [] if n in names]),
    )


def render_status(message: str) -> str:
    """The status line of the Documents tab."""
    return f'<div class="sanad-status" dir="auto">{escape(message)}</div>'


def upload_rows(
    library: Library, files: Sequence[tuple[str, BinaryIO]], progress: bool = False
) -> tuple[list[list[str]], str]:
    """Ingest uploaded (name, stream) pairs: one (file, status, reason) row each, and a summary."""
    results, _ = library.upload(files, progress=progress)
    counts = Counter(result.status for result in results)
    summary = ", ".join(f"{n} {status}" for status, n in counts.items()) or "no files"
    return [[r.name, r.status, r.reason or ""] for r in results], f"Upload: {summary}."


def make_upload(engine: Engine) -> Callable[..., tuple[Any, ...]]:
    """The Upload button's handler bound to an engine."""

    def upload(
        paths: list[str] | None,
        doc_filter: list[str] | None,
        source_filter: list[str] | None,
        progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008 (Gradio's idiom)
    ) -> tuple[Any, ...]:
        """Ingest the chosen files under their own names; show the results, refresh the views."""
        if not paths:
            gr.Warning("Choose one or more files first.")
            return (gr.skip(),) * 7
        with ExitStack() as stack:  # Gradio's temporary copy keeps the file's base name
            files = [(Path(p).name, stack.enter_context(open(p, "rb"))) for p in paths]
            rows, summary = upload_rows(engine.library, files, progress=True)
        gr.Info(summary)
        status = render_status(summary)
        return rows, status, None, *refreshed(engine.store, doc_filter, source_filter)

    return upload


def chosen_document(store: Store, doc_id: str | None) -> DocRecord:
    """The document chosen in the Documents tab, or DocumentNotFound."""
    if not doc_id:
        raise DocumentNotFound("Choose a document first.")
    found = store.documents([doc_id])
    if not found:
        raise DocumentNotFound(f"no document {doc_id} in the index")
    return found[0]


def make_confirm_delete(engine: Engine) -> Callable[[str | None], tuple[Any, Any]]:
    """The Delete button's handler: asks to confirm before anything is removed."""

    def confirm(doc_id: str | None) -> tuple[Any, Any]:
        """Name the document about to go and show the "Confirm delete" button."""
        try:
            doc = chosen_document(engine.store, doc_id)
        except DocumentNotFound as exc:
            gr.Warning(str(exc))
            return render_status(str(exc)), gr.update(visible=False)
        question = f"Delete {document_label(doc)}? Press “Confirm delete” to remove it."
        return render_status(question), gr.update(visible=True)

    return confirm


def make_document_action(
    engine: Engine, action: Callable[[Library, DocRecord], str]
) -> Callable[..., tuple[Any, ...]]:
    """A handler running `action` (delete, re-index) on the chosen document."""

    def run(
        doc_id: str | None, doc_filter: list[str] | None, source_filter: list[str] | None
    ) -> tuple[Any, ...]:
        """Run the action; show its outcome, hide the delete confirmation, refresh the views."""
        try:
            message = action(engine.library, chosen_document(engine.store, doc_id))
        except (DocumentNotFound, SkipFile) as exc:
            message = str(exc)
            gr.Warning(message)
        else:
            gr.Info(message)
        hidden = gr.update(visible=False)
        return render_status(message), hidden, *refreshed(engine.store, doc_filter, source_filter)

    return run


def delete_document(library: Library, doc: DocRecord) -> str:
    """Delete a document from the index; returns the outcome line."""
    library.delete(doc.doc_id)
    return f"Deleted {document_label(doc)}."


def reindex_document(library: Library, doc: DocRecord) -> str:
    """Read and embed a document again; returns the outcome line."""
    try:
        report = library.reindex(doc.doc_id)
    except SkipFile as skip:
        raise SkipFile(f"Cannot re-index {document_label(doc)}: {skip.reason}") from skip
    return f"Re-indexed {document_label(doc)}: {report.summary()}"


# --- the app -----------------------------------------------------------------------------------
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
    """The Gradio app: the chat (answers, sources, article, filters), then the documents."""
    with gr.Blocks(title="Sanad — news answers with exact citations") as blocks:
        gr.Markdown("## Sanad · سند\nAnswers from the news corpus, each statement cited.")
        with gr.Tabs():
            with gr.Tab("Chat", elem_id="sanad-chat-tab"):
                pickers = build_chat(engine, examples)
            with gr.Tab("Documents", elem_id="sanad-documents-tab"):
                views = build_documents(engine, pickers)
        blocks.load(lambda: refreshed(engine.store, [], []), None, views, api_visibility="private")
        gr.api(make_ask_api(engine), api_name="ask")
    # Gradio runs one event per listener at a time by default; the engine is thread-safe
    # (benchmarks/load.py), so several browser users are answered side by side.
    blocks.queue(default_concurrency_limit=engine.settings.ui_concurrency)
    return blocks


def build_chat(engine: Engine, examples: Sequence[str] | None) -> list[gr.Dropdown]:
    """The chat tab; returns its document and source pickers (refreshed by the other tab)."""
    turns = gr.State([])
    conversation = gr.State(None)
    docs = sorted_documents(engine.store)
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
                doc_filter = gr.Dropdown(
                    choices=document_choices(docs),
                    multiselect=True,
                    label="Documents (empty = all)",
                    elem_id="sanad-docs",
                )
            with gr.Row():
                source_filter = gr.Dropdown(
                    choices=source_choices(docs),
                    multiselect=True,
                    label="Sources (empty = all)",
                    elem_id="sanad-source-filter",
                )
                date_from = gr.DateTime(
                    include_time=False, type="string", label="From", elem_id="sanad-from"
                )
                date_to = gr.DateTime(
                    include_time=False, type="string", label="To", elem_id="sanad-to"
                )
            new = gr.Button("New conversation", elem_id="sanad-new", size="sm")
        with gr.Column(scale=2):
            sources = html_panel(render_sources(None), "sanad-sources", CLICK_JS)
            article = html_panel(empty_article(), "sanad-article", SCROLL_JS)

    outputs = [transcript, turns, conversation, sources, timings, question]
    inputs = [question, turns, conversation, langs, doc_filter, source_filter, date_from, date_to]
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
    return [doc_filter, source_filter]


def build_documents(engine: Engine, pickers: list[gr.Dropdown]) -> list[gr.Component]:
    """The documents tab; returns what `refreshed` updates (table, chosen document, pickers)."""
    docs = sorted_documents(engine.store)
    table = gr.Dataframe(
        document_rows(docs),
        headers=DOC_COLUMNS,
        datatype=DOC_TYPES,
        column_widths=DOC_WIDTHS,
        interactive=False,
        wrap=True,
        label="Documents",
        elem_id="sanad-doc-table",
    )
    with gr.Row():
        files = gr.File(
            file_count="multiple",
            file_types=sorted(SUPPORTED_SUFFIXES),
            label="Add files (" + " ".join(sorted(SUPPORTED_SUFFIXES)) + ")",
            elem_id="sanad-upload-files",
        )
        with gr.Column():
            upload = gr.Button("Upload", variant="primary", elem_id="sanad-upload-button")
            refresh = gr.Button("Refresh list", size="sm", elem_id="sanad-doc-refresh")
    results = gr.Dataframe(
        headers=RESULT_COLUMNS,
        interactive=False,
        wrap=True,
        label="Upload results",
        elem_id="sanad-upload-results",
    )
    with gr.Row():
        chosen = gr.Dropdown(
            choices=document_choices(docs, with_source=True),
            label="Document",
            elem_id="sanad-doc-choice",
            scale=4,
        )
        delete = gr.Button("Delete", variant="stop", elem_id="sanad-delete", scale=1)
        confirm = gr.Button(
            "Confirm delete",
            variant="stop",
            visible=False,
            elem_id="sanad-confirm-delete",
            scale=1,
        )
        reindex = gr.Button("Re-index", elem_id="sanad-reindex", scale=1)
    status = html_panel(render_status(""), "sanad-doc-status", None)

    views = [table, chosen, *pickers]
    upload.click(
        make_upload(engine),
        [files, *pickers],
        [results, status, files, *views],
        api_visibility="private",
        show_progress_on=results,
    )
    refresh.click(
        lambda *picked: refreshed(engine.store, *picked), pickers, views, api_visibility="private"
    )
    delete.click(make_confirm_delete(engine), chosen, [status, confirm], api_visibility="private")
    chosen.change(lambda: gr.update(visible=False), None, confirm, api_visibility="private")
    for button, action in ((confirm, delete_document), (reindex, reindex_document)):
        button.click(
            make_document_action(engine, action),
            [chosen, *pickers],
            [status, confirm, *views],
            api_visibility="private",
        )
    return views
