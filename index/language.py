"""Language identification (ar/en/id/other), Arabic normalisation and sentence boundaries."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Literal, get_args

from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

Lang = Literal["ar", "en", "id"]  # the product's languages (anything else is "other")
LANGS: tuple[Lang, ...] = get_args(Lang)

# Invisible format characters that may surround text: bidi marks and embeddings, zero-width
# space/joiners, word joiner, BOM. Trimmed from span edges like whitespace.
INVISIBLE = frozenset(
    "\u200b\u200c\u200d\u200e\u200f\u061c\u2060\ufeff"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)

_EN_WORDS = frozenset(
    """the a an and or but of to in on at by for from with about as into over after is are
    was were be been being has have had do does did not no this that these those it its they
    them their there he she his her him we our you your i my me who whom whose what which when
    where why how will would can could should may might must than then also more most some any
    such only very just against between during under while because if so said says""".split()
)
_ID_WORDS = frozenset(
    """yang dan di ke dari dengan untuk ini itu tidak dalam pada adalah akan telah sudah oleh
    juga atau karena sebagai bahwa ada bisa dapat tersebut mereka kami kita saya anda dia ia
    para antara setelah sejak hingga sampai namun tetapi tapi serta bagi seperti lebih belum
    masih saat ketika secara terhadap atas bawah menurut kepada agar supaya jika kalau maka
    siapa apa apakah kapan mana dimana mengapa kenapa bagaimana berapa manakah bukan sangat
    sebuah seorang banyak semua tahun bulan hari""".split()
)
# A few function words of other Latin-script languages, so that e.g. French is not called English.
_OTHER_LATIN_WORDS = frozenset(
    """le la les des est et une du pour pas qui dans sur avec sont mais cette ces aux nous vous
    el los las del por una es y con para como pero muy su sus esta este
    der die das und ist nicht ein eine mit von zu den dem auch sich auf fur""".split()
)
_WORD = re.compile(r"[^\W\d_]+")
# When function words do not decide between English and Indonesian (a tie, often none at all,
# as in "Dimanakah letak Donggala?"), a character n-gram model does. Text without evidence
# either way (names such as "Haftar Tripoli?") stays English unless the model is this sure.
_INDONESIAN_CONFIDENCE = 0.95

_DIACRITICS = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ALEF = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي"})

# Sentence boundaries.
_LINE = re.compile("[^\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")
_CLOSERS = "\"'”’»›)\\]}」』〉》" + "".join(sorted(INVISIBLE))
_TERMINATOR_RUN = re.compile("[.!?؟؛۔…‼⁇⁈⁉。！？]+[" + re.escape(_CLOSERS) + "]*")
_STRONG = frozenset("؟؛۔。！？")
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st gen col lt capt sgt maj gov sen rep rev hon pres mt vs
    e.g i.e approx fig no nos vol inc ltd co corp jan feb apr aug sep sept oct nov dec
    bpk jl tn ny sdr dll dsb dkk""".split()
)


def _is_arabic_letter(ch: str) -> bool:
    code = ord(ch)
    return (
        0x0600 <= code <= 0x06FF
        or 0x0750 <= code <= 0x077F
        or 0x08A0 <= code <= 0x08FF
        or 0xFB50 <= code <= 0xFDFF
        or 0xFE70 <= code <= 0xFEFF
    )


def _is_latin_letter(ch: str) -> bool:
    return ch.isascii() or 0x00C0 <= ord(ch) <= 0x024F


def detect_language(text: str) -> str:
    """Return "ar", "en", "id" or "other" for a text (article or short question)."""
    arabic = latin = other = 0
    for ch in text:
        if not ch.isalpha():
            continue
        if _is_arabic_letter(ch):
            arabic += 1
        elif _is_latin_letter(ch):
            latin += 1
        else:
            other += 1
    if arabic + latin + other == 0:
        return "other"
    if arabic >= latin and arabic >= other:
        return "ar"
    if other > latin:
        return "other"
    words = _WORD.findall(text.lower())
    en = sum(w in _EN_WORDS for w in words)
    ind = sum(w in _ID_WORDS for w in words)
    foreign = sum(w in _OTHER_LATIN_WORDS for w in words)
    if foreign > max(en, ind):
        return "other"
    if ind != en:
        return "id" if ind > en else "en"
    if _indonesian_probability(text) >= _INDONESIAN_CONFIDENCE:
        return "id"
    if en > 0 or len(words) < 12:
        return "en"
    return "other"


@lru_cache(maxsize=1)
def ngram_identifier() -> LanguageIdentifier:
    """py3langid's bundled model for English, Indonesian and Malay, loaded once (about 0.5 s)."""
    identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
    identifier.set_languages(["en", "id", "ms"])
    return identifier


def _indonesian_probability(text: str) -> float:
    """Probability that Latin-script text is Indonesian (or Malay) rather than English."""
    ranked = dict(ngram_identifier().rank(text))
    return ranked.get("id", 0.0) + ranked.get("ms", 0.0)


def normalize_arabic(text: str) -> str:
    """Strip Arabic diacritics and tatweel, unify alef variants and ى→ي (for matching only)."""
    return _DIACRITICS.sub("", text).translate(_ALEF)


def normalize_for_search(text: str) -> str:
    """Lowercase, NFKC-normalise and Arabic-normalise text for lexical (BM25) matching."""
    return normalize_arabic(unicodedata.normalize("NFKC", text).lower())


def _is_blank(ch: str) -> bool:
    return ch.isspace() or ch in INVISIBLE


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink text[start:end] past whitespace and invisible marks at both edges."""
    while start < end and _is_blank(text[start]):
        start += 1
    while end > start and _is_blank(text[end - 1]):
        end -= 1
    return start, end


def _is_abbreviation(text: str, line_start: int, dot: int) -> bool:
    """Whether the single period at `dot` ends an abbreviation or initial, not a sentence."""
    begin = dot
    while begin > line_start and (text[begin - 1].isalnum() or text[begin - 1] == "."):
        begin -= 1
    word = text[begin:dot].strip(".")
    if word.lower() in _ABBREVIATIONS:
        return True
    parts = word.split(".")
    return all(len(p) == 1 and p.isalpha() and p.isupper() for p in parts)


def _is_boundary(text: str, line_start: int, run: re.Match[str], line_end: int) -> bool:
    """Whether a run of terminators (plus closers) ends a sentence."""
    if any(ch in _STRONG for ch in run.group()):
        return True
    end = run.end()
    if end >= line_end:
        return True
    following = text[end]
    if _is_arabic_letter(following) and following.isalpha():
        return True
    if not following.isspace():
        return False
    if run.group().rstrip(_CLOSERS) != ".":
        return True
    if _is_abbreviation(text, line_start, run.start()):
        return False
    while end < line_end and text[end].isspace():
        end += 1
    nxt = text[end] if end < line_end else ""
    return not (nxt.isalpha() and nxt.islower() and _is_latin_letter(nxt))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence (start, end) offsets into text: trimmed, non-empty, ordered, non-overlapping."""
    spans: list[tuple[int, int]] = []

    def add(start: int, end: int) -> None:
        start, end = trim_span(text, start, end)
        if start < end:
            spans.append((start, end))

    for line in _LINE.finditer(text):
        start = line.start()
        for run in _TERMINATOR_RUN.finditer(text, line.start(), line.end()):
            if _is_boundary(text, line.start(), run, line.end()):
                add(start, run.end())
                start = run.end()
        add(start, line.end())
    return spans
