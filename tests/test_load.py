"""32 concurrent clients against a real `sanad serve` process: no errors, stable answers."""

from __future__ import annotations

from benchmarks.load import run_load
from benchmarks.served import SanadServer
from tests.conftest import TEST_ENV


def test_concurrent_clients_get_the_sequential_answers(tmp_path, seeded):
    seeded(tmp_path)  # the seed index's files, as `sanad ingest` leaves them
    server = SanadServer(tmp_path / "data", TEST_ENV)
    with server:
        result = run_load(server.url, clients=32, requests=96, time_limit=300)
    assert result["completed"] == 96, result
    assert result["errors"] == 0, result["error_samples"]
    assert result["reference_errors"] == 0, result
    assert result["mismatches"] == 0, result["mismatch_questions"]
    assert result["requests_per_s"] > 0
