"""The Documents tab: the corpus as a table; upload, delete (confirmed) and re-index.

Its tables are Gradio Dataframes, which show every cell as plain text. After every change the
table and the chat's document and source pickers are refreshed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, BinaryIO

import gradio as gr

from assistant.access import Forbidden
from assistant.caller_view import CallerView, WritableLibrary
from assistant.engine import ReadableStore
from index.documents import SUPPORTED_SUFFIXES
from index.formats.base import SkipFile
from index.library import DocumentNotFound
from index.store import DocRecord
from ui.pickers import document_choices, document_label, sorted_documents, source_choices
from ui.render import html_panel, info, render_status, warning
from ui.viewer import Viewer

DOC_COLUMNS = ["title", "source", "site", "published", "language", "pages", "chunks", "doc_id"]
DOC_TYPES = ["str", "str", "str", "str", "str", "str", "number", "str"]
DOC_WIDTHS = ["27%", "18%", "11%", "10%", "9%", "6%", "6%", "13%"]
RESULT_COLUMNS = ["file", "status", "reason"]


def document_rows(docs: Sequence[DocRecord]) -> list[list[Any]]:
    """One row per document, in DOC_COLUMNS order (Gradio shows each cell as plain text)."""
    return [
        [
            d.origin.title,
            d.origin.source,
            d.origin.site or "",
            d.origin.published or "",
            d.origin.lang,
            str(d.origin.pages.count or ""),
            d.n_chunks,
            d.doc_id,
        ]
        for d in docs
    ]


def refreshed(
    view: CallerView,
    doc_filter: Sequence[str] | None,
    source_filter: Sequence[str] | None,
    target: str | None = None,
) -> tuple[Any, ...]:
    """The table, the document to manage, the chat's pickers and the upload's collection,
    after the corpus changed (all of it what the caller may read and write).

    The chat keeps the documents and sources it had chosen that still exist.
    """
    docs = sorted_documents(view.store)
    ids = {d.doc_id for d in docs}
    names = source_choices(docs)
    writable = view.library.collections
    return (
        document_rows(docs),
        gr.update(choices=document_choices(docs, with_source=True), value=None),
        gr.update(choices=document_choices(docs), value=[i for i in doc_filter or [] if i in ids]),
        gr.update(choices=names, value=[n for n in source_filter or [] if n in names]),
        gr.update(
            choices=writable,
            value=target if target in writable else view.library.collection,
            interactive=bool(writable),
        ),
    )


def make_refresh(viewer: Viewer) -> Callable[..., tuple[Any, ...]]:
    """The handler that refreshes the table and pickers (also run when the page loads)."""

    def refresh(
        doc_filter: list[str] | None,
        source_filter: list[str] | None,
        target: str | None = None,
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """The views with what the caller may read and write now."""
        return refreshed(viewer(request), doc_filter, source_filter, target)

    return refresh


def upload_rows(
    library: WritableLibrary, files: Sequence[tuple[str, BinaryIO]], collection: str | None
) -> tuple[list[list[str]], str]:
    """Ingest uploaded (name, stream) pairs into a collection (None: the caller's usual one):
    one (file, status, reason) row each, and a summary."""
    results, _ = library.upload(files, progress=True, collection=collection)
    counts = Counter(result.status for result in results)
    summary = ", ".join(f"{n} {status}" for status, n in counts.items()) or "no files"
    return [[r.name, r.status, r.reason or ""] for r in results], f"Upload: {summary}."


def make_upload(viewer: Viewer) -> Callable[..., tuple[Any, ...]]:
    """The Upload button's handler: into the caller's collection (see WritableLibrary)."""

    def upload(
        paths: list[str] | None,
        doc_filter: list[str] | None,
        source_filter: list[str] | None,
        target: str | None = None,
        request: gr.Request | None = None,
        progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008 (Gradio's idiom)
    ) -> tuple[Any, ...]:
        """Ingest the chosen files under their own names; show the results, refresh the views."""
        if not paths:
            warning("Choose one or more files first.")
            return (gr.skip(),) * 8
        view = viewer(request)
        try:
            with ExitStack() as stack:  # Gradio's temporary copy keeps the file's base name
                files = [(Path(p).name, stack.enter_context(open(p, "rb"))) for p in paths]
                rows, summary = upload_rows(view.library, files, target)
        except Forbidden as exc:
            warning(str(exc))
            return gr.skip(), render_status(str(exc)), None, *(gr.skip(),) * 5
        info(summary)
        status = render_status(summary)
        return rows, status, None, *refreshed(view, doc_filter, source_filter, target)

    return upload


def chosen_document(store: ReadableStore, doc_id: str | None) -> DocRecord:
    """The document chosen in the Documents tab, or DocumentNotFound."""
    if not doc_id:
        raise DocumentNotFound("Choose a document first.")
    found = store.documents([doc_id])
    if not found:
        raise DocumentNotFound(f"no document {doc_id} in the index")
    return found[0]


def make_confirm_delete(viewer: Viewer) -> Callable[..., tuple[Any, Any]]:
    """The Delete button's handler: asks to confirm before anything is removed."""

    def confirm(doc_id: str | None, request: gr.Request | None = None) -> tuple[Any, Any]:
        """Name the document about to go and show the "Confirm delete" button."""
        try:
            doc = chosen_document(viewer(request).store, doc_id)
        except DocumentNotFound as exc:
            warning(str(exc))
            return render_status(str(exc)), gr.update(visible=False)
        question = f"Delete {document_label(doc)}? Press “Confirm delete” to remove it."
        return render_status(question), gr.update(visible=True)

    return confirm


def make_document_action(
    viewer: Viewer, action: Callable[[WritableLibrary, DocRecord], str]
) -> Callable[..., tuple[Any, ...]]:
    """A handler running `action` (delete, re-index) on the chosen document."""

    def run(
        doc_id: str | None,
        doc_filter: list[str] | None,
        source_filter: list[str] | None,
        target: str | None = None,
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """Run the action; show its outcome, hide the delete confirmation, refresh the views."""
        view = viewer(request)
        try:
            message = action(view.library, chosen_document(view.store, doc_id))
        except (DocumentNotFound, SkipFile, Forbidden) as exc:
            message = str(exc)
            warning(message)
        else:
            info(message)
        hidden = gr.update(visible=False)
        return render_status(message), hidden, *refreshed(view, doc_filter, source_filter, target)

    return run


def delete_document(library: WritableLibrary, doc: DocRecord) -> str:
    """Delete a document from the index; returns the outcome line."""
    library.delete(doc.doc_id)
    return f"Deleted {document_label(doc)}."


def reindex_document(library: WritableLibrary, doc: DocRecord) -> str:
    """Read and embed a document again; returns the outcome line."""
    try:
        report = library.reindex(doc.doc_id)
    except SkipFile as skip:
        raise SkipFile(f"Cannot re-index {document_label(doc)}: {skip.reason}") from skip
    return f"Re-indexed {document_label(doc)}: {report.summary()}"


def build_documents(viewer: Viewer, pickers: list[gr.Dropdown]) -> list[gr.Component]:
    """The documents tab; returns what `refreshed` updates (table, chosen document, pickers,
    and last the upload's collection). It is filled when the page loads, with what the
    signed-in caller may read and write."""
    table = gr.Dataframe(
        [],
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
            target = gr.Dropdown(
                choices=[], label="Into collection", elem_id="sanad-upload-collection"
            )
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
            choices=[],
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

    views = [table, chosen, *pickers, target]
    upload.click(
        make_upload(viewer),
        [files, *pickers, target],
        [results, status, files, *views],
        api_visibility="private",
        show_progress_on=results,
    )
    refresh.click(make_refresh(viewer), [*pickers, target], views, api_visibility="private")
    delete.click(make_confirm_delete(viewer), chosen, [status, confirm], api_visibility="private")
    chosen.change(lambda: gr.update(visible=False), None, confirm, api_visibility="private")
    for button, action in ((confirm, delete_document), (reindex, reindex_document)):
        button.click(
            make_document_action(viewer, action),
            [chosen, *pickers, target],
            [status, confirm, *views],
            api_visibility="private",
        )
    return views
