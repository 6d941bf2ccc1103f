"""Answer latency on the seed corpus: in process (what `sanad ask` does) and over HTTP.

Usage: python -m benchmarks.latency [--rounds 3]
Starts `sanad serve` on a free loopback port over a scratch data directory holding the seeds,
asks seed questions in ar/en/id sequentially through POST /api/ask, and reports p50/p95.
The in-process figures exclude model loading (the model is loaded once, as in `sanad ask`
after start-up).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from assistant.config import Settings
from assistant.engine import Engine
from benchmarks.common import QUESTIONS, percentiles
from benchmarks.served import SEEDS, SanadServer, post


def in_process(data: Path, rounds: int) -> dict[str, dict[str, float]]:
    """Latency of Engine.ask per language, model already loaded."""
    engine = Engine(Settings(data_dir=data))
    engine.ingest([SEEDS], progress=False)
    engine.ask(QUESTIONS["en"][0])  # warm caches the way a running process would have them
    out = {}
    for lang, questions in QUESTIONS.items():
        times, grounded = [], 0
        for _ in range(rounds):
            for q in questions:
                t0 = time.perf_counter()
                answer = engine.ask(q)
                times.append((time.perf_counter() - t0) * 1000)
                grounded += answer.grounded
        out[lang] = percentiles(times) | {"grounded": grounded / len(times)}
    return out


def over_http(data: Path, rounds: int) -> dict[str, float]:
    """Latency of POST /api/ask against a real `sanad serve` process (its own data dir)."""
    server = SanadServer(data)
    server.ingest(SEEDS)
    with server:
        times = []
        for _ in range(rounds):
            for questions in QUESTIONS.values():
                for q in questions:
                    t0 = time.perf_counter()
                    post(f"{server.url}/api/ask", {"question": q})
                    times.append((time.perf_counter() - t0) * 1000)
        return percentiles(times) | {"requests": len(times)}


def main() -> None:
    """Run both measurements and print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        local = in_process(Path(tmp) / "local", args.rounds)
        http = over_http(Path(tmp) / "served", args.rounds)
    result = {"in_process_ms": local, "http_api_ask_ms": http}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latency.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    lines = ["| path | p50 ms | p95 ms |", "| --- | --- | --- |"]
    for lang, p in local.items():
        lines.append(
            f"| Engine.ask (sanad ask), {lang} seed questions | {p['p50']:.0f} | {p['p95']:.0f} |"
        )
    lines.append(f"| POST /api/ask, all seed questions | {http['p50']:.0f} | {http['p95']:.0f} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
