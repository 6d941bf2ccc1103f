"""The answer decision on the seed corpus: the answering sentence first, abstention on topic."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answering import continued_end
from assistant.evaluation import DEFAULT_EVAL_DIR
from assistant.evidence import (
    DECISION_FEATURES,
    SENTENCE_FEATURES,
    EvidenceModel,
    is_headline,
    shipped_model,
)
from benchmarks import corroboration
from benchmarks.articles import ARTICLE_FOLDS
from tests.test_answering import check_quotes

# Known limits of the shipped evidence model (README, "Answers"): strict, so that a fix shows.
CROSS_SCRIPT_ENTITY = pytest.mark.xfail(
    strict=True,
    reason="an Arabic question that is only a Latin-script name: the dense evidence is too "
    "weak and the name match, rare in the fit data, weighs little",
)
WRONG_SENTENCE_FIRST = pytest.mark.xfail(
    strict=True,
    reason="the sentence model prefers a closer-sounding sentence with another date or place",
)
ANSWERED_ON_A_NEIGHBOURING_TOPIC = pytest.mark.xfail(
    strict=True,
    reason="a sentence on a neighbouring topic scores above the threshold (the article "
    "benchmark abstains on about half of the questions whose paragraph is withheld)",
)

# (question, a string the first quote must hold in one of its languages)
ANSWERED = [
    # entity questions, answered from 000 (id) and 001 (en), across languages too
    ("Who is Abbas Kamel?", ("Abbas Kamel",)),
    ("Siapa Abbas Kamel?", ("Abbas Kamel",)),
    pytest.param("من هو عباس كامل؟", ("Abbas Kamel",), marks=CROSS_SCRIPT_ENTITY),
    ("Who is Sameh Shukri?", ("Sameh Shukri",)),
    # number questions
    ("How many Russian mercenaries arrived in Libya?", ("آلاف",)),
    ("كم عدد المرتزقة الروس الذين وصلوا إلى ليبيا؟", ("آلاف",)),
    ("How many people have been killed in the conflict over Tripoli?", ("1,000", "1.000")),
    ("Berapa orang yang tewas dalam konflik di Libya?", ("1,000", "1.000")),
    # date questions
    pytest.param(
        "When did the Israeli training of Haftar's militias take place?",
        ("August", "Agustus", "أوت"),
        marks=WRONG_SENTENCE_FIRST,
    ),
    (
        "Kapan pelatihan militer Israel untuk pasukan Haftar dilakukan?",
        ("August", "Agustus", "أوت"),
    ),
    ("متى بدأ التعاون بين حفتر والإسرائيليين؟", ("2015",)),
    # cross-lingual: an Indonesian question whose answer is only in Arabic articles
    pytest.param(
        "Di mana Haftar bertemu agen Mossad secara rahasia?",
        ("الأردن",),
        marks=WRONG_SENTENCE_FIRST,
    ),
]
# On the corpus's topic (Libya, Haftar, foreign support), but not answered by it.
ON_TOPIC_UNANSWERED = [
    "How much oil did Libya export in 2021?",
    "كم برميلا من النفط صدرت ليبيا في عام 2021؟",
    "Berapa banyak minyak yang diekspor Libya pada tahun 2021?",
    "كم يبلغ عدد سكان ليبيا؟",
    *[
        pytest.param(q, marks=ANSWERED_ON_A_NEIGHBOURING_TOPIC)
        for q in (
            "Who won the Libyan presidential election in 2024?",
            "من فاز بالانتخابات الرئاسية الليبية عام 2024؟",
            "Siapa yang memenangkan pemilihan presiden Libya tahun 2024?",
            "How many people live in Libya?",
            "Berapa jumlah penduduk Libya?",
        )
    ],
]


@pytest.mark.parametrize(("question", "expected"), ANSWERED)
def test_the_answering_sentence_is_quoted_first(seed_engine, question, expected):
    answer = seed_engine.ask(question)
    assert answer.grounded and answer.citations, answer.text
    first = answer.citations[0].quote
    assert any(e in first for e in expected), answer.text
    check_quotes(seed_engine, answer)


@pytest.mark.parametrize("question", ON_TOPIC_UNANSWERED)
def test_on_topic_questions_the_articles_do_not_answer_abstain(seed_engine, question):
    answer = seed_engine.ask(question)
    assert not answer.grounded, answer.text
    assert answer.citations == []
    assert answer.evidence is not None and answer.evidence < seed_engine.settings.min_evidence


def test_headlines_are_not_evidence(seed_engine):
    answer = seed_engine.ask("How many Russian mercenaries arrived in Libya?")
    for citation in answer.citations:
        _, text = seed_engine.store.document(citation.doc_id)
        assert not is_headline(text, citation.start, citation.end), citation.quote


def test_is_headline():
    text = "Haftar gains ground\nThe army said on Monday it took the town.\nShare on X\n"
    assert is_headline(text, 0, 19)
    assert not is_headline(text, 20, 62)
    arabic = "آلاف المرتزقة الروس وصلوا\n\nوقالت المصادر إن التدريب تم في ليبيا."
    assert is_headline(arabic, 0, 25)
    assert not is_headline(arabic, 27, len(arabic))


def test_a_sentence_that_continues_is_quoted_with_its_continuation():
    text = "Al-Thani met with:\nAbbas Kamel and Sameh Shukri. The talks ended."
    head_end = text.index(":") + 1
    end = continued_end(text, 0, head_end)
    assert text[:end] == "Al-Thani met with:\nAbbas Kamel and Sameh Shukri."
    complete = text.index("Shukri.") + len("Shukri.")
    assert continued_end(text, 0, complete) == complete


def test_shipped_model_matches_the_features():
    model = shipped_model()
    assert model.sentence.names == SENTENCE_FEATURES
    assert model.decision.names == DECISION_FEATURES
    again = EvidenceModel.from_json(model.to_json())
    rows = np.vstack([np.linspace(0, 1, len(SENTENCE_FEATURES)), np.ones(len(SENTENCE_FEATURES))])
    logits = model.sentence.logit(rows)
    assert np.allclose(again.sentence.logit(rows), logits, atol=1e-5)
    best, probability = model.assess(rows, logits)
    assert best == int(np.argmax(logits)) and 0.0 <= probability <= 1.0


def test_the_held_out_fold_models_match_the_features_and_the_folds():
    """benchmarks.corroboration picks each fold's sentences with the model fitted without it:
    the committed fold models must be refitted when the features or the folds change."""
    models = corroboration.fold_models(DEFAULT_EVAL_DIR)
    assert models is not None and len(models) == ARTICLE_FOLDS
    shipped = shipped_model().sentence.weights
    for model in models:  # fitted on five sixths of the same data: close to, not a copy of
        weights = model.sentence.weights
        cosine = weights @ shipped / np.linalg.norm(weights) / np.linalg.norm(shipped)
        assert 0.95 < cosine < 1.0 - 1e-6
