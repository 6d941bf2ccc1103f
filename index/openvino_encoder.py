"""The embedding model compiled by OpenVINO, converted once from its sentence-transformers folder.

The whole pipeline of a mean-pooled, normalised model such as e5 goes into the OpenVINO model:
BERT, the mean over the attention mask, L2 normalisation. Tokenisation stays with the model's own
tokenizer. OpenVINO's bf16 kernels ran faster than torch with bf16 weights on the same texts
(README, "Embedding speed"), and its f32 kernels faster than torch's f32.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np

IR_DIR = "openvino-v1"  # inside the model folder; bump when the conversion changes
_PRECISION = {"bfloat16": "bf16", "float32": "f32"}


def available() -> bool:
    """Whether the openvino package can be imported."""
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def convertible(model: Any) -> bool:
    """Whether a SentenceTransformer is a transformer + mean pooling + normalisation."""
    names = [type(module).__name__ for module in model]
    if names != ["Transformer", "Pooling", "Normalize"]:
        return False
    return getattr(model[1], "pooling_mode", None) == "mean"


def ensure_ir(model: Any, folder: Path) -> Path:
    """The OpenVINO model of a loaded fp32 SentenceTransformer, converted on first use."""
    target = Path(folder) / IR_DIR
    if (target / "model.xml").exists():
        return target / "model.xml"
    import openvino as ov
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    example = model[0].tokenizer(["a", "two words"], padding=True, return_tensors="pt")
    with torch.no_grad():
        converted = ov.convert_model(
            Pooled(model[0].auto_model.float().eval()).eval(),
            example_input={k: example[k] for k in ("input_ids", "attention_mask")},
            input=[("input_ids", [-1, -1], ov.Type.i64), ("attention_mask", [-1, -1], ov.Type.i64)],
        )
    scratch = target.with_name(f"{IR_DIR}.tmp-{uuid.uuid4().hex}")
    ov.save_model(converted, scratch / "model.xml", compress_to_fp16=False)
    try:
        os.rename(scratch, target)  # atomic; another process may have won the race
    except OSError:
        shutil.rmtree(scratch, ignore_errors=True)
    return target / "model.xml"


class OpenVinoEncoder:
    """A compiled model, for one caller at a time.

    `throughput=True` (ingestion) compiles for throughput, one stream per core, and keeps a
    batch in flight on each: 1.45x one latency-compiled stream on the same texts here, 1.65x
    with batches of 16. Questions use a latency-compiled model, all cores on one short text.
    """

    def __init__(
        self, xml: Path, tokenizer: Any, max_length: int, dtype: str, throughput: bool = False
    ) -> None:
        import openvino as ov

        core = ov.Core()
        self._compiled = core.compile_model(
            core.read_model(xml),
            "CPU",
            {
                "INFERENCE_PRECISION_HINT": _PRECISION[dtype],
                "PERFORMANCE_HINT": "THROUGHPUT" if throughput else "LATENCY",
            },
        )
        self._queue = ov.AsyncInferQueue(
            self._compiled, int(self._compiled.get_property("NUM_STREAMS"))
        )
        self._tokenizer = tokenizer
        self._max_length = max_length

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Normalised vectors of the texts, longest first in batches (less padding)."""
        order = np.argsort([-len(t) for t in texts], kind="stable")
        results: dict[int, np.ndarray] = {}

        def done(request: Any, start: int) -> None:
            results[start] = np.array(request.get_output_tensor(0).data, dtype=np.float32)

        self._queue.set_callback(done)
        for start in range(0, len(texts), batch_size):
            tokens = self._tokenizer(
                [texts[j] for j in order[start : start + batch_size]],
                padding=True,
                truncation=True,
                max_length=self._max_length,
                return_tensors="np",
            )
            self._queue.start_async(
                {k: tokens[k].astype(np.int64) for k in ("input_ids", "attention_mask")}, start
            )
        self._queue.wait_all()
        out = np.empty((len(texts), results[0].shape[1]), dtype=np.float32)
        for start, vectors in results.items():
            out[order[start : start + batch_size]] = vectors
        return out
