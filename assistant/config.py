"""Settings: every knob of Sanad, read from SANAD_ environment variables and `.env`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_model_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "sanad" / "models"


class Settings(BaseSettings):
    """All configuration; see `.env.example` for one line on each field."""

    model_config = SettingsConfigDict(env_prefix="SANAD_", env_file=".env", extra="ignore")

    data_dir: Path = Path(".sanad")
    model_dir: Path = Field(default_factory=_default_model_dir)
    corpus_dir: Path = Path("seeds")
    collection: str = "sanad"
    chroma_url: str = ""
    embed_model: str = "builtin"
    embed_batch_size: int = Field(16, ge=1)
    embed_dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    embed_runtime: Literal["auto", "torch", "openvino"] = "auto"
    ingest_batch_chunks: int = Field(1024, ge=1)
    chunk_tokens: int = Field(300, ge=16, le=500)
    chunker: Literal["model", "cl100k"] = "cl100k"
    max_file_mb: float = Field(20.0, gt=0)
    max_request_mb: float = Field(100.0, gt=0)
    fetch_timeout_s: float = Field(20.0, gt=0)
    ingest_roots: str = ""  # folders (separated by os.pathsep) that /api/ingest may read
    fetch_allow: str = ""  # comma-separated host names or CIDR networks that may be internal
    top_k: int = Field(5, ge=1, le=100)
    candidates: int = Field(30, ge=1, le=500)
    bm25_weight: float = Field(0.05, ge=0.0)
    lang_prior_chunks: float = Field(50.0, ge=0.0)
    max_per_doc: int = Field(2, ge=0)
    doc_blend: float = Field(0.3, ge=0.0, le=1.0)
    min_evidence: float = Field(0.179, ge=0.0, le=1.0)  # benchmarks/fit_evidence.py
    max_question_chars: int = Field(2000, ge=1)
    answer_mode: Literal["extractive", "llm"] = "extractive"
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    llm_gguf_path: str = ""
    llm_timeout_s: float = Field(60.0, gt=0)
    api_token: str = ""
    login_attempts: int = Field(10, ge=1)  # failed logins per client within the window...
    login_window_s: float = Field(60.0, gt=0)  # ...after which its attempts wait
    session_hours: float = Field(12.0, gt=0)  # a browser session's lifetime after login
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    allowed_hosts: str = ""  # comma-separated names the server answers to besides loopback
    ui_concurrency: int = Field(8, ge=1)

    @property
    def host_names(self) -> tuple[str, ...]:
        """The Host names requests may carry: loopback, SANAD_HOST and SANAD_ALLOWED_HOSTS."""
        extra = [h.strip().lower() for h in self.allowed_hosts.split(",") if h.strip()]
        own = [] if self.host in ("0.0.0.0", "::", "") else [self.host.lower()]
        return tuple(dict.fromkeys(["localhost", "127.0.0.1", "::1", *own, *extra]))

    @property
    def ingest_root_paths(self) -> tuple[Path, ...]:
        """SANAD_INGEST_ROOTS as resolved folders (none: /api/ingest reads nothing)."""
        parts = [p.strip() for p in self.ingest_roots.split(os.pathsep) if p.strip()]
        return tuple(Path(p).expanduser().resolve() for p in parts)

    @property
    def fetch_allowed(self) -> tuple[str, ...]:
        """SANAD_FETCH_ALLOW as host names and networks, lower case."""
        return tuple(h.strip().lower() for h in self.fetch_allow.split(",") if h.strip())
