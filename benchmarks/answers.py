"""Answer quality on TyDi QA GoldP (ar, en, id in one index), abstention calibration, latency.

Usage: python -m benchmarks.answers [--limit 100] [--eval-dir ../shared/eval]
For each question: does the answer contain a gold answer string, is its first citation the
gold passage, does it abstain. Unanswerable variant: the same question with its gold passage
excluded from retrieval; the answer should abstain rather than cite a wrong passage.
Calibration: the highest evidence threshold that still answers 95% of the answerable
questions, over all questions; the abstention it gives with the gold passage removed is shown.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import unicodedata
from pathlib import Path

import numpy as np

from assistant.evaluation import DEFAULT_EVAL_DIR, Question, tydi_mixed
from benchmarks.common import indexed_engine, key_of, percentiles
from index.language import detect_language, normalize_for_search


def _norm(text: str) -> str:
    return " ".join(normalize_for_search(unicodedata.normalize("NFKC", text)).split())


def contains_answer(text: str, answers: tuple[str, ...]) -> bool:
    """Whether any gold answer string occurs in the text (normalised)."""
    haystack = _norm(text)
    return any(_norm(a) and _norm(a) in haystack for a in answers)


def calibrate(
    answerable: np.ndarray, unanswerable: np.ndarray, keep: float = 0.95
) -> tuple[float, dict]:
    """The highest threshold that still answers `keep` of the answerable questions.

    Sanad prefers answering with a citation the reader can check over withholding one, so the
    threshold is set from the answerable side; the table reports what it abstains on.
    """
    best = float(np.quantile(answerable, 1.0 - keep))
    return best, {
        "answered_answerable_%": float(np.mean(answerable >= best) * 100),
        "abstained_unanswerable_%": float(np.mean(unanswerable < best) * 100),
    }


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--limit", type=int, default=100, help="answered questions per language")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--calibrate-only", action="store_true", help="print the threshold only")
    args = parser.parse_args()
    task = tydi_mixed(args.eval_dir)
    with tempfile.TemporaryDirectory() as tmp:
        engine, _ = indexed_engine(task, Path(tmp))
        retriever, answerer = engine.retriever, engine.extractive
        doc_of = {key_of(d.source): d.doc_id for d in engine.store.documents()}
        k = engine.settings.top_k

        # Calibration over every question: best evidence with and without the gold passage.
        ev_in, ev_out = [], []
        for q in task.questions:
            ev_in.append(max(h.evidence for h in retriever.search(q.text, k)))
            hits = retriever.search(q.text, k, exclude_doc_ids=[doc_of[q.gold]])
            ev_out.append(max(h.evidence for h in hits))
        threshold, cal = calibrate(np.array(ev_in), np.array(ev_out))
        if args.calibrate_only:
            print(json.dumps({"calibrated_threshold": threshold, **cal}, indent=2))
            return

        rows: dict[str, dict] = {}
        stage: dict[str, list[float]] = {"embed_ms": [], "search_ms": [], "compose_ms": []}
        total: list[float] = []
        for lang in ("ar", "en", "id"):
            qs: list[Question] = [q for q in task.questions if q.lang == lang][: args.limit]
            has, first, abst, abst_out, wrong_out = 0, 0, 0, 0, 0
            for q in qs:
                timings: dict[str, float] = {}
                t0 = time.perf_counter()
                hits = retriever.search(q.text, k, timings=timings)
                answer = answerer.answer(q.text, detect_language(q.text), hits)
                total.append((time.perf_counter() - t0) * 1000)
                for name in stage:
                    stage[name].append({**timings, **answer.timings_ms}.get(name, 0.0))
                has += contains_answer(answer.text, q.answers)
                first += bool(answer.citations) and key_of(answer.citations[0].source) == q.gold
                abst += not answer.grounded
                hits = retriever.search(q.text, k, exclude_doc_ids=[doc_of[q.gold]])
                out = answerer.answer(q.text, detect_language(q.text), hits)
                abst_out += not out.grounded
                wrong_out += out.grounded
            n = max(len(qs), 1)
            rows[lang] = {
                "questions": len(qs),
                "contains_gold_answer_%": has / n * 100,
                "first_citation_is_gold_%": first / n * 100,
                "abstained_answerable_%": abst / n * 100,
                "abstained_unanswerable_%": abst_out / n * 100,
                "cited_wrong_passage_unanswerable_%": wrong_out / n * 100,
            }
    result = {
        "threshold_in_use": engine.settings.min_evidence,
        "calibrated_threshold": threshold,
        "calibration": cal,
        "per_language": rows,
        "latency_ms": {name: percentiles(v) for name, v in stage.items()}
        | {"total": percentiles(total)},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "answers.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(table(result))


def table(result: dict) -> str:
    """Markdown tables of quality and latency."""
    lines = [
        "| lang | questions | contains gold answer % | first citation gold % "
        "| abstained (answerable) % | abstained (gold removed) % |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for lang, r in result["per_language"].items():
        lines.append(
            f"| {lang} | {r['questions']} | {r['contains_gold_answer_%']:.1f} "
            f"| {r['first_citation_is_gold_%']:.1f} | {r['abstained_answerable_%']:.1f} "
            f"| {r['abstained_unanswerable_%']:.1f} |"
        )
    lines += ["", "| stage | p50 ms | p95 ms |", "| --- | --- | --- |"]
    for name, p in result["latency_ms"].items():
        lines.append(f"| {name} | {p['p50']:.1f} | {p['p95']:.1f} |")
    cal = result["calibration"]
    lines.append(
        f"\nAbstention threshold in use {result['threshold_in_use']:.4f}; calibrated on all "
        f"TyDi questions: {result['calibrated_threshold']:.4f} "
        f"(answers {cal['answered_answerable_%']:.1f}% of answerable, abstains on "
        f"{cal['abstained_unanswerable_%']:.1f}% with the gold passage removed)"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
