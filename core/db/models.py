"""All ORM models in one module: the domain model of SPEC section 3.

Rules the database can hold live here as constraints (uniques, CHECKs, a partial unique index
for the single priority connector). The cross-table rule "connector_number <= plug_count" is a
trigger created by the first migration, because a CHECK cannot look at another table.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import INET, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base
from core.domain.enums import (
    ApiRole,
    CommandStatus,
    ConnectorStatus,
    CurrentType,
    IdTagStatus,
    OcppProtocol,
    RegistrationStatus,
)


def _in(column: str, enum: type[StrEnum]) -> str:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class Partner(Base):
    """A company that owns stations and talks to the API through its clients."""

    __tablename__ = "partner"

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    created_at: Mapped[datetime] = _created_at()
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("length(name) >= 1", name="name_not_empty"),)


class ApiClient(Base):
    """OAuth-style client credentials; the secret is stored only as a password hash."""

    __tablename__ = "api_client"

    id: Mapped[uuid.UUID] = _uuid_pk()
    client_id: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    secret_hash: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    partner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("partner.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = _created_at()
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(_in("role", ApiRole), name="role"),
        CheckConstraint("(role = 'admin') = (partner_id IS NULL)", name="partner_unless_admin"),
    )


class StationType(Base):
    """Hardware model class: how many plugs, which current, how efficient."""

    __tablename__ = "station_type"

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    plug_count: Mapped[int] = mapped_column(Integer, nullable=False)
    efficiency: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    current_type: Mapped[str] = mapped_column(String(2), nullable=False)
    max_power_kw: Mapped[Decimal] = mapped_column(Numeric(8, 2), nullable=False)
    created_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        CheckConstraint("plug_count BETWEEN 1 AND 16", name="plug_count_range"),
        CheckConstraint("efficiency > 0 AND efficiency <= 100", name="efficiency_range"),
        CheckConstraint(_in("current_type", CurrentType), name="current_type"),
        CheckConstraint("max_power_kw > 0", name="max_power_positive"),
        Index("ix_station_type_current_type", "current_type"),
    )


class Site(Base):
    """A location that groups a partner's stations."""

    __tablename__ = "site"

    id: Mapped[uuid.UUID] = _uuid_pk()
    partner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("partner.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    address: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Double)
    longitude: Mapped[float | None] = mapped_column(Double)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )

    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
        Index("uq_site_partner_id_name", "partner_id", "name", unique=True),
        Index("ix_site_partner_id_created_at_id", "partner_id", "created_at", "id"),
    )


class Station(Base):
    """A charging station: the seed's columns plus its OCPP identity and live state."""

    __tablename__ = "station"

    id: Mapped[uuid.UUID] = _uuid_pk()
    partner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("partner.id", ondelete="RESTRICT")
    )
    site_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("site.id", ondelete="SET NULL"), index=True
    )
    type_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("station_type.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(32), nullable=False)
    charge_point_id: Mapped[str] = mapped_column(String(48), nullable=False)
    device_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), nullable=False, unique=True, server_default=text("gen_random_uuid()")
    )
    ip_address: Mapped[str | None] = mapped_column(INET)
    firmware_version: Mapped[str | None] = mapped_column(String(50))
    vendor: Mapped[str | None] = mapped_column(String(50))
    model: Mapped[str | None] = mapped_column(String(50))
    serial_number: Mapped[str | None] = mapped_column(String(50))
    ocpp_protocol: Mapped[str | None] = mapped_column(String(16))
    registration_status: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default=RegistrationStatus.ACCEPTED.value
    )
    online: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_hash: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("length(name) BETWEEN 1 AND 32", name="name_length"),
        CheckConstraint(
            "charge_point_id ~ '^[A-Za-z0-9._:-]{1,48}$'", name="charge_point_id_format"
        ),
        CheckConstraint(
            "ocpp_protocol IS NULL OR " + _in("ocpp_protocol", OcppProtocol),
            name="ocpp_protocol",
        ),
        CheckConstraint(_in("registration_status", RegistrationStatus), name="registration"),
        CheckConstraint(
            "partner_id IS NOT NULL OR registration_status = 'Pending'",
            name="partner_unless_pending",
        ),
        # Soft-deleted rows keep their identity for history but free the name and the id.
        Index(
            "uq_station_charge_point_id_live",
            "charge_point_id",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(
            "uq_station_partner_id_name_live",
            "partner_id",
            "name",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        # Keyset pagination scans (created_at, id) in both directions.
        Index("ix_station_partner_id_created_at_id", "partner_id", "created_at", "id"),
        Index("ix_station_created_at_id", "created_at", "id"),
        Index("ix_station_name_id", "name", "id"),
        Index("ix_station_firmware_version", "firmware_version"),
        Index("ix_station_online", "online"),
        Index(
            "ix_station_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
        Index(
            "ix_station_charge_point_id_trgm",
            "charge_point_id",
            postgresql_using="gin",
            postgresql_ops={"charge_point_id": "gin_trgm_ops"},
        ),
    )


class Connector(Base):
    """One plug (1.6 connectorId / 2.0.1 evseId) of a station, with its latest status."""

    __tablename__ = "connector"

    id: Mapped[uuid.UUID] = _uuid_pk()
    station_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("station.id", ondelete="CASCADE"), nullable=False
    )
    connector_number: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str | None] = mapped_column(String(100))
    priority: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    status: Mapped[str | None] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(50))
    status_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        CheckConstraint("connector_number >= 1", name="connector_number_positive"),
        CheckConstraint("status IS NULL OR " + _in("status", ConnectorStatus), name="status"),
        Index(
            "uq_connector_station_id_connector_number",
            "station_id",
            "connector_number",
            unique=True,
        ),
        Index(
            "uq_connector_station_id_priority",
            "station_id",
            unique=True,
            postgresql_where=text("priority"),
        ),
        Index("ix_connector_status", "status"),
        Index("ix_connector_created_at_id", "created_at", "id"),
    )


class IdTag(Base):
    """An authorization token (RFID card, app id) a driver presents."""

    __tablename__ = "id_tag"

    id: Mapped[uuid.UUID] = _uuid_pk()
    partner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("partner.id", ondelete="CASCADE"), nullable=False
    )
    value: Mapped[str] = mapped_column(String(36), nullable=False)
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default=IdTagStatus.ACCEPTED.value
    )
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    parent_id_tag: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )

    __table_args__ = (
        CheckConstraint("length(value) BETWEEN 1 AND 36", name="value_length"),
        CheckConstraint(_in("status", IdTagStatus), name="status"),
        Index("uq_id_tag_partner_id_value", "partner_id", "value", unique=True),
        Index("ix_id_tag_value", "value"),
        Index("ix_id_tag_status", "status"),
        Index("ix_id_tag_partner_id_created_at_id", "partner_id", "created_at", "id"),
    )


class Transaction(Base):
    """A charging session; ``transaction_id`` is the OCPP id (integer text for 1.6)."""

    __tablename__ = "transaction"

    id: Mapped[uuid.UUID] = _uuid_pk()
    station_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("station.id", ondelete="CASCADE"), nullable=False
    )
    connector_number: Mapped[int] = mapped_column(Integer, nullable=False)
    id_tag: Mapped[str | None] = mapped_column(String(36))
    transaction_id: Mapped[str] = mapped_column(String(36), nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    meter_start_wh: Mapped[float | None] = mapped_column(Double)
    meter_stop_wh: Mapped[float | None] = mapped_column(Double)
    energy_wh: Mapped[float | None] = mapped_column(Double)
    stop_reason: Mapped[str | None] = mapped_column(String(32))
    id_tag_status: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )

    __table_args__ = (
        CheckConstraint("connector_number >= 0", name="connector_number_nonnegative"),
        CheckConstraint(
            "stopped_at IS NULL OR stopped_at >= started_at - interval '1 day'",
            name="stop_after_start",
        ),
        Index(
            "uq_transaction_station_id_transaction_id",
            "station_id",
            "transaction_id",
            unique=True,
        ),
        Index("ix_transaction_station_id_started_at", "station_id", "started_at"),
        Index("ix_transaction_started_at_id", "started_at", "id"),
        Index("ix_transaction_created_at_id", "created_at", "id"),
        Index("ix_transaction_id_tag", "id_tag"),
        Index(
            "ix_transaction_active",
            "station_id",
            "connector_number",
            postgresql_where=text("stopped_at IS NULL"),
        ),
    )


class MeterValue(Base):
    """One sampled value. Append-only and high volume: BRIN on time, btree per station."""

    __tablename__ = "meter_value"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    station_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("station.id", ondelete="CASCADE"), nullable=False
    )
    connector_number: Mapped[int] = mapped_column(Integer, nullable=False)
    transaction_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("transaction.id", ondelete="SET NULL")
    )
    measurand: Mapped[str] = mapped_column(String(64), nullable=False)
    value: Mapped[float] = mapped_column(Double, nullable=False)
    unit: Mapped[str | None] = mapped_column(String(16))
    phase: Mapped[str | None] = mapped_column(String(8))
    context: Mapped[str | None] = mapped_column(String(32))
    location: Mapped[str | None] = mapped_column(String(8))

    __table_args__ = (
        Index("ix_meter_value_time_brin", "time", postgresql_using="brin"),
        Index("ix_meter_value_station_id_time", "station_id", "time"),
        Index("ix_meter_value_transaction_id", "transaction_id"),
    )


class Command(Base):
    """Audit record and state machine of a remote command sent to a charger."""

    __tablename__ = "command"

    id: Mapped[uuid.UUID] = _uuid_pk()
    station_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("station.id", ondelete="CASCADE"), nullable=False
    )
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    requested_by: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default=CommandStatus.PENDING.value
    )
    queued: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    response: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(_in("status", CommandStatus), name="status"),
        Index("ix_command_station_id_requested_at", "station_id", "requested_at", "id"),
        Index(
            "ix_command_pending",
            "station_id",
            "requested_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )
