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
    widget_tokens: bool | None = Field(
        default=None,
        description="Whether widget tokens (minted with CHAINLIT_AUTH_SECRET) sign people in; "
        "unset: only with RECBOT_AUTH=none. With password sign-in they are then accepted for "
        "the names in RECBOT_AUTH_USERS only.",
    )
    signin_max_failures: int = Field(
        default=5,
        ge=1,
        description="Failed password sign-ins allowed per name and per client address within "
        "RECBOT_SIGNIN_WINDOW_S; further tries are refused (429) without checking the password.",
    )
    metrics: bool = Field(
        default=True,
        description="Serve Prometheus metrics on /metrics (counts and timings only; keep the "
        "path on the internal network).",
    )
    signin_window_s: float = Field(
        default=300.0, gt=0, description="The window, in seconds, the sign-in throttle counts in."
    )

    @field_validator("allow_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            parts = json.loads(text) if text.startswith("[") else text.split(",")
            return [str(o).strip().rstrip("/") for o in parts if str(o).strip()]
        return value

    @property
    def widget_sign_in(self) -> bool:
        """Whether widget tokens sign people in: ``RECBOT_WIDGET_TOKENS``, by default only when
        anyone may sign in anyway (``RECBOT_AUTH=none``)."""
        return self.widget_tokens if self.widget_tokens is not None else self.auth == "none"
