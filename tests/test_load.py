"""32 concurrent clients against a real `sanad serve` process: no errors, stable answers; a
SIGTERM then leaves no conversation downloads behind."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.load import run_load
from benchmarks.served import SanadServer, get, post
from tests.conftest import TEST_ENV, sanad

NEWS = "Port news\n\nThe harbour of Zuwara reopened to fishing boats on 3 March.\n"
QUESTION = "When did the harbour of Zuwara reopen?"


def added_beside_the_server(server: SanadServer, tmp_path: Path) -> None:
    """`sanad ingest`, `search` and `ask` run by another process on the server's data
    directory go through the server (which owns it): its searches keep working and find the
    new fact at once, and /healthz stays ok."""
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "zuwara.txt").write_text(NEWS, encoding="utf-8")
    env = {**TEST_ENV, "SANAD_DATA_DIR": str(server.data)}
    run = sanad(["ingest", str(folder), "--quiet"], env)
    assert run.returncode == 0 and "1 added" in run.stdout, run.stderr
    assert "through the server" in run.stderr
    found = post(f"{server.url}/api/search", {"question": QUESTION, "k": 3})["passages"]
    assert found[0]["source"] == "news/zuwara.txt"
    run = sanad(["search", QUESTION, "--json", "--k", "1"], env)
    assert run.returncode == 0 and json.loads(run.stdout)[0]["source"] == "news/zuwara.txt"
    run = sanad(["ask", QUESTION], env)
    assert run.returncode == 0 and "3 March" in run.stdout, run.stdout
    assert get(f"{server.url}/healthz")["status"] == "ok"


def test_concurrent_clients_get_the_sequential_answers(tmp_path, seeded):
    seeded(tmp_path)  # the seed index's files, as `sanad ingest` leaves them
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    server = SanadServer(tmp_path / "data", {**TEST_ENV, "TMPDIR": str(private_tmp)})
    with server:
        result = run_load(server.url, clients=32, requests=96, time_limit=300)
        assert list(private_tmp.glob("gradio/sanad-exports-*"))  # the downloads' folder
        added_beside_the_server(server, tmp_path)
    assert not list(private_tmp.glob("**/sanad-exports-*"))  # SIGTERM removed the downloads
    assert result["completed"] == 96, result
    assert result["errors"] == 0, result["error_samples"]
    assert result["reference_errors"] == 0, result
    assert result["mismatches"] == 0, result["mismatch_questions"]
    assert result["requests_per_s"] > 0
