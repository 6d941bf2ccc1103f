"""Faults: ingestion killed mid-run, foreign or damaged data directories, lost model cache."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.engine import Engine
from index.embedding import Embedder, resolve_model
from index.models import ensure_default_model
from index.store import StoreError, open_client
from tests.conftest import SEEDS, TEST_ENV, make_engine, sanad


def grown_corpus(folder: Path, copies: int) -> Path:
    """The seeds, several times over with a distinct closing line each (distinct documents)."""
    folder.mkdir(parents=True)
    for i in range(copies):
        for seed in sorted(SEEDS.iterdir()):
            text = seed.read_text(encoding="utf-8")
            (folder / f"{i:02d}_{seed.name}").write_text(f"{text}\nEdition {i}.\n", "utf-8")
    return folder


def ingest_process(corpus: Path, data: Path) -> subprocess.Popen:
    # Small batches: the kills land between several committed batches, not before the first.
    env = {
        **os.environ,
        **TEST_ENV,
        "SANAD_DATA_DIR": str(data),
        "SANAD_INGEST_BATCH_CHUNKS": "32",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "ingest", str(corpus)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,  # the progress bar: how many documents it has read
    )


def kill_after(proc: subprocess.Popen, documents: int) -> None:
    """SIGKILL the ingestion once its progress bar has passed `documents` (or it has ended)."""
    assert proc.stderr is not None
    seen = b""
    while proc.poll() is None:
        seen = (seen + os.read(proc.stderr.fileno(), 4096))[-200:]
        done = [int(n) for n in re.findall(rb"(\d+)/\d+ \[", seen)]
        if done and max(done) >= documents:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    proc.stderr.close()


def assert_consistent(engine: Engine, expected_docs: int) -> None:
    docs = engine.store.documents()
    assert len(docs) == expected_docs
    counts = engine.store.chunk_doc_ids()
    assert counts == {d.doc_id: d.n_chunks for d in docs}  # no orphans, nothing missing
    derived = engine.retriever.derived()
    stored = [i for ids, _, _ in engine.store.iter_chunks(False, ["metadatas"]) for i in ids]
    assert sorted(derived.chunk_ids()) == sorted(stored) and len(set(stored)) == len(stored)


def test_ingest_killed_at_several_points_then_completed(tmp_path, embedder):
    corpus = grown_corpus(tmp_path / "corpus", copies=2)
    data = tmp_path / "data"
    for documents in (2, 5, 8):  # of 10, read before each kill: a few batches apart
        kill_after(ingest_process(corpus, data), documents)
    engine = make_engine(tmp_path, embedder)
    report = engine.ingest([corpus], progress=False)
    assert not report.skipped
    assert_consistent(engine, expected_docs=10)
    assert engine.ingest([corpus], progress=False).chunks_embedded == 0


def test_foreign_data_directory_is_refused(tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.docx").write_bytes(b"precious")
    with pytest.raises(StoreError, match=str(foreign)):
        open_client(foreign)
    assert (foreign / "thesis.docx").read_bytes() == b"precious"
    run = sanad(["search", "x"], {**TEST_ENV, "SANAD_DATA_DIR": str(foreign)})
    assert run.returncode != 0 and str(foreign) in run.stderr
    assert "Traceback" not in run.stderr


def test_damaged_chroma_files_are_reported_not_recreated(tmp_path, seeded):
    seeded(tmp_path)
    database = tmp_path / "data" / "chroma" / "chroma.sqlite3"
    assert database.exists()
    database.write_bytes(b"this is not a database" * 100)
    run = subprocess.run(  # a fresh process, as after a restart
        [sys.executable, "-m", "ui.cli", "search", "Haftar"],
        env={**os.environ, "SANAD_DATA_DIR": str(tmp_path / "data")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode != 0, run.stdout
    assert str(tmp_path / "data") in run.stderr and "Traceback" not in run.stderr
    assert database.read_bytes().startswith(b"this is not a database")  # nothing dropped


def test_deleted_model_cache_is_rebuilt(tmp_path, model_path):
    models = tmp_path / "models"
    shutil.copytree(model_path, models / Path(model_path).name)  # converted once per machine
    settings = Settings(
        data_dir=tmp_path / "data", model_dir=models, embed_dtype="float32", embed_runtime="torch"
    )
    serving = Engine(settings)
    serving.ingest([SEEDS], progress=False)
    question = "Who trained Haftar's militias in street warfare?"
    before = [h.chunk.id for h in serving.retriever.search(question, k=5)]
    folder = ensure_default_model(settings.model_dir)
    size = (folder / "model.safetensors").stat().st_size
    shutil.rmtree(folder)  # while the engine is serving: its model is already in memory
    assert [h.chunk.id for h in serving.retriever.search("Siapa melatih milisi?", k=5)]
    # The next start converts the weights again and loads them (a new process: a new model).
    restarted = Engine(settings, embedder=Embedder(resolve_model("builtin", models)))
    assert [h.chunk.id for h in restarted.retriever.search(question, k=5)] == before
    assert (folder / "model.safetensors").stat().st_size == size
    assert restarted.embedder is not serving.embedder


def test_settings_reject_bad_values():
    with pytest.raises(ValueError):
        Settings(chunk_tokens=3)
    with pytest.raises(StoreError, match="http://host:port"):
        open_client(Path("unused"), "ftp://example")
