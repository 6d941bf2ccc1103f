"""The Gradio app: the chat built for reading evidence (markers, sources, the article in a
drawer), the conversations sidebar, and the Documents tab."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from html import escape
from typing import Any

import gradio as gr
from gradio.blocks import Block

from assistant.access import NOBODY
from assistant.citations import Answer
from assistant.conversation import ConversationNotFound
from assistant.engine import Engine, StoreUnavailable
from assistant.feedback import COMMENT_CHARS
from ui.api.callers import CSRF_COOKIE
from ui.documents import build_documents, make_refresh
from ui.outputs import Outputs, keyed
from ui.pickers import LANGUAGES, chat_filters
from ui.render import (
    CLICK_JS,
    CSS,
    DRAWER_JS,
    empty_article,
    html_panel,
    render_article,
    render_sources,
    render_timings,
    render_transcript,
    warning,
)
from ui.turns import ChatTurn, stored_turns
from ui.viewer import Viewer, owner_viewer
from ui.workspace import HISTORY_JS, ExportFiles, Workspace, click_data

DEFAULT_EXAMPLES = [
    "من يدرّب قوات حفتر على حرب الشوارع؟",
    "Who has been training Haftar's forces in street warfare?",
    "Siapa yang melatih pasukan Haftar dalam perang jalanan?",
    "ما القوات الغربية التي تدعم حفتر في بنغازي؟",
]


# --- the chat ----------------------------------------------------------------------------------
RESPOND = ("transcript", "conversation", "sources", "timings", "question")


def make_respond(viewer: Viewer) -> Callable[..., Iterator[Outputs]]:
    """The streaming chat handler: the request's caller asks (outputs named as in RESPOND)."""

    def respond(
        question: str,
        conversation_id: str | None,
        langs: list[str] | None,
        doc_ids: list[str] | None,
        sources: list[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        request: gr.Request | None = None,
    ) -> Iterator[Outputs]:
        """Stream the answer into the transcript, then show its sources and timings."""
        engine = viewer(request)
        try:
            filters = chat_filters(langs, doc_ids, sources, date_from, date_to)
            stream = engine.ask_stream(question, conversation_id, filters)
        except (ValueError, ConversationNotFound) as exc:
            warning(str(exc.args[0] if exc.args else exc))
            yield {}
            return
        turns = stored_turns(engine, conversation_id)
        turn = ChatTurn(question.strip())  # the one turn the page holds: the one being streamed
        turns.append(turn)
        yield {"transcript": render_transcript(turns), "question": ""}
        try:
            for item in stream:
                if isinstance(item, Answer):
                    turn.answer = item
                    conversation_id = item.conversation_id
                else:
                    turn.text += item
                    yield {"transcript": render_transcript(turns)}
        except StoreUnavailable as exc:
            turn.error = str(exc.args[0] if exc.args else exc)
        done: Outputs = {
            "transcript": render_transcript(turns),
            "conversation": conversation_id,
            "timings": render_timings(turn.answer),
        }
        if turn.answer is not None:
            done["sources"] = render_sources(turn.answer)
        yield done

    return respond


def make_ask_api(viewer: Viewer) -> Callable[..., dict]:
    """The function behind Gradio's `/ask` endpoint."""

    def ask(question: str, request: gr.Request | None = None) -> dict:
        """Answer a question; returns the Answer as a dict (text, citations, timings...)."""
        try:
            return viewer(request).ask(question).model_dump(mode="json")
        except (ValueError, StoreUnavailable) as exc:
            raise gr.Error(escape(str(exc))) from exc

    return ask


def make_account(viewer: Viewer) -> Callable[..., str]:
    """The signed-in user's name and a Sign out button (nothing for a local single user)."""

    def account(request: gr.Request | None = None) -> str:
        """The account line of the request's caller."""
        user = viewer(request).access.user
        if request is None or not user or user == NOBODY.user:
            return ""
        cookies = request.cookies
        csrf = cookies[CSRF_COOKIE] if CSRF_COOKIE in cookies else ""
        return (
            '<form method="post" action="/logout" class="sanad-account">'
            f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
            f'<span dir="auto">{escape(user)}</span> '
            '<button type="submit" id="sanad-sign-out">Sign out</button></form>'
        )

    return account


# --- the app -----------------------------------------------------------------------------------
def build_ui(
    engine: Engine,
    examples: Sequence[str] | None = None,
    exports: ExportFiles | None = None,
    viewer: Viewer | None = None,
) -> gr.Blocks:
    """The Gradio app: the conversations sidebar, the chat (answers, sources, the article in a
    drawer, feedback), then the documents (`exports`: where conversation downloads go).

    `viewer` gives each request's caller their view of the engine (default: the owner's);
    nothing a caller may not read is in the page as built, it is filled when the page loads.
    """
    viewer = viewer or owner_viewer(engine)
    workspace = Workspace(viewer, exports)
    # Gradio keeps a copy of every file it serves (exports, uploads); these copies go after an
    # hour and on restart, so a deleted conversation's download does not outlive it.
    with gr.Blocks(
        title="Sanad — news answers with exact citations", delete_cache=(600, 3600)
    ) as blocks:
        gr.Markdown("## Sanad · سند\nAnswers from the news corpus, each statement cited.")
        account = gr.HTML("", elem_id="sanad-account")
        sidebar = build_sidebar()
        with gr.Tabs():
            with gr.Tab("Chat", elem_id="sanad-chat-tab"):
                chat = build_chat(viewer, examples)
            with gr.Tab("Documents", elem_id="sanad-documents-tab"):
                pickers = [chat.doc_filter, chat.source_filter]
                views = build_documents(viewer, pickers)
        wire_workspace(workspace, sidebar, chat)
        blocks.load(make_refresh(viewer), [*pickers, views[-1]], views, api_visibility="private")
        blocks.load(make_account(viewer), None, account, api_visibility="private")
        blocks.load(
            workspace.search,
            [sidebar.search, chat.conversation],
            sidebar.history,
            api_visibility="private",
        )
        gr.api(make_ask_api(viewer), api_name="ask")
    # Gradio runs one event per listener at a time by default; the engine is thread-safe
    # (benchmarks/load.py), so several browser users are answered side by side.
    blocks.queue(default_concurrency_limit=engine.settings.ui_concurrency)
    return blocks


@dataclass
class Sidebar:
    """The conversations sidebar's components."""

    new: gr.Button
    search: gr.Textbox
    history: gr.HTML
    title: gr.Textbox
    rename: gr.Button
    delete: gr.Button
    confirm: gr.Button
    status: gr.HTML
    markdown: gr.DownloadButton
    json: gr.DownloadButton

    def parts(self) -> dict[str, Block]:
        """The components by name (the names handlers return outputs under)."""
        return components_of(self)


def components_of(group: Sidebar | Chat) -> dict[str, Block]:
    """A dataclass's Gradio components by field name."""
    return {
        f.name: value for f in fields(group) if isinstance(value := getattr(group, f.name), Block)
    }


def build_sidebar() -> Sidebar:
    """The sidebar: new conversation, search, the history list, and the open conversation's
    title, delete and downloads."""
    with gr.Sidebar(open=True, position="left", elem_id="sanad-sidebar"):
        new = gr.Button("New conversation", elem_id="sanad-new", size="sm", variant="primary")
        search = gr.Textbox(
            placeholder="Search conversations · ابحث · Cari",
            show_label=False,
            elem_id="sanad-history-search",
        )
        history = html_panel("", "sanad-history", HISTORY_JS)  # filled when the page loads
        with gr.Group(elem_id="sanad-manage"):
            title = gr.Textbox(
                label="Title of this conversation", elem_id="sanad-conv-title", max_lines=1
            )
            with gr.Row():
                rename = gr.Button("Rename", size="sm", elem_id="sanad-rename")
                delete = gr.Button("Delete", size="sm", variant="stop", elem_id="sanad-conv-delete")
            confirm = gr.Button(
                "Confirm delete",
                size="sm",
                variant="stop",
                visible=False,
                elem_id="sanad-conv-confirm",
            )
        status = html_panel("", "sanad-conv-status", None)
        with gr.Row():
            markdown = gr.DownloadButton(
                "Download Markdown", size="sm", interactive=False, elem_id="sanad-export-md"
            )
            json = gr.DownloadButton(
                "Download JSON", size="sm", interactive=False, elem_id="sanad-export-json"
            )
    return Sidebar(new, search, history, title, rename, delete, confirm, status, markdown, json)


@dataclass
class Chat:
    """The chat tab's components that the sidebar and the documents tab act on."""

    transcript: gr.HTML
    conversation: gr.State
    sources: gr.HTML
    timings: gr.HTML
    question: gr.Textbox
    article: gr.HTML
    doc_filter: gr.Dropdown
    source_filter: gr.Dropdown
    feedback: gr.Group
    feedback_note: gr.HTML
    comment: gr.Textbox
    send: gr.Button
    cancel: gr.Button
    pending: gr.State
    answered: Any  # the event after which the sidebar refreshes

    def parts(self) -> dict[str, Block]:
        """The components by name (the names handlers return outputs under)."""
        return components_of(self)


def build_chat(viewer: Viewer, examples: Sequence[str] | None) -> Chat:
    """The chat tab: transcript, question, filters, sources, the article drawer, feedback."""
    conversation = gr.State(None)
    pending = gr.State(None)
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
            with gr.Group(visible=False, elem_id="sanad-feedback-form") as feedback:
                feedback_note = html_panel("", "sanad-feedback-note", None)
                comment = gr.Textbox(
                    label="Comment (optional)",
                    lines=2,
                    max_length=COMMENT_CHARS,
                    elem_id="sanad-feedback-comment",
                )
                with gr.Row():
                    send = gr.Button("Send comment", size="sm", elem_id="sanad-feedback-send")
                    cancel = gr.Button("Close", size="sm", elem_id="sanad-feedback-cancel")
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
                    choices=[],
                    multiselect=True,
                    label="Documents (empty = all)",
                    elem_id="sanad-docs",
                )
            with gr.Row():
                source_filter = gr.Dropdown(
                    choices=[],
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
        with gr.Column(scale=2, elem_id="sanad-side-column"):
            sources = html_panel(render_sources(None), "sanad-sources", CLICK_JS)
    article = html_panel(empty_article(), "sanad-article", DRAWER_JS)  # a fixed drawer

    named = {
        "transcript": transcript,
        "conversation": conversation,
        "sources": sources,
        "timings": timings,
        "question": question,
    }
    inputs = [question, conversation, langs, doc_filter, source_filter, date_from, date_to]
    respond, outputs = keyed(make_respond(viewer), named, RESPOND)
    answered = [
        event(respond, inputs, outputs, api_visibility="private")
        for event in (question.submit, ask.click)
    ]

    def open_citation(evt: gr.EventData, request: gr.Request | None = None) -> Any:
        """Show the article of the clicked marker or source in the drawer."""
        cid = click_data(evt).get("cid")
        return render_article(viewer(request).store, str(cid)) if cid else gr.skip()

    for panel in (transcript, sources):
        panel.click(open_citation, None, article, api_visibility="private")
    return Chat(
        transcript,
        conversation,
        sources,
        timings,
        question,
        article,
        doc_filter,
        source_filter,
        feedback,
        feedback_note,
        comment,
        send,
        cancel,
        pending,
        answered,
    )


def wire_workspace(workspace: Workspace, sidebar: Sidebar, chat: Chat) -> None:
    """Connect the sidebar and the feedback form to the chat."""
    parts = {**sidebar.parts(), **chat.parts()}

    def on(event: Callable[..., Any], handler: Callable[..., Any], inputs: Any, names: Any) -> Any:
        """Wire a handler whose outputs are named (ui/outputs.py) to an event, privately."""
        fn, outputs = keyed(handler, parts, names)
        return event(fn, inputs, outputs, api_visibility="private")

    for event in chat.answered:
        on(event.then, workspace.answered, [chat.conversation, sidebar.search], Workspace.ANSWERED)
    on(sidebar.new.click, workspace.new, sidebar.search, Workspace.VIEW)
    on(sidebar.history.click, workspace.open, sidebar.search, Workspace.VIEW)
    sidebar.search.change(
        workspace.search,
        [sidebar.search, chat.conversation],
        sidebar.history,
        api_visibility="private",
    )
    for event in (sidebar.rename.click, sidebar.title.submit):
        on(
            event,
            workspace.rename,
            [chat.conversation, sidebar.title, sidebar.search],
            Workspace.RENAMED,
        )
    on(sidebar.delete.click, workspace.ask_delete, chat.conversation, Workspace.ASK_DELETE)
    on(sidebar.confirm.click, workspace.delete, [chat.conversation, sidebar.search], Workspace.VIEW)
    for panel in (chat.transcript, chat.sources):
        on(panel.click, workspace.vote, chat.conversation, Workspace.VOTED)
    on(chat.send.click, workspace.send, [chat.pending, chat.comment], Workspace.SENT)
    on(chat.cancel.click, Workspace.close_feedback, None, Workspace.SENT)
