"""The `sanad` command line: ingest, search, ask, cite, chat, conversations, export, feedback,
serve, mcp, eval."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from assistant.citations import Answer, CitationNotFound, SourceSpan
from assistant.config import Settings
from assistant.engine import Engine, StoreUnavailable
from assistant.retrieval import ScoredChunk
from index.filters import Filters
from index.language import LANGS
from index.owner import DataDirLock
from index.provenance import DEFAULT_COLLECTION
from index.store import StoreError
from ui.backends import Backend, IngestJob, LocalBackend, RemoteBackend
from ui.cli_accounts import add_account_commands


def _langs(value: str) -> list[str]:
    langs = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in langs if v not in (*LANGS, "other")]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown language(s) {bad}; use ar, en, id")
    return langs


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (use YYYY-MM-DD)") from None


def add_filter_arguments(p: argparse.ArgumentParser) -> None:
    """The retrieval filters every question command accepts."""
    p.add_argument("--lang", type=_langs, default=None, help="only these languages, e.g. ar,en")
    p.add_argument("--doc", action="append", default=None, help="only this document id")
    p.add_argument(
        "--source",
        action="append",
        default=None,
        help="only this source: a site name, a host, or a file/folder as ingested (repeatable)",
    )
    p.add_argument("--since", type=_date, default=None, help="published on or after YYYY-MM-DD")
    p.add_argument("--until", type=_date, default=None, help="published on or before YYYY-MM-DD")


def filters_of(args: argparse.Namespace) -> Filters:
    """The retrieval filters named on the command line."""
    return Filters.of(args.lang, args.doc, args.source, args.since, args.until)


def passage_of(hit: ScoredChunk) -> SourceSpan:
    """A retrieved chunk as the span of its document that it is."""
    c = hit.chunk
    return SourceSpan.of(c.doc_id, c.origin, c.start, c.end)


def result_json(hit: ScoredChunk) -> dict[str, Any]:
    """The JSON form of one search result."""
    span = passage_of(hit).model_dump()
    return {"id": hit.chunk.id, **span, "score": round(hit.score, 6), "text": hit.chunk.text}


def _read_batch(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{number}: not JSON ({exc.msg})") from exc
            if not isinstance(item, dict) or not str(item.get("question", "")).strip():
                raise SystemExit(f'{path}:{number}: expected {{"id", "question"}}')
            yield number, item


def cmd_ingest(backend: Backend, args: argparse.Namespace) -> int:
    """Ingest files, folders, web pages (URLs) and feeds (default: the corpus folder)."""
    urls = [p for p in args.paths if "://" in p]
    paths = [Path(p) for p in args.paths if "://" not in p]
    if not (paths or urls or args.feed):
        paths = [args.settings.corpus_dir]
    report = backend.ingest(IngestJob(paths, urls, args.feed or [], args.sync, args.collection))
    for path, reason in report.skipped:
        print(f"skipped: {path}: {reason}", file=sys.stderr)
    print(report.summary())
    return 0


def cmd_search(backend: Backend, args: argparse.Namespace) -> int:
    """Search one question, or a JSONL batch, and print the passages."""
    filters = filters_of(args)
    if args.batch:
        for _, item in _read_batch(Path(args.batch)):
            hits = backend.search(str(item["question"]), args.k, filters)
            out = {"id": item.get("id"), "results": [result_json(h) for h in hits]}
            print(json.dumps(out, ensure_ascii=False), flush=True)
        return 0
    question = " ".join(args.question).strip()
    if question:
        _print_hits(backend.search(question, args.k, filters), args.json)
        return 0
    print("Sanad search: type a question in Arabic, English or Indonesian (empty line quits).")
    while True:
        try:
            question = input("question> ").strip()
        except EOFError:
            return 0
        if not question:
            return 0
        _print_hits(backend.search(question, args.k, filters), args.json)


def describe_origin(span: SourceSpan) -> str:
    """Where a passage comes from, as a reader checks it: source, site, date, page."""
    parts = [span.source]
    if span.site and span.site not in span.source:
        parts.append(span.site)
    if span.published:
        parts.append(span.published)
    if span.page is not None:
        parts.append(f"p. {span.page}")
    return ", ".join(parts)


def _print_hits(hits: list[ScoredChunk], as_json: bool) -> None:
    if as_json:
        print(json.dumps([result_json(h) for h in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        print("no passages (is the index empty? run `sanad ingest`)")
    for rank, hit in enumerate(hits, 1):
        c = passage_of(hit)
        where = f"{describe_origin(c)} [{c.start}:{c.end}]"
        print(f"{rank}. [{c.lang}] {c.title} — {where} score {hit.score:.3f}")
        print(f"   {hit.chunk.text}\n")


def _print_answer(answer: Answer, as_json: bool) -> None:
    if as_json:
        print(answer.model_dump_json(indent=2))
        return
    if answer.notice:
        print(f"note: {answer.notice}")
    print(answer.text)
    if answer.citations:
        print("\nSources:")
    for c in answer.citations:
        print(f"[{c.n}] ({c.lang}) {c.title} — {describe_origin(c)} [{c.start}:{c.end}] id {c.id}")
        print(f"    “{c.quote}”")
    timings = ", ".join(f"{k} {v:.0f}" for k, v in answer.timings_ms.items())
    print(f"\n({answer.mode}; ms: {timings})", file=sys.stderr)


def cmd_ask(backend: Backend, args: argparse.Namespace) -> int:
    """Answer one question, or a JSONL batch, with citations."""
    filters = filters_of(args)
    if args.batch:
        for _, item in _read_batch(Path(args.batch)):
            try:
                answer = backend.ask(str(item["question"]), None, filters)
                out = {"id": item.get("id"), **answer.model_dump()}
            except ValueError as exc:
                out = {"id": item.get("id"), "error": str(exc)}
            print(json.dumps(out, ensure_ascii=False), flush=True)
        return 0
    question = " ".join(args.question).strip()
    if not question:
        print("error: give a question (or --batch FILE.jsonl)", file=sys.stderr)
        return 2
    _print_answer(backend.ask(question, None, filters), args.json)
    return 0


def cmd_cite(backend: Backend, args: argparse.Namespace) -> int:
    """Show a citation with its surrounding context."""
    try:
        found = backend.cite(args.id)
    except CitationNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 4
    if args.json:
        print(found.model_dump_json(indent=2))
        return 0
    c = found.citation
    print(f"({c.lang}) {c.title} — {describe_origin(c)} [{c.start}:{c.end}]")
    before = found.context[: c.start - found.context_start]
    after = found.context[c.end - found.context_start :]
    print(f"…{before}>>>{c.quote}<<<{after}…")
    return 0


def cmd_chat(backend: Backend, args: argparse.Namespace) -> int:
    """An interactive conversation with follow-up questions."""
    conversation = None
    print("Sanad chat: ask in Arabic, English or Indonesian; follow-ups keep the context.")
    print("Empty line quits.")
    while True:
        try:
            question = input("you> ").strip()
        except EOFError:
            return 0
        if not question:
            return 0
        try:
            answer = backend.ask(question, conversation, filters_of(args))
        except ValueError as exc:
            print(f"error: {exc}")
            continue
        if conversation is None:
            conversation = answer.conversation_id
            print(f"Conversation {conversation} (`sanad export {conversation}` saves it).")
        _print_answer(answer, False)


def write_out(text: str, output: Path | None) -> None:
    """Write text to a file (UTF-8) or, without one, to stdout."""
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)


def cmd_conversations(engine: Engine, args: argparse.Namespace) -> int:
    """List stored conversations, most recently active first (optionally searched)."""
    total, page = engine.conversations.summaries(" ".join(args.query), 0, args.limit)
    for c in page:
        when = dt.datetime.fromtimestamp(c.updated).strftime("%Y-%m-%d %H:%M")
        print(f"{c.conversation_id}  {when}  {c.turns:>3} answer(s)  {c.title}")
    print(f"{len(page)} of {total} conversation(s)", file=sys.stderr)
    return 0


def cmd_export(engine: Engine, args: argparse.Namespace) -> int:
    """Export a conversation with its citations as Markdown or JSON."""
    from assistant.conversation import ConversationNotFound
    from assistant.export import conversation_export, to_markdown

    try:
        done = conversation_export(engine.conversations, args.conversation_id)
    except ConversationNotFound as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 4
    text = to_markdown(done) if args.format == "md" else done.model_dump_json(indent=2) + "\n"
    write_out(text, args.output)
    return 0


def cmd_feedback_export(engine: Engine, args: argparse.Namespace) -> int:
    """Every feedback record as JSONL (question, answer, citations, settings, verdict)."""
    write_out("".join(engine.feedback.jsonl()), args.output)
    return 0


def cmd_serve(engine: Engine, args: argparse.Namespace) -> int:
    """Serve the chat UI at / and the API at /api (one process, one model)."""
    from ui.server import serve  # loaded only here: other commands need no web stack

    serve(engine, args.host or engine.settings.host, args.port or engine.settings.port)
    return 0


def cmd_mcp(engine: Engine, args: argparse.Namespace) -> int:
    """Serve Sanad's MCP tools over stdio (for an agent that launches it)."""
    from ui.mcp_server import build_mcp  # loaded only here

    data_dir = engine.settings.data_dir
    if not engine.settings.chroma_url:  # like serve: this process owns the data directory
        owner = DataDirLock(data_dir)  # held while the MCP server runs
        server = owner.take(lambda: say_waiting(data_dir))
        if server is not None:
            print(
                f"error: the server at {server.url} has {data_dir} open; "
                f"use its MCP endpoint {server.url}/mcp",
                file=sys.stderr,
            )
            return 3
    build_mcp(engine).run("stdio")
    return 0


def cmd_eval(engine: Engine, args: argparse.Namespace) -> int:
    """Retrieval quality of the shipped retriever on the public evaluation sets."""
    import tempfile

    from assistant.evaluation import TASKS, evaluate_retrieval

    for name in args.task:
        task = TASKS[name](args.eval_dir)
        with tempfile.TemporaryDirectory() as tmp:
            metrics = evaluate_retrieval(task, engine.settings, engine.embedder, Path(tmp))
        print(json.dumps({"task": name, **metrics}, indent=2))
    return 0


def say_waiting(data_dir: Path) -> None:
    """Tell the user this command waits for another one on the data directory."""
    print(f"waiting for another sanad process to finish with {data_dir}…", file=sys.stderr)


CORPUS_COMMANDS = frozenset({"ingest", "search", "ask", "cite", "chat"})


@contextmanager
def corpus_backend(engine: Engine, progress: bool = True) -> Iterator[Backend]:
    """The corpus for one command: opened here while this process owns the data directory, or
    the server that owns it; another command's turn is waited for (index/owner.py)."""
    data_dir = engine.settings.data_dir
    if engine.settings.chroma_url:  # a Chroma server is shared: nothing to own
        yield LocalBackend(engine, progress)
        return
    lock = DataDirLock(data_dir)
    server = lock.take(lambda: say_waiting(data_dir))
    if server is not None:
        print(f"(through the server at {server.url}, which has {data_dir} open)", file=sys.stderr)
        yield RemoteBackend(server)
        return
    try:
        yield LocalBackend(engine, progress)
    finally:
        lock.release()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = argparse.ArgumentParser(prog="sanad", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ingest", help="add files or folders to the index")
    p.add_argument(
        "paths",
        nargs="*",
        help="files, folders or web page URLs (default: SANAD_CORPUS_DIR)",
    )
    p.add_argument(
        "--feed",
        action="append",
        default=None,
        help="an RSS/Atom feed (URL or file) whose new items to ingest (repeatable)",
    )
    p.add_argument("--sync", action="store_true", help="remove documents whose files are gone")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--collection",
        default=DEFAULT_COLLECTION,
        help=f"the collection to add them to (default {DEFAULT_COLLECTION})",
    )
    p.set_defaults(func=cmd_ingest)
    p = sub.add_parser("search", help="find passages for a question")
    p.add_argument("question", nargs="*", help="the question (none: interactive prompt)")
    p.add_argument("--k", type=int, default=None, help="how many passages (default SANAD_TOP_K)")
    add_filter_arguments(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--batch", help="JSONL file of {id, question}; JSONL results on stdout")
    p.set_defaults(func=cmd_search)
    p = sub.add_parser("ask", help="answer a question with cited passages")
    p.add_argument("question", nargs="*")
    add_filter_arguments(p)
    p.add_argument("--json", action="store_true", help="print the answer object as JSON")
    p.add_argument("--batch", help="JSONL file of {id, question}; JSONL answers on stdout")
    p.set_defaults(func=cmd_ask)
    p = sub.add_parser("cite", help="show a citation by id with its context")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_cite)
    p = sub.add_parser("chat", help="interactive conversation in the terminal")
    add_filter_arguments(p)
    p.set_defaults(func=cmd_chat)
    p = sub.add_parser("conversations", help="list stored conversations (newest first)")
    p.add_argument("query", nargs="*", help="only those containing this text")
    p.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    p.set_defaults(func=cmd_conversations)
    p = sub.add_parser("export", help="export a conversation with its citations")
    p.add_argument("conversation_id")
    p.add_argument("--format", choices=["md", "json"], default="md", help="default md")
    p.add_argument("-o", "--output", type=Path, default=None, help="file (default: stdout)")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("feedback", help="readers' feedback on answers and citations")
    actions = p.add_subparsers(dest="action", required=True)
    p = actions.add_parser("export", help="every feedback record as JSONL")
    p.add_argument("-o", "--output", type=Path, default=None, help="file (default: stdout)")
    p.set_defaults(func=cmd_feedback_export)
    p = sub.add_parser("serve", help="serve the browser chat and the HTTP API")
    p.add_argument("--host", default=None, help="default SANAD_HOST")
    p.add_argument("--port", type=int, default=None, help="default SANAD_PORT")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("mcp", help="serve the MCP tools over stdio (search, ask, cite...)")
    p.set_defaults(func=cmd_mcp)
    p = sub.add_parser("eval", help="retrieval metrics on ../shared/eval")
    p.add_argument(
        "--task",
        action="append",
        choices=["tydi-mixed", "xquad-mixed", "xquad-en-ar", "xquad-ar-en"],
        default=None,
    )
    p.add_argument("--eval-dir", type=Path, default=None)
    p.set_defaults(func=cmd_eval)
    add_account_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `sanad` console script."""
    args = build_parser().parse_args(argv)
    settings = Settings()  # read at each call: main(argv) also runs in-process (tests)
    if getattr(args, "k", 0) is None:
        args.k = settings.top_k
    if args.command == "eval":
        from assistant.evaluation import DEFAULT_EVAL_DIR

        args.task = args.task or ["tydi-mixed", "xquad-mixed"]
        args.eval_dir = args.eval_dir or DEFAULT_EVAL_DIR
    args.settings = settings
    engine = Engine(settings)
    try:
        if args.command in CORPUS_COMMANDS:
            with corpus_backend(engine, progress=not getattr(args, "quiet", False)) as backend:
                return args.func(backend, args)
        return args.func(engine, args)
    except (FileNotFoundError, ValueError) as exc:  # AccountError too
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (StoreError, StoreUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
