"""Extractive answers, citations, look-ups and conversations on the real seed index."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.citations import CitationNotFound, lookup, parse_citation_id, validate_markers
from assistant.engine import Engine
from tests.conftest import SEEDS, make_engine

QUESTIONS = [
    "Who trained Haftar's militias in street warfare?",
    "Which countries support the GNA in Tripoli?",
    "How many people have died in the Libyan conflict?",
    "من درّب ميليشيات حفتر على حرب الشوارع؟",
    "ما هي الدول التي تدعم حفتر؟",
    "كم عدد المرتزقة الروس في ليبيا؟",
    "Siapa yang mengoordinasikan pelatihan pasukan Haftar?",
    "Negara mana saja yang mendukung pemerintah Tripoli?",
]
OUT_OF_CORPUS = [
    "Who won the football World Cup in 2018?",
    "How long should I bake sourdough bread?",
    "What is the capital city of Australia?",
    "كم عدد اللاعبين في فريق كرة القدم؟",
    "كيف أطبخ الكبسة باللحم؟",
    "ما هي عاصمة اليابان؟",
    "Siapa juara Piala Dunia sepak bola 2014?",
    "Bagaimana cara memasak rendang daging?",
    "Berapa tinggi Gunung Everest?",
]
MIXED_DOC = (
    "تقرير خاص\n\n"
    "قالَ المُتَحَدِّثُ الرَّسْمِيُّ إنَّ الاجتماعَ عُقِدَ في تونس يوم الثلاثاء مع وفد من UNSMIL.\n"
    "وأضاف أن بعثة الأمم المتحدة (UNSMIL) ستنشر تقريرها الكامل بعد أسبوعين؟\n"
    "The spokesman said the meeting in Tunis covered the ceasefire \u200fوقف إطلاق النار\u200f "
    "and the oil blockade.\n"
)


@pytest.fixture(scope="module")
def mixed_engine(tmp_path_factory, seeded) -> Engine:
    """The seeds and an Arabic article written with diacritics."""
    folder = tmp_path_factory.mktemp("mixed")
    corpus = folder / "corpus"
    corpus.mkdir()
    (corpus / "diacritics.txt").write_text(MIXED_DOC, encoding="utf-8")
    return seeded(folder, corpus)


def check_quotes(engine: Engine, answer) -> None:
    for c in answer.citations:
        _, text = engine.store.document(c.doc_id)
        assert text[c.start : c.end] == c.quote
        assert c.id == f"{c.doc_id}:{c.start}-{c.end}"


@pytest.mark.parametrize(
    "question",
    [
        *QUESTIONS,
        "ماذا قال المتحدث الرسمي عن الاجتماع في تونس؟",
        "What did the spokesman say about the ceasefire in Tunis?",
        "Kapan UNSMIL akan menerbitkan laporannya?",
    ],
)
def test_every_quote_is_the_exact_span(mixed_engine, question):
    answer = mixed_engine.ask(question)
    assert answer.grounded and answer.citations
    check_quotes(mixed_engine, answer)
    markers = {int(n) for n in __import__("re").findall(r"\[(\d+)\]", answer.text)}
    assert markers == {c.n for c in answer.citations}


def test_diacritics_document_is_cited_exactly(mixed_engine):
    answer = mixed_engine.ask("ماذا قال المتحدث الرسمي عن الاجتماع في تونس؟")
    cited = [c for c in answer.citations if c.source.endswith("diacritics.txt")]
    assert cited, answer.text
    check_quotes(mixed_engine, answer)


@pytest.mark.xfail(
    strict=True,
    reason="003 (ar) tells the training in its own words; a marker now needs a passage that "
    "says the same (a translation or close paraphrase), not one on the same topic",
)
def test_training_answer_cites_all_three_languages(seed_engine):
    answer = seed_engine.ask("Who trained Haftar's militias in street warfare?")
    cited = {Path(c.source).name[:3] for c in answer.citations}
    assert {"000", "001", "003"} <= cited, answer.text
    assert {c.lang for c in answer.citations} == {"id", "en", "ar"}


@pytest.mark.parametrize("question", OUT_OF_CORPUS)
def test_out_of_corpus_questions_abstain(seed_engine, question):
    answer = seed_engine.ask(question)
    assert not answer.grounded, answer.text
    assert answer.citations == []


def test_abstention_speaks_the_question_language(seed_engine):
    assert "لا" in seed_engine.ask("ما هي عاصمة اليابان؟").text
    assert "korpus" in seed_engine.ask("Berapa tinggi Gunung Everest?").text
    assert "corpus" in seed_engine.ask("What is the capital city of Australia?").text


def test_citation_ids_are_stable_across_reingest(tmp_path, embedder, seed_engine):
    question = "Which countries support the GNA in Tripoli?"
    first = seed_engine.ask(question)
    fresh = make_engine(tmp_path, embedder)
    fresh.ingest([SEEDS], progress=False)
    again = fresh.ask(question)
    assert [c.id for c in first.citations] == [c.id for c in again.citations]
    found = lookup(fresh.store, first.citations[0].id)
    assert found.citation.quote == first.citations[0].quote
    assert found.context_start <= found.citation.start < found.citation.end <= found.context_end
    assert found.citation.quote in found.context


@pytest.mark.parametrize("bad", ["", "nonsense", "0123456789abcdef:5-2", "zz:1-2"])
def test_malformed_citation_ids(seed_engine, bad):
    with pytest.raises(CitationNotFound):
        lookup(seed_engine.store, bad)


def test_unknown_citation_id(seed_engine):
    with pytest.raises(CitationNotFound, match="no document"):
        lookup(seed_engine.store, "0123456789abcdef:0-10")
    doc_id, _, _ = parse_citation_id(seed_engine.ask(QUESTIONS[0]).citations[0].id)
    with pytest.raises(CitationNotFound, match="outside"):
        lookup(seed_engine.store, f"{doc_id}:0-99999999")


def test_validate_markers_drops_invalid_ones():
    text, used = validate_markers("Egypt coordinated it [2]. Turkey too [7] [1].", {1, 2})
    assert text == "Egypt coordinated it [2]. Turkey too [1]."
    assert used == [2, 1]


def test_follow_up_uses_the_conversation(tmp_path, embedder, seeded):
    engine = seeded(tmp_path)
    first = engine.ask("Did Israeli officers train Haftar's forces in street warfare?")
    follow = engine.ask("Who coordinated it?", conversation_id=first.conversation_id)
    assert follow.grounded and follow.conversation_id == first.conversation_id
    assert any(
        "Egypt" in c.quote or "Mesir" in c.quote or "مصر" in c.quote for c in follow.citations
    ), follow.text
    arabic = engine.ask("وماذا عن روسيا؟", conversation_id=first.conversation_id)
    assert arabic.language == "ar"
    turns = engine.conversations.turns(first.conversation_id)
    assert [t.n for t in turns] == [1, 2, 3]
    assert "Haftar" in turns[1].standalone
    # After a restart (a new engine on the same data directory) the turns and ids resolve.
    restarted = make_engine(tmp_path, embedder)
    again = restarted.conversations.turns(first.conversation_id)
    assert [t.answer.citations for t in again] == [t.answer.citations for t in turns]
    cid = again[1].answer.citations[0].id
    assert lookup(restarted.store, cid).citation.quote == again[1].answer.citations[0].quote


def test_an_ask_embeds_its_question_once(seed_engine, monkeypatch):
    embedded: list[str] = []
    embed = seed_engine.embedder.embed_queries

    def counting(texts: list[str]):
        embedded.extend(texts)
        return embed(texts)

    monkeypatch.setattr(seed_engine.embedder, "embed_queries", counting)
    answer = seed_engine.ask("Who trained Haftar's militias in street warfare?")
    assert answer.grounded
    assert embedded == ["Who trained Haftar's militias in street warfare?"]


def test_bad_questions_are_rejected(seed_engine):
    with pytest.raises(ValueError, match="empty"):
        seed_engine.ask("   ")
    with pytest.raises(ValueError, match="2000"):
        seed_engine.ask("x" * 2001)
    with pytest.raises(KeyError):
        seed_engine.ask("Who trained them?", conversation_id="no-such-conversation")
