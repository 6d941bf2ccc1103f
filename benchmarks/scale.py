"""Growth through a running `sanad serve`: ingest, full and incremental index updates, latency.

Usage: python -m benchmarks.scale [--sizes 1000,10000,50000] [--queries 100]
       [--backends embedded,server] [--chunk-tokens 64] [--fresh 10]

The corpus grows from every context of ../shared/eval (TyDi GoldP ar/en/id, XQuAD ar and en)
plus variants of them: variant r of a context has its sentences rotated by r and one
sentence of another context of the same language appended, so each variant is a distinct
document with distinct chunks. Chunks are 64 tokens by default so that 50k chunks embed in
minutes on 2 cores (embedding cost follows the tokens, not the chunk count).

Everything goes through `sanad serve` (embedded Chroma in its data directory, or `chroma run`
on loopback), the way a user's archive grows: the admin ingest route adds each size's new
documents. At each size:
- ingest throughput of the growth step, disk, the server's resident memory;
- the full build of the derived indexes (the server is restarted; its warm-up search builds);
- search latency (POST /api/search, distinct TyDi/XQuAD questions) on a quiet server, as
  the admin (every collection: no filter) and, interleaved, as a reader of one of the two
  collections the documents alternate between (the collection filter of issue 23);
- `--fresh` new articles ingested through the running server: how long until a search finds
  every one of them, and the incremental update of the derived indexes (from /healthz);
- search latency while a continuous ingest (one new document at a time) runs in the server.
Prints a table and writes benchmarks/results/scale.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from assistant.accounts import Accounts
from assistant.evaluation import DEFAULT_EVAL_DIR, Passage, tydi_mixed, xquad_cross
from benchmarks.common import percentiles
from benchmarks.served import ChromaServer, SanadServer, get, post
from index.chunking import chunk_text
from index.documents import read_document
from index.language import sentence_spans
from index.provenance import DEFAULT_COLLECTION

TOKEN = "scale-benchmark"
SPLIT = "desk-b"  # every other document goes to this collection; the others to `default`
READER = "scale-reader"  # may read `default` only


def base_passages(eval_dir: Path) -> list[Passage]:
    """Every distinct context of both public sets (TyDi ar/en/id, XQuAD ar and en)."""
    tasks = [
        tydi_mixed(eval_dir),
        xquad_cross("en", "ar", eval_dir),
        xquad_cross("ar", "en", eval_dir),
    ]
    return list({p.text: p for task in tasks for p in task.passages}.values())


def variant(passage: Passage, donor: Passage, r: int) -> str:
    """The passage's sentences rotated by r, then the donor's first sentence."""
    sentences = [passage.text[a:b] for a, b in sentence_spans(passage.text)]
    donor_first = next((donor.text[a:b] for a, b in sentence_spans(donor.text)), donor.text)
    shift = r % len(sentences) if sentences else 0
    return " ".join([*sentences[shift:], *sentences[:shift], donor_first])


def documents(passages: list[Passage]) -> Iterator[tuple[str, str]]:
    """(name, text) of the originals, then of variants 1, 2, ... round by round.

    Names are by position: a XQuAD context's Arabic and English versions share a key.
    """
    by_lang: dict[str, list[Passage]] = {}
    for p in passages:
        by_lang.setdefault(p.lang, []).append(p)
    yield from (
        (f"r000-{lang}-{i:05d}", p.text) for lang, g in by_lang.items() for i, p in enumerate(g)
    )
    for r in itertools.count(1):
        for lang, group in by_lang.items():
            for i, p in enumerate(group):
                donor = group[(i + r) % len(group)]
                yield f"r{r:03d}-{lang}-{i:05d}", variant(p, donor, r)


def grow(
    corpus: Path, docs: Iterator[tuple[str, str]], chunks_now: int, target: int, chunk_tokens: int
) -> int:
    """Write documents into the corpus folder until it holds about `target` chunks: every
    other one (by its number) into the folder of SPLIT, the rest into that of `default`."""
    while chunks_now < target:
        name, text = next(docs)
        folder = corpus / (SPLIT if int(name.rsplit("-", 1)[1]) % 2 else DEFAULT_COLLECTION)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
        chunks_now += len(chunk_text(text, chunk_tokens))
    return chunks_now


def disk_bytes(path: Path) -> int:
    """Bytes used under a folder."""
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def rss_mib(pid: int | str = "self") -> float:
    """Resident memory of a process in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def searches(
    server: SanadServer, questions: Iterator[str], count: int, key: str = TOKEN
) -> list[float]:
    """Milliseconds of `count` searches (distinct questions: no query-cache hits)."""
    out = []
    for _ in range(count):
        t0 = time.perf_counter()
        post(f"{server.url}/api/search", {"question": next(questions)}, key)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def reader_key(data: Path) -> str:
    """SPLIT, and a reader of `default` only, in the server's accounts: the reader's key."""
    accounts = Accounts(data / "accounts.sqlite3")
    accounts.add_collection(SPLIT)
    accounts.add_user(READER, "reader", "scale reader password")
    accounts.grant(DEFAULT_COLLECTION, READER, "read")
    return accounts.create_key(READER)[1]


def quiet_searches(
    server: SanadServer, questions: Iterator[str], count: int, reader: str
) -> dict[str, Any]:
    """Search latency as the admin (no filter) and as the reader (one collection),
    interleaved so that both see the same moments of the machine."""
    admin: list[float] = []
    filtered: list[float] = []
    for _ in range(count):
        admin += searches(server, questions, 1)
        filtered += searches(server, questions, 1, reader)
    return {
        "search_ms": percentiles(admin) | {"p99": float(np.percentile(admin, 99))},
        "reader_search_ms": percentiles(filtered) | {"p99": float(np.percentile(filtered, 99))},
    }


def ingest_split(server: SanadServer, corpus: Path) -> dict[str, Any]:
    """Ingest the corpus's two folders into their collections; the summed report."""
    reports = [
        post(
            f"{server.url}/api/ingest",
            {"paths": [str(corpus / collection)], "collection": collection},
            TOKEN,
            timeout=3 * 3600,
        )
        for collection in (DEFAULT_COLLECTION, SPLIT)
    ]
    return {key: sum(r[key] for r in reports) for key in ("chunks_embedded", "seconds")}


def index_update(server: SanadServer) -> dict[str, Any]:
    """The server's derived index state (generation, last update kind and milliseconds)."""
    return get(f"{server.url}/healthz", TOKEN)["index"]


def add_fresh(
    server: SanadServer, folder: Path, docs: Iterator[tuple[str, str]], count: int
) -> dict[str, Any]:
    """Ingest `count` new documents through the server; time until a search finds each one.

    Each probe is a search restricted to the new document (its id is the hash of its text),
    with its first words as the question: found means it is in the server's index.
    """
    folder.mkdir(parents=True)
    probes = {}
    for _ in range(count):
        name, text = next(docs)
        path = folder / f"{name}.txt"
        path.write_text(text, encoding="utf-8")
        doc_id = read_document(path, folder, 2**30).doc_id
        probes[doc_id] = " ".join(text.split()[:30])
    t0 = time.perf_counter()
    post(f"{server.url}/api/ingest", {"paths": [str(folder)]}, TOKEN, timeout=3600)
    ingested = time.perf_counter() - t0
    missing = set(probes)
    while missing and time.perf_counter() - t0 < 60:
        for doc_id in sorted(missing):
            body = {"question": probes[doc_id], "doc_ids": [doc_id]}
            if post(f"{server.url}/api/search", body, TOKEN)["passages"]:
                missing.discard(doc_id)
    return {
        "articles": count,
        "ingest_request_s": ingested,
        "searchable_after_s": time.perf_counter() - t0,
        "not_found": sorted(missing),
        "update": index_update(server),
    }


def during_ingest(
    server: SanadServer,
    work: Path,
    docs: Iterator[tuple[str, str]],
    questions: Iterator[str],
    count: int,
) -> dict[str, Any]:
    """Search latency while the server ingests one new document after another."""
    stop = threading.Event()
    ingested: list[float] = []

    def feed() -> None:
        while not stop.is_set():
            folder = work / f"stream-{len(ingested):05d}"
            folder.mkdir(parents=True)
            name, text = next(docs)
            (folder / f"{name}.txt").write_text(text, encoding="utf-8")
            t0 = time.perf_counter()
            post(f"{server.url}/api/ingest", {"paths": [str(folder)]}, TOKEN, timeout=3600)
            ingested.append(time.perf_counter() - t0)

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        time.sleep(1.0)  # let the first ingestion start
        latency = searches(server, questions, count)
    finally:
        stop.set()
        feeder.join()
    return {
        "search_ms": percentiles(latency) | {"p99": float(np.percentile(latency, 99))},
        "documents_ingested": len(ingested),
        "ingest_request_s": percentiles(ingested),
    }


def run_backend(
    name: str,
    passages: list[Passage],
    questions: Iterator[str],
    args: argparse.Namespace,
    work: Path,
) -> list[dict]:
    """Grow one served index through the sizes and measure it at each."""
    chroma = None
    env = {
        "SANAD_API_TOKEN": TOKEN,
        "SANAD_CHUNK_TOKENS": str(args.chunk_tokens),
        "SANAD_INGEST_ROOTS": str(work),  # the admin ingest route reads only below it
    }
    if name == "server":
        chroma = ChromaServer(work / name / "chroma").start()
        env["SANAD_CHROMA_URL"] = chroma.url
    server = SanadServer(work / name / "data", env)
    corpus = work / name / "corpus"
    corpus.mkdir(parents=True)
    docs, planned, rows, reader = documents(passages), 0, [], ""
    try:
        for size in args.sizes:
            planned = grow(corpus, docs, planned, size, args.chunk_tokens)
            server.start()
            reader = reader or reader_key(server.data)
            report = ingest_split(server, corpus)
            server.stop()
            server.start()  # the warm-up search builds the derived indexes in full
            full = index_update(server)
            health = get(f"{server.url}/healthz", TOKEN)
            row = {
                "backend": name,
                "target": size,
                "documents": health["documents"],
                "chunks": health["chunks"],
                "ingested_chunks": report["chunks_embedded"],
                "ingest_s": report["seconds"],
                "ingest_chunks_per_s": report["chunks_embedded"] / report["seconds"],
                "embed_dtype": full["embed_dtype"],
                "full_build_ms": full["last_update_ms"],
                "quiet": quiet_searches(server, questions, args.queries, reader),
                "fresh": add_fresh(server, work / name / f"fresh-{size}", docs, args.fresh),
                "during_ingest": during_ingest(
                    server, work / name / f"stream-{size}", docs, questions, args.queries
                ),
                "disk_mib": disk_bytes(chroma.path if chroma else server.data) / 2**20,
                "server_rss_mib": rss_mib(server.proc.pid),
                "chroma_server_rss_mib": rss_mib(chroma.proc.pid) if chroma else 0.0,
            }
            server.stop()
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        server.stop()
        if chroma:
            chroma.stop()
    return rows


def table(rows: list[dict]) -> str:
    """The Markdown table of every backend and size."""
    lines = [
        "| Chroma | chunks | docs | ingest chunks/s | disk MiB | RSS MiB | full build s "
        "| update ms (new articles) | new articles searchable after s | search p50 / p95 ms "
        "| one collection's reader: search p50 / p95 ms "
        "| during ingest: search p50 / p95 ms (docs ingested) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        rss = f"{r['server_rss_mib']:.0f}"
        if r["chroma_server_rss_mib"]:
            rss += f" + {r['chroma_server_rss_mib']:.0f} chroma"
        fresh, quiet, busy = r["fresh"], r["quiet"]["search_ms"], r["during_ingest"]
        reader = r["quiet"]["reader_search_ms"]
        found = "" if not fresh["not_found"] else f" ({len(fresh['not_found'])} not found)"
        lines.append(
            f"| {r['backend']} | {r['chunks']} | {r['documents']} "
            f"| {r['ingest_chunks_per_s']:.1f} | {r['disk_mib']:.0f} | {rss} "
            f"| {r['full_build_ms'] / 1000:.1f} "
            f"| {fresh['update']['last_update_ms']:.0f} ({fresh['articles']}) "
            f"| {fresh['searchable_after_s']:.2f}{found} "
            f"| {quiet['p50']:.1f} / {quiet['p95']:.1f} "
            f"| {reader['p50']:.1f} / {reader['p95']:.1f} "
            f"| {busy['search_ms']['p50']:.0f} / {busy['search_ms']['p95']:.0f} "
            f"({busy['documents_ingested']}) |"
        )
    return "\n".join(lines)


def main() -> None:
    """Grow each backend's served index through the sizes, print the table and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--backends", default="embedded,server")
    parser.add_argument("--chunk-tokens", type=int, default=64)
    parser.add_argument("--fresh", type=int, default=10, help="articles added to a running server")
    parser.add_argument("--work-dir", type=Path, default=None, help="scratch space (default /tmp)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    passages = base_passages(args.eval_dir)
    pool = [
        q.text
        for t in (
            tydi_mixed(args.eval_dir),
            xquad_cross("en", "ar", args.eval_dir),
            xquad_cross("ar", "en", args.eval_dir),
        )
        for q in t.questions
    ]
    distinct = list(dict.fromkeys(pool))  # distinct questions: no query-cache hits
    random.Random(0).shuffle(distinct)  # every measurement gets all languages
    questions = itertools.cycle(distinct)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(dir=args.work_dir) as tmp:
        for backend in args.backends.split(","):
            rows += run_backend(backend, passages, questions, args, Path(tmp))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scale.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    print(table(rows))


if __name__ == "__main__":
    main()
