"""The same ingestion and retrieval against a real Chroma server (`chroma run`)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from benchmarks.served import ChromaServer, SanadServer, free_port, post
from tests.conftest import SEEDS, TEST_ENV, make_engine


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
    assert {"000", "001", "003"} <= {Path(h.chunk.origin.source).name[:3] for h in hits}
    again = make_engine(tmp_path, embedder, chroma_url=chroma_server.url)
    assert again.ingest([SEEDS], progress=False).chunks_embedded == 0


def test_a_server_follows_another_process_that_ingests_and_deletes(
    tmp_path, embedder, chroma_server
):
    """`sanad serve` answers while this process ingests and deletes on the same Chroma."""
    articles = sorted(SEEDS.glob("*.txt"))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    writer = make_engine(tmp_path, embedder, chroma_url=chroma_server.url)
    first = [  # a question from each article: the start of its longest line
        " ".join(max(a.read_text(encoding="utf-8").splitlines(), key=len).split()[:25])
        for a in articles
    ]

    def put(i: int) -> str:
        """Write bulletin i (a seed article under a new heading); return its file name."""
        name = f"bulletin-{i}.txt"
        text = articles[i % 5].read_text(encoding="utf-8")
        (corpus / name).write_text(f"Bulletin {i}\n\n{text}", encoding="utf-8")
        return name

    for i in range(3):
        put(i)
    writer.ingest([corpus], progress=False)
    server = SanadServer(tmp_path / "serve", {**TEST_ENV, "SANAD_CHROMA_URL": chroma_server.url})
    deleted: dict[str, float] = {}  # doc id -> when its deletion had completed
    answers: list[tuple[float, list[str]]] = []
    stop = threading.Event()

    def ask_continuously() -> None:
        n = 0
        while not stop.is_set():
            started = time.monotonic()
            answer = post(f"{server.url}/api/ask", {"question": first[n % 5]})
            answers.append((started, [c["doc_id"] for c in answer["citations"]]))
            n += 1

    with server:
        asker = threading.Thread(target=ask_continuously)
        asker.start()
        try:
            for i in range(3, 7):  # four rounds: every article is written and deleted
                (corpus / f"bulletin-{i - 3}.txt").unlink()
                gone = {d.origin.source: d.doc_id for d in writer.store.documents()}
                name = put(i)
                writer.ingest([corpus], sync=True, progress=False)
                docs = {Path(d.origin.source).name: d.doc_id for d in writer.store.documents()}
                removed = gone[f"corpus/bulletin-{i - 3}.txt"]
                deleted[removed] = time.monotonic()
                added = docs[name]
                found = post(
                    f"{server.url}/api/search", {"question": first[i % 5], "doc_ids": [added]}
                )["passages"]
                assert found and {p["doc_id"] for p in found} == {added}  # the next query sees it
                hits = post(f"{server.url}/api/search", {"question": first[i % 5], "k": 20})
                assert removed not in {p["doc_id"] for p in hits["passages"]}
        finally:
            stop.set()
            asker.join()
    assert len(answers) >= 3  # asked throughout the rounds
    for started, cited in answers:
        for doc_id in cited:
            assert not (doc_id in deleted and started > deleted[doc_id]), (doc_id, started)


def test_the_chat_reports_an_outage_and_recovers_without_restart(tmp_path, embedder):
    """The Gradio handlers go through the engine's outage path, as the API does."""
    import gradio as gr

    from ui.app import make_ask_api, make_respond
    from ui.viewer import owner_viewer

    path, port = tmp_path / "chroma-server", free_port()
    server = ChromaServer(path, port).start()
    question = "Who trained Haftar's militias in street warfare?"
    try:
        engine = make_engine(tmp_path, embedder, chroma_url=server.url)
        engine.ingest([SEEDS], progress=False)
        viewer = owner_viewer(engine)
        respond, ask = make_respond(viewer), make_ask_api(viewer)

        def chat() -> dict:
            *_, done = respond(question, None, None, None)
            return done

        assert 'class="sanad-marker"' in chat()["transcript"]
        server.stop()
        failed = chat()
        assert "sources" not in failed and 'class="sanad-marker"' not in failed["transcript"]
        assert "sanad-error" in failed["transcript"] and "unreachable" in failed["transcript"]
        assert server.url in failed["transcript"]
        with pytest.raises(gr.Error, match="unreachable"):
            ask(question)

        server = ChromaServer(path, port).start()  # same port and data: the chat recovers
        recovered = chat()
        assert 'class="sanad-marker"' in recovered["transcript"]
        assert 'class="sanad-source"' in recovered["sources"]
        assert ask(question)["grounded"]
    finally:
        server.stop()
