"""Answer quality on TyDi QA GoldP (ar, en, id in one index), with and without the gold passage.

Usage: python -m benchmarks.answers [--limit 100] [--eval-dir ../shared/eval]
For each question: does the answer contain a gold answer string, is its first citation the
gold passage, does it abstain. Unanswerable variant: the same question with its gold passage
excluded from retrieval; the answer should abstain rather than cite a wrong passage. The first
`--limit` questions of each language are used; benchmarks/fit_evidence.py fits the evidence
model on the others, so these figures are held out from the fit.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.evaluation import DEFAULT_EVAL_DIR, Question, tydi_mixed
from benchmarks.articles import THRESHOLDS
from benchmarks.common import contains_answer, indexed_engine, key_of, percentiles


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--limit", type=int, default=100, help="answered questions per language")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    task = tydi_mixed(args.eval_dir)
    with tempfile.TemporaryDirectory() as tmp:
        engine, _ = indexed_engine(task, Path(tmp))
        retriever, answerer = engine.retriever, engine.extractive
        doc_of = {key_of(d.origin.source): d.doc_id for d in engine.store.documents()}
        k = engine.settings.top_k

        rows: dict[str, dict] = {}
        stage: dict[str, list[float]] = {"embed_ms": [], "search_ms": [], "compose_ms": []}
        total: list[float] = []
        for lang in ("ar", "en", "id"):
            qs: list[Question] = [q for q in task.questions if q.lang == lang][: args.limit]
            has, first, abst, abst_out, wrong_out = 0, 0, 0, 0, 0
            evidence: dict[str, list[float]] = {"answerable": [], "gold removed": []}
            for q in qs:
                timings: dict[str, float] = {}
                t0 = time.perf_counter()
                query = retriever.query(q.text, timings=timings)
                hits = retriever.search(query, k, timings=timings)
                answer = answerer.answer(query, hits, retriever.related(query))
                total.append((time.perf_counter() - t0) * 1000)
                for name in stage:
                    stage[name].append({**timings, **answer.timings_ms}.get(name, 0.0))
                has += contains_answer(answer.text, q.answers)
                first += bool(answer.citations) and key_of(answer.citations[0].source) == q.gold
                abst += not answer.grounded
                evidence["answerable"].append(answer.evidence or 0.0)
                removed = [doc_of[q.gold]]
                hits = retriever.search(query, k, exclude_doc_ids=removed)
                out = answerer.answer(query, hits, retriever.related(query, None, removed))
                abst_out += not out.grounded
                evidence["gold removed"].append(out.evidence or 0.0)
                wrong_out += out.grounded
            n = max(len(qs), 1)
            rows[lang] = {
                "questions": len(qs),
                "contains_gold_answer_%": has / n * 100,
                "first_citation_is_gold_%": first / n * 100,
                "abstained_answerable_%": abst / n * 100,
                "abstained_unanswerable_%": abst_out / n * 100,
                "cited_wrong_passage_unanswerable_%": wrong_out / n * 100,
                "trade_off": {
                    f"{t:.2f}": {
                        kind: float(np.mean(np.array(v) < t) * 100) for kind, v in evidence.items()
                    }
                    for t in THRESHOLDS
                },
            }
    result = {
        "threshold_in_use": engine.settings.min_evidence,
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
    lines.append(f"\nEvidence threshold in use: {result['threshold_in_use']:.3f}")
    lines += [
        "",
        "Abstained % (answerable / gold removed) over the evidence threshold:",
        "",
        "| threshold | " + " | ".join(result["per_language"]) + " |",
        "| --- |" + " --- |" * len(result["per_language"]),
    ]
    for t in THRESHOLDS:
        cells = [r["trade_off"][f"{t:.2f}"] for r in result["per_language"].values()]
        lines.append(
            f"| {t:.2f} | "
            + " | ".join(f"{c['answerable']:.0f} / {c['gold removed']:.0f}" for c in cells)
            + " |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
