"""The `sanad` command line, driven in-process through `main(argv)` (one subprocess smoke test)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.engine import Engine
from index.owner import DataDirLock, ServerAddress, announce, running_server
from tests.conftest import SEEDS, TEST_ENV, sanad
from ui.backends import LocalBackend, RemoteBackend
from ui.cli import corpus_backend


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("cli") / "data"
    env = {**TEST_ENV, "SANAD_DATA_DIR": str(data), "SANAD_CORPUS_DIR": str(SEEDS)}
    done = sanad(["ingest", "--quiet"], env)
    assert done.returncode == 0, done.stderr
    assert "5 added" in done.stdout
    return env


def test_ingest_reports_unchanged_and_missing_paths(cli_env, tmp_path):
    again = sanad(["ingest", "--quiet"], cli_env)
    assert again.returncode == 0 and "up to date" in again.stdout
    missing = sanad(["ingest", str(tmp_path / "nope")], cli_env)
    assert missing.returncode == 2
    assert "nope" in missing.stderr and "Traceback" not in missing.stderr


def test_search_json_and_batch_in_input_order(cli_env, tmp_path):
    one = sanad(["search", "Who trained Haftar's militias?", "--json", "--k", "3"], cli_env)
    assert one.returncode == 0, one.stderr
    results = json.loads(one.stdout)
    assert len(results) == 3
    assert set(results[0]) == {
        "id",
        "doc_id",
        "source",
        "title",
        "lang",
        "score",
        "start",
        "end",
        "text",
        "site",
        "published",
        "url",
        "page",
        "summary_only",
        "collection",
    }
    batch = tmp_path / "q.jsonl"
    questions = [
        {"id": "q-ar", "question": "من درب قوات حفتر؟"},
        {"id": "q-en", "question": "Which countries support the GNA?"},
        {"id": "q-id", "question": "Negara mana yang mendukung Haftar?"},
    ]
    batch.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in questions) + "\n")
    run = sanad(["search", "--batch", str(batch), "--k", "2", "--lang", "ar,en"], cli_env)
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["q-ar", "q-en", "q-id"]
    assert all(len(line["results"]) == 2 for line in lines)
    assert all(r["lang"] in ("ar", "en") for line in lines for r in line["results"])


def test_interactive_search_prompt(cli_env):
    run = sanad(["search"], cli_env, stdin="Russian mercenaries\n\n")
    assert run.returncode == 0, run.stderr
    assert "question>" in run.stdout and "1. [" in run.stdout


def test_bad_language_is_a_usage_error(cli_env):
    run = sanad(["search", "x", "--lang", "fr"], cli_env)
    assert run.returncode == 2 and "unknown language" in run.stderr
    assert Path(SEEDS).exists()


def test_date_and_source_filters(cli_env):
    run = sanad(["search", "Haftar", "--json", "--k", "10", "--since", "2019-12-08"], cli_env)
    assert run.returncode == 0, run.stderr
    hits = json.loads(run.stdout)
    assert hits and {h["published"] for h in hits} == {"2019-12-08"}
    run = sanad(["search", "Haftar", "--json", "--until", "2019-12-07"], cli_env)
    assert {h["published"] for h in json.loads(run.stdout)} == {"2019-12-07"}
    run = sanad(["search", "Haftar", "--json", "--source", "seeds", "--lang", "ar"], cli_env)
    assert {h["lang"] for h in json.loads(run.stdout)} == {"ar"}
    bad = sanad(["search", "Haftar", "--since", "8/12/2019"], cli_env)
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
    empty = sanad(["ask", "Haftar", "--since", "2020-01-02", "--until", "2020-01-01"], cli_env)
    assert empty.returncode == 2 and "empty" in empty.stderr and "Traceback" not in empty.stderr


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Rades Port News</title>
<id>urn:rades</id><updated>2024-04-03T10:00:00Z</updated>
<entry><title>Port expansion approved</title><id>urn:rades:1</id>
<link href="http://127.0.0.1:9/rades-expansion"/><updated>2024-04-03T10:00:00Z</updated>
<content type="html">&lt;p&gt;{text}&lt;/p&gt;</content></entry></feed>"""


def test_ingest_a_feed_file_twice(cli_env, tmp_path):
    text = "The Tunisian parliament approved the expansion of the port of Rades. " * 8
    feed = tmp_path / "rades.atom"
    feed.write_text(ATOM.format(text=text), encoding="utf-8")
    first = sanad(["ingest", "--quiet", "--feed", str(feed)], cli_env)
    assert first.returncode == 0 and "1 added" in first.stdout, first.stderr
    again = sanad(["ingest", "--quiet", "--feed", str(feed)], cli_env)
    assert again.returncode == 0 and "0 added" in again.stdout
    run = sanad(["search", "port of Rades", "--json", "--source", "Rades Port News"], cli_env)
    (hit, *_) = json.loads(run.stdout)
    assert hit["published"] == "2024-04-03" and hit["url"] == "http://127.0.0.1:9/rades-expansion"
    broken = tmp_path / "broken.xml"
    broken.write_text("<rss><channel><item>", encoding="utf-8")
    bad = sanad(["ingest", "--quiet", "--feed", str(broken)], cli_env)
    assert bad.returncode == 0 and "not a valid RSS/Atom feed" in bad.stderr


# --- conversations, export, feedback ------------------------------------------------------------
ASK_EN = "Who trained Haftar's militias in street warfare?"


@pytest.fixture(scope="module")
def asked(cli_env) -> dict:
    """One answer asked from the command line (its conversation is stored in the data dir)."""
    run = sanad(["ask", ASK_EN, "--json"], cli_env)
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    assert answer["grounded"] and answer["citations"] and answer["conversation_id"]
    return answer


def test_conversations_lists_and_searches(cli_env, asked):
    cid = asked["conversation_id"]
    run = sanad(["conversations"], cli_env)
    assert run.returncode == 0, run.stderr
    (line,) = [line for line in run.stdout.splitlines() if line.startswith(cid)]
    assert line.endswith(f"  {ASK_EN}") and "  1 answer(s)  " in line
    assert re.search(r"^\d+ of \d+ conversation\(s\)$", run.stderr.strip())
    found = sanad(["conversations", "HAFTAR'S", "militias", "--limit", "5"], cli_env)
    assert found.returncode == 0 and cid in found.stdout
    none = sanad(["conversations", "no such words anywhere"], cli_env)
    assert none.returncode == 0 and none.stdout == ""
    assert none.stderr.strip() == "0 of 0 conversation(s)"


def test_export_markdown_to_a_file_and_json_to_stdout(cli_env, asked, tmp_path):
    cid, ids = asked["conversation_id"], [c["id"] for c in asked["citations"]]
    out = tmp_path / "conversation.md"
    run = sanad(["export", cid, "--format", "md", "-o", str(out)], cli_env)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "" and str(out) in run.stderr
    md = out.read_text(encoding="utf-8")
    assert md.startswith(f"# {ASK_EN}\n") and f"`{cid}`" in md
    assert all(f"- Citation id: `{i}`" in md for i in ids)
    run = sanad(["export", cid, "--format", "json"], cli_env)
    assert run.returncode == 0, run.stderr
    export = json.loads(run.stdout)
    assert export["conversation_id"] == cid and export["title"] == ASK_EN
    (turn,) = export["turns"]
    assert turn["answer"] == asked["text"] and turn["citations"] == asked["citations"]


def test_export_of_an_unknown_conversation_exits_4(cli_env, tmp_path):
    out = tmp_path / "nothing.md"
    run = sanad(["export", "no-such-conversation", "-o", str(out)], cli_env)
    assert run.returncode == 4 and run.stdout == ""
    assert run.stderr.strip() == "error: unknown conversation no-such-conversation"
    assert not out.exists()


def test_feedback_export_writes_jsonl(cli_env, asked, tmp_path):
    from assistant.conversation import ConversationStore
    from assistant.feedback import FeedbackStore

    cid, cited = asked["conversation_id"], asked["citations"][0]
    store = ConversationStore(Path(cli_env["SANAD_DATA_DIR"]) / "conversations.sqlite3")
    FeedbackStore(store).add(cid, 0, "down", cited["id"], "the passage says something else")
    out = tmp_path / "feedback.jsonl"
    run = sanad(["feedback", "export", "-o", str(out)], cli_env)
    assert run.returncode == 0, run.stderr
    (record,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert (record["conversation_id"], record["turn"], record["rating"]) == (cid, 0, "down")
    assert record["citation_id"] == cited["id"] and record["citation"] == cited
    assert record["question"] == ASK_EN and record["answer"] == asked["text"]
    assert record["comment"] == "the passage says something else"
    assert record["settings"]["answer_mode"] == "extractive"


def test_a_data_directory_has_one_owner_and_a_server_takes_the_others_work(tmp_path):
    data = tmp_path / "data"
    owner, other = DataDirLock(data), DataDirLock(data)
    assert owner.acquire(wait=False) and not other.acquire(wait=False)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    announce(data, ServerAddress("http://127.0.0.1:9", "key", gone.pid))
    assert running_server(data) is None  # announced by a process that has ended
    announce(data, ServerAddress("http://127.0.0.1:9", "key", os.getpid()))
    engine = Engine(Settings(data_dir=data))
    with corpus_backend(engine) as backend:
        assert isinstance(backend, RemoteBackend) and backend.address.url == "http://127.0.0.1:9"
    owner.release()
    with corpus_backend(engine) as backend:  # free again: this process opens it itself
        assert isinstance(backend, LocalBackend)
        assert not other.acquire(wait=False)  # ...and owns it meanwhile
    assert other.acquire(wait=False)
    other.release()
