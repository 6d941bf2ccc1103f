"""Growth: ingest speed, disk, memory and retrieval latency at about 1k, 10k and 50k chunks.

Usage: python -m benchmarks.scale [--sizes 1000,10000,50000] [--queries 100]
       [--backends embedded,server] [--chunk-tokens 64]

The corpus grows from every context of ../shared/eval (TyDi GoldP ar/en/id, XQuAD ar and en)
plus variants of them: variant r of a context has its sentences rotated by r and one
sentence of another context of the same language appended, so each variant is a distinct
document with distinct chunks. Chunks are 64 tokens by default so that 50k chunks embed in
minutes on 2 cores (embedding cost follows the tokens, not the chunk count).

The index grows in place, as a user's would: each size adds documents to the previous one
with an incremental `ingest`. The embedded-Chroma run embeds every chunk; the server run
(`chroma run` on loopback) replays those vectors, so its ingest figures are the store and
BM25 side alone. At each size: ingest throughput, size on disk, resident memory, the time to
build the derived indexes (BM25, language centroids) once, and search latency (the question
embedded, Chroma, BM25) over distinct TyDi/XQuAD questions, with a check that the derived
index was not rebuilt by any query. Prints a table and writes benchmarks/results/scale.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.engine import Engine
from assistant.evaluation import DEFAULT_EVAL_DIR, Passage, tydi_mixed, xquad_cross
from benchmarks.common import percentiles
from benchmarks.served import ChromaServer
from index.chunking import chunk_text
from index.embedding import Embedder, resolve_model
from index.language import sentence_spans


def base_passages(eval_dir: Path) -> list[Passage]:
    """Every distinct context of both public sets (TyDi ar/en/id, XQuAD ar and en)."""
    tasks = [tydi_mixed(eval_dir), xquad_cross("en", "ar", eval_dir),
             xquad_cross("ar", "en", eval_dir)]
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
    yield from ((f"r000-{lang}-{i:05d}", p.text) for lang, g in by_lang.items()
                for i, p in enumerate(g))
    for r in itertools.count(1):
        for lang, group in by_lang.items():
            for i, p in enumerate(group):
                donor = group[(i + r) % len(group)]
                yield f"r{r:03d}-{lang}-{i:05d}", variant(p, donor, r)


def grow(corpus: Path, docs: Iterator[tuple[str, str]], chunks_now: int, target: int,
         chunk_tokens: int) -> int:
    """Write documents into the corpus folder until it holds about `target` chunks."""
    while chunks_now < target:
        name, text = next(docs)
        (corpus / f"{name}.txt").write_text(text, encoding="utf-8")
        chunks_now += len(chunk_text(text, chunk_tokens))
    return chunks_now


class ReplayEmbedder:
    """An Embedder that remembers passage vectors ("record") or serves them ("replay")."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.replay = False
        self.vectors: dict[str, np.ndarray] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Embed (record mode) or look up (replay mode) passage vectors."""
        missing = [t for t in texts if not self.replay or t not in self.vectors]
        self.vectors.update(zip(missing, self.inner.embed_passages(missing, progress)))
        if not texts:
            return np.zeros((0, self.inner.dim), dtype=np.float32)
        return np.vstack([self.vectors[t] for t in texts])


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


def measure(engine: Engine, questions: Sequence[str]) -> dict[str, Any]:
    """Derived-index build time, then search latency over the questions."""
    retriever = engine.retriever
    t0 = time.perf_counter()
    derived = retriever.derived()
    build_s = time.perf_counter() - t0
    total, index_side = [], []
    for q in questions:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        retriever.search(q, engine.settings.top_k, timings=timings)
        total.append((time.perf_counter() - t0) * 1000)
        index_side.append(timings["search_ms"])
    return {
        "derived_build_s": build_s,
        "rebuilt_during_queries": retriever.derived() is not derived,
        "search_ms": percentiles(total) | {"p99": float(np.percentile(total, 99))},
        "index_side_ms": percentiles(index_side),
    }


def run_backend(name: str, embedder: ReplayEmbedder, passages: list[Passage],
                questions: Iterator[str], args: argparse.Namespace, work: Path) -> list[dict]:
    """Grow one index through the sizes and measure it at each."""
    chroma = None
    data = work / name / "data"
    overrides: dict[str, Any] = {"data_dir": data, "chunk_tokens": args.chunk_tokens}
    if name == "server":
        chroma = ChromaServer(work / name / "chroma").start()
        overrides["chroma_url"] = chroma.url
    corpus = work / name / "corpus"
    corpus.mkdir(parents=True)
    engine = Engine(Settings(**overrides), embedder=embedder)  # type: ignore[arg-type]
    docs, planned, rows = documents(passages), 0, []
    try:
        for size in args.sizes:
            planned = grow(corpus, docs, planned, size, args.chunk_tokens)
            report = engine.ingest([corpus], progress=False)
            _, n_docs, n_chunks = engine.store.generation()
            row = {
                "backend": name,
                "target": size,
                "documents": n_docs,
                "chunks": n_chunks,
                "ingested_chunks": report.chunks_embedded,
                "ingest_s": report.seconds,
                "ingest_chunks_per_s": report.chunks_embedded / report.seconds,
                "ingest_tokens_per_s": report.tokens_embedded / report.seconds,
                "embeddings": "replayed" if embedder.replay else "computed",
                **measure(engine, [next(questions) for _ in range(args.queries)]),
                "disk_mib": disk_bytes(chroma.path if chroma else data) / 2**20,
                "rss_mib": rss_mib(),
                "chroma_server_rss_mib": rss_mib(chroma.proc.pid) if chroma else 0.0,
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        if chroma:
            chroma.stop()
    return rows


def table(rows: list[dict]) -> str:
    """The Markdown table of every backend and size."""
    lines = [
        "| Chroma | chunks | docs | ingest chunks/s | ingest tokens/s | disk MiB | RSS MiB "
        "| derived build s | search p50 ms | search p95 ms | search p99 ms | rebuilt per query |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        rss = f"{r['rss_mib']:.0f}"
        if r["chroma_server_rss_mib"]:
            rss += f" + {r['chroma_server_rss_mib']:.0f} server"
        speed = f"{r['ingest_chunks_per_s']:.1f}"
        if r["embeddings"] == "replayed":
            speed += " (vectors replayed)"
        s = r["search_ms"]
        lines.append(
            f"| {r['backend']} | {r['chunks']} | {r['documents']} | {speed} "
            f"| {r['ingest_tokens_per_s']:.0f} | {r['disk_mib']:.0f} | {rss} "
            f"| {r['derived_build_s']:.1f} | {s['p50']:.0f} | {s['p95']:.0f} | {s['p99']:.0f} "
            f"| {'yes' if r['rebuilt_during_queries'] else 'no'} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Grow each backend's index through the sizes, print the table and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--backends", default="embedded,server")
    parser.add_argument("--chunk-tokens", type=int, default=64)
    parser.add_argument("--work-dir", type=Path, default=None, help="scratch space (default /tmp)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    settings = Settings()
    embedder = ReplayEmbedder(Embedder(resolve_model(settings.embed_model, settings.model_dir)))
    passages = base_passages(args.eval_dir)
    pool = [q.text for t in (tydi_mixed(args.eval_dir), xquad_cross("en", "ar", args.eval_dir),
                             xquad_cross("ar", "en", args.eval_dir)) for q in t.questions]
    distinct = list(dict.fromkeys(pool))  # distinct questions: no query-cache hits
    random.Random(0).shuffle(distinct)  # every measurement gets all languages
    questions = iter(distinct)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(dir=args.work_dir) as tmp:
        for backend in args.backends.split(","):
            rows += run_backend(backend, embedder, passages, questions, args, Path(tmp))
            embedder.replay = True
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scale.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    print(table(rows))


if __name__ == "__main__":
    main()
