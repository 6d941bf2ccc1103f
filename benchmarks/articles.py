"""Answers on whole articles in two languages: XQuAD's 48 articles as one mixed corpus.

Usage: python -m benchmarks.articles [--eval-dir ../shared/eval]

Article i (file order of xquad_articles_ar_en.jsonl) is one document: its Arabic paragraphs
when i is even, its English ones when i is odd, joined by a blank line. The 300 XQuAD
questions are asked in English and in Arabic (600), each mapped to its article and paragraph
by its context. Unanswerable sets come from further indexes built the same way, so that every
question is asked once in each:
- article withheld: six indexes, each without one sixth of the articles (consecutive blocks,
  so each holds both languages); the questions of the withheld articles are asked;
- paragraph withheld: five indexes; index k drops paragraph k of every article; the questions
  of paragraph k are asked, except those whose answer string still occurs in that corpus.
Every answer is composed once with abstention off and its evidence probability recorded, so
abstention at any threshold follows without asking again; the table is at the shipped one.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from assistant.answering import ExtractiveAnswerer
from assistant.citations import Answer
from assistant.config import Settings
from assistant.engine import Engine
from assistant.evaluation import DEFAULT_EVAL_DIR, read_jsonl
from benchmarks.common import contains_answer, key_of
from index.embedding import Embedder

THRESHOLDS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7)
SETS = ("answerable", "article withheld", "paragraph withheld")
ARTICLE_FOLDS = 6


def articles_per_fold(n_articles: int) -> int:
    """How many consecutive articles each of the ARTICLE_FOLDS folds holds (the last fewer)."""
    return -(-n_articles // ARTICLE_FOLDS)


@dataclass(frozen=True)
class ArticleQuestion:
    """A question in one language, with the article and paragraph that answer it."""

    qid: str
    text: str
    lang: str
    article: int
    paragraph: int
    answers: tuple[str, ...]  # gold answer strings in both languages

    @property
    def group(self) -> str:
        """Question language and whether its article is in the same language."""
        return f"{self.lang}-{'same' if article_lang(self.article) == self.lang else 'cross'}"


@dataclass
class Corpus:
    """The documents of one index: key -> text, and the span of each kept paragraph."""

    texts: dict[str, str] = field(default_factory=dict)
    spans: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)


@dataclass
class Outcome:
    """One question asked against one index, with abstention off."""

    question: ArticleQuestion
    kind: str
    evidence: float
    first_in_article: bool
    overlaps_paragraph: bool
    contains_gold: bool
    features: np.ndarray  # candidate sentences x FEATURES
    labels: np.ndarray  # 1 where the sentence is in the gold paragraph and holds an answer


def article_lang(i: int) -> str:
    """The language article i is indexed in."""
    return "ar" if i % 2 == 0 else "en"


def article_key(i: int) -> str:
    """The document key (file stem) of article i."""
    return f"article-{i:02d}"


def load(eval_dir: Path) -> tuple[list[dict], list[ArticleQuestion]]:
    """The 48 articles and the 600 questions mapped to (article, paragraph)."""
    articles = read_jsonl(eval_dir / "xquad" / "xquad_articles_ar_en.jsonl")
    where = {
        text: (i, k)
        for i, art in enumerate(articles)
        for lang in ("en", "ar")
        for k, text in enumerate(art[f"paragraphs_{lang}"])
    }
    questions = []
    for row in read_jsonl(eval_dir / "xquad" / "xquad_parallel_ar_en.jsonl"):
        i, k = where.get(row["context_en"]) or where[row["context_ar"]]
        answers = tuple(row["answers_en"]) + tuple(row["answers_ar"])
        for lang in ("en", "ar"):
            questions.append(
                ArticleQuestion(f"{row['id']}-{lang}", row[f"question_{lang}"], lang, i, k, answers)
            )
    return articles, questions


def build_corpus(
    articles: list[dict], withheld: Iterable[int] = (), drop_paragraph: int | None = None
) -> Corpus:
    """Each kept article as one text, in its language, without the dropped paragraph."""
    corpus = Corpus()
    skip = set(withheld)
    for i, art in enumerate(articles):
        if i in skip:
            continue
        parts, offset = [], 0
        for k, paragraph in enumerate(art[f"paragraphs_{article_lang(i)}"]):
            if k == drop_paragraph:
                continue
            if parts:
                offset += 2
            corpus.spans[(i, k)] = (offset, offset + len(paragraph))
            parts.append(paragraph)
            offset += len(paragraph)
        corpus.texts[article_key(i)] = "\n\n".join(parts)
    return corpus


def index_corpus(corpus: Corpus, embedder: Embedder, workdir: Path, settings: Settings) -> Engine:
    """An engine over a fresh embedded store holding the corpus."""
    folder = workdir / "corpus"
    folder.mkdir(parents=True)
    for key, text in corpus.texts.items():
        (folder / f"{key}.txt").write_text(text, encoding="utf-8")
    engine = Engine(
        settings.model_copy(update={"data_dir": workdir / "data", "collection": "articles"}),
        embedder=embedder,
    )
    engine.ingest([folder], progress=False)
    return engine


def ask(
    engine: Engine, corpus: Corpus, questions: list[ArticleQuestion], kind: str
) -> list[Outcome]:
    """Ask each question with abstention off; record the answer's figures and features."""
    # Abstention off, but further lines still need the shipped evidence each (as in the product).
    answerer = ExtractiveAnswerer(
        engine.embedder, min_score=0.0, line_min=engine.settings.min_evidence
    )
    out = []
    for q in questions:
        query = engine.retriever.query(q.text)
        hits = engine.retriever.search(query, engine.settings.top_k)
        sentences = answerer.scorer.candidates(query, hits)
        answer = answerer.answer(query, hits, engine.retriever.related(query))
        gold = corpus.spans.get((q.article, q.paragraph)) if kind == "answerable" else None
        labels = [
            gold is not None
            and key_of(s.chunk.origin.source) == article_key(q.article)
            and _overlaps(s.chunk.start + s.start, s.chunk.start + s.end, gold)
            and contains_answer(s.text, q.answers)
            for s in sentences
        ]
        out.append(
            Outcome(
                question=q,
                kind=kind,
                evidence=answer.evidence or 0.0,
                first_in_article=bool(answer.citations)
                and key_of(answer.citations[0].source) == article_key(q.article),
                overlaps_paragraph=_cites_span(answer, article_key(q.article), gold),
                contains_gold=answer.grounded and contains_answer(answer.text, q.answers),
                features=np.array([s.features for s in sentences]).reshape(len(sentences), -1),
                labels=np.array(labels, dtype=bool),
            )
        )
    return out


def _overlaps(start: int, end: int, span: tuple[int, int]) -> bool:
    return start < span[1] and span[0] < end


def _cites_span(answer: Answer, key: str, span: tuple[int, int] | None) -> bool:
    """Whether some citation of the answer overlaps the span of the document `key`."""
    return span is not None and any(
        key_of(c.source) == key and _overlaps(c.start, c.end, span) for c in answer.citations
    )


def collect(eval_dir: Path, settings: Settings, embedder: Embedder) -> list[Outcome]:
    """Build the twelve indexes and ask every question of every set."""
    articles, questions = load(eval_dir)
    plans: list[tuple[str, Corpus, list[ArticleQuestion]]] = [
        ("answerable", build_corpus(articles), questions)
    ]
    block = articles_per_fold(len(articles))
    for f in range(ARTICLE_FOLDS):
        withheld = set(range(f * block, min((f + 1) * block, len(articles))))
        asked = [q for q in questions if q.article in withheld]
        plans.append(("article withheld", build_corpus(articles, withheld), asked))
    for k in range(max(len(a["paragraphs_en"]) for a in articles)):
        corpus = build_corpus(articles, drop_paragraph=k)
        everything = "\n".join(corpus.texts.values())
        asked = [
            q for q in questions if q.paragraph == k and not contains_answer(everything, q.answers)
        ]
        if asked:
            plans.append(("paragraph withheld", corpus, asked))
    outcomes: list[Outcome] = []
    for kind, corpus, asked in tqdm(plans, desc="indexes", unit="index"):
        with tempfile.TemporaryDirectory() as tmp:
            engine = index_corpus(corpus, embedder, Path(tmp), settings)
            outcomes += ask(engine, corpus, asked, kind)
    return outcomes


def summarise(outcomes: list[Outcome], threshold: float) -> dict:
    """Per group figures at a threshold, and the trade-off over THRESHOLDS."""
    groups = ("en-same", "en-cross", "ar-same", "ar-cross", "all")

    def pick(kind: str, group: str) -> list[Outcome]:
        return [o for o in outcomes if o.kind == kind and group in ("all", o.question.group)]

    def pct(values: list[bool]) -> float:
        return float(np.mean(values) * 100) if values else float("nan")

    rows: dict[str, dict[str, float]] = {}
    for group in groups:
        ans = pick("answerable", group)
        rows[group] = {
            "questions": len(ans),
            "first citation in the gold article (abstention off)": pct(
                [o.first_in_article for o in ans]
            ),
            "some citation overlaps the gold paragraph (abstention off)": pct(
                [o.overlaps_paragraph for o in ans]
            ),
            "answer contains a gold answer": pct(
                [o.contains_gold and o.evidence >= threshold for o in ans]
            ),
            "abstained (answerable)": pct([o.evidence < threshold for o in ans]),
            "contains a gold answer, abstention off": pct([o.contains_gold for o in ans]),
        }
        for kind in SETS[1:]:
            asked = pick(kind, group)
            rows[group][f"abstained ({kind})"] = pct([o.evidence < threshold for o in asked])
            rows[group][f"questions ({kind})"] = len(asked)
    curve = [
        {
            "threshold": t,
            **{
                f"abstained ({kind}) %": pct([o.evidence < t for o in pick(kind, "all")])
                for kind in SETS
            },
            "contains a gold answer %": pct(
                [o.contains_gold and o.evidence >= t for o in pick("answerable", "all")]
            ),
        }
        for t in sorted({*THRESHOLDS, threshold})
    ]
    return {"threshold": threshold, "groups": rows, "trade_off": curve}


def table(result: dict) -> str:
    """Markdown: groups as columns, then the trade-off curve."""
    groups = list(result["groups"])
    names = [n for n in result["groups"]["all"] if not n.startswith("questions")]
    lines = [
        "| answers (%) | " + " | ".join(groups) + " |",
        "| --- |" + " --- |" * len(groups),
        "| questions (answerable / article withheld / paragraph withheld) | "
        + " | ".join(
            f"{int(r['questions'])} / {int(r['questions (article withheld)'])} / "
            f"{int(r['questions (paragraph withheld)'])}"
            for r in result["groups"].values()
        )
        + " |",
    ]
    for name in names:
        lines.append(
            f"| {name} | " + " | ".join(f"{result['groups'][g][name]:.1f}" for g in groups) + " |"
        )
    lines += [
        "",
        f"Trade-off over the evidence threshold (shipped: {result['threshold']:.3f}):",
        "",
        "| threshold | false abstention (answerable) % | abstained, article withheld % "
        "| abstained, paragraph withheld % | contains a gold answer % |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in result["trade_off"]:
        lines.append(
            f"| {row['threshold']:.3f} | {row['abstained (answerable) %']:.1f} "
            f"| {row['abstained (article withheld) %']:.1f} "
            f"| {row['abstained (paragraph withheld) %']:.1f} "
            f"| {row['contains a gold answer %']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Run the benchmark, print the tables, write benchmarks/results/articles.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    settings = Settings()
    engine = Engine(settings)
    outcomes = collect(args.eval_dir, settings, engine.embedder)
    result = summarise(outcomes, settings.min_evidence)
    result["chunk_tokens"] = settings.chunk_tokens
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "articles.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(table(result))


if __name__ == "__main__":
    main()
