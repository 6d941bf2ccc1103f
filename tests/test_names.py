"""Names matched across Arabic and Latin script (no model)."""

from __future__ import annotations

import pytest

from assistant.names import arabic_skeletons, cross_script_names, latin_skeleton

SENTENCE_EN = (
    "Al-Thani reportedly met with the head of the Egypt’s General Intelligence Service "
    "Abbas Kamel, and the Foreign Minister Sameh Shukri."
)
SENTENCE_AR = "والتقى الثني رئيس المخابرات العامة المصرية عباس كامل ووزير الخارجية سامح شكري."


@pytest.mark.parametrize(
    ("arabic", "latin"),
    [
        ("عباس", "Abbas"),
        ("كامل", "Kamel"),
        ("سامح", "Sameh"),
        ("شكري", "Shukri"),
        ("حفتر", "Haftar"),
        ("الموساد", "Mossad"),
        ("بالموساد", "Mossad"),
        ("كاوان", "Kawann"),
        ("شورت", "Short"),
        ("الثاني", "al-Thani"),
    ],
)
def test_transliterations_share_a_skeleton(arabic, latin):
    assert latin_skeleton(latin) in arabic_skeletons(arabic)


def test_an_arabic_question_finds_its_names_in_english():
    assert cross_script_names("من هو عباس كامل؟", "ar", SENTENCE_EN, "en") == 1.0
    assert cross_script_names("من هو عباس كامل؟", "ar", "The army took Sirte.", "en") == 0.0


def test_latin_questions_find_their_names_in_arabic():
    assert cross_script_names("Who is Sameh Shukri?", "en", SENTENCE_AR, "ar") == 1.0
    assert cross_script_names("Siapa Abbas Kamel?", "id", SENTENCE_AR, "ar") == 1.0
    # question words are not names, even when capitalised
    assert cross_script_names("Siapa Haftar?", "id", SENTENCE_AR, "ar") == 0.0


def test_same_script_or_no_names_gives_zero():
    assert cross_script_names("Who is Abbas Kamel?", "en", SENTENCE_EN, "en") == 0.0
    assert cross_script_names("من هو عباس كامل؟", "ar", SENTENCE_AR, "ar") == 0.0
    assert cross_script_names("what is it?", "en", SENTENCE_AR, "ar") == 0.0
