"""PDFs printed by headless chromium from simple article pages (for the PDF benchmark and tests)."""

from __future__ import annotations

import html
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# headless chromium that works on these machines (no sandbox, GPU or network chatter)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
PRINT_ARGS = [*CHROMIUM_ARGS, "--no-pdf-header-footer"]
RTL = {"ar"}
SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_LANGS = {"000": "id", "001": "en", "002": "ar", "003": "ar", "004": "ar"}


def seed_articles(seeds: Path = SEEDS) -> list[tuple[str, str, str]]:
    """(file stem, language, text) of each seed article, in file order."""
    return [
        (path.stem, SEED_LANGS[path.name[:3]], path.read_text(encoding="utf-8"))
        for path in sorted(seeds.glob("*.txt"))
        if path.name[:3] in SEED_LANGS
    ]


def source_lines(text: str) -> list[str]:
    """The non-empty lines of a text, whitespace collapsed: what a printed page shows."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return [line for line in lines if line]


def article_html(
    text: str, lang: str, title: str = "", page_breaks: bool = False, columns: int = 1
) -> str:
    """A page with one escaped <p> per non-empty line; `page_breaks` starts each on a new page,
    `columns` sets the text in that many columns (CSS columns; right to left in Arabic)."""
    direction = "rtl" if lang in RTL else "ltr"
    style = "<style>p { break-before: page; }</style>" if page_breaks else ""
    if columns > 1:
        style += f"<style>body {{ columns: {columns}; column-gap: 2.5em; }}</style>"
    body = "".join(f"<p>{html.escape(line)}</p>" for line in source_lines(text))
    return (
        f"<!doctype html><html lang={lang} dir={direction}><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title>{style}<body>{body}</body></html>"
    )


def print_pdf(markup: str, out: Path, chromium: Path = CHROMIUM) -> Path:
    """Print `markup` to the PDF file `out` with headless chromium; returns `out`."""
    out = out.resolve()
    with tempfile.TemporaryDirectory(prefix="sanad-pdf-") as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(markup, encoding="utf-8")
        subprocess.run(
            [
                str(chromium),
                *PRINT_ARGS,
                f"--user-data-dir={tmp}/profile",
                f"--print-to-pdf={out}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    if not out.is_file() or out.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no PDF to {out}")
    return out
