"""Id tags: the RFID cards and app tokens drivers authorize with."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from core.domain.enums import IdTagStatus
from management_api.schemas.common import (
    ListParams,
    Omittable,
    PatchBody,
    RequestBody,
    ResponseModel,
)

VALUE_HELP = "The token as the charger reports it: up to 20 characters for OCPP 1.6, 36 for 2.0.1."


class IdTagReplace(RequestBody):
    """Every field of an id tag; PUT replaces them (omitted ones reset)."""

    value: str = Field(min_length=1, max_length=36, description=VALUE_HELP)
    status: IdTagStatus = IdTagStatus.ACCEPTED
    expires_at: AwareDatetime | None = None
    parent_id_tag: str | None = Field(default=None, min_length=1, max_length=36)


class IdTagCreate(IdTagReplace):
    """A new id tag; an admin names the partner, an operator's own partner is implied."""

    partner_id: uuid.UUID | None = Field(default=None, description="Required for an admin.")


class IdTagPatch(PatchBody):
    """The id tag fields to change."""

    value: Omittable[str] = Field(default=None, min_length=1, max_length=36, description=VALUE_HELP)
    status: Omittable[IdTagStatus] = Field(default=None)
    expires_at: AwareDatetime | None = None
    parent_id_tag: str | None = Field(default=None, min_length=1, max_length=36)


class IdTagOut(ResponseModel):
    """An id tag."""

    id: uuid.UUID
    partner_id: uuid.UUID
    value: str
    status: IdTagStatus
    expires_at: datetime | None
    parent_id_tag: str | None
    created_at: datetime
    updated_at: datetime


class IdTagListParams(ListParams):
    """Id tag list filters."""

    partner_id: uuid.UUID | None = Field(default=None, description="Admin: one partner's tags.")
    value: str | None = Field(default=None, min_length=1, max_length=36)
    status: IdTagStatus | None = None
    sort: Literal["created_at", "-created_at", "value", "-value"] | None = Field(
        default=None, description="Sort key, '-' for descending (default created_at)."
    )
