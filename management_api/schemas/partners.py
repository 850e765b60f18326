"""Partners and their API clients (admin only)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from management_api.schemas.common import (
    ListParams,
    Omittable,
    PatchBody,
    RequestBody,
    ResponseModel,
)


class PartnerCreate(RequestBody):
    """A partner to onboard."""

    name: str = Field(min_length=1, max_length=200, description="Unique partner name.")


class PartnerPatch(PatchBody):
    """Rename a partner, or disable it (its clients can no longer get or use tokens)."""

    name: Omittable[str] = Field(default=None, min_length=1, max_length=200)
    disabled: Omittable[bool] = Field(default=None, description="true disables, false re-enables.")


class PartnerOut(ResponseModel):
    """A partner."""

    id: uuid.UUID
    name: str
    created_at: datetime
    disabled_at: datetime | None


class PartnerListParams(ListParams):
    """Partner list parameters."""

    sort: Literal["created_at", "-created_at", "name", "-name"] | None = Field(
        default=None, description="Sort key, '-' for descending (default created_at)."
    )


class ClientCreate(RequestBody):
    """A new API client of the partner; its secret is in the response, and only there."""

    role: Literal["operator", "viewer"]
    client_id: Omittable[str] = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._-]{3,100}$",
        description="Chosen client id (3..100 of A-Z a-z 0-9 . _ -); generated when omitted.",
    )


class ClientOut(ResponseModel):
    """An API client; the secret is never shown again after creation."""

    id: uuid.UUID
    client_id: str
    role: Literal["admin", "operator", "viewer"]
    partner_id: uuid.UUID | None
    created_at: datetime
    disabled_at: datetime | None


class ClientCreated(ClientOut):
    """The new client, with the secret it authenticates with (shown once)."""

    client_secret: str


class ClientListParams(ListParams):
    """Client list parameters."""

    sort: Literal["created_at", "-created_at", "client_id", "-client_id"] | None = Field(
        default=None, description="Sort key, '-' for descending (default created_at)."
    )
