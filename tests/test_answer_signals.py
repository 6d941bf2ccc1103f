"""Answer signals: digits, numbers, content words, question types and answer types (no model)."""

from __future__ import annotations

import pytest

from assistant.answer_signals import (
    content_words,
    has_answer_type,
    normalize_digits,
    numbers_in,
    question_type,
)

# --- normalize_digits ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("عام ٢٠١٩", "عام 2019"),  # Arabic-Indic
        ("سال ۱۳۹۸", "سال 1398"),  # Extended Arabic-Indic (Persian)
        ("٣٫٥ مليون", "3.5 مليون"),  # Arabic decimal separator
        ("١٬٠٠٠ جندي", "1,000 جندي"),  # Arabic thousands separator
        ("8 Desember 2019", "8 Desember 2019"),  # ASCII untouched
    ],
)
def test_normalize_digits(text: str, expected: str) -> None:
    assert normalize_digits(text) == expected


def test_normalize_digits_preserves_length_and_offsets() -> None:
    text = "وصل ٣٤٦٥ مرتزق في ١٤ فيفري ۲۰۱۴"
    normalized = normalize_digits(text)
    assert len(normalized) == len(text)
    start = text.index("٣٤٦٥")
    assert normalized[start : start + 4] == "3465"


# --- numbers_in ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["1,000 soldiers", "1.000 tentara", "1000 troops", "١٠٠٠ جندي", "۱۰۰۰ سرباز", "١٬٠٠٠ جندي"],
)
def test_thousand_is_the_same_number_in_every_script_and_style(text: str) -> None:
    assert numbers_in(text) == {"1000"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Inflation rose 3.5 percent.", {"3.5"}),
        ("Inflasi naik 3,5 persen.", {"3.5"}),
        ("ارتفع التضخم ٣٫٥ بالمئة", {"3.5"}),
        ("3.557 views", {"3557"}),  # Indonesian thousands, from a seed article
        ("Rp 1.234.567", {"1234567"}),
        ("$1,000.50 and Rp 1.000,5", {"1000.5"}),  # mixed separators: the last is decimal
        ("a 0.500 share", {"0.5"}),
        ("07 December, 2019", {"7", "2019"}),
        ("6½ years", {"6"}),
        ("an Airbus A320", {"320"}),
        ("on 12.05.2019", {"12", "5", "2019"}),  # a dotted date is three numbers
        ("The war ended.", set()),
    ],
)
def test_numbers_in(text: str, expected: set[str]) -> None:
    assert numbers_in(text) == expected


def test_numbers_in_skips_reference_markers() -> None:
    text = "Haftar returned to Libya in 2011.[1][12, 13][note 3] He led 5 brigades."
    assert numbers_in(text) == {"2011", "5"}


def test_numbers_match_between_question_and_sentence_across_scripts() -> None:
    question = "هل قتل ٣٠٠٠ شخص عام ٢٠١٩؟"
    sentence = "Sekitar 3.000 orang tewas pada 2019."
    assert numbers_in(question) == numbers_in(sentence) == {"3000", "2019"}


# --- content_words ------------------------------------------------------------------------


def test_content_words_english_drops_stopwords_question_words_and_digits() -> None:
    words = content_words("Who trained Haftar's forces in 2019?", "en")
    assert words == {"train", "haftar", "forc"}


def test_content_words_english_stems_match_inflections() -> None:
    question = content_words("Who trains the militias?", "en")
    sentence = content_words("Israeli officers trained militias loyal to Haftar.", "en")
    assert {"train", "militia"} <= question & sentence


def test_content_words_indonesian() -> None:
    words = content_words("Siapakah yang memimpin pasukan di Tripoli pada tahun 2019?", "id")
    assert words == content_words("memimpin pasukan Tripoli tahun", "id")
    assert content_words("dipimpin", "id") <= words  # memimpin / dipimpin share a stem


def test_content_words_arabic_normalises_and_drops_stopwords() -> None:
    words = content_words("مَن هو القائد الذي درّب القوات في عام ٢٠١٩؟", "ar")
    assert not words & {"من", "هو", "الذي", "في", "2019"}
    assert content_words("قائد", "ar") <= words  # diacritics and shadda are stripped
    assert content_words("إسرائيل", "ar") == content_words("اسرائيل", "ar")


def test_content_words_arabic_strips_waw_only_before_a_stopword() -> None:
    words = content_words("وهو وفي وقال حفتر", "ar")
    assert words == content_words("حفتر", "ar")
    assert content_words("وزير", "ar")  # و here belongs to the word: kept (then stemmed)


def test_content_words_arabic_joined_question_words_are_stopwords() -> None:
    # ماهي / ماهو (what is) are often written as one word; they say nothing about the answer
    assert content_words("ماهي عاصمة ليبيا؟", "ar") == content_words("ما هي عاصمة ليبيا؟", "ar")
    assert content_words("ماهو دور مصر؟", "ar") == content_words("دور مصر", "ar")


def test_content_words_drops_one_character_tokens() -> None:
    assert content_words("a b c x y z", "other") == set()


def test_content_words_other_language_uses_english_stopwords_without_stemming() -> None:
    assert content_words("The trained forces", "other") == {"trained", "forces"}


# --- question_type ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "lang", "expected"),
    [
        ("Who trained Haftar's forces?", "en", "person"),
        ("In 1999, who led the army?", "en", "person"),
        ("Whose militias fought in Tripoli?", "en", "person"),
        ("In what year did the training happen?", "en", "time"),
        ("Which year did the war start?", "en", "time"),
        ("When did the talks in Cairo take place?", "en", "time"),
        ("How many people have died in the conflict?", "en", "number"),
        ("How much did the weapons cost?", "en", "number"),
        ("How old is Haftar?", "en", "number"),
        ("Where did Haftar meet Mossad officials?", "en", "place"),
        ("Which countries back the LNA?", "en", "place"),
        ("What weapons did Israel supply?", "en", None),
        # a person noun after what / which asks for a person, as من does
        ("What German ruler invited the Huguenots?", "en", "person"),
        ("Which actors signed the letter?", "en", "person"),
        ("What did Queen Elizabeth open in 1981?", "en", None),  # an auxiliary, not a noun
        ("What general trend did prices follow?", "en", None),  # an adjective here
        ("What man-made lake feeds the river?", "en", None),
        ("What is the population of Benghazi?", "en", "number"),
        ("What was the average family size?", "en", "number"),
        ("Tokoh mana yang memimpin serangan itu?", "id", "person"),
        ("أي لاعب سجل الهدف؟", "ar", "person"),
        # who / when / where after what / which / how open a relative clause
        ("What is the name of the officer who trained them?", "en", None),
        ("What is it called when forces withdraw?", "en", None),
        ("Which town is the place where they met?", "en", "place"),
        ("The plan was embraced by whom?", "en", "person"),
        ("In the report,\nwho trained them?", "en", "person"),  # across a line break
        ("Siapa yang melatih pasukan Haftar?", "id", "person"),
        ("Siapakah pemimpin LNA?", "id", "person"),
        ("Pada tahun berapa pelatihan itu dilakukan?", "id", "time"),
        ("Tanggal berapa perundingan dimulai?", "id", "time"),
        ("Kapan perundingan dimulai?", "id", "time"),
        ("Berapa banyak korban tewas?", "id", "number"),
        ("Berapakah jumlah tentara bayaran?", "id", "number"),
        ("Di mana Haftar bertemu pejabat Israel?", "id", "place"),
        ("Dimanakah letak Sebha?", "id", "place"),
        ("Ke mana pasukan itu dikirim?", "id", "place"),
        ("Apa yang dilakukan Israel?", "id", None),
        ("Beberapa negara mendukung Haftar.", "id", None),  # beberapa is not berapa
        ("من هو خليفة حفتر؟", "ar", "person"),
        ("مَن درّب قوات حفتر؟", "ar", "person"),
        ("ومن الذي يدعم حفتر؟", "ar", "person"),
        ("في عام ٢٠١٩، من قاد الهجوم على طرابلس؟", "ar", "person"),
        ("ما هي الدول من أوروبا التي تدعم حفتر؟", "ar", "place"),  # من = "from", not "who"
        ("ما هو العام الذي وقع فيه الاتفاق؟", "ar", "time"),
        ("ماهو العام الذي وقع فيه الاتفاق؟", "ar", "time"),
        ("ماهي المدينة التي استولى عليها؟", "ar", "place"),
        ("خلال أي سنوات كان الطاعون موجوداً؟", "ar", "time"),
        ("ما هي النسبة المئوية من الأصوات؟", "ar", "number"),
        ("ما المساحة التي يغطيها الحوض؟", "ar", "number"),
        ("ما هي المدينة التي منحت لهم؟", "ar", "place"),
        ("ما هو الرأي العام في ليبيا؟", "ar", None),  # العام = "public" after a noun
        ("من أين جاءت الأسلحة؟", "ar", "place"),
        ("أين التقى حفتر بمسؤولي الموساد؟", "ar", "place"),
        ("متى بدأت التدريبات؟", "ar", "time"),
        ("في أي عام ظهر حفتر على قناة العربية؟", "ar", "time"),
        ("ما هو تاريخ الاتفاق؟", "ar", "time"),
        ("كم عدد المرتزقة الروس؟", "ar", "number"),
        ("بكم بيعت الأسلحة؟", "ar", "number"),
        ("ماذا قال الكاتب؟", "ar", None),
    ],
)
def test_question_type(question: str, lang: str, expected: str | None) -> None:
    assert question_type(question, lang) == expected


def test_question_type_priorities() -> None:
    assert question_type("In which year did how many soldiers die?", "en") == "time"
    assert question_type("Who said how many soldiers died?", "en") == "person"
    assert question_type("When and how many soldiers arrived?", "en") == "number"
    assert question_type("Berapa tahun usia Haftar?", "id") == "number"


def test_question_type_tolerates_a_misdetected_language() -> None:
    assert question_type("Siapa Haftar?", "en") == "person"
    assert question_type("Who is Haftar?", "id") == "person"


# --- has_answer_type ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "lang"),
    [
        ("The training took place in August and September of 2019.", "en"),
        ("The talks began on Monday.", "en"),
        ("Militias have fought there for a decade.", "en"),
        ("Talks are due in May.", "en"),
        ("pelatihan tersebut pada Agustus dan September", "id"),
        ("Perang dimulai tahun ٢٠١٩.", "id"),
        ("Haftar muncul pada abad ini sebagai panglima.", "id"),
        ("وصلوا في الفترة ما بين أوت، وسبتمبر الماضيين", "ar"),
        ("بدأت المحادثات في شباط الماضي", "ar"),
        ("وقع الاتفاق في أيلول", "ar"),
        ("وقع الاتفاق في 5 آب", "ar"),
        ("ظهر حفتر في 14 فيفري 2014", "ar"),
        ("نقلته مراجع إعلامية، السبت", "ar"),
        ("في الثمانينات من القرن الماضي", "ar"),
    ],
)
def test_has_time(sentence: str, lang: str) -> None:
    assert has_answer_type(sentence, lang, "time")


@pytest.mark.parametrize(
    ("sentence", "lang"),
    [
        ("He lost 1,000 soldiers.", "en"),  # a grouped number is no year
        ("Theresa May said nothing.", "en"),  # May the surname
        ("Officials may meet again.", "en"),
        ("Sekitar 1.000 orang tewas.", "id"),
        ("قال أبي إن الحرب طويلة", "ar"),  # أب "father", not آب "August"
        ("مارس الضغط على الحكومة", "ar"),  # مارس "exerted", not March
        ("عقد اجتماعا مع المسؤولين", "ar"),  # عقد "held", not "decade"
    ],
)
def test_has_no_time(sentence: str, lang: str) -> None:
    assert not has_answer_type(sentence, lang, "time")


@pytest.mark.parametrize(
    ("sentence", "lang"),
    [
        ("Dozens of fighters were killed.", "en"),
        ("It took 3 min to read.", "en"),
        ("Ratusan tentara bayaran tiba.", "id"),
        ("Dua pejabat bertemu di Kairo.", "id"),
        ("آلاف المرتزقة الروس وصلوا", "ar"),
        ("قتل ثلاثة أشخاص", "ar"),
        ("وهي واحدة من أهم القواعد", "ar"),
        ("خارطة طريق مؤلفة من ٥ بنود", "ar"),
        ("بلغ عدد القتلى والعشرين", "ar"),
        ("أرسلوا خمسمائة جندي", "ar"),
    ],
)
def test_has_number(sentence: str, lang: str) -> None:
    assert has_answer_type(sentence, lang, "number")


@pytest.mark.parametrize(
    ("sentence", "lang"),
    [
        ("The sources revealed the talks.", "en"),
        ("Orang tewas dalam pertempuran.", "id"),
        ("لست أدري ماذا حدث", "ar"),  # لست "I am not", not ست "six"
        ("See the notes.[1]", "en"),
    ],
)
def test_has_no_number(sentence: str, lang: str) -> None:
    assert not has_answer_type(sentence, lang, "number")


def test_has_person_or_place_needs_a_name_after_the_first_word() -> None:
    assert has_answer_type("The GNA is led by Fayez Sarraj.", "en", "person")
    assert has_answer_type("Pasukan itu maju ke pinggiran Tripoli.", "id", "place")
    assert not has_answer_type("Haftar met them secretly.", "en", "person")
    assert not has_answer_type("It happened in March.", "en", "place")
    assert not has_answer_type("pertemuan itu terjadi pada hari Senin.", "id", "person")


def test_has_person_or_place_in_arabic_is_always_possible() -> None:
    assert has_answer_type("قال الكاتب في مقاله", "ar", "person")
    assert has_answer_type("قال الكاتب في مقاله", "ar", "place")


def test_unknown_or_missing_kind_is_always_possible() -> None:
    assert has_answer_type("The war ended.", "en", None)
    assert has_answer_type("The war ended.", "en", "reason")
