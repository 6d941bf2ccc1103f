"""Concurrent load on a real `sanad serve`: errors, answer stability, latency and throughput.

Usage: python -m benchmarks.load [--clients 32] [--requests 288] [--time-limit 600]
Starts `sanad serve` over a scratch data directory holding the seeds and, from this process,
sends the seed questions (ar/en/id) to POST /api/ask from `--clients` concurrent clients,
starting cold (empty embedding caches). Every answer must be identical (text and citation
ids) to the answer the same server gives when the question is asked alone, afterwards.
Prints a table and writes benchmarks/results/load.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from benchmarks.common import QUESTIONS
from benchmarks.served import SEEDS, SanadServer

Signature = tuple[str, tuple[str, ...]]


@dataclass
class Outcome:
    """One request: the question, its latency, and its answer's signature or the error."""

    question: str
    ms: float
    signature: Signature | None = None
    error: str | None = None


def ask(client: httpx.Client, question: str) -> Outcome:
    """POST /api/ask once; a non-200 status or a transport failure is an error."""
    t0 = time.perf_counter()
    try:
        response = client.post("/api/ask", json={"question": question})
    except httpx.HTTPError as exc:
        return Outcome(question, (time.perf_counter() - t0) * 1000, error=repr(exc))
    ms = (time.perf_counter() - t0) * 1000
    if response.status_code != 200:
        return Outcome(question, ms, error=f"HTTP {response.status_code}: {response.text[:200]}")
    body = response.json()
    return Outcome(question, ms, (body["text"], tuple(c["id"] for c in body["citations"])))


def concurrent(
    url: str, questions: Sequence[str], clients: int, requests: int, time_limit: float
) -> tuple[list[Outcome], float]:
    """`requests` asks (questions cycled) from `clients` threads, each with its own connection."""
    work = iter(itertools.islice(itertools.cycle(questions), requests))
    take = threading.Lock()
    deadline = time.monotonic() + time_limit
    outcomes: list[Outcome] = []

    def client_loop() -> None:
        with httpx.Client(base_url=url, timeout=time_limit) as client:
            while time.monotonic() < deadline:
                with take:
                    question = next(work, None)
                if question is None:
                    return
                outcome = ask(client, question)
                with take:
                    outcomes.append(outcome)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client_loop) for _ in range(clients)]:
            future.result()
    return outcomes, time.perf_counter() - t0


def sequential(url: str, questions: Sequence[str], timeout: float) -> dict[str, Outcome]:
    """Each question asked alone, one after another: the reference answers."""
    with httpx.Client(base_url=url, timeout=timeout) as client:
        return {q: ask(client, q) for q in questions}


def summarise(
    outcomes: list[Outcome], seconds: float, reference: dict[str, Outcome], requests: int
) -> dict:
    """Error and mismatch counts, latency percentiles and requests per second."""
    ok = [o for o in outcomes if o.error is None]
    mismatched = [o for o in ok if o.signature != reference[o.question].signature]
    ms = np.array([o.ms for o in ok]) if ok else np.zeros(1)
    return {
        "requests": requests,
        "completed": len(outcomes),
        "errors": len(outcomes) - len(ok) + (requests - len(outcomes)),
        "error_samples": sorted({o.error for o in outcomes if o.error})[:5],
        "mismatches": len(mismatched),
        "mismatch_questions": sorted({o.question for o in mismatched}),
        "reference_errors": sum(o.error is not None for o in reference.values()),
        "seconds": seconds,
        "requests_per_s": len(ok) / seconds if seconds else 0.0,
        "latency_ms": {p: float(np.percentile(ms, int(p[1:]))) for p in ("p50", "p95", "p99")},
    }


def run_load(url: str, clients: int, requests: int, time_limit: float) -> dict:
    """Concurrent phase (cold), then the sequential reference, then the comparison."""
    questions = [q for qs in QUESTIONS.values() for q in qs]
    outcomes, seconds = concurrent(url, questions, clients, requests, time_limit)
    reference = sequential(url, questions, time_limit)
    return {"clients": clients, **summarise(outcomes, seconds, reference, requests)}


def table(result: dict) -> str:
    """The Markdown table of one load run."""
    lat = result["latency_ms"]
    return "\n".join(
        [
            "| clients | requests | errors | answers differing from sequential | p50 ms | p95 ms "
            "| p99 ms | requests/s |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            f"| {result['clients']} | {result['completed']} | {result['errors']} "
            f"| {result['mismatches']} | {lat['p50']:.0f} | {lat['p95']:.0f} | {lat['p99']:.0f} "
            f"| {result['requests_per_s']:.1f} |",
        ]
    )


def main() -> None:
    """Serve the seeds, run the load, print the table, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=288)
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = SanadServer(Path(tmp) / "data")
        server.ingest(SEEDS)
        with server:
            result = run_load(server.url, args.clients, args.requests, args.time_limit)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(table(result))
    if result["errors"] or result["mismatches"]:
        print(json.dumps(result, indent=2, ensure_ascii=False), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
