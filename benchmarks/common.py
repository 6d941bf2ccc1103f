"""Shared benchmark plumbing: index a task's passages through the real pipeline."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.engine import Engine
from assistant.evaluation import Task, index_task
from index.language import normalize_for_search
from index.pipeline import IngestReport

# Questions written for the seed articles (not taken from any evaluation set).
QUESTIONS = {
    "ar": [
        "من درّب ميليشيات حفتر على حرب الشوارع؟",
        "ما هي الدول التي تدعم حفتر؟",
        "كم عدد المرتزقة الروس الذين وصلوا إلى ليبيا؟",
    ],
    "en": [
        "Who trained Haftar's militias in street warfare?",
        "Which countries back the Government of National Accord?",
        "What did leaked recordings from Benina air base reveal?",
    ],
    "id": [
        "Siapa yang melatih milisi Haftar dalam perang jalanan?",
        "Negara mana saja yang mendukung Haftar?",
        "Kapan pelatihan militer Israel itu dilakukan?",
    ],
}


def key_of(source: str) -> str:
    """Passage key from a chunk's source path."""
    return Path(source).stem


def indexed_engine(task: Task, workdir: Path) -> tuple[Engine, IngestReport]:
    """An engine over a fresh embedded store holding the task's passages."""
    return index_task(task, Settings(), workdir)


def percentiles(values: list[float]) -> dict[str, float]:
    """p50 and p95 of a list of milliseconds."""
    if not values:
        return {"p50": 0.0, "p95": 0.0}
    return {"p50": float(np.percentile(values, 50)), "p95": float(np.percentile(values, 95))}


def _norm(text: str) -> str:
    return " ".join(normalize_for_search(unicodedata.normalize("NFKC", text)).split())


def contains_answer(text: str, answers: tuple[str, ...]) -> bool:
    """Whether any gold answer string occurs in the text (normalised)."""
    haystack = _norm(text)
    return any(_norm(a) and _norm(a) in haystack for a in answers)
