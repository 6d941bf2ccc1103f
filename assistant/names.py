"""Names matched across Arabic and Latin script by their consonant skeletons.

Dense vectors of a small multilingual model barely tell "من هو عباس كامل؟" from other
Arabic questions about Egypt, but the name is plain in an English or Indonesian sentence:
عباس كامل and "Abbas Kamel" share the consonants b-s and k-m-l. A skeleton keeps the
consonants of a word, maps letters that transliterate into one another to one class
(ق/ك/k/q/c, ث/ت/ط/t, ش/س/ص/s, ...) and drops vowels, long-vowel letters, ع/ء/ه and h,
which Latin spellings of Arabic names treat inconsistently.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.answer_signals import is_stopword
from index.language import normalize_for_search

_ARABIC = str.maketrans(
    {
        "ب": "b",
        "ت": "t",
        "ث": "t",
        "ج": "j",
        "ح": "",
        "خ": "k",
        "د": "d",
        "ذ": "d",
        "ر": "r",
        "ز": "z",
        "س": "s",
        "ش": "s",
        "ص": "s",
        "ض": "d",
        "ط": "t",
        "ظ": "z",
        "غ": "g",
        "ف": "f",
        "ق": "k",
        "ك": "k",
        "ل": "l",
        "م": "m",
        "ن": "n",
        "ه": "",
        "ة": "",
        "و": "",
        "ي": "",
        "ى": "",
        "ا": "",
        "أ": "",
        "إ": "",
        "آ": "",
        "ء": "",
        "ؤ": "",
        "ئ": "",
        "ع": "",
        "پ": "b",
        "چ": "j",
        "ڤ": "f",
        "گ": "g",
        "ک": "k",
        "ی": "",
    }
)
_LATIN_DIGRAPHS = (
    ("sh", "s"),
    ("kh", "k"),
    ("th", "t"),
    ("dh", "d"),
    ("ph", "f"),
    ("gh", "g"),
    ("ch", "s"),
    ("ck", "k"),
    ("x", "ks"),
)
_LATIN = str.maketrans(
    {
        "c": "k",
        "q": "k",
        "v": "f",
        "p": "b",
        "g": "j",
        "h": "",
        "w": "",
        "y": "",
        "a": "",
        "e": "",
        "i": "",
        "o": "",
        "u": "",
    }
)
_ARABIC_PREFIXES = (
    re.compile("^(?:و|ف)"),
    re.compile("^(?:و|ف)?(?:ب|ل|ك)"),
    re.compile("^(?:و|ف)?(?:ب|ل|ك)?ال"),
)
_LATIN_NAME = re.compile(r"[A-Z][A-Za-z'’]+")  # "Al-Thani" gives "Al" and "Thani"
_DEMONYM = re.compile(r"(?:ian|an|ese|ish|i)$")
_ARABIC_WORD = re.compile(r"[\u0621-\u064a\u067e\u0686\u06a4\u06af\u06a9\u06cc]{2,}")
_MIN_SKELETON = 2


def _collapse(skeleton: str) -> str:
    """Doubled consonants once: "Abbas" and عباس both give "bs"."""
    return re.sub(r"(.)\1+", r"\1", skeleton)


def arabic_skeletons(word: str) -> set[str]:
    """Consonant skeletons of an Arabic word, bare and without each possible prefix.

    Whether a first و, ب, ل or ك is a prefix or part of a name (كامل, ليبيا) cannot be told
    from the word alone, so every reading is kept.
    """
    word = normalize_for_search(word)
    readings = {word} | {p.sub("", word) for p in _ARABIC_PREFIXES if p.match(word)}
    return {
        skeleton
        for reading in readings
        if len(reading) >= 3 or reading == word
        for skeleton in [_collapse(reading.translate(_ARABIC))]
        if len(skeleton) >= _MIN_SKELETON
    }


def latin_skeleton(word: str) -> str:
    """Consonant skeleton of a Latin-script word (an "al-" article is dropped)."""
    word = word.lower().replace("’", "").replace("'", "")
    word = re.sub(r"^[ae]l-", "", word)
    for digraph, sound in _LATIN_DIGRAPHS:
        word = word.replace(digraph, sound)
    return _collapse(re.sub(r"[^a-z]", "", word).translate(_LATIN))


@lru_cache(maxsize=4096)
def _latin_names(text: str, lang: str) -> tuple[frozenset[str], ...]:
    """Skeleton readings of each capitalised Latin word of a text (names, mostly), no stopwords.

    A demonym is read as its country too: "Russian" also as "Russia" (ر-س in الروس).
    """
    out: dict[str, frozenset[str]] = {}
    for word in _LATIN_NAME.findall(text):
        if is_stopword(word.lower(), lang):
            continue
        readings = {latin_skeleton(word), latin_skeleton(_DEMONYM.sub("", word))}
        readings = {r for r in readings if len(r) >= _MIN_SKELETON}
        if readings:
            key = min(readings, key=len)
            out[key] = out.get(key, frozenset()) | readings
    return tuple(out.values())


@lru_cache(maxsize=4096)
def _arabic_words(text: str) -> tuple[frozenset[str], ...]:
    """The skeleton readings of each Arabic word of a text, no stopwords."""
    words = _ARABIC_WORD.findall(normalize_for_search(text))
    readings = [arabic_skeletons(w) for w in dict.fromkeys(words) if not is_stopword(w, "ar")]
    return tuple(frozenset(r) for r in readings if r)


def _matches(skeleton: str, others: set[str]) -> bool:
    """Equal skeletons, or (from three consonants on) one a prefix of the other."""
    if skeleton in others:
        return True
    return len(skeleton) >= 3 and any(
        len(o) >= 3 and (o.startswith(skeleton) or skeleton.startswith(o)) for o in others
    )


def cross_script_names(question: str, q_lang: str, sentence: str, s_lang: str) -> float:
    """Share of the question's names found in a sentence written in the other script.

    An Arabic question's words (names are not capitalised in Arabic) are matched against the
    sentence's capitalised Latin words; a Latin question's capitalised words against the
    sentence's Arabic words. 0 when both share a script or the question names nothing.
    """
    if (q_lang == "ar") == (s_lang == "ar"):
        return 0.0
    if q_lang == "ar":
        asked = _arabic_words(question)
        found = set().union(*_latin_names(sentence, s_lang))
    else:
        asked = _latin_names(question, q_lang)
        found = set().union(*_arabic_words(sentence))
    return _share_found(asked, found)


def _share_found(words: tuple[frozenset[str], ...], found: set[str]) -> float:
    """Share of words (each a set of skeleton readings) with a reading matched in found."""
    if not words:
        return 0.0
    return sum(any(_matches(s, found) for s in word) for word in words) / len(words)


def name_agreement(a: str, a_lang: str, b: str, b_lang: str) -> tuple[float, float]:
    """How far two sentences name the same things, and whether that can be told (0 or 1).

    Across Arabic and Latin script: the share of the Latin sentence's names found in the
    Arabic one. Within Latin script: the share of the fewer names found in the other
    sentence. Within Arabic, which has no capitals: the same over its content words.
    """
    if (a_lang == "ar") != (b_lang == "ar"):
        latin, lang, arabic = (b, b_lang, a) if a_lang == "ar" else (a, a_lang, b)
        if not _latin_names(latin, lang):
            return 0.0, 0.0
        return cross_script_names(latin, lang, arabic, "ar"), 1.0
    if a_lang == "ar":
        words_a, words_b = _arabic_words(a), _arabic_words(b)
    else:
        words_a, words_b = _latin_names(a, a_lang), _latin_names(b, b_lang)
    if not words_a or not words_b:
        return 0.0, 0.0
    fewer, more = sorted((words_a, words_b), key=len)
    return _share_found(fewer, set().union(*more)), 1.0
