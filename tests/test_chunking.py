"""Sentence-aware chunking: offsets, token budget, overlap, debris, llama-index nodes."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.chunking import Chunk, chunk_text, is_debris, token_count
from index.language import INVISIBLE, sentence_spans

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_FILES = sorted(SEEDS.glob("0*.txt"))


def _words(text: str) -> int:
    return len(text.split())


def check_chunks(text: str, chunks: list[Chunk], max_tokens: int) -> None:
    """The chunk invariants: exact offsets, stripped, budget, order, coverage of content."""
    covered = [False] * len(text)
    for n, chunk in enumerate(chunks):
        assert chunk.n == n
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text and chunk.text == chunk.text.strip()
        assert chunk.tokens == token_count(chunk.text) <= max_tokens
        if n:
            assert chunks[n - 1].start < chunk.start
            assert chunks[n - 1].end < chunk.end
        covered[chunk.start : chunk.end] = [True] * (chunk.end - chunk.start)
    for start, end in sentence_spans(text):
        if is_debris(text[start:end]):
            continue
        for i in range(start, end):
            assert covered[i] or text[i].isspace() or text[i] in INVISIBLE, (text[start:end], i)


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name[:3])
def test_seed_chunks(path):
    text = path.read_text(encoding="utf-8")
    chunks = chunk_text(text, 200)
    assert len(chunks) >= 3
    check_chunks(text, chunks, 200)
    for chunk in chunks:
        for debris in ("[ads2]", "3.557 views", "3 min read", "• 3465", "Read more:", "%d"):
            assert debris not in chunk.text
        assert "Votre adresse" not in chunk.text
        assert "تعليق" not in chunk.text


def test_seed_content_kept():
    text = (SEEDS / "003_2588619304b79780.txt").read_text(encoding="utf-8")
    joined = " ".join(c.text for c in chunk_text(text, 200))
    assert "كشفت مصادر مصرية وليبية" in joined
    assert "المصدر: وكالات" in joined  # attribution is content, not debris


@pytest.mark.parametrize(
    "line",
    [
        "3.557 views",
        "1,024 Views",
        "views: 3465",
        "3 min read",
        "5 menit baca",
        "  • 3465",
        "• 7",
        "2019",
        "[ads2]",
        "[ad]",
        "%d bloggers like this:",
        "%d مدونون معجبون بهذه:",
        "Share",
        "Share on Facebook",
        "Partager",
        "Partager sur Twitter",
        "Bagikan",
        "شارك",
        "Comments (3)",
        "تعليقات",
        "Leave a comment",
        "Laisser un commentaire",
        "اترك تعليقاً",
        "أترك تعليقا",
        "Votre adresse e-mail ne sera pas publiée.",
        "Your email address will not be published.",
        "Les champs obligatoires sont indiqués avec *",
        "Read more: It’s time for the ICC to indict Haftar for war crimes",
        "Baca juga: Haftar Serang Tripoli",
        "اقرأ أيضاً: حفتر يهاجم طرابلس",
        "مقالات ذات صلة",
        "Follow us on Twitter and Instagram to stay connected",
        "Click to enlarge",
        "Sebarkan informasi ini, semoga menjadi amal sholeh kita!",
        "Advertisement",
        "---",
    ],
)
def test_debris(line):
    assert is_debris(line)


@pytest.mark.parametrize(
    "line",
    [
        "العالم",
        "أرشيف",
        "خليفة حفتر",
        "المصدر: وكالات",
        "07 December, 2019",
        "Ahad, 6 Rajab 1446 H / 8 Desember 2019 20:43 wib",
        "شارك حفتر في مؤتمر باليرمو.",
        "Share prices fell 3% in Tripoli.",
        "Comments by the minister angered Cairo.",
        "Haftar's forces shared intelligence with Egypt.",
        "The article had 3,557 views before it was removed from the site.",
        "LNA forces loyal to Haftar patrol Sebha [Getty]",
        "Sumber menambahkan bahwa pertemuan itu yang pertama.",
    ],
)
def test_not_debris(line):
    assert not is_debris(line)


def test_overlap_one_sentence():
    sentences = [f"Sentence number {i} tells a short story about Libya." for i in range(12)]
    text = " ".join(sentences)
    chunks = chunk_text(text, 40)
    check_chunks(text, chunks, 40)
    assert len(chunks) > 2
    for previous, chunk in pairwise(chunks):
        last = previous.text.rsplit(". ", 1)[-1]
        assert chunk.text.startswith(last)


def test_debris_breaks_chunks():
    text = "Haftar met Israeli officials.\n[ads2]\nEgypt coordinated the training."
    chunks = chunk_text(text, 200)
    assert [c.text for c in chunks] == [
        "Haftar met Israeli officials.",
        "Egypt coordinated the training.",
    ]


def test_long_sentence_split_at_clauses_then_spaces_then_hard():
    clauses = "، ".join(f"وقال المصدر رقم {i} إن حفتر التقى مسؤولين" for i in range(30)) + "."
    chunks = chunk_text(clauses, 30)
    check_chunks(clauses, chunks, 30)
    assert len(chunks) > 3
    assert all(c.text.endswith(("،", ".")) for c in chunks)

    words = " ".join(["Haftar"] * 400)
    chunks = chunk_text(words, 25)
    check_chunks(words, chunks, 25)
    assert all(c.text.startswith("Haftar") and c.text.endswith("Haftar") for c in chunks)

    blob = "ab" * 3000
    chunks = chunk_text(blob, 16)
    check_chunks(blob, chunks, 16)
    assert "".join(c.text for c in chunks) == blob


def test_custom_counter():
    text = " ".join(f"Word{i} w w w w." for i in range(20))
    chunks = chunk_text(text, 12, count_tokens=_words)
    assert all(c.tokens == _words(c.text) <= 12 for c in chunks)
    assert all(text[c.start : c.end] == c.text for c in chunks)


def test_empty_and_debris_only():
    assert chunk_text("", 100) == []
    assert chunk_text(" \n\u200f\n", 100) == []
    assert chunk_text("3.557 views\n[ads2]\nShare", 100) == []


def _text_strategy() -> st.SearchStrategy[str]:
    arabic = st.lists(
        st.one_of(
            st.characters(min_codepoint=0x0621, max_codepoint=0x064A),
            st.sampled_from(["\u064b", "\u064e", "\u0651", "\u0670", "\u0640", "\u0654"]),
            st.sampled_from([" ", " ", "، ", ". ", "؟", "؛", "\n", "\u200f", "\u061c"]),
        ),
        max_size=400,
    ).map("".join)
    pieces = st.sampled_from(
        [
            "Haftar",
            " ",
            ". ",
            "U.S. ",
            "3.557 views\n",
            "[ads2]\n",
            "\u200f",
            "\u061c",
            "\u200e",
            "\u200d",
            "e\u0301\u0301",
            "👨\u200d👩\u200d👧\u200d👦",
            "🏳️\u200d🌈",
            "汉字测试",
            "…",
            "\n\n",
            "حَفْتَر",
            "yang ",
            ", ",
        ]
    )
    mixed = st.lists(st.one_of(pieces, st.text(max_size=8)), max_size=120).map("".join)
    long_line = st.builds(
        lambda word, n, sep: sep.join([word] * n),
        st.sampled_from(["Haftar", "حفتر", "汉字", "x", "👍🏽", "aé"]),
        st.integers(1, 600),
        st.sampled_from(["", " ", "\u200f"]),
    )
    blank = st.text(alphabet=" \t\n\r\u00a0\u2028\u200f\u200b\u3000", max_size=40)
    return st.one_of(st.text(), arabic, mixed, long_line, blank)


@settings(max_examples=150, deadline=None)
@given(_text_strategy(), st.sampled_from([8, 16, 50, 200]))
def test_chunk_invariants_property(text, max_tokens):
    check_chunks(text, chunk_text(text, max_tokens), max_tokens)
