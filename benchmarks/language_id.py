"""Language identification accuracy on the public evaluation sets (questions and passages).

Usage: python -m benchmarks.language_id
The question's detected language picks the language of the answer (the LLM is told to write
in it, and the no-evidence sentence is in it); a passage's picks its stemmer and its language
centroid. Every distinct TyDi GoldP question and context (ar/en/id) and XQuAD question and
context (ar/en) is detected once, against the language its set gives it.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from assistant.evaluation import Task, tydi_mixed, xquad_cross
from index.language import detect_language


def labelled_texts(tasks: list[Task]) -> dict[tuple[str, str, str], str]:
    """(set, kind, text) -> gold language, for every distinct question and passage."""
    out: dict[tuple[str, str, str], str] = {}
    for task in tasks:
        name = task.name.split("-")[0]
        for passage in task.passages:
            out[(name, "passage", passage.text)] = passage.lang
        for question in task.questions:
            out[(name, "question", question.text)] = question.lang
    return out


def main() -> None:
    """Detect every labelled text, print accuracy per set, kind and language, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    texts = labelled_texts([tydi_mixed(), xquad_cross("en", "ar"), xquad_cross("ar", "en")])
    total: Counter[tuple[str, str, str]] = Counter()
    right: Counter[tuple[str, str, str]] = Counter()
    confusions: Counter[str] = Counter()
    started = time.perf_counter()
    for (name, kind, text), lang in texts.items():
        got = detect_language(text)
        total[(name, kind, lang)] += 1
        right[(name, kind, lang)] += got == lang
        if got != lang:
            confusions[f"{kind} {lang}->{got}"] += 1
    ms_per_text = (time.perf_counter() - started) * 1000 / len(texts)
    rows = [
        {
            "set": name,
            "kind": kind,
            "lang": lang,
            "texts": n,
            "accuracy": 100 * right[(name, kind, lang)] / n,
        }
        for (name, kind, lang), n in sorted(total.items())
    ]
    errors = sum(total.values()) - sum(right.values())
    result = {
        "rows": rows,
        "errors": errors,
        "texts": len(texts),
        "confusions": dict(confusions.most_common()),
        "ms_per_text": ms_per_text,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "language_id.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    lines = ["| set | kind | language | texts | accuracy % |", "| --- | --- | --- | --- | --- |"]
    lines += [
        f"| {r['set']} | {r['kind']} | {r['lang']} | {r['texts']} | {r['accuracy']:.1f} |"
        for r in rows
    ]
    lines.append(f"| all | all | all | {len(texts)} | {100 * (1 - errors / len(texts)):.1f} |")
    print("\n".join(lines))
    print(f"errors: {errors} ({dict(confusions.most_common())}); {ms_per_text:.2f} ms per text")


if __name__ == "__main__":
    main()
