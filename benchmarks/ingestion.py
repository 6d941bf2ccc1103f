"""Ingestion per input format: documents/s, and extraction time against embedding time.

Usage: python -m benchmarks.ingestion [--limit N] [--formats txt,html,pdf,docx,feed]
       [--eval-dir ../shared/eval] [--out benchmarks/results]

Documents: the 48 whole XQuAD articles in English and in Arabic (96; the headline is the
article's English title in both) and the 5 seed articles (id, en, ar; the headline is the line
`title_of` picks, the other lines are the paragraphs). `--limit N` keeps the first N of each
language group, seeds first. Every document is rendered into every format before anything is
timed: .txt (headline, then paragraphs), .html (a news page: nav, share bar, the article in
<article> with <h1> and <p>s, comments, footer, og:site_name and article:published_time),
.pdf (chromium's print of benchmarks.pdf_pages.article_html), .docx (python-docx: heading and
paragraphs, dated) and one RSS 2.0 file whose dated items carry the article's HTML (<h1> and
<p>s) in <content:encoded>, so no item is fetched.

Per format, with one loaded embedder (the shipped settings) and a fresh data directory:
- extraction: every file (feed: the feed file, then each item) read into a Document, the way
  the pipeline reads it (the reader, then to_document: dates, language detection);
- pipeline: the Library's ingest, which reads again, chunks, embeds and writes to Chroma;
  embedding is the time spent in Embedder.embed_passages, and chunking + Chroma is what is
  left after embedding and extraction;
- similarity (html, pdf, feed): difflib's character ratio between the extracted text and the
  source text (headline and paragraphs), whitespace-collapsed, mean per language group.
Each format first reads and ingests a one-article rendering into another store, untimed
(first-call costs of its reader, the chunker, Chroma and the model).
Prints a table and writes benchmarks/results/ingestion.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import format_datetime
from html import escape
from importlib.metadata import version
from pathlib import Path
from unittest.mock import patch

import docx
import numpy as np

from assistant.config import Settings
from assistant.engine import Engine
from assistant.evaluation import DEFAULT_EVAL_DIR, read_jsonl
from benchmarks.common import key_of
from benchmarks.pdf_pages import RTL, article_html, print_pdf, seed_articles, source_lines
from benchmarks.pdf_text import similarity
from index.documents import Document, title_of, to_document
from index.embedding import Embedder
from index.feeds import item_document, load_feed
from index.library import IngestOptions, Library
from index.pipeline import IngestReport, file_inputs

SITE = "The Daily Chronicle"
SITE_URL = "https://news.example"
SECTIONS = ("Home", "World", "Business", "Technology", "Sport", "Opinion")
SHARE_BAR = (
    '<div class="share-bar"><a href="#">Share on Facebook</a> <a href="#">Share on X</a> '
    '<a href="#">WhatsApp</a> <a href="#">Copy link</a></div>'
)
COMMENTS = (
    '<section class="comments"><h2>Comments (2)</h2>'
    '<div class="comment"><p class="who">reader_42 - 3 hours ago</p>'
    "<p>Thanks for the report, I had not read about this anywhere else.</p></div>"
    '<div class="comment"><p class="who">Maya K. - 1 hour ago</p>'
    "<p>Would be good to see a follow-up on this story.</p></div>"
    '<form><textarea placeholder="Write a comment"></textarea><button>Post</button></form>'
    "</section>"
)
FOOTER = (
    '<footer><nav><a href="/about">About us</a> <a href="/contact">Contact</a> '
    '<a href="/privacy">Privacy policy</a></nav>'
    f"<p>&copy; 2024 {SITE}. All rights reserved.</p></footer>"
)
FIRST_DATE = dt.datetime(2024, 1, 1, 8, tzinfo=dt.UTC)
SIMILARITY_FORMATS = ("html", "pdf", "feed")
LANGS = ("ar", "en", "id")


@dataclass(frozen=True)
class Article:
    """One source document, as every format renders it."""

    name: str
    lang: str
    title: str
    paragraphs: tuple[str, ...]
    published: dt.datetime

    @property
    def text(self) -> str:
        """The headline and the paragraphs, a blank line apart (the .txt file)."""
        return "\n\n".join([self.title, *self.paragraphs])


def load_articles(eval_dir: Path, limit: int | None) -> list[Article]:
    """The seeds, then XQuAD's articles in English and Arabic; `limit` per language group."""
    found = []
    for name, lang, text in seed_articles():
        title = title_of(text)
        found.append((f"seed-{name}", lang, title, [p for p in source_lines(text) if p != title]))
    for i, row in enumerate(read_jsonl(eval_dir / "xquad" / "xquad_articles_ar_en.jsonl")):
        title = row["title"].replace("_", " ")
        for lang in ("en", "ar"):
            paragraphs = source_lines("\n".join(row[f"paragraphs_{lang}"]))
            found.append((f"xquad-{i:02d}-{lang}", lang, title, paragraphs))
    taken: Counter[str] = Counter()
    articles: list[Article] = []
    for name, lang, title, paragraphs in found:
        taken[lang] += 1
        if limit is None or taken[lang] <= limit:
            published = FIRST_DATE + dt.timedelta(days=len(articles))
            articles.append(Article(name, lang, title, tuple(paragraphs), published))
    return articles


# --- rendering (setup, not timed) ---------------------------------------------------------
def article_markup(article: Article, share_bar: str = "") -> str:
    """The article as a news site marks it up: <article>, its <h1>, one <p> per paragraph."""
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in article.paragraphs)
    return f"<article><h1>{escape(article.title)}</h1>{share_bar}{paragraphs}</article>"


def news_page(article: Article) -> str:
    """A news site's page around the article: nav, share bar, comments, footer, metadata."""
    direction = "rtl" if article.lang in RTL else "ltr"
    nav = " ".join(f'<a href="/{s.lower()}">{s}</a>' for s in SECTIONS)
    return (
        f'<!doctype html><html lang="{article.lang}" dir="{direction}"><head>'
        f'<meta charset="utf-8"><title>{escape(article.title)} | {SITE}</title>'
        f'<meta property="og:site_name" content="{SITE}">'
        f'<meta property="article:published_time" content="{article.published.isoformat()}">'
        f'</head><body><header><a class="logo" href="/">{SITE}</a><nav>{nav}</nav></header>'
        f"<main>{article_markup(article, SHARE_BAR)}{COMMENTS}</main>{FOOTER}</body></html>"
    )


def write_txt(article: Article, path: Path) -> None:
    """The article as plain text."""
    path.write_text(article.text, encoding="utf-8")


def write_html(article: Article, path: Path) -> None:
    """The article as a news page."""
    path.write_text(news_page(article), encoding="utf-8")


def write_pdf(article: Article, path: Path) -> None:
    """The article printed to PDF by headless chromium."""
    print_pdf(article_html(article.text, article.lang, article.title), path)


def write_docx(article: Article, path: Path) -> None:
    """The article as a Word document: a heading, then its paragraphs."""
    document = docx.Document()
    document.core_properties.created = article.published
    document.add_heading(article.title, level=1)
    for paragraph in article.paragraphs:
        document.add_paragraph(paragraph)
    document.save(str(path))


def item_link(article: Article) -> str:
    """The article's address in the feed."""
    return f"{SITE_URL}/articles/{article.name}"


def write_feed(articles: list[Article], folder: Path) -> Path:
    """One RSS 2.0 file whose items carry the whole article in <content:encoded>."""
    items = "".join(
        f"<item><title>{escape(a.title)}</title><link>{item_link(a)}</link>"
        f"<guid>{item_link(a)}</guid><pubDate>{format_datetime(a.published)}</pubDate>"
        f"<description>{escape(a.paragraphs[0][:200])}</description>"
        f"<content:encoded><![CDATA[{article_markup(a)}]]></content:encoded></item>"
        for a in articles
    )
    path = folder / "news.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>{SITE}</title><link>{SITE_URL}/</link><description>Latest news</description>"
        f"{items}</channel></rss>",
        encoding="utf-8",
    )
    return path


# --- formats: how each is written, read into Documents and ingested -----------------------
@dataclass(frozen=True)
class Format:
    """Write articles into a folder (returns what to ingest), read it, ingest it."""

    write: Callable[[list[Article], Path], Path]
    extract: Callable[[Path, IngestOptions], list[Document]]
    ingest: Callable[[Library, Path], IngestReport]


def extract_files(folder: Path, options: IngestOptions) -> list[Document]:
    """Every file in the folder read into a Document, as the pipeline reads it."""
    return [item.read() for item in file_inputs([folder], options.max_bytes)]


def extract_feed(path: Path, options: IngestOptions) -> list[Document]:
    """The feed file parsed, then each item's article read into a Document."""
    feed = load_feed(str(path), options.web)
    return [
        to_document(
            item_document(item, feed, options.web),
            item.key,
            item.link,
        )
        for item in feed.items
    ]


def ingest_files(library: Library, folder: Path) -> IngestReport:
    """The folder ingested by the Library."""
    return library.ingest_paths([folder], progress=False)


def ingest_feed(library: Library, path: Path) -> IngestReport:
    """The feed file's items ingested by the Library."""
    return library.ingest_feeds([str(path)], progress=False)


def file_format(suffix: str, write_one: Callable[[Article, Path], None]) -> Format:
    """A format with one file per article."""

    def write(articles: list[Article], folder: Path) -> Path:
        for article in articles:
            write_one(article, folder / f"{article.name}.{suffix}")
        return folder

    return Format(write, extract_files, ingest_files)


FORMATS = {
    "txt": file_format("txt", write_txt),
    "html": file_format("html", write_html),
    "pdf": file_format("pdf", write_pdf),
    "docx": file_format("docx", write_docx),
    "feed": Format(write_feed, extract_feed, ingest_feed),
}


# --- measuring ----------------------------------------------------------------------------
@contextmanager
def timed_embedding(embedder: Embedder) -> Iterator[list[float]]:
    """While open, the seconds spent in embedder.embed_passages add up in the list's item."""
    spent = [0.0]
    embed = embedder.embed_passages

    def timed(texts: list[str], progress: bool = False) -> np.ndarray:
        started = time.perf_counter()
        try:
            return embed(texts, progress)
        finally:
            spent[0] += time.perf_counter() - started

    with patch.object(embedder, "embed_passages", timed):
        yield spent


def similarities(articles: list[Article], docs: list[Document]) -> dict[str, float]:
    """Mean similarity of each extracted text to its source text, per language group."""
    by_name = {a.name: a for a in articles}
    scores: dict[str, list[float]] = {}
    for doc in docs:
        source = by_name[key_of(doc.origin.source)]
        scores.setdefault(source.lang, []).append(similarity(source.text, doc.text))
    return {lang: statistics.mean(scores[lang]) for lang in LANGS if lang in scores}


def fresh_library(settings: Settings, embedder: Embedder, data_dir: Path) -> Library:
    """The Library of a new embedded store in `data_dir`, sharing the loaded model."""
    update = {"data_dir": data_dir, "chroma_url": ""}
    return Engine(settings.model_copy(update=update), embedder=embedder).library


def warm_up(fmt: Format, target: Path, library: Library) -> None:
    """Read and ingest a small rendering: first-call costs of reader, chunker, Chroma, model."""
    fmt.extract(target, library.options)
    fmt.ingest(library, target)


def measure(name: str, target: Path, articles: list[Article], library: Library) -> dict:
    """Time the extraction and the full ingestion of one format's rendered articles."""
    fmt = FORMATS[name]
    started = time.perf_counter()
    docs = fmt.extract(target, library.options)
    extraction_s = time.perf_counter() - started
    with timed_embedding(library.embedder) as embedding:
        report = fmt.ingest(library, target)
    embedding_s = embedding[0]
    return {
        "format": name,
        "documents": len(report.added),
        "skipped": report.skipped,
        "chunks": report.chunks_embedded,
        "tokens": report.tokens_embedded,
        "extraction_s": extraction_s,
        "extraction_docs_per_s": len(docs) / extraction_s,
        "pages": sum(d.origin.pages.count for d in docs),
        "extraction_pages_per_s": sum(d.origin.pages.count for d in docs) / extraction_s,
        "embedding_s": embedding_s,
        "chunking_chroma_s": report.seconds - embedding_s - extraction_s,
        "pipeline_s": report.seconds,
        "docs_per_s": len(report.added) / report.seconds,
        "extraction_share_pct": 100 * extraction_s / report.seconds,
        "similarity": similarities(articles, docs) if name in SIMILARITY_FORMATS else {},
    }


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (else the platform's processor string)."""
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def machine(embedder: Embedder) -> dict:
    """The CPU, and what runs the embedding model in which number format."""
    runtimes = ["torch"] + (["openvino"] if embedder.runtime == "openvino" else [])
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "runtime": embedder.runtime,
        "dtype": embedder.dtype,
        "versions": {package: version(package) for package in runtimes},
    }


def table(result: dict) -> str:
    """The machine line and one Markdown row per format."""
    m = result["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    lines = [
        f"CPU: {m['cpu']} ({m['cores']} cores); embedder: {m['dtype']} on {m['runtime']} "
        f"({versions}); {result['settings']['chunk_tokens']}-token chunks",
        "",
        "| format | documents | chunks | extraction s | extraction docs/s | pages/s | embedding s "
        "| chunking + Chroma s | pipeline s | docs/s end to end | extraction % of pipeline "
        "| similarity ar / en / id |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in result["formats"]:
        skipped = f" ({len(r['skipped'])} skipped)" if r["skipped"] else ""
        pages_per_s = f"{r['extraction_pages_per_s']:.1f}" if r.get("pages") else "-"
        similar = " / ".join(
            f"{r['similarity'][lang]:.3f}" if lang in r["similarity"] else "-" for lang in LANGS
        )
        lines.append(
            f"| {r['format']} | {r['documents']}{skipped} | {r['chunks']} "
            f"| {r['extraction_s']:.2f} | {r['extraction_docs_per_s']:.1f} "
            f"| {pages_per_s} "
            f"| {r['embedding_s']:.2f} | {r['chunking_chroma_s']:.2f} | {r['pipeline_s']:.2f} "
            f"| {r['docs_per_s']:.2f} | {r['extraction_share_pct']:.1f} "
            f"| {similar if r['similarity'] else '-'} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Render the articles in every format, measure each format, print and write the results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--limit", type=int, default=None, help="documents per language group")
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    names = args.formats.split(",")
    unknown = set(names) - set(FORMATS)
    if unknown:
        parser.error(f"unknown formats: {', '.join(sorted(unknown))}")
    articles = load_articles(args.eval_dir, args.limit)
    settings = Settings()
    embedder = Engine(settings).embedder
    rows = []
    with tempfile.TemporaryDirectory(prefix="sanad-ingestion-") as tmp:
        work = Path(tmp)
        targets = {}
        for name in names:  # all rendering first: no chromium still running while timing
            for part, written in (("files", articles), ("warm-up", articles[:1])):
                (work / name / part).mkdir(parents=True)
                targets[name, part] = FORMATS[name].write(written, work / name / part)
        for name in names:
            warm = fresh_library(settings, embedder, work / name / "warm-up-data")
            warm_up(FORMATS[name], targets[name, "warm-up"], warm)
            library = fresh_library(settings, embedder, work / name / "data")
            rows.append(measure(name, targets[name, "files"], articles, library))
            print(json.dumps(rows[-1]), flush=True)
    result = {
        "machine": machine(embedder),
        "settings": {
            "chunk_tokens": settings.chunk_tokens,
            "chunker": settings.chunker,
            "embed_batch_size": settings.embed_batch_size,
            "ingest_batch_chunks": settings.ingest_batch_chunks,
        },
        "limit": args.limit,
        "languages": dict(Counter(a.lang for a in articles)),
        "formats": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ingestion.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(table(result))


if __name__ == "__main__":
    main()
