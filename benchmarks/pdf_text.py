"""Which PDF library gives the seed articles' text back, Arabic in logical reading order.

Usage: python -m benchmarks.pdf_text
Each seed article (000 id, 001 en, 002-004 ar) becomes an HTML page (one <p> per line,
dir=rtl for Arabic) printed to PDF by headless chromium; the PDF is read by pypdf, pdfplumber
(as is, and told the text runs right to left), pypdfium2 (installed with pdfplumber; its text,
and its characters with positions put in order by read_pdf's own logic) and
index.formats.pdf.read_pdf. Similarity is difflib's character ratio between the source and the
extracted text, both whitespace-collapsed; "nfkc" folds presentation forms (U+FB00-U+FEFE) in
the extraction first, to separate letter shapes from reading order. Each seed is also set in
two CSS columns (right to left in Arabic) and read by read_pdf and by PDFium's characters.
"""

from __future__ import annotations

import argparse
import difflib
import io
import json
import re
import statistics
import subprocess
import tempfile
import time
import unicodedata
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pdfplumber
import pypdfium2
import pypdfium2.raw as pdfium_c
from pypdf import PdfReader

from benchmarks.pdf_pages import CHROMIUM, RTL, article_html, print_pdf, seed_articles, source_lines
from index.formats.pdf import page_text, read_pdf

_PRESENTATION_FORMS = re.compile("[\ufb00-\ufdff\ufe70-\ufefe]")
Extractor = Callable[[bytes, str], str]


def with_pypdf(data: bytes, lang: str) -> str:
    """pypdf's text of every page."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def with_pdfplumber(data: bytes, lang: str) -> str:
    """pdfplumber's text of every page, lines read left to right."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() for page in pdf.pages)


def with_pdfplumber_rtl(data: bytes, lang: str) -> str:
    """pdfplumber's text with each line reversed for a right-to-left language."""
    direction = "rtl" if lang in RTL else "ltr"
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text(char_dir_render=direction) for page in pdf.pages)


def with_pypdfium2(data: bytes, lang: str) -> str:
    """PDFium's (chromium's own PDF engine) text of every page."""
    pdf = pypdfium2.PdfDocument(data)
    try:
        return "\n".join(page.get_textpage().get_text_bounded() for page in pdf)
    finally:
        pdf.close()


def with_pypdfium2_chars(data: bytes, lang: str) -> str:
    """PDFium's characters with their positions (loose boxes; the spaces it generates left
    out, those the file draws kept) put in order by read_pdf's own line and column logic."""
    pdf = pypdfium2.PdfDocument(data)
    pages = []
    try:
        for page in pdf:
            height, text_page, chars = page.get_height(), page.get_textpage(), []
            for i in range(text_page.count_chars()):
                code = pdfium_c.FPDFText_GetUnicode(text_page.raw, i)
                if not code or pdfium_c.FPDFText_IsGenerated(text_page.raw, i) == 1:
                    continue
                left, _, right, top = text_page.get_charbox(i, loose=True)
                size = pdfium_c.FPDFText_GetFontSize(text_page.raw, i)
                chars.append(
                    {"text": chr(code), "x0": left, "x1": right, "top": height - top, "size": size}
                )
            pages.append(page_text(chars))
    finally:
        pdf.close()
    return "\n".join(pages)


def with_read_pdf(data: bytes, lang: str) -> str:
    """Sanad's reader (pdfplumber characters, logical order, forms folded)."""
    return read_pdf(data).text


EXTRACTORS: dict[str, Extractor] = {
    "pypdf": with_pypdf,
    "pdfplumber": with_pdfplumber,
    "pdfplumber rtl": with_pdfplumber_rtl,
    "pypdfium2": with_pypdfium2,
    "pypdfium2 characters, our order": with_pypdfium2_chars,
    "read_pdf": with_read_pdf,
}
# the seed set in two CSS columns (right to left in Arabic)
TWO_COLUMN_EXTRACTORS: dict[str, Extractor] = {
    "read_pdf, two columns": with_read_pdf,
    "pypdfium2 characters, two columns": with_pypdfium2_chars,
}


def similarity(source: str, extracted: str) -> float:
    """difflib's character ratio between two whitespace-collapsed texts."""
    a, b = " ".join(source.split()), " ".join(extracted.split())
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def fold_forms(text: str) -> str:
    """Presentation forms (Arabic letter shapes, Latin ligatures) folded by NFKC."""
    return _PRESENTATION_FORMS.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


def measure(data: bytes, lang: str, source: str, extract: Extractor, repeat: int) -> dict:
    """Similarity of one extraction to the source and its median time over `repeat` runs."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        text = extract(data, lang)
        times.append((time.perf_counter() - started) * 1000)
    return {
        "similarity": similarity(source, text),
        "similarity_nfkc": similarity(source, fold_forms(text)),
        "ms": statistics.median(times),
    }


def summarise(rows: list[dict]) -> list[dict]:
    """Mean and minimum similarity and mean time per language and library."""
    out = []
    for lang in dict.fromkeys(row["lang"] for row in rows):
        for library in [*EXTRACTORS, *TWO_COLUMN_EXTRACTORS]:
            group = [r for r in rows if r["lang"] == lang and r["library"] == library]
            out.append(
                {
                    "lang": lang,
                    "library": library,
                    "documents": len(group),
                    "similarity": statistics.mean(r["similarity"] for r in group),
                    "similarity_min": min(r["similarity"] for r in group),
                    "similarity_nfkc": statistics.mean(r["similarity_nfkc"] for r in group),
                    "ms": statistics.mean(r["ms"] for r in group),
                }
            )
    return out


def table(summary: list[dict]) -> str:
    """The summary as a markdown table."""
    lines = [
        "| lang | library | docs | similarity (mean) | similarity (min) | after NFKC | ms |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {s['lang']} | {s['library']} | {s['documents']} | {s['similarity']:.4f} "
        f"| {s['similarity_min']:.4f} | {s['similarity_nfkc']:.4f} | {s['ms']:.0f} |"
        for s in summary
    ]
    return "\n".join(lines)


def main() -> None:
    """Print the seeds to PDF, extract them with each library, print and write the results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per extraction")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="sanad-pdf-text-") as tmp:
        for name, lang, text in seed_articles():
            lines = source_lines(text)
            pdf = print_pdf(article_html(text, lang, lines[0]), Path(tmp) / f"{name}.pdf")
            data = pdf.read_bytes()
            for library, extract in EXTRACTORS.items():
                result = measure(data, lang, " ".join(lines), extract, args.repeat)
                rows.append({"document": name, "lang": lang, "library": library, **result})
            columns = article_html(text, lang, lines[0], columns=2)
            data = print_pdf(columns, Path(tmp) / f"{name}-columns.pdf").read_bytes()
            for library, extract in TWO_COLUMN_EXTRACTORS.items():
                result = measure(data, lang, " ".join(lines), extract, args.repeat)
                rows.append({"document": name, "lang": lang, "library": library, **result})
    summary = summarise(rows)
    chromium = subprocess.run(
        [str(CHROMIUM), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    result = {
        "summary": summary,
        "documents": rows,
        "chromium": chromium,
        "versions": {name: version(name) for name in ("pypdf", "pdfplumber", "pypdfium2")},
        "repeat": args.repeat,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "pdf_text.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(table(summary))


if __name__ == "__main__":
    main()
