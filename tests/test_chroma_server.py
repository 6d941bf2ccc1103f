"""The same ingestion and retrieval against a real Chroma server (`chroma run`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.served import ChromaServer
from tests.conftest import SEEDS, make_engine


@pytest.fixture
def chroma_server(tmp_path):
    server = ChromaServer(tmp_path / "chroma-server").start()
    yield server
    server.stop()


def test_ingest_and_search_through_a_chroma_server(tmp_path, embedder, chroma_server):
    engine = make_engine(tmp_path, embedder, chroma_url=chroma_server.url)
    report = engine.ingest([SEEDS], progress=False)
    assert len(report.added) == 5
    assert not (tmp_path / "data" / "chroma").exists()  # nothing written locally
    hits = engine.retriever.search("Who trained Haftar's militias in street warfare?", k=5)
    assert {"000", "001", "003"} <= {Path(h.chunk.source).name[:3] for h in hits}
    again = make_engine(tmp_path, embedder, chroma_url=chroma_server.url)
    assert again.ingest([SEEDS], progress=False).chunks_embedded == 0
