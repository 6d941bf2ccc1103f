"""Retrieval quality and speed on the public sets: BM25, dense, fair dense, shipped hybrid, peer.

Every task is indexed twice, by the model in torch float32 and as shipped (SANAD_EMBED_DTYPE and
SANAD_EMBED_RUNTIME: `auto` = OpenVINO in bfloat16 where the CPU has bf16), and every system is
scored on both.

Usage: python -m benchmarks.retrieval [--eval-dir ../shared/eval] [--out benchmarks/results]
Prints Markdown tables and writes benchmarks/results/retrieval.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.engine import Engine
from assistant.evaluation import (
    DEFAULT_EVAL_DIR,
    Task,
    gold_ranks,
    grouped_metrics,
    index_task,
    tydi_mixed,
    unique_keys,
    xquad_cross,
    xquad_mixed,
)
from assistant.retrieval import Retriever
from benchmarks.common import key_of, percentiles
from index.embedding import Embedder, cpu_bf16_features, resolve_model

DEPTH = 20


def run_system(retriever: Retriever, task: Task) -> tuple[list[list[str]], list[float]]:
    """Ranked passage keys for every question and per-question latency in ms."""
    ranked, latency = [], []
    for q in task.questions:
        t0 = time.perf_counter()
        hits = retriever.search(q.text, k=DEPTH * 3)
        latency.append((time.perf_counter() - t0) * 1000)
        ranked.append(unique_keys([key_of(h.chunk.origin.source) for h in hits])[:DEPTH])
    return ranked, latency


def run_bm25(retriever: Retriever, task: Task) -> list[list[str]]:
    """Ranked passage keys by BM25 alone (stemmed per language, Arabic normalised)."""
    derived = retriever.derived()
    source = {c.id: c.origin.source for c in retriever.store.chunks_by_id(derived.chunk_ids())}
    out = []
    for q in task.questions:
        scores = derived.bm25_scores(q.text)
        order = np.argsort(-scores, kind="stable")[: DEPTH * 3]
        out.append(unique_keys([key_of(source[derived.ids[i]]) for i in order])[:DEPTH])
    return out


def run_peer(task: Task, model_path: str, workdir: Path) -> list[list[str]]:
    """A llama-index user's pipeline: SentenceSplitter + VectorStoreIndex on Chroma."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    client = chromadb.PersistentClient(
        path=str(workdir / "peer"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    collection = client.get_or_create_collection(
        "peer", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
    )
    embed = HuggingFaceEmbedding(
        model_name=model_path,
        query_instruction="query: ",
        text_instruction="passage: ",
        embed_batch_size=32,
        device="cpu",
    )
    docs = [Document(text=p.text, metadata={"key": p.key}) for p in task.passages]
    index = VectorStoreIndex.from_documents(
        docs,
        storage_context=StorageContext.from_defaults(
            vector_store=ChromaVectorStore(chroma_collection=collection)
        ),
        embed_model=embed,
        transformations=[SentenceSplitter()],
    )
    retriever = index.as_retriever(similarity_top_k=DEPTH * 3)
    return [
        unique_keys([n.node.metadata["key"] for n in retriever.retrieve(q.text)])[:DEPTH]
        for q in task.questions
    ]


def throughput(
    task: Task, workdir: Path, rounds: int, embedders: dict[str, Embedder]
) -> tuple[dict[str, Engine], dict]:
    """Per dtype: ingest into a fresh store, then raw `model.encode` of the same chunks.

    Dtypes and the two steps alternate over `rounds`, and times are summed over rounds, so that
    drift in the machine's speed (raw encode of the same texts varies by 5-20% between runs on
    a shared machine) favours no side. Returns the last engine of each dtype and the timings.
    """
    engines: dict[str, Engine] = {}
    texts: list[str] = []
    runs: dict[str, dict[str, list]] = {
        d: {"pipeline": [], "raw": [], "chunks": [], "tokens": []} for d in embedders
    }
    for n in range(rounds):
        for dtype, embedder in embedders.items():
            engine, report = index_task(task, Settings(), workdir / f"{dtype}-{n}", embedder)
            engines[dtype] = engine
            if not texts:
                ids = engine.retriever.derived().chunk_ids()
                texts = [c.text for c in engine.store.chunks_by_id(ids)]
            t0 = time.perf_counter()
            embedder.embed_passages(texts)
            run = runs[dtype]
            run["raw"].append(time.perf_counter() - t0)
            run["pipeline"].append(report.seconds)
            run["chunks"].append(report.chunks_embedded)
            run["tokens"].append(report.tokens_embedded)
    stats = {
        dtype: {
            "rounds": rounds,
            "pipeline_s": run["pipeline"],
            "raw_encode_s": run["raw"],
            "passages_per_s": sum(run["chunks"]) / sum(run["pipeline"]),
            "tokens_per_s": sum(run["tokens"]) / sum(run["pipeline"]),
            "raw_passages_per_s": len(texts) * rounds / sum(run["raw"]),
            "ratio": sum(run["raw"]) / sum(run["pipeline"]),
            "round_ratios": [r / p for r, p in zip(run["raw"], run["pipeline"])],
        }
        for dtype, run in runs.items()
    }
    reference = stats[REFERENCE]["raw_passages_per_s"]
    for dtype in stats:
        stats[dtype]["raw_vs_float32"] = stats[dtype]["raw_passages_per_s"] / reference
    return engines, stats


def evaluate_task(
    task: Task, workdir: Path, peer: bool, rounds: int, embedders: dict[str, Embedder]
) -> dict:
    """Ingest a task's passages once per dtype and score every system on each index."""
    engines, ingest = throughput(task, workdir, rounds, embedders)
    pass_lang = {p.key: p.lang for p in task.passages}

    def group(q):  # question language, and same/cross-lingual for mixed indexes
        same = "same" if pass_lang[q.gold] == q.lang else "cross"
        return f"{q.lang}-{same}" if task.name == "xquad-mixed" else q.lang

    out: dict = {"passages": len(task.passages), "questions": len(task.questions)}
    out["chunks"] = len(engines[REFERENCE].retriever.derived())
    out["ingest"] = ingest
    out["dtypes"] = {}
    for dtype, engine in engines.items():
        systems = {
            "bm25": None,
            "dense": Retriever(engine.store, engine.embedder, fair=False, use_bm25=False),
            "dense-fair": Retriever(engine.store, engine.embedder, fair=True, use_bm25=False),
            "hybrid (shipped)": engine.retriever,
        }
        results = out["dtypes"][dtype] = {}
        for name, retriever in systems.items():
            if retriever is None:
                ranked, latency = run_bm25(engine.retriever, task), []
            else:
                ranked, latency = run_system(retriever, task)
            metrics = grouped_metrics(gold_ranks(ranked, task.questions), task.questions, group)
            if latency:
                metrics["latency_ms"] = percentiles(latency)
            results[name] = metrics
            print(f"  {task.name} {dtype} {name}: {metrics['all']}", file=sys.stderr, flush=True)
    for variant, engine in engines.items():  # a switch without re-embedding: compatible?
        if variant != REFERENCE:
            switched = Engine(engines[REFERENCE].settings, embedder=engine.embedder).retriever
            ranked, _ = run_system(switched, task)
            out[f"{variant} questions, {REFERENCE} passages"] = grouped_metrics(
                gold_ranks(ranked, task.questions), task.questions, group
            )
    if peer:
        ranked = run_peer(task, engines[REFERENCE].embedder.name, workdir)
        out["dtypes"][REFERENCE]["llama-index peer"] = grouped_metrics(
            gold_ranks(ranked, task.questions), task.questions, group
        )
    return out


METRICS = ("R@1", "R@5", "R@20", "MRR@10")
REFERENCE = "float32 torch"  # today's fp32: the speed and quality every variant is held to


def table(results: dict) -> str:
    """Markdown tables: quality as shipped (torch fp32 in brackets where it differs), speed."""
    shipped = results["shipped"]
    lines = [
        f"Figures as shipped ({shipped}); in brackets {REFERENCE} where it differs.",
        "",
        "| task | system | questions | R@1 | R@5 | R@20 | MRR@10 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    worst = (0.0, "", "", "", "")  # the largest |shipped - reference| of any figure
    for task, res in results["tasks"].items():
        variants = res["dtypes"]
        for system, groups in variants[REFERENCE].items():
            for label, reference in groups.items():
                if label == "latency_ms":
                    continue
                m = variants.get(shipped, {}).get(system, {}).get(label, reference)
                cells = []
                for k in METRICS:
                    worst = max(worst, (abs(m[k] - reference[k]), task, system, label, k))
                    cell = f"{m[k]:.1f}"
                    cells.append(
                        cell if cell == f"{reference[k]:.1f}" else f"{cell} ({reference[k]:.1f})"
                    )
                lines.append(f"| {task} | {system} | {label} | " + " | ".join(cells) + " |")
    for task, res in results["tasks"].items():
        for key, groups in res.items():
            if key.endswith(f"{REFERENCE} passages"):
                lines.append(
                    f"| {task} | hybrid, {key} | all | "
                    + " | ".join(f"{groups['all'][k]:.1f}" for k in METRICS)
                    + " |"
                )
    ing = results["tasks"]["tydi-mixed"]["ingest"]
    dtypes = list(ing)
    latency = {
        d: results["tasks"]["tydi-mixed"]["dtypes"][d]["hybrid (shipped)"]["latency_ms"]
        for d in dtypes
    }

    def row(label: str, cell) -> str:
        return f"| {label} | " + " | ".join(cell(d) for d in dtypes) + " |"

    lines += [
        "",
        f"Largest quality difference from {REFERENCE} over every task, system, group and "
        f"metric: "
        f"{worst[0]:.2f} points ({worst[1]}, {worst[2]}, {worst[3]}, {worst[4]}).",
        "",
        "| speed (tydi-mixed) | " + " | ".join(dtypes) + " |",
        "| --- |" + " --- |" * len(dtypes),
        row(
            "raw encode (the model alone), chunks/s",
            lambda d: f"{ing[d]['raw_passages_per_s']:.1f}",
        ),
        row(f"raw encode vs {REFERENCE}", lambda d: f"{ing[d]['raw_vs_float32']:.2f}x"),
        row("pipeline ingest, chunks/s", lambda d: f"{ing[d]['passages_per_s']:.1f}"),
        row("pipeline ingest, tokens/s", lambda d: f"{ing[d]['tokens_per_s']:.0f}"),
        row(
            f"pipeline / raw throughput ({ing[dtypes[0]]['rounds']} rounds)",
            lambda d: (
                f"{ing[d]['ratio']:.2f} ({min(ing[d]['round_ratios']):.2f} to "
                f"{max(ing[d]['round_ratios']):.2f})"
            ),
        ),
        row(
            "query latency p50 / p95, ms",
            lambda d: f"{latency[d]['p50']:.1f} / {latency[d]['p95']:.1f}",
        ),
    ]
    return "\n".join(lines)


def main() -> None:
    """Run every task in float32 and in the shipped dtype; print the tables, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--no-peer", action="store_true", help="skip the llama-index baseline")
    parser.add_argument(
        "--tasks", default="", help="comma-separated task names (default: all four)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="alternating ingest / raw encode timings on tydi-mixed (other tasks: 1)",
    )
    args = parser.parse_args()
    settings = Settings()
    path = resolve_model(settings.embed_model, settings.model_dir)
    embedders = {
        REFERENCE: Embedder(path, 32, dtype="float32"),  # as shipped before: batches of 32
    }
    shipped = Embedder(
        path, settings.embed_batch_size, dtype=settings.embed_dtype, runtime=settings.embed_runtime
    )
    embedders.setdefault(f"{shipped.dtype} {shipped.runtime}", shipped)
    tasks = [
        tydi_mixed(args.eval_dir),
        xquad_cross("en", "ar", args.eval_dir),
        xquad_cross("ar", "en", args.eval_dir),
        xquad_mixed(args.eval_dir),
    ]
    if args.tasks:
        tasks = [t for t in tasks if t.name in args.tasks.split(",")]
    results: dict = {
        "cpu_bf16_features": cpu_bf16_features(),
        "shipped": f"{shipped.dtype} {shipped.runtime}",
        "tasks": {},
    }
    for n, task in enumerate(tasks):
        with tempfile.TemporaryDirectory() as tmp:
            results["tasks"][task.name] = evaluate_task(
                task, Path(tmp), not args.no_peer, args.rounds if n == 0 else 1, embedders
            )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "retrieval.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(table(results))


if __name__ == "__main__":
    main()
