"""Ingestion into real Chroma: offsets, languages, incremental runs, sync, bad input, repair."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.chunking import chunk_text
from index.documents import read_document
from index.pipeline import reconcile
from index.provenance import Provenance
from index.store import ChunkRecord
from tests.conftest import SEEDS, make_engine

SEED_LANGS = {"000": "id", "001": "en", "002": "ar", "003": "ar", "004": "ar"}


def test_seed_languages_and_counts(seed_engine):
    docs = {Path(d.origin.source).name[:3]: d for d in seed_engine.store.documents()}
    assert {k: d.origin.lang for k, d in docs.items()} == SEED_LANGS
    assert all(d.origin.source.startswith("seeds/") for d in docs.values())
    counts = seed_engine.store.chunk_doc_ids()
    assert {d.doc_id: d.n_chunks for d in docs.values()} == counts


def test_every_stored_chunk_is_an_exact_span(seed_engine):
    store = seed_engine.store
    checked = 0
    for ids, metas, got in store.iter_chunks(include_embeddings=False):
        for cid, meta, text in zip(ids, metas, got["documents"]):
            _, doc_text = store.document(meta["doc_id"])
            assert doc_text[meta["start"] : meta["end"]] == text
            assert cid == f"{meta['doc_id']}:{meta['n']}"
            checked += 1
    assert checked >= 15


def test_debris_is_never_indexed(seed_engine):
    for _, _, got in seed_engine.store.iter_chunks(include_embeddings=False):
        for text in got["documents"]:
            assert "[ads2]" not in text
            assert "3.557 views" not in text


def test_unchanged_files_embed_nothing(tmp_path, embedder, corpus):
    engine = make_engine(tmp_path, embedder)
    first = engine.ingest([corpus], progress=False)
    assert len(first.added) == 5 and first.chunks_embedded > 0
    second = engine.ingest([corpus], progress=False)
    assert second.chunks_embedded == 0
    assert len(second.unchanged) == 5
    assert "up to date" in second.summary()


def test_changed_file_replaces_its_chunks_and_sync_removes_gone_files(tmp_path, embedder, corpus):
    engine = make_engine(tmp_path, embedder)
    engine.ingest([corpus], progress=False)
    target = corpus / "001_b8dc84c3be759f24.txt"
    old_id = read_document(target, corpus.parent, 10**7).doc_id
    target.write_text(target.read_text(encoding="utf-8") + "\nA new closing paragraph.\n")
    report = engine.ingest([corpus], progress=False)
    assert report.updated == ["corpus/001_b8dc84c3be759f24.txt"]
    counts = engine.store.chunk_doc_ids()
    assert old_id not in counts
    assert len(engine.store.documents()) == 5
    (corpus / "004_3bbad0cd6e295111.txt").unlink()
    kept = engine.ingest([corpus], progress=False)
    assert kept.removed == [] and len(engine.store.documents()) == 5
    synced = engine.ingest([corpus], sync=True, progress=False)
    assert synced.removed == ["corpus/004_3bbad0cd6e295111.txt"]
    assert len(engine.store.documents()) == 4
    assert sum(engine.store.chunk_doc_ids().values()) == sum(
        d.n_chunks for d in engine.store.documents()
    )


def test_bad_files_are_reported_and_the_rest_ingested(tmp_path, embedder):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.txt").write_text((SEEDS / "001_b8dc84c3be759f24.txt").read_text())
    (folder / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me br\xfbl\xe9e".encode("latin-1"))
    (folder / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    (folder / "empty.md").write_text("   \n")
    (folder / "big.txt").write_text("word " * 300_000)
    (folder / "page.html").write_text(
        "<html><head><title>Page</title><script>alert(1)</script></head>"
        "<body><p>Visible paragraph about trade talks in Jakarta.</p></body></html>"
    )
    engine = make_engine(tmp_path, embedder, max_file_mb=1.0)
    report = engine.ingest([folder], progress=False)
    reasons = {Path(p).name: r for p, r in report.skipped}
    assert set(reasons) == {"latin1.txt", "image.txt", "empty.md", "big.txt"}
    assert "UTF-8" in reasons["latin1.txt"] and "binary" in reasons["image.txt"]
    assert "empty" in reasons["empty.md"] and "MB" in reasons["big.txt"]
    assert sorted(report.added) == ["mixed/good.txt", "mixed/page.html"]
    texts = [t for _, _, got in engine.store.iter_chunks(False) for t in got["documents"]]
    assert not any("alert(1)" in t for t in texts)


def test_missing_path_is_an_error(tmp_path, embedder):
    engine = make_engine(tmp_path, embedder)
    with pytest.raises(FileNotFoundError, match="no-such-folder"):
        engine.ingest([tmp_path / "no-such-folder"], progress=False)


def test_interrupted_writes_are_repaired(tmp_path, embedder, corpus):
    engine = make_engine(tmp_path, embedder)
    engine.ingest([corpus], progress=False)
    store = engine.store
    store.begin_write()  # what a run leaves when it dies:
    # it wrote chunks of a new document but did not commit it,
    text = "Orphan text that was never committed. It has two sentences."
    chunks = chunk_text(text, 200)
    orphans = [
        ChunkRecord(
            f"deadbeefdeadbeef:{c.n}",
            "deadbeefdeadbeef",
            c.n,
            c.text,
            c.start,
            c.end,
            Provenance("t", "corpus/x.txt", "en"),
        )
        for c in chunks
    ]
    store.put_chunks(orphans, np.ones((len(orphans), embedder.dim), np.float32), 200)
    # ...and a document lost some of its chunks:
    victim = store.documents()[0]
    store.chunks.delete(ids=[f"{victim.doc_id}:0"])
    assert reconcile(store) == 2
    assert "deadbeefdeadbeef" not in store.chunk_doc_ids()
    report = engine.ingest([corpus], progress=False)
    assert report.added == [victim.origin.source]
    docs = store.documents()
    assert len(docs) == 5
    assert store.chunk_doc_ids() == {d.doc_id: d.n_chunks for d in docs}


def test_a_dtype_switch_is_recorded_and_vectors_stay_comparable(
    tmp_path, embedder, bf16_embedder, corpus
):
    names = sorted(p.name for p in corpus.iterdir())
    held = tmp_path / "held"
    held.mkdir()
    for name in names[3:]:
        (corpus / name).rename(held / name)
    fp32 = make_engine(tmp_path, embedder)
    fp32.ingest([corpus], progress=False)
    assert fp32.store.dtypes() == ["float32"]
    for name in names[3:]:
        (held / name).rename(corpus / name)
    bf16 = make_engine(tmp_path, bf16_embedder)
    bf16.ingest([corpus], progress=False)
    assert bf16.store.dtypes() == ["bfloat16", "float32"]
    by_source = {Path(d.origin.source).name: d.embed_dtype for d in bf16.store.documents()}
    assert by_source == {n: "float32" for n in names[:3]} | {n: "bfloat16" for n in names[3:]}
    question = "Who trained Haftar's militias in street warfare?"
    with_fp32 = [h.chunk.id for h in fp32.retriever.search(question, k=3)]
    with_bf16 = [h.chunk.id for h in bf16.retriever.search(question, k=3)]
    assert with_fp32 == with_bf16


def test_a_completed_write_needs_no_scan_of_every_chunk(tmp_path, embedder, corpus, monkeypatch):
    engine = make_engine(tmp_path, embedder)
    engine.ingest([corpus], progress=False)
    assert engine.store.settled()

    def scan(*args, **kwargs):
        raise AssertionError("reconcile read every chunk although the last write completed")

    monkeypatch.setattr(engine.store, "chunk_doc_ids", scan)
    assert reconcile(engine.store) == 0
    engine.store.begin_write()  # a writer died: the next run scans
    assert not engine.store.settled()
