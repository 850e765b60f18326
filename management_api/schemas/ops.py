"""Operational endpoints' bodies: liveness and readiness."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Health(BaseModel):
    """The process answers."""

    status: Literal["ok"] = "ok"


class ReadyChecks(BaseModel):
    """Each dependency's state; Redis is "disabled" when REDIS_URL is not set."""

    database: Literal["ok", "failed"]
    redis: Literal["ok", "failed", "disabled"]


class Ready(BaseModel):
    """Everything the API needs is reachable."""

    status: Literal["ready"] = "ready"
    checks: ReadyChecks
