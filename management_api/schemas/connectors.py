"""Connectors: the plugs of a station, numbered 1..plug_count, at most one priority."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from core.domain.enums import ConnectorStatus
from management_api.schemas.common import (
    ListParams,
    Omittable,
    PatchBody,
    RequestBody,
    ResponseModel,
)

NUMBER_HELP = "OCPP 1.6 connectorId / 2.0.1 evseId, 1..the station type's plug_count."


class ConnectorCreate(RequestBody):
    """A connector; PUT takes the same body and replaces every field."""

    connector_number: int = Field(ge=1, le=16, description=NUMBER_HELP)
    name: str | None = Field(default=None, max_length=100)
    priority: bool = Field(default=False, description="At most one per station.")


class ConnectorPatch(PatchBody):
    """The connector fields to change (status comes from the charger, not from here)."""

    connector_number: Omittable[int] = Field(default=None, ge=1, le=16, description=NUMBER_HELP)
    name: str | None = Field(default=None, max_length=100)
    priority: Omittable[bool] = Field(default=None)


class ConnectorOut(ResponseModel):
    """A connector with the status its charger last reported."""

    id: uuid.UUID
    station_id: uuid.UUID
    connector_number: int
    name: str | None
    priority: bool
    status: ConnectorStatus | None
    error_code: str | None
    status_updated_at: datetime | None


ConnectorSort = Literal["created_at", "-created_at", "connector_number", "-connector_number"]


class StationConnectorListParams(ListParams):
    """Parameters of one station's connector list."""

    status: ConnectorStatus | None = None
    priority: bool | None = None
    sort: ConnectorSort | None = Field(
        default=None, description="Sort key, '-' for descending (default connector_number)."
    )


class ConnectorListParams(ListParams):
    """Parameters of the connector list across the caller's stations."""

    station_id: uuid.UUID | None = None
    status: ConnectorStatus | None = None
    priority: bool | None = None
    sort: ConnectorSort | None = Field(
        default=None, description="Sort key, '-' for descending (default created_at)."
    )
