"""Transactions: charging sessions as recorded by the central system (read-only here)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from management_api.schemas.common import ListParams, ResponseModel


class TransactionOut(ResponseModel):
    """A charging session; ``transaction_id`` is the OCPP id (integer text for 1.6)."""

    id: uuid.UUID
    station_id: uuid.UUID
    connector_number: int
    id_tag: str | None
    transaction_id: str
    started_at: datetime
    stopped_at: datetime | None
    meter_start_wh: float | None
    meter_stop_wh: float | None
    energy_wh: float | None
    stop_reason: str | None
    id_tag_status: str | None
    created_at: datetime
    updated_at: datetime


class TransactionListParams(ListParams):
    """Transaction list filters."""

    station_id: uuid.UUID | None = None
    id_tag: str | None = Field(default=None, min_length=1, max_length=36)
    active: bool | None = Field(default=None, description="true: running, false: finished.")
    started_after: AwareDatetime | None = Field(
        default=None, description="Started at or after this instant (with a timezone)."
    )
    started_before: AwareDatetime | None = Field(
        default=None, description="Started before this instant (with a timezone)."
    )
    sort: Literal["started_at", "-started_at", "created_at", "-created_at"] | None = Field(
        default=None, description="Sort key, '-' for descending (default -started_at)."
    )
