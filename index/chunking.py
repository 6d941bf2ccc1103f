"""Sentence-aware, token-bounded chunks with exact character offsets into the document text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from index.language import normalize_for_search, sentence_spans, trim_span

TokenCounter = Callable[[str], int]
Span = tuple[int, int]


@dataclass(frozen=True)
class Chunk:
    """A chunk: `text == document_text[start:end]`, numbered `n` within its document."""

    n: int
    start: int
    end: int
    text: str
    tokens: int


# Debris patterns run on normalize_for_search(sentence) with decoration stripped from the edges.
_DEBRIS_EDGES = " \t*•·‣◦▪►-–—|>#:.!?»«\"'()"
_SOCIAL = r"(?:facebook|twitter|x|whatsapp|telegram|linkedin|instagram|email|e-mail|فيسبوك|تويتر)"
_DEBRIS_PATTERNS = [
    # view / read counters: "3.557 views", "views: 1,024", "1.2k reads", "3465 مشاهدة"
    r"^[\d.,\s]+[km]?\s*(?:views?|reads?|hits|likes?|shares?|dilihat|dibaca|kali dilihat"
    r"|kali dibaca|vues|lectures?|مشاهدة|مشاهدات|قراءة|قراءات)$",
    r"^(?:views?|dilihat|dibaca|vues|مشاهدات|المشاهدات)\s*:?\s*[\d.,]+[km]?$",
    # reading time: "3 min read", "5 menit baca", "3 دقائق للقراءة"
    r"^\d+\s*(?:min|mins|minutes?|menit|دقيقة|دقائق)\.?\s*(?:read|reading|baca|membaca"
    r"|de lecture|للقراءة|قراءة)$",
    r"^(?:reading time|waktu baca|temps de lecture|مدة القراءة)\b.{0,20}$",
    # ad / embed markers: "[ads2]", "[caption]"; unfilled templates: "%d bloggers like this"
    r"^\[[^\[\]\s]{1,30}\]$",
    r"%[ds]\b|\{\{.*\}\}",
    # single-word widgets, optionally "on <network>" or with a count
    rf"^(?:share|tweet|print|email|partager|imprimer|bagikan|cetak|شارك|مشاركة|طباعة)"
    rf"(?:\s+(?:on|sur|ke|via|على|عبر)\s+{_SOCIAL})?$",
    r"^(?:\d+\s+)?(?:comments?|commentaires?|komentar|تعليق|تعليقات|التعليقات)(?:\s*\(?\d+\)?)?$",
    r"^(?:advertisement|sponsored|publicité|iklan|اعلان|اعلانات)$",
    # prompts: comment forms, "read more", follow / subscribe, related links
    r"^(?:leave a (?:comment|reply)|post a comment|add a comment|write a comment"
    r"|laisser un commentaire|laissez un commentaire|tulis komentar|berikan komentar"
    r"|tinggalkan komentar|اترك تعليقا|اترك تعليق|اترك ردا|اضف تعليق|اضف تعليقا|اكتب تعليقا)\b",
    r"(?:e-?mail address will not be published|required fields are marked"
    r"|adresse (?:e-?mail|de messagerie) ne sera pas publi|champs obligatoires sont indiqu"
    r"|email anda tidak akan dipublikasikan|bidang yang wajib ditandai"
    r"|لن يتم نشر عنوان بريدك الالكتروني|الحقول الالزامية)",
    r"^(?:read more|read also|also read|see also|related(?: articles| posts| stories| news)?"
    r"|lire aussi|à lire aussi|lire la suite|articles similaires|baca juga|baca selengkapnya"
    r"|artikel terkait|berita terkait|اقرا ايضا|اقرا المزيد|مقالات ذات صلة|اخبار ذات صلة"
    r"|مواضيع ذات صلة)\b",
    r"^(?:follow us|subscribe\b|sign up\b|click (?:here|to)\b|skip to\b|back to top"
    r"|suivez-nous|abonnez-vous|ikuti kami|berlangganan|تابعونا|تابعنا على|اشترك في نشرتنا"
    r"|sebarkan (?:informasi|berita|artikel|tulisan) ini)",
]
_DEBRIS = re.compile("|".join(f"(?:{p})" for p in _DEBRIS_PATTERNS))
_MAX_DEBRIS_CHARS = 200

_CLAUSE = re.compile(r"[،؛]|[,;:](?=\s)")
_SPACE = re.compile(r"\s+")


def is_debris(sentence: str) -> bool:
    """Whether a sentence is page debris (counters, ad markers, share/comment prompts)."""
    core = normalize_for_search(sentence).strip(_DEBRIS_EDGES)
    if not any(ch.isalpha() for ch in core):
        return True
    return len(core) <= _MAX_DEBRIS_CHARS and _DEBRIS.search(core) is not None


@lru_cache(maxsize=1)
def _tokenizer() -> Callable[[str], list[int]]:
    from llama_index.core.utils import get_tokenizer

    return get_tokenizer()


def token_count(text: str) -> int:
    """Number of cl100k_base tokens in text (llama-index's default tokenizer)."""
    return len(_tokenizer()(text))


def _split_at(text: str, span: Span, pattern: re.Pattern[str]) -> list[Span]:
    """Trimmed pieces of span cut after every match of pattern."""
    start, end = span
    pieces = []
    for match in pattern.finditer(text, start, end):
        pieces.append(trim_span(text, start, match.end()))
        start = match.end()
    pieces.append(trim_span(text, start, end))
    return [p for p in pieces if p[0] < p[1]]


def _is_glued(ch: str) -> bool:
    """Whether ch attaches to the character before it (combining mark, joiner, selector)."""
    return unicodedata.category(ch).startswith("M") or ch in "\u200c\u200d\ufe0e\ufe0f"


def _longest_fit(text: str, start: int, end: int, budget: int, count: TokenCounter) -> int:
    """Largest cut in (start, end] whose prefix text[start:cut] fits the budget (min start + 1)."""
    low, step = start + 1, max(budget, 8)
    while True:
        probe = min(start + step, end)
        if count(text[start:probe]) > budget:
            high = probe
            break
        if probe == end:
            return end
        low, step = probe, step * 2
    while high - low > 1:
        mid = (low + high) // 2
        if count(text[start:mid]) <= budget:
            low = mid
        else:
            high = mid
    return low


def _hard_split(text: str, span: Span, budget: int, count: TokenCounter) -> list[Span]:
    """Cut a span without usable break points into the longest prefixes that fit the budget."""
    pieces = []
    start, end = span
    while start < end:
        cut = _longest_fit(text, start, end, budget, count)
        while start + 1 < cut < end and _is_glued(text[cut]):
            cut -= 1
        piece = trim_span(text, start, cut)
        if piece[0] < piece[1]:
            pieces.append(piece)
        start = trim_span(text, cut, end)[0]
    return pieces


def _merge(text: str, spans: list[Span], budget: int, count: TokenCounter) -> list[Span]:
    """Greedily join consecutive spans while the joined text fits the budget."""
    merged = [spans[0]]
    for span in spans[1:]:
        if count(text[merged[-1][0] : span[1]]) <= budget:
            merged[-1] = (merged[-1][0], span[1])
        else:
            merged.append(span)
    return merged


def _fit(text: str, span: Span, budget: int, count: TokenCounter) -> list[Span]:
    """Split a span into pieces that each fit the budget: at clauses, then spaces, then hard."""
    if count(text[span[0] : span[1]]) <= budget:
        return [span]
    for pattern in (_CLAUSE, _SPACE):
        parts = _split_at(text, span, pattern)
        if len(parts) > 1:
            pieces = [piece for part in parts for piece in _fit(text, part, budget, count)]
            return _merge(text, pieces, budget, count)
    return _hard_split(text, span, budget, count)


def _units(text: str, budget: int, count: TokenCounter) -> list[list[Span]]:
    """Runs of budget-sized sentence units; debris sentences separate the runs."""
    runs: list[list[Span]] = [[]]
    for span in sentence_spans(text):
        if is_debris(text[span[0] : span[1]]):
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].extend(_fit(text, span, budget, count))
    return [run for run in runs if run]


def _pack(text: str, units: list[Span], budget: int, count: TokenCounter) -> list[Span]:
    """Pack consecutive units into chunk spans, the last unit of one opening the next."""
    chunks = []
    i = 0
    while i < len(units):
        j = i
        while j + 1 < len(units) and count(text[units[i][0] : units[j + 1][1]]) <= budget:
            j += 1
        chunks.append((units[i][0], units[j][1]))
        if j + 1 == len(units):
            break
        overlap = j > i and count(text[units[j][0] : units[j + 1][1]]) <= budget
        i = j if overlap else j + 1
    return chunks


def chunk_text(text: str, max_tokens: int, count_tokens: TokenCounter | None = None) -> list[Chunk]:
    """Sentence-aligned chunks of at most max_tokens tokens, with one-sentence overlap."""
    count = count_tokens or token_count
    runs = _units(text, max_tokens, count)
    spans = [span for run in runs for span in _pack(text, run, max_tokens, count)]
    return [
        Chunk(n=n, start=start, end=end, text=text[start:end], tokens=count(text[start:end]))
        for n, (start, end) in enumerate(spans)
    ]
