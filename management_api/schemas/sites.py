"""Sites: locations that group a partner's stations."""

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


class SiteReplace(RequestBody):
    """A site's descriptive fields; PUT replaces them all (omitted ones become null)."""

    name: str = Field(min_length=1, max_length=200, description="Unique within the partner.")
    address: str | None = Field(default=None, max_length=500)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class SiteCreate(SiteReplace):
    """A new site; an admin names the partner, an operator's own partner is implied."""

    partner_id: uuid.UUID | None = Field(default=None, description="Required for an admin.")


class SitePatch(PatchBody):
    """The site fields to change."""

    name: Omittable[str] = Field(default=None, min_length=1, max_length=200)
    address: str | None = Field(default=None, max_length=500)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class SiteOut(ResponseModel):
    """A site."""

    id: uuid.UUID
    partner_id: uuid.UUID
    name: str
    address: str | None
    latitude: float | None
    longitude: float | None
    created_at: datetime
    updated_at: datetime


class SiteListParams(ListParams):
    """Site list parameters."""

    partner_id: uuid.UUID | None = Field(default=None, description="Admin: one partner's sites.")
    sort: Literal["created_at", "-created_at", "name", "-name"] | None = Field(
        default=None, description="Sort key, '-' for descending (default created_at)."
    )
