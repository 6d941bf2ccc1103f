"""The research workspace at a heavy user's scale: history list, search, open, export, feedback.

Usage: python -m benchmarks.workspace [--conversations 2000] [--eval-dir ../shared/eval]
Answers the seed questions (ar/en/id) once for real answers with citations, then stores
`--conversations` conversations of 1 to 5 turns whose questions are TyDi QA questions in
Arabic, English and Indonesian (each turn carries one of the real answers). Measures what the
sidebar and the API do: the newest page of the history, a search by a word of a stored
question in each language, opening a conversation (its turns and verdicts), a Markdown and a
JSON export of a 5-turn conversation, and recording a verdict. Writes
benchmarks/results/workspace.json and prints a table (p50/p95 over repeated runs).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from assistant.access import OWNER
from assistant.caller_view import CallerView
from assistant.citations import Answer
from assistant.config import Settings
from assistant.engine import Engine
from assistant.evaluation import DEFAULT_EVAL_DIR, tydi_mixed
from assistant.export import conversation_export, to_markdown
from benchmarks.common import QUESTIONS, percentiles
from benchmarks.served import SEEDS
from ui.turns import stored_turns

REPEATS = 30


def timed(fn: Callable[[], object], repeats: int = REPEATS) -> dict[str, float]:
    """p50/p95 in ms of `repeats` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return percentiles(times)


def fill(engine: Engine, answers: list[Answer], questions: list[str], n: int) -> list[str]:
    """Store n conversations of 1-5 turns; returns their ids."""
    rng = random.Random(0)
    settings = engine.answer_settings(None)
    ids = []
    for _ in range(n):
        cid = engine.conversations.create()
        for _ in range(rng.randint(1, 5)):
            question = rng.choice(questions)
            answer = rng.choice(answers).model_copy(deep=True)
            engine.conversations.add_turn(cid, question, question, answer, settings)
        ids.append(cid)
    return ids


def search_words(questions: dict[str, list[str]]) -> dict[str, list[str]]:
    """Per language, longer words of stored questions (what a reader would type)."""
    rng = random.Random(1)
    out = {}
    for lang, qs in questions.items():
        words = [w.strip("؟?.,،") for q in qs for w in q.split() if len(w) >= 5]
        out[lang] = rng.sample(words, min(REPEATS, len(words)))
    return out


def measure(n: int, eval_dir: Path, data: Path) -> dict:
    """Every measurement on one scratch data directory."""
    engine = Engine(Settings(data_dir=data))
    engine.ingest([SEEDS], progress=False)
    answers = [engine.ask(q) for qs in QUESTIONS.values() for q in qs]
    by_lang: dict[str, list[str]] = {}
    for q in tydi_mixed(eval_dir).questions:
        by_lang.setdefault(q.lang, []).append(q.text)
    pool = [q for qs in by_lang.values() for q in qs]
    t0 = time.perf_counter()
    ids = fill(engine, answers, pool, n)
    fill_s = time.perf_counter() - t0
    store = engine.conversations
    five = next(i for i in ids if len(store.turns(i)) == 5)
    result: dict = {
        "conversations": n,
        "turns": sum(s.turns for s in store.summaries("", 0, n)[1]),
        "fill_s": round(fill_s, 1),
        "list_newest_100_ms": timed(lambda: store.summaries("", 0, 100)),
    }
    for lang, words in search_words(by_lang).items():
        it = iter(words * 2)
        found = [store.summaries(w, 0, 100)[0] for w in words]
        result[f"search_{lang}_ms"] = timed(lambda it=it: store.summaries(next(it), 0, 100))
        result[f"search_{lang}_ms"]["median_hits"] = sorted(found)[len(found) // 2]
    result["open_5_turns_ms"] = timed(lambda: stored_turns(CallerView(engine, OWNER), five))
    result["export_md_5_turns_ms"] = timed(lambda: to_markdown(conversation_export(store, five)))
    result["export_json_5_turns_ms"] = timed(
        lambda: conversation_export(store, five).model_dump_json()
    )
    result["feedback_add_ms"] = timed(lambda: engine.feedback.add(five, 0, "up", comment="ok"))
    return result


def table(result: dict) -> str:
    """The Markdown table of the measurements."""
    lines = [
        f"{result['conversations']} conversations, {result['turns']} turns "
        f"(stored in {result['fill_s']} s)",
        "",
        "| operation | p50 ms | p95 ms |",
        "| --- | --- | --- |",
    ]
    for key, value in result.items():
        if isinstance(value, dict):
            hits = f" (median {value['median_hits']} matches)" if "median_hits" in value else ""
            label = key.removesuffix("_ms").replace("_", " ") + hits
            lines.append(f"| {label} | {value['p50']:.1f} | {value['p95']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    """Run the measurements, write the JSON, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(args.conversations, args.eval_dir, Path(tmp) / "data")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "workspace.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(table(result))


if __name__ == "__main__":
    main()
