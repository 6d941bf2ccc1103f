"""Public evaluation sets (TyDi QA GoldP, XQuAD) as retrieval tasks, and their metrics."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.language import LANGS, ngram_identifier

DEFAULT_EVAL_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"
KS = (1, 5, 20)


@dataclass(frozen=True)
class Passage:
    """One passage to index: a stable key, its text and language."""

    key: str
    text: str
    lang: str


@dataclass(frozen=True)
class Question:
    """One question with the key of its gold passage and its gold answer strings."""

    qid: str
    text: str
    lang: str
    gold: str
    answers: tuple[str, ...] = ()


@dataclass
class Task:
    """A set of passages to index and questions to ask against them."""

    name: str
    passages: list[Passage]
    questions: list[Question] = field(default_factory=list)


def read_jsonl(path: Path) -> list[dict]:
    """The records of a JSON-lines file."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _key(lang: str, text: str) -> str:
    return f"{lang}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]}"


def tydi_mixed(eval_dir: Path = DEFAULT_EVAL_DIR) -> Task:
    """TyDi QA GoldP ar+en+id: every distinct context in one mixed index."""
    task = Task("tydi-mixed", [])
    seen: set[str] = set()
    for lang in LANGS:
        for row in read_jsonl(eval_dir / "tydiqa_goldp" / f"tydiqa_goldp_dev_{lang}.jsonl"):
            key = _key(lang, row["context"])
            if key not in seen:
                seen.add(key)
                task.passages.append(Passage(key, row["context"], lang))
            task.questions.append(
                Question(row["id"], row["question"], lang, key, tuple(row["answers"]))
            )
    return task


def xquad_cross(q_lang: str, p_lang: str, eval_dir: Path = DEFAULT_EVAL_DIR) -> Task:
    """XQuAD: index the contexts in `p_lang`, ask the questions in `q_lang`."""
    task = Task(f"xquad-{q_lang}->{p_lang}", [])
    seen: set[str] = set()
    for row in read_jsonl(eval_dir / "xquad" / "xquad_parallel_ar_en.jsonl"):
        key = _key("x", row["context_en"])
        if key not in seen:
            seen.add(key)
            task.passages.append(Passage(key, row[f"context_{p_lang}"], p_lang))
        task.questions.append(
            Question(
                f"{row['id']}-{q_lang}",
                row[f"question_{q_lang}"],
                q_lang,
                key,
                tuple(row[f"answers_{p_lang}"]),
            )
        )
    return task


def xquad_mixed(eval_dir: Path = DEFAULT_EVAL_DIR) -> Task:
    """XQuAD mixed index: articles (by sorted title) alternate ar/en; questions in both."""
    rows = read_jsonl(eval_dir / "xquad" / "xquad_parallel_ar_en.jsonl")
    titles = sorted({r["title_en"] for r in rows})
    lang_of = {t: ("ar" if i % 2 == 0 else "en") for i, t in enumerate(titles)}
    task = Task("xquad-mixed", [])
    seen: set[str] = set()
    for row in rows:
        key = _key("x", row["context_en"])
        p_lang = lang_of[row["title_en"]]
        if key not in seen:
            seen.add(key)
            task.passages.append(Passage(key, row[f"context_{p_lang}"], p_lang))
        for q_lang in ("en", "ar"):
            task.questions.append(
                Question(
                    f"{row['id']}-{q_lang}",
                    row[f"question_{q_lang}"],
                    q_lang,
                    key,
                    tuple(row[f"answers_{p_lang}"]),
                )
            )
    return task


def gold_ranks(ranked: Sequence[Sequence[str]], questions: Sequence[Question]) -> np.ndarray:
    """1-based rank of each gold passage in its ranked key list (0 = not found)."""
    out = np.zeros(len(questions), dtype=int)
    for i, (keys, q) in enumerate(zip(ranked, questions)):
        if q.gold in keys:
            out[i] = list(keys).index(q.gold) + 1
    return out


def retrieval_metrics(ranks: np.ndarray) -> dict[str, float]:
    """Recall@k (in %) for k in KS and MRR@10 (in %) from gold ranks."""
    if len(ranks) == 0:
        return {}
    found = ranks > 0
    out = {f"R@{k}": float(np.mean(found & (ranks <= k)) * 100) for k in KS}
    rr = np.where(found & (ranks <= 10), 1.0 / np.maximum(ranks, 1), 0.0)
    out["MRR@10"] = float(rr.mean() * 100)
    return out


def grouped_metrics(
    ranks: np.ndarray,
    questions: Sequence[Question],
    group: Callable[[Question], str],
) -> dict[str, dict[str, float]]:
    """Retrieval metrics overall ("all") and for each group of questions."""
    out = {"all": retrieval_metrics(ranks)}
    labels = np.array([group(q) for q in questions])
    for label in sorted(set(labels.tolist())):
        out[label] = retrieval_metrics(ranks[labels == label])
    return out


def write_corpus(task: Task, folder: Path) -> None:
    """One text file per passage, named by its key (the key is the file's stem)."""
    folder.mkdir(parents=True, exist_ok=True)
    for p in task.passages:
        (folder / f"{p.key}.txt").write_text(p.text, encoding="utf-8")


def unique_keys(keys: Sequence[str]) -> list[str]:
    """Keys in first-seen order without repeats (several chunks may share a passage)."""
    return list(dict.fromkeys(keys))


TASKS: dict[str, Callable[[Path], Task]] = {
    "tydi-mixed": tydi_mixed,
    "xquad-mixed": xquad_mixed,
    "xquad-en-ar": lambda d: xquad_cross("en", "ar", d),
    "xquad-ar-en": lambda d: xquad_cross("ar", "en", d),
}


def index_task(task: Task, settings: Any, workdir: Path, embedder: Any = None) -> tuple:
    """An engine over a scratch store in `workdir` holding the task's passages, and its report."""
    from assistant.engine import Engine

    corpus = workdir / "corpus"
    write_corpus(task, corpus)
    scratch = settings.model_copy(update={"data_dir": workdir / "data", "collection": "eval"})
    engine = Engine(scratch, embedder=embedder)
    engine.embedder.embed_passages(["warm-up"])  # load and warm the models before ingest is timed
    ngram_identifier()
    return engine, engine.ingest([corpus], progress=False)


def evaluate_retrieval(task: Task, settings: Any, embedder: Any, workdir: Path) -> dict:
    """Index the task's passages in a scratch store and score the shipped retriever."""
    engine, _ = index_task(task, settings, workdir, embedder)
    ranked = [
        unique_keys([Path(h.chunk.origin.source).stem for h in engine.retriever.search(q.text, 60)])
        for q in task.questions
    ]
    langs = {p.key: p.lang for p in task.passages}
    return grouped_metrics(
        gold_ranks(ranked, task.questions),
        task.questions,
        lambda q: f"{q.lang}-{'same' if langs[q.gold] == q.lang else 'cross'}",
    )
