"""Corroboration on a parallel corpus: does every extra marker point to a passage saying the same?

Usage: python -m benchmarks.corroboration [--eval-dir ../shared/eval] [--write]

XQuAD's 48 whole articles are indexed in both languages (96 documents, paragraphs joined by a
blank line): paragraph k of an article's Arabic document is the translation of paragraph k of
its English one. The 300 XQuAD questions are asked in English and in Arabic. Per question
language:
- first line contains a gold answer (either language's string);
- first line quoted in the asker's language;
- precision of extra markers: an extra marker on a line is right when it lies in the
  parallel paragraph of the line's quote (same article, other language, same paragraph);
- recall: the first line's parallel paragraph is cited on the first line;
- answers with a line that repeats another in translation (the parallel paragraph, at the
  same relative place in it);
- en/ar consistency: both asks of a question quote the same paragraph pair first;
- abstained.
The pair model (assistant/corroboration.py) is fitted here: questions fall into six folds by
article, and each fold's answers are composed with a model fitted on the other folds, so the
figures are held out. --write fits on every fold and writes assistant/corroboration_model.json.
The evidence model learns from these asks too (benchmarks.fit_evidence): each fold's answers
are chosen by the evidence model fitted without that fold, which fit_evidence --write leaves
in benchmarks/results/evidence_folds.json (without it, the shipped model, and the table says
so).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from assistant.answering import ExtractiveAnswerer
from assistant.citations import MARKER, Answer
from assistant.config import Settings
from assistant.corroboration import MODEL_FILE, PAIR_FEATURES, Corroborator, pair_rows
from assistant.engine import Engine
from assistant.evaluation import DEFAULT_EVAL_DIR
from assistant.evidence import Candidate, EvidenceModel, EvidenceScorer, LogisticModel
from assistant.query import Query
from assistant.retrieval import Retriever, ScoredChunk
from benchmarks.articles import ARTICLE_FOLDS, ArticleQuestion, articles_per_fold, load
from benchmarks.common import contains_answer, key_of
from benchmarks.fitting import fit_logistic

LANGS = ("en", "ar")
THRESHOLD = 0.85  # probability at which a pair counts as saying the same thing
FOLD_MODELS = Path(__file__).parent / "results" / "evidence_folds.json"

Place = tuple[int, str, int]  # article, language, paragraph


@dataclass
class Ask:
    """One question asked of the parallel index, with its scored sentences."""

    question: ArticleQuestion
    query: Query
    passages: list[ScoredChunk]
    sentences: list[Candidate]
    fold: int  # the question's article fold (as in benchmarks.articles)


class Parallel:
    """The 96 documents and where each paragraph lies in them."""

    def __init__(self, articles: list[dict]) -> None:
        self.texts: dict[str, str] = {}
        self.spans: dict[str, list[tuple[int, int]]] = {}
        for i, art in enumerate(articles):
            for lang in LANGS:
                offset, spans = 0, []
                for paragraph in art[f"paragraphs_{lang}"]:
                    spans.append((offset, offset + len(paragraph)))
                    offset += len(paragraph) + 2
                key = f"article-{i:02d}-{lang}"
                self.texts[key] = "\n\n".join(art[f"paragraphs_{lang}"])
                self.spans[key] = spans

    def place(self, source: str, start: int, end: int) -> tuple[Place, float]:
        """The paragraph holding a document span, and the span's relative middle in it."""
        key = key_of(source)
        article, lang = int(key.split("-")[1]), key.split("-")[2]
        middle = (start + end) / 2
        for k, (a, b) in enumerate(self.spans[key]):
            if a <= middle <= b + 2:
                return (article, lang, k), (middle - a) / max(b - a, 1)
        return (article, lang, -1), 0.0


def parallel(a: Place, b: Place) -> bool:
    """Whether two paragraphs are translations of each other."""
    return a[0] == b[0] and a[1] != b[1] and a[2] == b[2] and a[2] >= 0


def collect(
    eval_dir: Path, settings: Settings, engine: Engine, scorer: EvidenceScorer
) -> tuple[Parallel, list[Ask]]:
    """Index the 96 documents and score the sentences for all 600 asks."""
    articles, questions = load(eval_dir)
    corpus = Parallel(articles)
    folder = Path(engine.settings.data_dir).parent / "corpus"
    folder.mkdir(parents=True)
    for key, text in corpus.texts.items():
        (folder / f"{key}.txt").write_text(text, encoding="utf-8")
    engine.ingest([folder], progress=True)
    block = articles_per_fold(len(articles))
    asks = []
    for q in tqdm(questions, desc="asks", unit="question"):
        query = engine.retriever.query(q.text)
        hits = engine.retriever.search(query, settings.top_k)
        sentences = scorer.candidates(query, hits) if hits else []
        asks.append(Ask(q, query, hits, sentences, q.article // block))
    return corpus, asks


def where(corpus: Parallel, s: Candidate) -> tuple[Place, float]:
    """Paragraph and relative place of a candidate sentence."""
    return corpus.place(s.chunk.origin.source, s.chunk.start + s.start, s.chunk.start + s.end)


def pair_data(corpus: Parallel, ask: Ask) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pair features and labels of one ask's candidates; weight 0 for unsure pairs.

    Positive: the pair lies in parallel paragraphs and each is the other's closest sentence
    there. Pairs in parallel paragraphs that are not mutually closest are left out (a
    sentence may be translated as two); every other pair is negative.
    """
    if len(ask.sentences) < 2:
        empty = np.zeros((0, len(PAIR_FEATURES)))
        return empty, np.zeros(0), np.zeros(0)
    rows, pairs = pair_rows(ask.sentences)
    places = [where(corpus, s)[0] for s in ask.sentences]
    vectors = np.vstack([s.centred for s in ask.sentences])
    cosine = vectors @ vectors.T
    labels, weights = [], []
    for i, j in pairs:
        if not parallel(places[i], places[j]):
            labels.append(0.0)
            weights.append(1.0)
            continue
        in_j = [m for m, p in enumerate(places) if p == places[j]]
        in_i = [m for m, p in enumerate(places) if p == places[i]]
        mutual = (
            max(in_j, key=lambda m: cosine[i, m]) == j
            and max(in_i, key=lambda m: cosine[j, m]) == i
        )
        labels.append(float(mutual))
        weights.append(float(mutual))
    return rows, np.array(labels), np.array(weights)


def fit_pairs(data: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> LogisticModel:
    """The pair model on the given asks' pairs (classes weighing the same in total)."""
    x = np.vstack([d[0] for d in data])
    y = np.concatenate([d[1] for d in data])
    w = np.concatenate([d[2] for d in data])
    keep = w > 0
    x, y = x[keep], y[keep]
    w = np.where(y == 1, 0.5 / max(y.sum(), 1), 0.5 / max((1 - y).sum(), 1)) * len(y)
    return fit_logistic(x, y, w, PAIR_FEATURES)


@dataclass
class Lines:
    """An answer's lines: per line, the places of its quote and of its extra markers."""

    quotes: list[str]
    places: list[list[tuple[Place, float]]]
    langs: list[list[str]]


def lines_of(corpus: Parallel, answer: Answer) -> Lines:
    """Split an answer into lines and locate each citation."""
    by_n = {c.n: c for c in answer.citations}
    out = Lines([], [], [])
    for line in answer.text.splitlines():
        cites = [by_n[int(n)] for n in MARKER.findall(line) if int(n) in by_n]
        if not cites:
            continue
        out.quotes.append(cites[0].quote)
        out.places.append([corpus.place(c.source, c.start, c.end) for c in cites])
        out.langs.append([c.lang for c in cites])
    return out


def repeats(lines: Lines) -> bool:
    """Whether a line quotes the translation of another line's quote (same relative place)."""
    heads = [p[0] for p in lines.places]
    for a in range(len(heads)):
        for b in range(a + 1, len(heads)):
            (pa, ra), (pb, rb) = heads[a], heads[b]
            if parallel(pa, pb) and abs(ra - rb) < 0.2:
                return True
    return False


def score(corpus: Parallel, asks: list[Ask], answers: list[Answer]) -> dict[str, dict]:
    """The benchmark's rows per question language and for all."""
    out: dict[str, dict] = {}
    firsts: dict[str, dict[str, Place]] = {}
    for group in (*LANGS, "all"):
        picked = [(a, ans) for a, ans in zip(asks, answers) if group in ("all", a.question.lang)]
        grounded = [(a, ans, lines_of(corpus, ans)) for a, ans in picked if ans.grounded]
        extras = [
            parallel(places[0][0], p[0])
            for _, _, lines in grounded
            for places in lines.places
            for p in places[1:]
        ]
        recall = [
            any(parallel(lines.places[0][0][0], p[0]) for p in lines.places[0][1:])
            for _, _, lines in grounded
        ]
        out[group] = {
            "asks": len(picked),
            "first line contains a gold answer %": _pct(
                [contains_answer(lines.quotes[0], a.question.answers) for a, _, lines in grounded]
            ),
            "first line in the asker's language %": _pct(
                [lines.langs[0][0] == a.question.lang for a, _, lines in grounded]
            ),
            "extra markers": len(extras),
            "extra-marker precision (parallel paragraph) %": _pct(extras),
            "parallel recall (first line) %": _pct(recall),
            "answers repeating a line in translation %": _pct(
                [repeats(lines) for _, _, lines in grounded]
            ),
            "lines per answer": float(np.mean([len(lines.quotes) for _, _, lines in grounded]))
            if grounded
            else 0.0,
            "abstained %": _pct([not ans.grounded for _, ans in picked]),
        }
        for a, _, lines in grounded:
            place = lines.places[0][0][0]
            firsts.setdefault(a.question.qid.rsplit("-", 1)[0], {})[a.question.lang] = place
    pairs = [v for v in firsts.values() if len(v) == 2]
    consistent = [v["en"][0] == v["ar"][0] and v["en"][2] == v["ar"][2] for v in pairs]
    out["all"]["en/ar consistency (both answered) %"] = _pct(consistent)
    return out


def _pct(values: list[bool]) -> float:
    return float(np.mean(values) * 100) if values else float("nan")


def write_fold_models(models: list[EvidenceModel], eval_dir: Path) -> None:
    """Save the evidence models fitted without each fold (benchmarks.fit_evidence --write)."""
    document = {
        "articles_per_fold": _articles_per_fold(eval_dir),
        "models": [m.to_json() for m in models],
    }
    FOLD_MODELS.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {FOLD_MODELS}")


def fold_models(eval_dir: Path) -> list[EvidenceModel] | None:
    """The evidence models fitted without each fold, if written for these folds."""
    if not FOLD_MODELS.exists():
        return None
    document = json.loads(FOLD_MODELS.read_text(encoding="utf-8"))
    if document["articles_per_fold"] != _articles_per_fold(eval_dir):
        return None
    return [EvidenceModel.from_json(m) for m in document["models"]]


def _articles_per_fold(eval_dir: Path) -> int:
    return articles_per_fold(len(load(eval_dir)[0]))


def rescored(ask: Ask, model: EvidenceModel) -> Ask:
    """The ask with its candidates' logits from another sentence model."""
    if not ask.sentences:
        return ask
    logits = model.sentence.logit(np.vstack([s.features for s in ask.sentences]))
    return replace(
        ask, sentences=[replace(s, logit=float(v)) for s, v in zip(ask.sentences, logits)]
    )


def held_out(
    corpus: Parallel,
    asks: list[Ask],
    retriever: Retriever,
    scorer: EvidenceScorer,
    min_score: float,
    threshold: float,
    evidence: list[EvidenceModel] | None = None,
    **options: float,
) -> list[Answer]:
    """Every ask answered with a pair model fitted without its fold, and with that fold's
    evidence model when `evidence` holds one per fold (else the scorer's)."""
    data = [pair_data(corpus, a) for a in tqdm(asks, desc="pairs", unit="ask")]
    answers: list[Answer | None] = [None] * len(asks)
    for f in range(ARTICLE_FOLDS):
        model = fit_pairs([d for d, a in zip(data, asks) if a.fold != f])
        fold_scorer = EvidenceScorer(scorer.embedder, evidence[f]) if evidence else scorer
        answerer = ExtractiveAnswerer(
            scorer.embedder,
            min_score=min_score,
            scorer=fold_scorer,
            corroborator=Corroborator(model, threshold),
            **options,
        )
        for i, a in enumerate(asks):
            if a.fold == f:
                ask = rescored(a, fold_scorer.model) if evidence else a
                answers[i] = answerer.answer_from(
                    ask.query, ask.passages, ask.sentences, retriever.related(ask.query)
                )
    return [a for a in answers if a is not None]


def table(result: dict[str, dict]) -> str:
    """Markdown: question languages as columns."""
    groups = list(result)
    names = [n for n in result["all"] if n != "en/ar consistency (both answered) %"]
    lines = ["| corroboration | " + " | ".join(groups) + " |", "| --- |" + " --- |" * len(groups)]
    for name in names:
        cells = [result[g].get(name, float("nan")) for g in groups]
        lines.append(
            f"| {name} | "
            + " | ".join(
                f"{c:.0f}" if name in ("asks", "extra markers") else f"{c:.1f}" for c in cells
            )
            + " |"
        )
    consistency = result["all"]["en/ar consistency (both answered) %"]
    lines.append(f"| en/ar consistency (both answered) % | | | {consistency:.1f} |")
    return "\n".join(lines)


def main() -> None:
    """Run the benchmark, print the table, write benchmarks/results/corroboration.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--write", action="store_true", help="write the fitted pair model")
    args = parser.parse_args()
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(
            settings.model_copy(update={"data_dir": Path(tmp) / "data", "collection": "parallel"})
        )
        scorer = EvidenceScorer(engine.embedder)
        corpus, asks = collect(args.eval_dir, settings, engine, scorer)
        evidence = fold_models(args.eval_dir)
        answers = held_out(
            corpus, asks, engine.retriever, scorer, settings.min_evidence, THRESHOLD, evidence
        )
        result = score(corpus, asks, answers)
        if args.write:
            model = fit_pairs([pair_data(corpus, a) for a in asks])
            document = {"model": model.to_json(), "threshold": THRESHOLD, "held_out": result}
            MODEL_FILE.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
            print(f"wrote {MODEL_FILE}")
    args.out.mkdir(parents=True, exist_ok=True)
    document = {"evidence model held out": evidence is not None, **result}
    (args.out / "corroboration.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    print(table(result))
    if evidence is None:
        print(f"(no {FOLD_MODELS.name} for these folds: the shipped evidence model saw these asks)")


if __name__ == "__main__":
    main()
