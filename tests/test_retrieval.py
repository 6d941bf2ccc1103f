"""Hybrid, language-fair retrieval over the real seed index, with questions in three languages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.retrieval import Retriever
from index.filters import Filters

STORY = {"000", "001", "003"}  # the Israeli street-warfare training, in id, en and ar


def seeds_of(hits) -> list[str]:
    return [Path(h.chunk.origin.source).name[:3] for h in hits]


@pytest.mark.parametrize(
    ("question", "k"),
    [
        ("Who trained Haftar's militias in street warfare?", 5),
        # 002 (Israel's backing of Haftar, Arabic) ties with 003 at rank 5/6 here:
        ("Did Israeli officers secretly train Libyan forces for urban combat?", 6),
        ("Siapa yang melatih milisi Haftar dalam perang jalanan?", 5),
        ("هل درب ضباط إسرائيليون قوات حفتر في ليبيا؟", 5),
        # Near-tie between 004's Western-support passages and 000 at rank 5/6 here; with
        # document blending 001's second passage (0.052) passes 000's first (0.049):
        ("من درّب ميليشيات حفتر على حرب الشوارع؟", 7),
    ],
)
def test_training_story_found_in_all_three_languages(seed_engine, question, k):
    hits = seed_engine.retriever.search(question, k=k)
    assert seeds_of(hits)[0] in STORY
    assert STORY <= set(seeds_of(hits)), seeds_of(hits)


def first_rank(hits, seed: str) -> int:
    names = seeds_of(hits)
    return names.index(seed) + 1 if seed in names else 10**6


@pytest.mark.parametrize(
    ("question", "seed"),
    [
        (
            "Which Western air forces were heard in leaked recordings from a base near Benghazi?",
            "004",
        ),
        ("ما هي القوات الغربية التي تدعم حفتر في بنغازي؟", "004"),
        (
            "Why does Israel back Khalifa Haftar according to the Consortium News opinion piece?",
            "002",
        ),
        ("Mengapa Israel mendukung Haftar menurut Giorgio Cafiero?", "002"),
    ],
)
def test_arabic_only_articles_reach_the_top_five(seed_engine, question, seed):
    """Evidence only in Arabic must reach the top 5 for questions in any language."""
    fair = seed_engine.retriever.search(question, k=20)
    assert first_rank(fair, seed) <= 5, seeds_of(fair)
    plain = Retriever(seed_engine.store, seed_engine.embedder, fair=False, use_bm25=False)
    assert first_rank(fair, seed) <= first_rank(plain.search(question, k=20), seed)


def test_language_and_document_filters(seed_engine):
    retriever = seed_engine.retriever
    hits = retriever.search("street warfare training", k=10, filters=Filters.of(langs=["ar"]))
    assert hits and {h.chunk.origin.lang for h in hits} == {"ar"}
    doc = next(d for d in seed_engine.store.documents() if d.origin.lang == "en")
    hits = retriever.search("حرب الشوارع", k=10, filters=Filters.of(doc_ids=[doc.doc_id]))
    assert hits and {h.chunk.doc_id for h in hits} == {doc.doc_id}
    both = Filters.of(langs=["ar"], doc_ids=[doc.doc_id])
    assert retriever.search("anything", k=5, filters=both) == []


def test_results_are_sorted_and_carry_exact_offsets(seed_engine):
    hits = seed_engine.retriever.search("Russian mercenaries in Libya", k=8)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    for h in hits:
        _, text = seed_engine.store.document(h.chunk.doc_id)
        assert text[h.chunk.start : h.chunk.end] == h.chunk.text


def test_derived_index_matches_chroma(seed_engine):
    derived = seed_engine.retriever.derived()
    stored = [i for ids, _, _ in seed_engine.store.iter_chunks(False, ["metadatas"]) for i in ids]
    assert sorted(derived.chunk_ids()) == sorted(stored)
    assert derived.embeddings().shape == (len(stored), seed_engine.embedder.dim)
    assert seed_engine.retriever.derived() is derived  # cached while the corpus is unchanged


def test_language_centring_removes_the_same_language_offset(seed_engine):
    """A passage's fair score must not move when the question's language changes its bias."""
    engine = seed_engine
    fair = engine.retriever
    plain = Retriever(engine.store, engine.embedder, fair=False, use_bm25=False)
    q_en = "Israeli specialists trained Haftar's forces in street warfare"
    q_ar = "متخصصون إسرائيليون دربوا قوات حفتر على حرب الشوارع"
    gaps = {}
    for name, retriever in (("plain", plain), ("fair", fair)):
        top = {}
        for q in (q_en, q_ar):
            best = {
                lang: retriever.search(q, k=1, filters=Filters.of([lang]))[0].score
                for lang in ("ar", "en")
            }
            top[q] = best["ar"] - best["en"]
        gaps[name] = abs(top[q_en] - top[q_ar])
    # How much the ar-vs-en gap swings with the question's language: centring shrinks it.
    assert gaps["fair"] < gaps["plain"]
    assert np.isfinite(list(gaps.values())).all()
