"""Fit the evidence model (assistant/evidence_model.json) on the public sets, report held out.

Usage: python -m benchmarks.fit_evidence [--eval-dir ../shared/eval] [--write]

Two logistic regressions over the features of assistant/evidence.py:
- the sentence model picks, among a question's candidate sentences, the one that answers
  (positives: sentences in the gold paragraph that hold a gold answer string). It is fitted
  listwise, as the choice it makes (the softmax over a question's candidates), which picks the
  answering sentence more often than a fit of each sentence on its own;
- the decision model says whether the evidence answers at all, from that sentence's
  features and the best over all candidates (positives: answerable questions; negatives:
  questions whose article, paragraph or passage was withheld).
The sentence model also learns from a third source, the parallel corpus of
benchmarks/corroboration.py (every article in Arabic and in English, both indexed: the same
point in two languages among the candidates), where it reports its held-out pick.
Two sources for the decision model, each class of each source weighing the same in total:
- the article benchmark (benchmarks/articles.py): answerable, article-withheld and
  paragraph-withheld questions on whole ar/en articles;
- TyDi QA GoldP ar/en/id in one mixed index, with and without the gold passage, using only
  questions after the first 100 of each language (those are benchmarks/answers.py's).
Held-out figures: six folds by article (and by question for TyDi); each fold's questions are
scored by models fitted on the other folds. The threshold is the highest that keeps false
abstention on the answerable article questions at or below FALSE_ABSTENTION both held out and
with the shipped model (the one benchmarks/articles.py runs, fitted on them too).
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.engine import Engine
from assistant.evaluation import DEFAULT_EVAL_DIR, Question, tydi_mixed
from assistant.evidence import (
    DECISION_FEATURES,
    MODEL_FILE,
    SENTENCE_FEATURES,
    Candidate,
    EvidenceModel,
    LogisticModel,
    decision_features,
)
from benchmarks import corroboration
from benchmarks.articles import (
    ARTICLE_FOLDS,
    ArticleQuestion,
    Outcome,
    articles_per_fold,
    collect,
    summarise,
    table,
)
from benchmarks.common import contains_answer, index_task, key_of
from benchmarks.fitting import fit_choice, fit_logistic
from index.embedding import Embedder

TYDI_BENCHMARK_QUESTIONS = 100  # per language, left to benchmarks/answers.py
FALSE_ABSTENTION = 0.10  # on held-out answerable article questions (README: why not 5%)


def tydi_outcomes(eval_dir: Path, settings: Settings, embedder: Embedder) -> list[Outcome]:
    """Candidate sentences of TyDi answers (with and without the gold passage) as outcomes."""
    task = tydi_mixed(eval_dir)
    seen: dict[str, int] = {}
    asked: list[Question] = []
    for q in task.questions:
        seen[q.lang] = seen.get(q.lang, 0) + 1
        if seen[q.lang] > TYDI_BENCHMARK_QUESTIONS:
            asked.append(q)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        engine, _ = index_task(task, settings, Path(tmp), embedder)
        scorer = engine.extractive.scorer
        doc_of = {key_of(d.origin.source): d.doc_id for d in engine.store.documents()}
        for q in asked:
            query = engine.retriever.query(q.text)
            for kind, exclude in (("answerable", None), ("gold removed", [doc_of[q.gold]])):
                hits = engine.retriever.search(query, settings.top_k, exclude_doc_ids=exclude)
                sentences = scorer.candidates(query, hits)
                labels = [
                    kind == "answerable"
                    and key_of(s.chunk.origin.source) == q.gold
                    and contains_answer(s.text, q.answers)
                    for s in sentences
                ]
                question = ArticleQuestion(q.qid, q.text, q.lang, -1, -1, q.answers)
                out.append(sentence_outcome(question, kind, sentences, labels))
    return out


def parallel_outcomes(eval_dir: Path, settings: Settings, embedder: Embedder) -> list[Outcome]:
    """Candidate sentences of the parallel corpus's 600 asks (benchmarks/corroboration.py):
    every article in both languages, positives in either language's gold paragraph."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(
            settings.model_copy(update={"data_dir": Path(tmp) / "data", "collection": "parallel"}),
            embedder,
        )
        corpus, asks = corroboration.collect(eval_dir, settings, engine, engine.extractive.scorer)
    out = []
    for ask in asks:
        q = ask.question
        places = [corroboration.where(corpus, s)[0] for s in ask.sentences]
        labels = [
            (article, paragraph) == (q.article, q.paragraph) and contains_answer(s.text, q.answers)
            for s, (article, _, paragraph) in zip(ask.sentences, places)
        ]
        out.append(sentence_outcome(q, "answerable", ask.sentences, labels))
    return out


def sentence_outcome(
    question: ArticleQuestion, kind: str, sentences: list[Candidate], labels: list[bool]
) -> Outcome:
    """An outcome that carries only its candidates' features and labels (for the fit)."""
    return Outcome(
        question=question,
        kind=kind,
        evidence=0.0,
        first_in_article=False,
        overlaps_paragraph=False,
        contains_gold=False,
        features=np.array([s.features for s in sentences]).reshape(
            len(sentences), len(SENTENCE_FEATURES)
        ),
        labels=np.array(labels, dtype=bool),
    )


def fit_sentence_model(outcomes: list[Outcome]) -> LogisticModel:
    """Which candidate answers, as a choice among each answerable question's candidates
    (positives: the sentences that hold the answer)."""
    return fit_choice(
        [(o.features, o.labels) for o in outcomes if o.kind == "answerable" and len(o.features)],
        SENTENCE_FEATURES,
    )


def question_rows(outcomes: list[Outcome], sentence: LogisticModel) -> np.ndarray:
    """Decision features of each question (zeros when nothing was retrieved)."""
    rows = []
    for o in outcomes:
        if not len(o.features):
            rows.append(np.zeros(len(DECISION_FEATURES)))
            continue
        logits = sentence.logit(o.features)
        rows.append(decision_features(o.features, logits, int(np.argmax(logits))))
    return np.array(rows)


def fit_models(sources: list[list[Outcome]], choices: list[Outcome]) -> EvidenceModel:
    """Both models: the sentence model on the sources' questions and `choices` (answerable
    questions only); in the decision fit each source and each class weighs the same in total."""
    sentence = fit_sentence_model([o for part in sources for o in part] + choices)
    xs, ys, ws = [], [], []
    for part in sources:
        y = np.array([o.kind == "answerable" for o in part], dtype=float)
        xs.append(question_rows(part, sentence))
        ys.append(y)
        ws.append(np.where(y == 1, 0.5 / max(y.sum(), 1), 0.5 / max((1 - y).sum(), 1)))
    w = np.concatenate(ws)
    decision = fit_logistic(np.vstack(xs), np.concatenate(ys), w * len(w), DECISION_FEATURES)
    return EvidenceModel(sentence, decision)


def evidence_of(model: EvidenceModel, outcome: Outcome) -> float:
    """The model's probability that the outcome's evidence answers (0 when nothing was found)."""
    if not len(outcome.features):
        return 0.0
    return model.assess(outcome.features, model.sentence.logit(outcome.features))[1]


def assess(model: EvidenceModel, outcomes: list[Outcome]) -> None:
    """Set each outcome's evidence to the model's probability."""
    for o in outcomes:
        o.evidence = evidence_of(model, o)


def threshold_for(evidence: list[float], target: float) -> float:
    """The highest threshold whose false abstention on answerable questions with this
    evidence is at most target."""
    values = np.sort(evidence)
    return float(values[int(np.floor(target * len(values)))]) if len(values) else 0.5


def held_out(
    articles: list[Outcome], tydi: list[Outcome], parallel: list[Outcome]
) -> tuple[float, list[EvidenceModel]]:
    """Score every question by models fitted without its fold; return the chosen threshold
    and the fold models (benchmarks.corroboration composes each fold's answers with its own).

    Articles and the parallel corpus fold by article (the blocks of 'article withheld'); TyDi
    questions fold by position. Fold f's models see neither fold f's articles (in any layout)
    nor fold f's TyDi questions. A parallel ask's `contains_gold` is whether the sentence its
    held-out model picks holds the answer.
    """
    n_articles = max(o.question.article for o in articles) + 1
    block = articles_per_fold(n_articles)
    models = []
    for f in range(ARTICLE_FOLDS):
        art_in = [o for o in articles if o.question.article // block != f]
        tydi_in = [o for i, o in enumerate(tydi) if (i // 2) % ARTICLE_FOLDS != f]
        parallel_in = [o for o in parallel if o.question.article // block != f]
        model = fit_models([art_in, tydi_in], parallel_in)
        models.append(model)
        assess(model, [o for o in articles if o.question.article // block == f])
        assess(model, [o for i, o in enumerate(tydi) if (i // 2) % ARTICLE_FOLDS == f])
        for o in parallel:
            if o.question.article // block == f and len(o.features):
                o.contains_gold = bool(o.labels[int(np.argmax(model.sentence.logit(o.features)))])
    answerable = [o.evidence for o in articles if o.kind == "answerable"]
    return threshold_for(answerable, FALSE_ABSTENTION), models


def tydi_table(tydi: list[Outcome], threshold: float) -> dict[str, dict[str, float]]:
    """Held-out abstention on the TyDi fit questions, per language."""
    out = {}
    for lang in sorted({o.question.lang for o in tydi}):
        out[lang] = {
            f"abstained ({kind}) %": float(
                np.mean(
                    [
                        o.evidence < threshold
                        for o in tydi
                        if o.question.lang == lang and o.kind == kind
                    ]
                )
                * 100
            )
            for kind in ("answerable", "gold removed")
        }
    return out


def main() -> None:
    """Collect, report held-out figures, fit on everything; --write updates the model file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--write", action="store_true", help="write assistant/evidence_model.json")
    args = parser.parse_args()
    settings = Settings()
    embedder = Engine(settings).embedder
    articles = collect(args.eval_dir, settings, embedder)
    tydi = tydi_outcomes(args.eval_dir, settings, embedder)
    parallel = parallel_outcomes(args.eval_dir, settings, embedder)
    threshold, fold_models = held_out(articles, tydi, parallel)
    model = fit_models([articles, tydi], parallel)
    shipped = threshold_for(
        [evidence_of(model, o) for o in articles if o.kind == "answerable"], FALSE_ABSTENTION
    )
    print(f"threshold: {threshold:.4f} held out, {shipped:.4f} with the shipped model")
    threshold = math.floor(min(threshold, shipped) * 1000) / 1000  # as set in config.py
    report = {
        "threshold": threshold,
        "tydi_held_out": tydi_table(tydi, threshold),
        "articles_held_out": summarise(articles, threshold),
        "parallel_held_out": {
            lang: {
                "first sentence holds the answer %": float(
                    np.mean([o.contains_gold for o in parallel if o.question.lang == lang]) * 100
                )
            }
            for lang in ("en", "ar")
        },
    }
    print("Held out (models fitted without the question's fold):\n")
    print(table(report["articles_held_out"]))
    print(json.dumps({k: v for k, v in report.items() if k != "articles_held_out"}, indent=2))
    if args.write:
        document = {
            **model.to_json(),
            "threshold": threshold,
            "held_out": report,
        }
        MODEL_FILE.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        corroboration.write_fold_models(fold_models, args.eval_dir)
        print(
            f"wrote {MODEL_FILE}; set min_evidence to {threshold} in assistant/config.py and "
            "SANAD_MIN_EVIDENCE in .env.example (tests/test_config.py checks both)"
        )


if __name__ == "__main__":
    main()
