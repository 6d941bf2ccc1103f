"""Compute the reference language centroids shipped in index/language_prior.npz.

Retrieval removes the same-language bias of multilingual embeddings by subtracting, for each
passage language, the question's similarity to that language's centroid. A small corpus cannot
tell a language's centroid from its topic, so each corpus centroid is shrunk toward a
reference centroid: the mean passage vector of a topically diverse sample of Wikipedia
paragraphs in that language (the TyDi QA GoldP contexts in ../shared/eval; only the passages,
never the questions or answers). Run once per embedding model:

    python -m benchmarks.calibrate_language_prior
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.evaluation import DEFAULT_EVAL_DIR, tydi_mixed
from index.embedding import Embedder, resolve_model
from index.models import DEFAULT_MODEL_NAME

TARGET = Path(__file__).resolve().parent.parent / "index" / "language_prior.npz"


def main() -> None:
    """Embed the reference passages and write one centroid per language."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    args = parser.parse_args()
    embedder = Embedder(resolve_model("builtin", Settings().model_dir))
    task = tydi_mixed(args.eval_dir)
    centroids = {}
    for lang in ("ar", "en", "id"):
        texts = [p.text for p in task.passages if p.lang == lang]
        vectors = embedder.embed_passages(texts, progress=True)
        centroids[lang] = vectors.mean(axis=0).astype(np.float32)
        print(f"{lang}: {len(texts)} passages")
    np.savez(TARGET, model=np.array(DEFAULT_MODEL_NAME), **centroids)
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
