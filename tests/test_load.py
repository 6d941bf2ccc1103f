"""32 concurrent clients against a real `sanad serve` process: no errors, stable answers; a
SIGTERM then leaves no conversation downloads behind."""

from __future__ import annotations

from benchmarks.load import run_load
from benchmarks.served import SanadServer
from tests.conftest import TEST_ENV


def test_concurrent_clients_get_the_sequential_answers(tmp_path, seeded):
    seeded(tmp_path)  # the seed index's files, as `sanad ingest` leaves them
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    server = SanadServer(tmp_path / "data", {**TEST_ENV, "TMPDIR": str(private_tmp)})
    with server:
        result = run_load(server.url, clients=32, requests=96, time_limit=300)
        assert list(private_tmp.glob("gradio/sanad-exports-*"))  # the downloads' folder
    assert not list(private_tmp.glob("**/sanad-exports-*"))  # SIGTERM removed the downloads
    assert result["completed"] == 96, result
    assert result["errors"] == 0, result["error_samples"]
    assert result["reference_errors"] == 0, result
    assert result["mismatches"] == 0, result["mismatch_questions"]
    assert result["requests_per_s"] > 0
