"""Retrieval quality and speed on the public sets: BM25, dense, fair dense, shipped hybrid, peer.

Usage: python -m benchmarks.retrieval [--eval-dir ../shared/eval] [--out benchmarks/results]
Prints a Markdown table and writes benchmarks/results/retrieval.json.
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
from benchmarks.common import indexed_engine, key_of, percentiles

DEPTH = 20


def run_system(retriever: Retriever, task: Task) -> tuple[list[list[str]], list[float]]:
    """Ranked passage keys for every question and per-question latency in ms."""
    ranked, latency = [], []
    for q in task.questions:
        t0 = time.perf_counter()
        hits = retriever.search(q.text, k=DEPTH * 3)
        latency.append((time.perf_counter() - t0) * 1000)
        ranked.append(unique_keys([key_of(h.chunk.source) for h in hits])[:DEPTH])
    return ranked, latency


def run_bm25(retriever: Retriever, task: Task) -> list[list[str]]:
    """Ranked passage keys by BM25 alone (stemmed per language, Arabic normalised)."""
    derived = retriever.derived()
    source = {c.id: c.source for c in retriever.store.chunks_by_id(derived.chunk_ids())}
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


def throughput(task: Task, workdir: Path, rounds: int) -> tuple[Engine, dict]:
    """Ingest `rounds` times into fresh stores, each followed by raw `model.encode` of its chunks.

    Alternating the two and summing over rounds keeps drift in the machine's speed (raw encode
    of the same texts varies by about 5% between runs) from favouring either side.
    """
    engine, report = indexed_engine(task, workdir / "round-1")
    texts = [c.text for c in engine.store.chunks_by_id(engine.retriever.derived().chunk_ids())]
    pipeline_s, raw_s = [], []
    for n in range(rounds):
        if n:
            report = index_task(task, Settings(), workdir / f"round-{n + 1}", engine.embedder)[1]
        pipeline_s.append(report.seconds)
        t0 = time.perf_counter()
        engine.embedder.embed_passages(texts)
        raw_s.append(time.perf_counter() - t0)
    return engine, {
        "rounds": rounds,
        "pipeline_s": pipeline_s,
        "raw_encode_s": raw_s,
        "passages_per_s": report.chunks_embedded * rounds / sum(pipeline_s),
        "tokens_per_s": report.tokens_embedded * rounds / sum(pipeline_s),
        "raw_passages_per_s": len(texts) * rounds / sum(raw_s),
        "ratio": sum(raw_s) / sum(pipeline_s),
        "round_ratios": [r / p for r, p in zip(raw_s, pipeline_s)],
    }


def evaluate_task(task: Task, workdir: Path, peer: bool, rounds: int) -> dict:
    """Ingest a task's passages and score every system on it."""
    engine, ingest = throughput(task, workdir, rounds)
    pass_lang = {p.key: p.lang for p in task.passages}

    def group(q):  # question language, and same/cross-lingual for mixed indexes
        same = "same" if pass_lang[q.gold] == q.lang else "cross"
        return f"{q.lang}-{same}" if task.name == "xquad-mixed" else q.lang

    systems = {
        "bm25": None,
        "dense": Retriever(engine.store, engine.embedder, fair=False, use_bm25=False),
        "dense-fair": Retriever(engine.store, engine.embedder, fair=True, use_bm25=False),
        "hybrid (shipped)": engine.retriever,
    }
    out: dict = {"passages": len(task.passages), "questions": len(task.questions)}
    out["chunks"] = len(engine.retriever.derived())
    out["ingest"] = ingest
    out["systems"] = {}
    for name, retriever in systems.items():
        if retriever is None:
            ranked, latency = run_bm25(engine.retriever, task), []
        else:
            ranked, latency = run_system(retriever, task)
        metrics = grouped_metrics(gold_ranks(ranked, task.questions), task.questions, group)
        if latency:
            metrics["latency_ms"] = percentiles(latency)
        out["systems"][name] = metrics
        print(f"  {task.name} {name}: {metrics['all']}", file=sys.stderr, flush=True)
    if peer:
        ranked = run_peer(task, engine.embedder.name, workdir)
        out["systems"]["llama-index peer"] = grouped_metrics(
            gold_ranks(ranked, task.questions), task.questions, group
        )
    return out


def table(results: dict) -> str:
    """A Markdown table of every task, system and question group."""
    lines = [
        "| task | system | questions | R@1 | R@5 | R@20 | MRR@10 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for task, res in results["tasks"].items():
        for system, groups in res["systems"].items():
            for label, m in groups.items():
                if label == "latency_ms":
                    continue
                lines.append(
                    f"| {task} | {system} | {label} | {m['R@1']:.1f} | {m['R@5']:.1f} "
                    f"| {m['R@20']:.1f} | {m['MRR@10']:.1f} |"
                )
    ing = results["tasks"]["tydi-mixed"]["ingest"]
    lat = results["tasks"]["tydi-mixed"]["systems"]["hybrid (shipped)"]["latency_ms"]
    lines += [
        "",
        "| speed (tydi-mixed) | value |",
        "| --- | --- |",
        f"| pipeline ingest, chunks/s | {ing['passages_per_s']:.1f} |",
        f"| pipeline ingest, tokens/s | {ing['tokens_per_s']:.0f} |",
        f"| raw model.encode, chunks/s | {ing['raw_passages_per_s']:.1f} |",
        f"| pipeline / raw throughput ({ing['rounds']} rounds; per round "
        f"{min(ing['round_ratios']):.2f} to {max(ing['round_ratios']):.2f}) | {ing['ratio']:.2f} |",
        f"| query latency p50 / p95, ms | {lat['p50']:.1f} / {lat['p95']:.1f} |",
    ]
    return "\n".join(lines)


def main() -> None:
    """Run every task and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--no-peer", action="store_true", help="skip the llama-index baseline")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating ingest / raw encode timings per task"
    )
    args = parser.parse_args()
    tasks = [
        tydi_mixed(args.eval_dir),
        xquad_cross("en", "ar", args.eval_dir),
        xquad_cross("ar", "en", args.eval_dir),
        xquad_mixed(args.eval_dir),
    ]
    results: dict = {"tasks": {}}
    for task in tasks:
        with tempfile.TemporaryDirectory() as tmp:
            results["tasks"][task.name] = evaluate_task(
                task, Path(tmp), peer=not args.no_peer, rounds=args.rounds
            )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "retrieval.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(table(results))


if __name__ == "__main__":
    main()
