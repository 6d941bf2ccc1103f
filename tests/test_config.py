"""Settings: every field is documented in .env.example and read from SANAD_ variables."""

from __future__ import annotations

import json

from assistant.config import Settings
from assistant.evidence import MODEL_FILE
from tests.conftest import REPO


def test_env_example_documents_every_setting():
    lines = (REPO / ".env.example").read_text(encoding="utf-8").splitlines()
    documented = {  # "# SANAD_X=..." documents a default that depends on the machine
        line.removeprefix("# ").split("=", 1)[0]
        for line in lines
        if line.removeprefix("# ").startswith("SANAD_")
    }
    assert documented == {f"SANAD_{name.upper()}" for name in Settings.model_fields}


def test_environment_overrides_defaults(monkeypatch):
    monkeypatch.setenv("SANAD_UI_CONCURRENCY", "3")
    monkeypatch.setenv("SANAD_INGEST_BATCH_CHUNKS", "64")
    settings = Settings(_env_file=None)
    assert (settings.ui_concurrency, settings.ingest_batch_chunks) == (3, 64)


def test_evidence_threshold_is_the_fitted_one():
    """fit_evidence --write stores the threshold it chose; config.py and .env.example say it."""
    fitted = json.loads(MODEL_FILE.read_text(encoding="utf-8"))["threshold"]
    assert Settings.model_fields["min_evidence"].default == fitted
    lines = (REPO / ".env.example").read_text(encoding="utf-8").splitlines()
    assert f"SANAD_MIN_EVIDENCE={fitted}" in lines
