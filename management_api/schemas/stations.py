"""Stations: registered chargers with their OCPP identity, live state and connectors."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, IPvAnyAddress

from core.domain.enums import ConnectorStatus, CurrentType, OcppProtocol, RegistrationStatus
from management_api.schemas.common import (
    ListParams,
    Omittable,
    PatchBody,
    RequestBody,
    ResponseModel,
)
from management_api.schemas.connectors import ConnectorCreate, ConnectorOut

CHARGE_POINT_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,48}$"
BASIC_AUTH_HELP = (
    "OCPP basic-auth password (security profile 1), 8..64 characters. Write-only: stored "
    "hashed, never returned; null removes it."
)
# Identity, ownership, state and secret, not description: a PUT keeps them unless it sends them.
KEPT_UNLESS_GIVEN = frozenset({"device_id", "partner_id", "registration_status", "ocpp_password"})


class StationReplace(RequestBody):
    """Every descriptive field of a station; PUT replaces them (omitted ones become null).

    ``device_id``, ``partner_id``, ``registration_status`` and ``ocpp_password`` are kept
    unless given.
    """

    name: str = Field(min_length=1, max_length=32, description="Unique within the partner.")
    charge_point_id: str = Field(
        pattern=CHARGE_POINT_ID_PATTERN, description="The OCPP identity, globally unique."
    )
    type_id: uuid.UUID
    site_id: uuid.UUID | None = None
    device_id: Omittable[uuid.UUID] = Field(
        default=None, description="Generated when omitted on create, kept when omitted on PUT."
    )
    ip_address: IPvAnyAddress | None = None
    firmware_version: str | None = Field(default=None, max_length=50)
    vendor: str | None = Field(default=None, max_length=50)
    model: str | None = Field(default=None, max_length=50)
    serial_number: str | None = Field(default=None, max_length=50)
    registration_status: Omittable[RegistrationStatus] = Field(default=None)
    partner_id: Omittable[uuid.UUID] = Field(
        default=None, description="Admin: the owner. Others may only name their own partner."
    )
    ocpp_password: str | None = Field(
        default=None, min_length=8, max_length=64, description=BASIC_AUTH_HELP
    )

    def values(self) -> dict[str, Any]:
        """Column values a PUT writes."""
        data = self.model_dump()
        for key in KEPT_UNLESS_GIVEN - self.model_fields_set:
            data.pop(key)
        return data


class StationCreate(StationReplace):
    """A station to register, optionally with its connectors."""

    connectors: list[ConnectorCreate] = Field(
        default_factory=list, max_length=16, description="Connectors created with the station."
    )

    def values(self) -> dict[str, Any]:
        """Column values of the station itself (connectors apart)."""
        return self.model_dump(exclude={"connectors"}, exclude_unset=True)


class StationPatch(PatchBody):
    """The station fields to change."""

    name: Omittable[str] = Field(default=None, min_length=1, max_length=32)
    charge_point_id: Omittable[str] = Field(default=None, pattern=CHARGE_POINT_ID_PATTERN)
    type_id: Omittable[uuid.UUID] = Field(default=None)
    site_id: uuid.UUID | None = None
    device_id: Omittable[uuid.UUID] = Field(default=None)
    ip_address: IPvAnyAddress | None = None
    firmware_version: str | None = Field(default=None, max_length=50)
    vendor: str | None = Field(default=None, max_length=50)
    model: str | None = Field(default=None, max_length=50)
    serial_number: str | None = Field(default=None, max_length=50)
    registration_status: Omittable[RegistrationStatus] = Field(default=None)
    partner_id: Omittable[uuid.UUID] = Field(
        default=None, description="Admin: move the station (or adopt a pending one)."
    )
    ocpp_password: str | None = Field(
        default=None, min_length=8, max_length=64, description=BASIC_AUTH_HELP
    )


class RunningTransactionOut(ResponseModel):
    """A charging session still running on a station, with the energy delivered so far."""

    id: uuid.UUID
    transaction_id: str = Field(description="The OCPP transaction id (integer text for 1.6).")
    connector_number: int
    id_tag: str | None
    started_at: datetime
    meter_start_wh: float | None
    energy_wh: float | None = Field(
        description="Energy so far from the last energy register sample; null without one."
    )
    energy_at: datetime | None = Field(description="When that sample was taken.")


class StationConnectorOut(ConnectorOut):
    """A connector as part of its station: its last reported status and running session."""

    active_transaction: RunningTransactionOut | None


class StationOut(ResponseModel):
    """A station and its live state; ``ocpp_password`` is write-only and never appears here.

    ``online``, ``last_seen_at``, each connector's status and error code and the running
    sessions are what the charger last reported.
    """

    id: uuid.UUID
    partner_id: uuid.UUID | None
    site_id: uuid.UUID | None
    type_id: uuid.UUID | None
    name: str
    charge_point_id: str
    device_id: uuid.UUID
    ip_address: str | None
    firmware_version: str | None
    vendor: str | None
    model: str | None
    serial_number: str | None
    ocpp_protocol: OcppProtocol | None = Field(description="Negotiated on connect (read-only).")
    registration_status: RegistrationStatus
    online: bool
    last_seen_at: datetime | None
    connectors: list[StationConnectorOut]
    active_transactions: list[RunningTransactionOut] = Field(
        description="Every running session, newest first (also on a connector number that "
        "has no connector record)."
    )
    created_at: datetime
    updated_at: datetime


StationSort = Literal[
    "created_at", "-created_at", "name", "-name", "charge_point_id", "-charge_point_id"
]


class StationListParams(ListParams):
    """Station list filters."""

    type_id: uuid.UUID | None = None
    current_type: CurrentType | None = None
    site_id: uuid.UUID | None = None
    status: ConnectorStatus | None = Field(
        default=None, description="Stations with at least one connector in this status."
    )
    online: bool | None = None
    firmware_version: str | None = Field(default=None, min_length=1, max_length=50)
    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=48,
        description="Case-insensitive substring of the name or the charge_point_id.",
    )
    partner_id: uuid.UUID | None = Field(default=None, description="Admin: one partner's stations.")
    sort: StationSort | None = Field(
        default=None, description="Sort key, '-' for descending (default created_at)."
    )
