"""The `sanad` command line, run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SEEDS


def sanad(args: list[str], env: dict[str, str], stdin: str | None = None):
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("cli") / "data"
    env = {**os.environ, "SANAD_DATA_DIR": str(data), "SANAD_CORPUS_DIR": str(SEEDS)}
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
    assert set(results[0]) == {"id", "doc_id", "source", "title", "lang", "score", "start",
                               "end", "text"}
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
