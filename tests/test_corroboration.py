"""Markers that are true on the seeds: the same fact first in ar/en/id, one line per point."""

from __future__ import annotations

import pytest

from assistant.answer_signals import has_answer_type
from assistant.citations import MARKER
from assistant.names import cross_script_names, name_agreement
from index.filters import Filters
from tests.test_answering import check_quotes

# Known limit (README, "What a marker means"): strict, so that a fix shows.
PARAPHRASE_NOT_TRANSLATION = pytest.mark.xfail(
    strict=True,
    reason="003 tells the training in its own words, not as a translation of 000/001; the "
    "pair model, fitted on translations, scores such paraphrases below its threshold",
)

# The same question in three languages, and strings one of which the first quote must hold.
SAME_FACT = [
    pytest.param(
        {
            "en": "How many Russian mercenaries fight for Haftar?",
            "id": "Berapa banyak tentara bayaran Rusia yang berperang untuk Haftar?",
            "ar": "كم عدد المرتزقة الروس الذين يقاتلون مع حفتر؟",
        },
        ("آلاف المرتزقة الروس",),  # only 003 (ar) says it
        id="mercenaries",
    ),
    pytest.param(
        {
            "en": "Who trained Haftar's militias in street warfare?",
            "id": "Siapa yang melatih milisi Haftar dalam perang jalanan?",
            "ar": "من درّب ميليشيات حفتر على حرب الشوارع؟",
        },
        ("Israel", "صهاينة"),  # 000, 001 and 003
        id="street-warfare",
        marks=PARAPHRASE_NOT_TRANSLATION,
    ),
    pytest.param(
        {
            "en": "Who is Abbas Kamel?",
            "id": "Siapa Abbas Kamel?",
        },
        ("Abbas Kamel",),  # 000 and 001
        id="abbas-kamel",
    ),
]


def lines_of(answer) -> list[list]:
    """The citations of each line of an answer, the quoted one first."""
    by_n = {c.n: c for c in answer.citations}
    return [[by_n[int(n)] for n in MARKER.findall(line)] for line in answer.text.splitlines()]


@pytest.mark.parametrize(("asks", "expected"), SAME_FACT)
def test_the_same_question_gets_the_same_fact_first_in_every_language(seed_engine, asks, expected):
    firsts = {}
    for lang, question in asks.items():
        answer = seed_engine.ask(question)
        assert answer.grounded, (question, answer.text)
        first = lines_of(answer)[0]
        assert any(e in first[0].quote for e in expected), (question, answer.text)
        # quoted in the asker's language whenever an article says it in that language
        if any(any(e in c.quote for e in expected) and c.lang == lang for c in first):
            assert first[0].lang == lang, answer.text
        firsts[lang] = {c.id for c in first}
    langs = list(firsts)
    for a in langs:
        for b in langs:
            assert firsts[a] & firsts[b], firsts  # the same passages back the first line


@pytest.mark.parametrize(
    "question",
    [
        "Siapa Abbas Kamel?",
        "Who is Abbas Kamel?",
        "Who trained Haftar's militias in street warfare?",
        "من درّب ميليشيات حفتر على حرب الشوارع؟",
        "How many Russian mercenaries fight for Haftar?",
    ],
)
def test_one_line_per_point_and_markers_only_on_other_articles(seed_engine, question):
    answer = seed_engine.ask(question)
    check_quotes(seed_engine, answer)
    lines = lines_of(answer)
    cited = [c.id for line in lines for c in line]
    assert len(cited) == len(set(cited)), answer.text  # each passage cited once
    for line in lines:
        docs = [c.doc_id for c in line]
        assert len(docs) == len(set(docs)), answer.text  # one marker per article on a line
    # a fact quoted on one line is not quoted again, in translation, on another
    if "Abbas" in question:
        assert sum("Abbas Kamel" in line[0].quote for line in lines) == 1, answer.text


def test_a_translation_corroborates_and_a_neighbour_does_not(seed_engine):
    answerer = seed_engine.extractive
    question = "Who coordinated the transfer of Israeli officers to Libya?"
    hits = seed_engine.retriever.search(question, 8)
    sentences = answerer.scorer.candidates(seed_engine.retriever.query(question), hits)
    same = answerer.corroborator.probabilities(sentences)
    en = next(i for i, s in enumerate(sentences) if s.text.startswith("A security cooperation"))
    translation = next(i for i, s in enumerate(sentences) if s.text.startswith("Perjanjian kerja"))
    assert same[en, translation] >= answerer.corroborator.threshold
    others = [
        i
        for i, s in enumerate(sentences)
        if i != translation and s.chunk.doc_id != sentences[en].chunk.doc_id
    ]
    assert others and max(same[en, i] for i in others) < answerer.corroborator.threshold


@pytest.mark.parametrize(
    ("sentence", "lang", "quantity"),
    [
        ("One such meeting in the summer of 2018 led to Israel agreeing to help.", "en", False),
        ("Satu pertemuan seperti itu di musim panas 2018 menyebabkan Israel setuju.", "id", False),
        ("وصلت القوات في عام 2019 إلى طرابلس.", "ar", False),
        ("آلاف المرتزقة الروس وصلوا إلى محاور القتال.", "ar", True),
        ("Ribuan tentara bayaran tiba di Libya.", "id", True),
        ("The conflict killed more than 1,000 people.", "en", True),
        ("They won one title in 2019.", "en", True),
    ],
)
def test_a_dated_year_or_one_such_is_not_a_quantity(sentence, lang, quantity):
    assert has_answer_type(sentence, lang, "number") is quantity


def test_demonyms_match_their_country_across_scripts():
    arabic = "أن آلاف المرتزقة الروس وصلوا لدعم خليفة حفتر"
    assert cross_script_names("How many Russian mercenaries fight for Haftar?", "en", arabic, "ar")
    assert cross_script_names("Israeli officers", "en", "ضباط إسرائيليون", "ar") == 1.0
    share, known = name_agreement(
        "Abbas Kamel met Al-Thani", "en", "Abbas Kamel dan Al-Thani", "id"
    )
    assert (share, known) == (1.0, 1.0)
    assert name_agreement("no names here", "en", "tidak ada", "id") == (0.0, 0.0)


def test_a_translation_retrieval_missed_is_found_and_cited(seed_engine):
    """The first line's translation in another article is cited even when the question's
    retrieval did not bring its passage (here: English passages only were searched)."""
    question = "Who coordinated the transfer of Israeli officers to Libya?"
    retriever, answerer = seed_engine.retriever, seed_engine.extractive
    query = retriever.query(question)
    hits = retriever.search(query, 4, Filters(langs=["en"]))
    assert {h.chunk.origin.lang for h in hits} == {"en"}
    answer = answerer.answer(query, hits, retriever.related(query))
    first = lines_of(answer)[0]
    assert first[0].lang == "en" and first[0].quote.startswith("A security cooperation")
    assert any(c.lang == "id" and c.quote.startswith("Perjanjian kerja") for c in first[1:])
    check_quotes(seed_engine, answer)
    # without the look-up, the line has no Indonesian marker
    alone = lines_of(answerer.answer(query, hits))[0]
    assert all(c.lang == "en" for c in alone), answer.text


def test_the_translation_look_up_keeps_to_the_callers_filters(seed_engine):
    question = "Who coordinated the transfer of Israeli officers to Libya?"
    retriever = seed_engine.retriever
    query = retriever.query(question)
    hits = retriever.search(query, 4, Filters(langs=["en"]))
    sentence = seed_engine.extractive.scorer.candidates(query, hits)[0]
    found = retriever.translations(query, sentence.centred, "en")
    assert {h.chunk.origin.lang for h in found} == {"ar", "id"}  # never the sentence's own
    only_id = retriever.translations(query, sentence.centred, "en", filters=Filters(langs=["id"]))
    assert only_id and {h.chunk.origin.lang for h in only_id} == {"id"}
