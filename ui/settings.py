"""The web app's settings (``recbot serve``, the Chainlit app, the widget): where it listens and
who may sign in. Read from the same ``RECBOT_*`` variables and ``.env`` file as everything else;
the layers below the UI never see them."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from agent.settings import Settings


class WebSettings(Settings):
    """:class:`agent.settings.Settings` plus the web app's own. Field ``x`` is read from
    ``RECBOT_X``."""

    host: str = Field(default="localhost", description="Where `recbot serve` listens.")
    port: int = Field(default=8000, ge=1, le=65535, description="The web app's port.")
    widget_port: int = Field(
        default=8001,
        ge=1,
        le=65535,
        description="The port of `recbot widget-demo`'s page; `recbot serve` allows its origin.",
    )
    auth: Literal["none", "password", "header"] = Field(
        default="none",
        description="Web sign-in: none (an anonymous identity per browser), password "
        "(RECBOT_AUTH_USERS) or header (a trusted proxy sets RECBOT_AUTH_HEADER).",
    )
    auth_users: SecretStr | None = Field(
        default=None, description="password sign-in: 'name:password' pairs, comma-separated."
    )
    allow_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="More origins that may embed the widget, besides the app's own and the "
        "widget demo's (comma-separated).",
    )
    auth_header: str = Field(
        default="X-Forwarded-User", description="header sign-in: the header naming the user."
    )

    @field_validator("allow_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            parts = json.loads(text) if text.startswith("[") else text.split(",")
            return [str(o).strip().rstrip("/") for o in parts if str(o).strip()]
        return value
