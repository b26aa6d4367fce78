"""Settings, read from ``RECBOT_*`` environment variables and an optional ``.env`` file.

Only composition roots (the CLI, the Chainlit app, simulations, ``agent.wiring``) read settings;
everything below them takes plain arguments.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from catalog.download import ML_LATEST_SMALL_URL


def _default_home() -> Path:
    return Path.home() / ".recbot"


class Settings(BaseSettings):
    """Every knob of recbot. Field ``x`` is read from ``RECBOT_X``."""

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

    @field_validator("data_dir", "home", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser().resolve() if value is not None else None

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'recbot.db'}"
