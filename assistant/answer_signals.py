"""Text signals for whether a sentence could answer a question (ar/en/id), without a model."""

from __future__ import annotations

import re
import threading

import Stemmer

from index.language import normalize_arabic, normalize_for_search

# --- Digits and numbers -------------------------------------------------------------------

_DIGITS = str.maketrans(
    {
        **{chr(0x0660 + d): str(d) for d in range(10)},
        **{chr(0x06F0 + d): str(d) for d in range(10)},
        "\u066b": ".",
        "\u066c": ",",
    }
)
_NUMBER_RUN = re.compile(r"(?<![0-9])[0-9]+(?:[.,][0-9]+)*")
# Wikipedia-style reference markers: [1], [12, 13], [note 3].
_REFERENCE = re.compile(r"\[(?:[a-z]+\s*)?[0-9]+(?:\s*[,–-]\s*[0-9]+)*\]", re.IGNORECASE)


def normalize_digits(text: str) -> str:
    """Map Arabic-Indic and Persian digits and Arabic separators to ASCII, one char for one."""
    return text.translate(_DIGITS)


def _canonical(integer: str, fraction: str = "") -> str:
    integer = integer.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    return f"{integer}.{fraction}" if fraction else integer


def _parse_number(run: str) -> list[str]:
    """Canonical numbers in a run such as "1,000", "1.000,5", "3,5" or "12.05.2019"."""
    groups = re.split(r"[.,]", run)
    seps = re.findall(r"[.,]", run)
    if not seps:
        return [_canonical(run)]
    head = groups[0]
    groupable = 1 <= len(head) <= 3 and head != "0"

    def grouping(i: int) -> bool:
        return groupable and len(groups[i + 1]) == 3 and seps[i] == seps[0]

    if all(grouping(i) for i in range(len(seps))):
        return [_canonical("".join(groups))]
    if all(grouping(i) for i in range(len(seps) - 1)):
        return [_canonical("".join(groups[:-1]), groups[-1])]
    # Dotted sequences (dates like 12.05.2019, versions): each part on its own.
    return [_canonical(g) for g in groups]


def numbers_in(text: str) -> set[str]:
    """Numbers a text states, canonicalised ("1,000", "1.000", "١٠٠٠" → "1000"; "3,5" → "3.5")."""
    text = _REFERENCE.sub(" ", normalize_digits(text))
    return {n for run in _NUMBER_RUN.findall(text) for n in _parse_number(run)}


# --- Content words ------------------------------------------------------------------------

_EN_STOPWORDS = frozenset(
    """a about above after again against all also am an and any are around as at be because
    been before being below between both but by can cannot could did do does doing down
    during each either else ever few for from further had has have having he her here hers
    herself him himself his i if in into is it its itself just least less many may me might
    more most much must my myself neither no nor not now of off on once only or other our ours
    ourselves out over own per same shall she should since so some such than that the their
    theirs them themselves then there these they this those though through thus to too under
    until up upon us very via was we were what whatever when whenever where whereas wherever
    whether which while who whom whose why will with within without would yet you your yours
    yourself yourselves still said says say according amid among along across toward towards
    onto like unlike another every several got get gets""".split()
)
_ID_STOPWORDS = frozenset(
    """yang dan di ke dari untuk dengan ini itu adalah ialah merupakan ada akan atau juga
    tidak bukan belum sudah telah sedang masih pada dalam oleh bagi tentang terhadap kepada
    antara seperti sebagai karena sebab agar supaya jika kalau bila apabila maka namun
    tetapi tapi serta lalu kemudian setelah sebelum sejak hingga sampai ketika saat selama
    sambil bahwa yaitu yakni pun lah kah nya para sang si sebuah seorang suatu tersebut
    begitu demikian sini sana situ saya aku kami kita anda kamu engkau ia dia beliau mereka
    nya semua setiap segala beberapa banyak sedikit lebih paling sangat amat hanya saja
    bisa dapat harus perlu mau ingin boleh secara atas bawah luar menurut bersama tanpa
    via per siapa siapakah apa apakah kapan kapankah mana manakah dimana dimanakah
    kemana kemanakah darimana berapa berapakah bagaimana bagaimanakah mengapa mengapakah
    kenapa adakah bukankah inilah itulah yakni hal""".split()
)
_AR_STOPWORDS = frozenset(
    normalize_for_search(word)
    for word in """من في على إلى الى عن ما ماذا متى أين اين كم كيف لماذا هل أي اي هو هي هم
    هن هما أنا انا نحن أنت انت أنتم التي الذي الذين اللذان اللتان اللواتي اللاتي أن ان إن
    أنّ كان كانت كانوا يكون تكون قد لقد لم لن لا ليس ليست ذلك تلك هذا هذه هؤلاء هناك هنا
    مع بعد قبل بين عند عندما حتى منذ خلال حول ضد دون غير بل ثم أو او أم إذا اذا لو لكن
    لأن كل بعض أيضا ايضا فقط حيث إذ كما مثل وفق وفقا عبر نحو لدى لدي تحت فوق أمام امام
    وراء له لها لهم به بها بهم فيه فيها فيهم عليه عليها عليهم منه منها منهم عنه عنها
    إليه إليها اليه اليها ذات الا إلا سوف ما زال يزال كذلك تم وقال قال قالت أمس اليوم
    بينما بسبب اما أما إما لدى التى الى ماهو ماهي ماهى""".split()
)
_STOPWORDS = {"en": _EN_STOPWORDS, "id": _ID_STOPWORDS, "ar": _AR_STOPWORDS}
_STEMMER_NAMES = {"ar": "arabic", "en": "english", "id": "indonesian"}
_WORD = re.compile(r"\w+")
_local = threading.local()  # PyStemmer objects are not thread-safe: one per thread.


def _stemmer(lang: str) -> Stemmer.Stemmer | None:
    name = _STEMMER_NAMES.get(lang)
    if name is None:
        return None
    stemmers = _local.__dict__.setdefault("stemmers", {})
    if name not in stemmers:
        stemmers[name] = Stemmer.Stemmer(name)
    return stemmers[name]


def is_stopword(word: str, lang: str) -> bool:
    """Whether a normalised word is a stopword or question word of the language."""
    stopwords = _STOPWORDS.get(lang, _EN_STOPWORDS)
    if word in stopwords:
        return True
    return lang == "ar" and word.startswith("و") and word[1:] in stopwords


def content_words(text: str, lang: str) -> set[str]:
    """Stems of a text's content words: no stopwords, question words, digits or 1-char tokens."""
    words = [
        word
        for word in _WORD.findall(normalize_digits(normalize_for_search(text)))
        if len(word) > 1 and not word.isdigit() and not is_stopword(word, lang)
    ]
    stemmer = _stemmer(lang)
    return set(stemmer.stemWords(words) if stemmer else words)


# --- Question types -----------------------------------------------------------------------


def _patterns(*patterns: str) -> re.Pattern[str]:
    """One regex from alternatives, Arabic-normalised (alef forms, ى→ي) like the text is."""
    return re.compile("|".join(f"(?:{normalize_arabic(p)})" for p in patterns))


_AR_NOT_WHO = "أين|أي|أية|متى|ماذا|كم|خلال|بين|أجل|حيث|قبل|بعد|دون|جهة|جانب"
# English who/when/where also open relative clauses ("the player who scored", "what is it
# called when"): they ask only when no what/which/how comes before them.
_EN_ASKING = r"^(?:(?!\b(?:what|which|how)\b)[\s\S])*"
# "ما (هو|هي) ال..." = "what is the ..." (also spelt ماهو / ماهي): the noun after it says
# what is asked.
_AR_WHAT_THE = r"\bما(?:\s*(?:هو|هي))?\s+(?:ال)?"
_AR_TIME_NOUNS = r"عام|أعوام|سنة|سنه|سنوات|سنين|تاريخ|يوم|شهر|قرن|قرون"
_AR_NUMBER_NOUNS = r"عدد|نسبة|حجم|قيمة|مدة|مساحة|طول|عمر|مسافة|ارتفاع|وزن|سعر|تكلفة|كمية|مبلغ"
_AR_PLACE_NOUNS = r"دولة|دول|بلد|بلدان|مدينة|مدن|مكان|منطقة|قرية|ولاية|مقاطعة"
_EXPLICIT_TIME = _patterns(
    r"\b(?:what|which)\s+(?:year|date|day|month|century|decade)s?\b",
    r"\b(?:tahun|tanggal|bulan|hari|abad)\s+(?:ke\W*)?(?:berapa|apa)(?:kah)?\b",
    rf"\bأي\s+(?:{_AR_TIME_NOUNS})\b",
    rf"{_AR_WHAT_THE}(?:{_AR_TIME_NOUNS})\b",
)
# "What German ruler / which actor / أي لاعب / pemain mana" ask for a person as who / من do.
_EN_PERSON_NOUNS = r"""person|people|man|men|woman|women|ruler|king|queen|emperor|
    empress|monarch|prince|princess|sultan|caliph|president|chancellor|minister|governor|mayor|
    senator|politician|leader|commander|officer|soldier|author|writer|poet|journalist|
    philosopher|historian|scientist|physicist|chemist|mathematician|economist|engineer|
    inventor|explorer|architect|artist|painter|composer|musician|singer|actor|actress|player|
    coach|pope|bishop|saint|prophet|founder|individual|winner|enemy|rival|successor"""
_AR_PERSON_NOUNS = r"""شخص|شخصية|رجل|امرأة|حاكم|ملك|ملكة|أمير|أميرة|إمبراطور|سلطان|خليفة|
    رئيس|وزير|قائد|زعيم|جنرال|ضابط|كاتب|مؤلف|شاعر|صحفي|فيلسوف|مؤرخ|فيزيائي|كيميائي|مهندس|
    مخترع|مستكشف|فنان|رسام|ملحن|مغني|ممثل|ممثلة|لاعب|مدرب|مؤسس"""
_ID_PERSON_NOUNS = r"""tokoh|orang|raja|ratu|kaisar|sultan|presiden|menteri|pemimpin|jenderal|
    penulis|pengarang|penyair|ilmuwan|penemu|seniman|penyanyi|aktor|aktris|pemain|pelatih|
    pendiri"""
_AUXILIARIES = r"is|was|are|were|do|does|did|has|have|had|can|could|will|would|should|may"


def _alternatives(words: str) -> str:
    """A regex alternation from a "|"-separated word list written over several lines."""
    return "|".join(word.strip() for word in words.split("|"))


_PERSON = _patterns(
    rf"{_EN_ASKING}\b(?:who|whom|whose)\b",
    rf"\b(?:what|which)\s+(?!(?:{_AUXILIARIES})\b)(?:[\w-]+\s+)?"
    rf"(?:{_alternatives(_EN_PERSON_NOUNS)})s?\b(?!-)",
    rf"\bأي\s+(?:ال)?(?:{_alternatives(_AR_PERSON_NOUNS)})\b",
    rf"\b(?:{_alternatives(_ID_PERSON_NOUNS)})\s+(?:mana|apa)(?:kah)?\b",
    r"\bsiapa(?:kah)?\b",
    rf"(?:^|[,،:؛«\"(])\s*[وفل]?من\b(?!\s+(?:{_AR_NOT_WHO})\b)",
    r"\bمن\s+(?:هو|هي|هم|هن|الذي|التي|الذين)\b",
)
_NUMBER = _patterns(
    r"\bhow\s+(?:many|much|long|old|far|tall|high|big|large)\b",
    r"\bwhat\s+(?:percentage|percent|proportion|share)\b",
    # "what is the number / average size", as Arabic "ما هو عدد / متوسط حجم" asks
    r"\bwhat\s+(?:is|was|are|were)\s+the\s+(?:(?:average|total|estimated)\s+(?:\w+\s+)?)?"
    r"(?:number|amount|percentage|proportion|ratio|population|size|length|area|cost|price)\b",
    r"\b(?:se)?berapa(?:kah)?\b",
    r"\b[وف]?ب?كم\b",
    rf"{_AR_WHAT_THE}(?:{_AR_NUMBER_NOUNS})\b",
)
_TIME = _patterns(rf"{_EN_ASKING}\bwhen\b", r"\bkapan(?:kah)?\b", r"\b[وف]?متى\b")
_PLACE = _patterns(
    rf"{_EN_ASKING}\bwhere\b",
    r"\b(?:what|which)\s+(?:country|countries|city|cities|town|province|region|state|place)\b",
    r"\b(?:di|ke|dari)\s*mana(?:kah)?\b",
    r"\b(?:negara|kota|provinsi|daerah|wilayah|desa|kabupaten)\s+(?:mana|apa)(?:kah)?\b",
    r"\b[وف]?أين\b",
    rf"\bأي\s+(?:{_AR_PLACE_NOUNS})\b",
    rf"{_AR_WHAT_THE}(?:{_AR_PLACE_NOUNS})\b",
)
_QUESTION_TYPES = (
    ("time", _EXPLICIT_TIME),
    ("person", _PERSON),
    ("number", _NUMBER),
    ("time", _TIME),
    ("place", _PLACE),
)


def question_type(question: str, lang: str) -> str | None:
    """The answer type a question asks for: "person", "time", "number", "place" or None."""
    # All three languages' question words are tried whatever lang says: they do not collide,
    # and the language of a short question is easily misdetected.
    text = normalize_for_search(question)
    for kind, pattern in _QUESTION_TYPES:
        if pattern.search(text):
            return kind
    return None


# --- Answer types in a sentence -----------------------------------------------------------

_YEAR = re.compile(r"(?<![0-9.,])(?:1[0-9]{3}|20[0-9]{2}|[1-9][0-9]{2})(?![0-9]|[.,][0-9])")
_LATIN_CALENDAR = frozenset(
    """January February March April June July August September October November December
    Feb Apr Aug Sept Oct Nov Dec Monday Tuesday Wednesday Thursday Friday Saturday Sunday
    Januari Februari Maret Mei Juni Juli Agustus Oktober Desember Okt Agu Senin Selasa Rabu
    Kamis Jumat Sabtu Minggu""".split()
)
# "May" is also a verb and a surname (Theresa May): only after a preposition or by a number.
_LATIN_MAY = re.compile(
    r"\b(?:in|since|until|by|of|on|last|next|early|late|mid|[0-9]+)\W+May\b|\bMay\W+[0-9]"
)
_LATIN_ERA = frozenset("century centuries decade decades abad dekade dasawarsa".split())
_AR_CALENDAR = frozenset(
    normalize_arabic(word)
    for word in """كانون شباط آذار نيسان أيار حزيران تموز أيلول تشرين يناير فبراير أبريل
    ابريل مايو يونيو يوليو أغسطس اغسطس أوت سبتمبر أكتوبر اكتوبر نوفمبر ديسمبر جانفي فيفري
    أفريل جوان جويلية الاثنين الإثنين الثلاثاء الأربعاء الخميس الجمعة السبت الأحد القرن قرن
    قرون""".split()
)
# Month names that are also ordinary words (آب/أب "father", مارس "practised", ماي): only
# next to a number, after شهر, or in the paired "آذار/مارس" style.
_AR_AMBIGUOUS_MONTH = _patterns(
    r"(?:[0-9]|شهر|/)\s*(?:آب|مارس|ماي)(?!\w)",
    r"(?<!\w)(?:آب|مارس|ماي)\s*(?:[0-9]|/)",
)
_AR_DECADE = re.compile(r"^[وب]?(?:ال)?(?:عشر|ثلاث|اربع|خمس|ست|سبع|ثمان|تسع)يني?ات$")

_EN_NUMBERS = frozenset(
    """one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
    sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety
    hundred hundreds thousand thousands million millions billion billions trillion dozen
    dozens half""".split()
)
_ID_NUMBERS = frozenset(
    """satu dua tiga empat lima enam tujuh delapan sembilan sepuluh sebelas belas puluh ratus
    ribu juta miliar milyar triliun seratus seribu sejuta puluhan ratusan ribuan jutaan
    belasan setengah separuh""".split()
)
_AR_NUMBERS = frozenset(
    normalize_arabic(word)
    for word in """واحد واحدة اثنان اثنين اثنتان اثنتين ثلاث ثلاثة أربع أربعة خمس خمسة ست
    ستة سبع سبعة ثمان ثماني ثمانية تسع تسعة عشر عشرة عشرون عشرين ثلاثون ثلاثين أربعون
    أربعين خمسون خمسين ستون ستين سبعون سبعين ثمانون ثمانين تسعون تسعين مائة مئة مئات
    مائتان مائتين مئتان مئتين ألف ألفا آلاف ألفين ألفان ألوف مليون مليونا ملايين مليار
    مليارا مليارات عشرات نصف ثلث ربع""".split()
)
_NUMBER_WORDS = {"en": _EN_NUMBERS, "id": _ID_NUMBERS, "ar": _AR_NUMBERS}
_AR_PARTICLES = re.compile(r"^[وف]?[بلك]?")
_AR_PREFIXES = re.compile(r"^[وف]?(?:لل|[بلك]?(?:ال)?)")
_LATIN_WORD = re.compile(r"[^\W\d_]+")


def _words(sentence: str) -> list[str]:
    return _WORD.findall(normalize_for_search(sentence))


def _arabic_in(words: list[str], vocabulary: frozenset[str]) -> bool:
    """Whether a word, bare or without its و/ف, ب/ل/ك and ال prefixes, is in vocabulary."""
    for word in words:
        if word in vocabulary:
            return True
        # A stripped word must keep 3 letters: لست "I am not" is not ست "six".
        stems = {_AR_PARTICLES.sub("", word), _AR_PREFIXES.sub("", word)}
        if any(len(stem) >= 3 and stem in vocabulary for stem in stems):
            return True
    return False


def _has_time(sentence: str) -> bool:
    if _YEAR.search(_REFERENCE.sub(" ", normalize_digits(sentence))):
        return True
    latin = _LATIN_WORD.findall(sentence)
    if any(w in _LATIN_CALENDAR or w.lower() in _LATIN_ERA for w in latin):
        return True
    if _LATIN_MAY.search(normalize_digits(sentence)):
        return True
    words = _words(sentence)
    if _arabic_in(words, _AR_CALENDAR) or any(_AR_DECADE.match(w) for w in words):
        return True
    return bool(_AR_AMBIGUOUS_MONTH.search(normalize_digits(normalize_for_search(sentence))))


# A year in a date ("in 2019", "September 2019", "musim panas 2018", "عام 2019") is a time,
# not a quantity.
_DATE_CUES = {
    "May",
    *"in since until till by from of on during summer winter spring autumn".split(),
    *"tahun pada dalam sejak hingga sampai panas dingin semi gugur".split(),
}
_DATE_WORDS = "|".join(sorted(_LATIN_CALENDAR | _DATE_CUES, key=len, reverse=True))
_AR_DATE_WORDS = "عام|سنة|العام|منذ|في|حتى|صيف|الصيف|شتاء|الشتاء|ربيع|الربيع|خريف|الخريف"
_DATED_YEAR = re.compile(
    rf"(?:\b(?:{_DATE_WORDS})\W{{1,3}}|(?:{_AR_DATE_WORDS})\s+)(?:1[0-9]{{3}}|20[0-9]{{2}})(?![0-9])",
    re.IGNORECASE,
)
# "One such meeting", "one of them", "Satu pertemuan": a determiner, not a count.
_NOT_A_COUNT = re.compile(
    r"^\W*(?:one|satu)\b|\bone\s+(?:of|such|another|day|side|hand)\b|\bsatu\s+(?:dari|di antara)\b",
    re.IGNORECASE,
)


def _has_number(sentence: str, lang: str) -> bool:
    """Whether the sentence states a quantity: digits other than a dated year, or a number word."""
    text = _REFERENCE.sub(" ", normalize_digits(sentence))
    text = _NOT_A_COUNT.sub(" ", _DATED_YEAR.sub(" ", text))
    if re.search(r"[0-9]", text):
        return True
    words = _words(text)
    vocabulary = _NUMBER_WORDS.get(lang)
    if vocabulary is None:
        return any(_has_number(text, known) for known in _NUMBER_WORDS)
    if lang == "ar":
        return _arabic_in(words, vocabulary) or any(w.endswith(("مائة", "مئة")) for w in words)
    return any(w in vocabulary for w in words)


_NOT_NAMES = _LATIN_CALENDAR | {"May"}


def _is_latin(ch: str) -> bool:
    return ch.isascii() or "\u00c0" <= ch <= "\u024f"


def _has_name(sentence: str) -> bool:
    """Whether a capitalised Latin word, not the first word nor a month or weekday, occurs."""
    words = _WORD.findall(sentence)[1:]
    return any(
        len(w) > 1 and w[0].isupper() and _is_latin(w[0]) and w not in _NOT_NAMES for w in words
    )


def has_answer_type(sentence: str, lang: str, kind: str | None) -> bool:
    """Whether the sentence contains something of the kind asked for (True when unknown)."""
    if kind == "time":
        return _has_time(sentence)
    if kind == "number":
        return _has_number(sentence, lang)
    if kind in ("person", "place"):
        return lang == "ar" or _has_name(sentence)
    return True
