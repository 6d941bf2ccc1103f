"""The derived index follows the store's change log: by the change, and equal to a full rebuild."""

from __future__ import annotations

import shutil

import bm25s
import numpy as np
import pytest

from assistant.engine import Engine
from index.derived import DerivedIndex, IndexView
from index.lexical import lexical_tokens, query_tokens
from index.provenance import Provenance
from index.store import Change, ChunkRecord
from tests.conftest import make_engine

QUESTIONS = [
    "Who trained Haftar's militias in street warfare?",
    "من درب ميليشيات حفتر على حرب الشوارع؟",
    "Siapa yang melatih milisi Haftar dalam perang jalanan?",
]


def bm25s_scores(engine: Engine, view: IndexView, question: str) -> tuple[np.ndarray, np.ndarray]:
    """Our scores and bm25s's, over the view's live rows in the same order."""
    rows = np.flatnonzero(view.alive)
    chunks = {c.id: c for c in engine.store.chunks_by_id(view.chunk_ids())}
    corpus = [
        lexical_tokens(chunks[view.ids[r]].text, chunks[view.ids[r]].origin.lang) for r in rows
    ]
    reference = bm25s.BM25()
    reference.index(corpus, show_progress=False)
    known = [t for t in query_tokens(question) if t in reference.vocab_dict]
    return view.bm25_scores(question)[rows], reference.get_scores(known)


@pytest.mark.parametrize("question", QUESTIONS)
def test_bm25_equals_bm25s_before_and_after_a_deletion(seed_engine, question):
    view = seed_engine.retriever.derived()
    ours, reference = bm25s_scores(seed_engine, view, question)
    assert ours.max() > 0
    np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-5)
    index = DerivedIndex.build(seed_engine.store, seed_engine.embedder.dim)
    gone = view.doc_ids[0]
    index.apply(seed_engine.store, [Change(index.generation, "remove", gone)], index.generation)
    after = index.view()
    assert gone not in {after.doc_ids[r] for r in np.flatnonzero(after.alive)}
    ours, reference = bm25s_scores(seed_engine, after, question)  # N, df, mean length follow
    np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-5)


def fresh(engine: Engine) -> Engine:
    """Another engine on the same data, whose derived index is built from scratch."""
    return Engine(engine.settings, embedder=engine.embedder)


def assert_same_as_a_full_rebuild(engine: Engine) -> None:
    ours, full = engine.retriever.derived(), fresh(engine).retriever.derived()
    assert sorted(ours.chunk_ids()) == sorted(full.chunk_ids())
    assert ours.centroids.keys() == full.centroids.keys()
    for lang in ours.centroids:
        np.testing.assert_allclose(ours.centroids[lang], full.centroids[lang], atol=1e-5)
    for question in QUESTIONS:
        a = engine.retriever.search(question, k=8)
        b = fresh(engine).retriever.search(question, k=8)
        assert [h.chunk.id for h in a] == [h.chunk.id for h in b]
        np.testing.assert_allclose([h.score for h in a], [h.score for h in b], atol=1e-5)
        np.testing.assert_allclose([h.bm25 for h in a], [h.bm25 for h in b], rtol=1e-4)


def test_added_and_deleted_documents_are_followed_incrementally(tmp_path, embedder, corpus):
    later = tmp_path / "later"
    later.mkdir()
    names = sorted(p.name for p in corpus.iterdir())
    for name in names[3:]:
        shutil.move(corpus / name, later / name)
    engine = make_engine(tmp_path, embedder)
    engine.ingest([corpus], progress=False)
    before = engine.retriever.derived()
    held = before.chunk_ids()

    shutil.copy(later / names[3], corpus / names[3])
    engine.ingest([corpus], progress=False)
    grown = engine.retriever.derived()
    update = engine.retriever.live.updates[-1]
    assert update.kind == "incremental" and update.changes == 1
    added = {d.doc_id for d in engine.store.documents()} - set(before.doc_ids[: before.n])
    assert len(added) == 1 and added <= set(grown.doc_ids[: grown.n])
    assert before.chunk_ids() == held  # a search that holds the old view sees the old state
    assert_same_as_a_full_rebuild(engine)

    (corpus / names[0]).unlink()
    shutil.copy(later / names[4], corpus / names[4])
    report = engine.ingest([corpus], sync=True, progress=False)
    assert report.removed and report.added
    after = engine.retriever.derived()
    assert engine.retriever.live.updates[-1].kind == "incremental"
    live_docs = {after.doc_ids[r] for r in np.flatnonzero(after.alive)}
    assert live_docs == {d.doc_id for d in engine.store.documents()}
    assert_same_as_a_full_rebuild(engine)


def test_chunks_of_an_uncommitted_document_are_never_searched(tmp_path, embedder, corpus):
    engine = make_engine(tmp_path, embedder)
    engine.ingest([corpus], progress=False)
    view = engine.retriever.derived()
    text = "Laporan rahasia tentang perang jalanan di Tripoli."
    half = ChunkRecord("half:0", "half", 0, text, 0, len(text), Provenance("t", "half.txt", "id"))
    engine.store.put_chunks([half], embedder.embed_passages([text]), 300)  # no commit
    assert engine.retriever.derived() is view
    rebuilt = engine.retriever.live.rebuild()
    assert "half:0" not in rebuilt.chunk_ids()
    assert all(h.chunk.id != "half:0" for h in engine.retriever.search(text, k=20))


def test_a_gap_in_the_log_is_repaired_by_a_background_rebuild(tmp_path, embedder, corpus):
    engine = make_engine(tmp_path, embedder)
    engine.ingest([corpus], progress=False)
    engine.retriever.derived()
    next(corpus.glob("001_*.txt")).unlink()
    engine.ingest([corpus], sync=True, progress=False)
    generation = engine.store.head()[0]
    engine.store.log.delete(where={"generation": generation})  # a writer's entry was lost
    engine.retriever.derived()  # cannot follow: serves the old rows, rebuilds meanwhile
    engine.retriever.live.wait()
    view = engine.retriever.derived()
    assert view.generation == generation
    assert engine.retriever.live.updates[-1].kind == "full"
    assert len({view.doc_ids[r] for r in np.flatnonzero(view.alive)}) == 4
    assert_same_as_a_full_rebuild(engine)
