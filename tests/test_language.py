"""Language identification, Arabic normalisation and sentence boundaries."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.language import (
    LANGS,
    detect_language,
    normalize_arabic,
    normalize_for_search,
    sentence_spans,
)

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_LANGS = {"000": "id", "001": "en", "002": "ar", "003": "ar", "004": "ar"}

QUESTIONS = {
    "en": [
        "Who trained Haftar's forces?",
        "Who is Haftar?",
        "When did the talks in Cairo take place?",
        "Which countries back the LNA?",
        "How many people have died in the conflict?",
        "What weapons did Israel supply?",
        "Where did Haftar meet Mossad officials?",
        "Did Russia send mercenaries to Libya?",
        "Is there a UN arms embargo on Libya?",
        "Why does Egypt support Haftar",
    ],
    "id": [
        "Siapa yang melatih pasukan Haftar?",
        "Siapa Haftar?",
        "Kapan Haftar menyerang Tripoli?",
        "Apa peran Mesir dalam konflik ini?",
        "Berapa orang yang tewas?",
        "Negara mana saja yang mendukung LNA?",
        "Mengapa Israel melatih milisi Haftar?",
        "Bagaimana Haftar bertemu dengan Mossad?",
        "Apakah ada embargo senjata PBB di Libya?",
        "Di mana pelatihan itu dilakukan",
        # No function word of either list, or as many English as Indonesian ones: the
        # character n-gram model decides.
        "Dimanakah markas Haftar?",
        "Siapakah pelatih milisi Haftar?",
        "Berapakah jumlah tentara bayaran Rusia?",
        "Kapan The Economist menulis tentang Haftar?",
        "Mengapa Mesir membela Haftar?",
    ],
    "ar": [
        "من درب قوات حفتر؟",
        "من هو حفتر؟",
        "متى التقى حفتر بالموساد؟",
        "ما هي الدول التي تدعم حفتر؟",
        "كم عدد المرتزقة الروس في ليبيا؟",
        "هل زودت إسرائيل حفتر بالسلاح؟",
        "أين جرت التدريبات الإسرائيلية؟",
        "لماذا تدعم مصر حفتر؟",
        "ما دور الـ LNA في طرابلس؟",
        "حفتر",
    ],
}


def test_langs_constant():
    assert LANGS == ("ar", "en", "id")


@pytest.mark.parametrize("prefix,lang", sorted(SEED_LANGS.items()))
def test_seed_languages(prefix, lang):
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    assert detect_language(path.read_text(encoding="utf-8")) == lang


@pytest.mark.parametrize("lang,question", [(lang, q) for lang, qs in QUESTIONS.items() for q in qs])
def test_questions(lang, question):
    assert detect_language(question) == lang


@pytest.mark.parametrize(
    "text,lang",
    [
        ("", "other"),
        ("   \n ", "other"),
        ("12345 !!", "other"),
        ("哈夫塔尔是谁？", "other"),
        ("Кто такой Хафтар?", "other"),
        ("Qui a entraîné les forces de Haftar dans la guerre de rue?", "other"),
        ("Haftar Tripoli?", "en"),
        ("Haftar", "en"),
        ("LNA", "en"),
    ],
)
def test_fallbacks(text, lang):
    assert detect_language(text) == lang


def test_normalize_arabic():
    assert normalize_arabic("إِسْرَائِيلُ") == "اسرائيل"
    assert normalize_arabic("أحمد آمن ٱلله إلى") == "احمد امن الله الي"
    assert normalize_arabic("تعليقاً") == "تعليقا"
    assert normalize_arabic("عـــربي") == "عربي"
    assert normalize_arabic("الرحمٰن") == "الرحمن"
    assert normalize_arabic("مدينة") == "مدينة"  # ة is kept
    assert normalize_arabic("Café U.S. 3.5 ü") == "Café U.S. 3.5 ü"


def test_normalize_for_search():
    assert normalize_for_search("Ｈａｆｔａｒ's LNA") == "haftar's lna"
    assert normalize_for_search("ﻻ") == "لا"
    assert normalize_for_search("أَبْرَز") == normalize_for_search("ابرز")


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_latin_boundaries():
    text = (
        "Dr. Smith met U.S. officials on Dec. 7 in Cairo. J. R. Ewing paid 3.557 dollars! "
        'Really? "Yes." he said. Then… more (see above.) Next'
    )
    assert _sentences(text) == [
        "Dr. Smith met U.S. officials on Dec. 7 in Cairo.",
        "J. R. Ewing paid 3.557 dollars!",
        "Really?",
        '"Yes." he said.',
        "Then…",
        "more (see above.)",
        "Next",
    ]


def test_arabic_boundaries():
    text = "هل التقى حفتر بالموساد؟نعم، التقى بهم؛ وقال المصدر: «هذا صحيح». ثم غادر! وانتهى۔ آخر"
    assert _sentences(text) == [
        "هل التقى حفتر بالموساد؟",
        "نعم، التقى بهم؛",
        "وقال المصدر: «هذا صحيح».",
        "ثم غادر!",
        "وانتهى۔",
        "آخر",
    ]


def test_arabic_period_without_space_and_rtl_marks():
    text = "\u200fقال المصدر.وأضاف أن حفتر\u200f. \u061cثم\u200d \n\u200f\n"
    assert _sentences(text) == ["قال المصدر.", "وأضاف أن حفتر\u200f.", "ثم"]


def test_seed_arabic_sentences_split_at_question_mark_and_semicolon():
    text = (SEEDS / "002_c1b219bdab24c0b9.txt").read_text(encoding="utf-8")
    paragraph = text.splitlines()[6]
    first, second = paragraph.split(". ")[:2]
    joined = f"{first}؟{second}؛ {first}"
    assert _sentences(joined) == [f"{first}؟", f"{second}؛", first]


def test_line_breaks_and_no_punctuation():
    text = "العالم\r\nخليفة حفتر\n\n  • 3465\u2028no punctuation at all here"
    assert _sentences(text) == [
        "العالم",
        "خليفة حفتر",
        "• 3465",
        "no punctuation at all here",
    ]
    assert sentence_spans("") == []
    assert sentence_spans(" \n\t\u200f\u00a0\n") == []


def test_seed_sentences():
    text = (SEEDS / "001_b8dc84c3be759f24.txt").read_text(encoding="utf-8")
    sentences = _sentences(text)
    assert "3 min read" in sentences
    assert "07 December, 2019" in sentences
    assert any(
        s.startswith("The ensuing conflict has resulted in the deaths of over 1,000")
        for s in sentences
    )
    text = (SEEDS / "000_8241de82ed160f6f.txt").read_text(encoding="utf-8")
    assert "3.557 views" in _sentences(text)


def _check_spans(text: str) -> None:
    previous_end = 0
    for start, end in sentence_spans(text):
        assert previous_end <= start < end <= len(text)
        sentence = text[start:end]
        assert sentence == sentence.strip()
        assert sentence.strip("\u200b\u200c\u200d\u200e\u200f\u061c\u2060\ufeff")
        previous_end = end


MIXED = st.lists(
    st.one_of(
        st.characters(min_codepoint=0x0600, max_codepoint=0x06FF),
        st.sampled_from(list(".!?؟؛،…,;:\"'»«”)( \n\t\r\u00a0\u2028\u200f\u200e\u061c\u200d")),
        st.sampled_from(["U.S.", "3.557", "Dr. ", "e.g. ", "👨\u200d👩\u200d👧", "é", "\u0301"]),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x4E80),
    ),
    max_size=120,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), MIXED))
def test_sentence_spans_property(text):
    _check_spans(text)
