"""Reads of what stations report: scoped station lookups, live state, meter samples, aggregates.

Every query is bounded by the caller (a station and a time window, or a batch of station ids)
and rides an index of the fixed schema: ``ix_meter_value_station_id_time`` for history and
latest values, ``ix_transaction_active`` for running sessions, ``ix_meter_value_transaction_id``
for the energy of a running session.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Interval, Select, bindparam, func, literal, select, tuple_
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from core.db.models import MeterValue, Station

#: OCPP's default measurand, and the register the energy of a running session is read from.
ENERGY_REGISTER = "Energy.Active.Import.Register"


@dataclass(frozen=True, slots=True)
class StationRef:
    """The little of a station that scoping and routing need."""

    id: uuid.UUID
    partner_id: uuid.UUID | None
    charge_point_id: str


@dataclass(frozen=True, slots=True)
class MeterSample:
    """One stored sampled value."""

    id: int
    time: datetime
    connector_number: int
    transaction_id: uuid.UUID | None
    measurand: str
    value: float
    unit: str | None
    phase: str | None
    context: str | None
    location: str | None


@dataclass(frozen=True, slots=True)
class MeterBucket:
    """Aggregate of one series (measurand, connector, phase, unit) over one time bucket."""

    bucket_start: datetime
    measurand: str
    connector_number: int
    phase: str | None
    unit: str | None
    avg: float
    min: float
    max: float
    last: float
    last_at: datetime
    count: int


@dataclass(frozen=True, slots=True)
class LatestMetric:
    """Newest value of one series (measurand, connector, phase)."""

    measurand: str
    connector_number: int
    phase: str | None
    value: float
    unit: str | None
    time: datetime


@dataclass(frozen=True, slots=True)
class ActiveTransaction:
    """A session still running (no stop recorded) and the energy it delivered so far."""

    id: uuid.UUID
    transaction_id: str
    connector_number: int
    id_tag: str | None
    started_at: datetime
    meter_start_wh: float | None
    energy_wh: float | None
    energy_at: datetime | None


@dataclass(frozen=True, slots=True)
class ConnectorLiveState:
    """Latest status of one connector and its running session, if any."""

    id: uuid.UUID
    connector_number: int
    name: str | None
    priority: bool
    status: str | None
    error_code: str | None
    status_updated_at: datetime | None
    active_transaction: ActiveTransaction | None


@dataclass(frozen=True, slots=True)
class StationLiveState:
    """What a station looks like right now."""

    station_id: uuid.UUID
    online: bool
    last_seen_at: datetime | None
    connectors: list[ConnectorLiveState] = field(default_factory=list)
    #: Every running session, including any on a connector number that has no connector row.
    active_transactions: list[ActiveTransaction] = field(default_factory=list)


def _visible(partner_id: uuid.UUID | None) -> list[ColumnElement[bool]]:
    """Soft-deleted stations are gone for everyone; a partner sees only its own."""
    clauses: list[ColumnElement[bool]] = [Station.deleted_at.is_(None)]
    if partner_id is not None:
        clauses.append(Station.partner_id == partner_id)
    return clauses


def _distinct_on(stmt: Select[Any], *columns: Any) -> Select[Any]:
    """DISTINCT ON, spelled the SQLAlchemy 2.1 way when available (2.0 only knows the old one)."""
    extension = getattr(postgresql, "distinct_on", None)
    if extension is None:
        return stmt.distinct(*columns)
    return stmt.ext(extension(*columns))


def _to_wh(value: float, unit: str | None) -> float:
    """Energy registers come in Wh (the OCPP default) or kWh."""
    return value * 1000.0 if unit == "kWh" else value


class StationStateRepository:
    """Station lookups under a partner scope and the batch read of live state."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get_ref(
        self, station_id: uuid.UUID, *, partner_id: uuid.UUID | None
    ) -> StationRef | None:
        """The station if it exists and the scope may see it (``partner_id`` None = admin)."""
        row = (
            await self._session.execute(
                select(Station.id, Station.partner_id, Station.charge_point_id).where(
                    Station.id == station_id, *_visible(partner_id)
                )
            )
        ).one_or_none()
        return None if row is None else StationRef(row.id, row.partner_id, row.charge_point_id)

    async def live_state(
        self, station_ids: Sequence[uuid.UUID], *, partner_id: uuid.UUID | None
    ) -> dict[uuid.UUID, StationLiveState]:
        """Live state of every visible station of the batch, in four queries whatever its size.

        The four statements go straight to the driver on the session's connection (same
        transaction): through SQLAlchemy's ORM execute each cost ~0.7 ms of CPU to build,
        compile-cache and run, more than PostgreSQL spent on them, and this read is on every
        station response of the API.
        """
        if not station_ids:
            return {}
        driver = await _driver(self._session)
        ids = list(station_ids)
        if partner_id is None:
            stations = await driver.fetch(_LIVE_STATIONS, ids)
        else:
            stations = await driver.fetch(_LIVE_STATIONS_OF_PARTNER, ids, partner_id)
        visible = [row["id"] for row in stations]
        if not visible:
            return {}
        active = await self._active_transactions(driver, visible)
        by_station: dict[uuid.UUID, list[ConnectorLiveState]] = defaultdict(list)
        for connector in await driver.fetch(_LIVE_CONNECTORS, visible):
            station_id = connector["station_id"]
            by_station[station_id].append(
                ConnectorLiveState(
                    id=connector["id"],
                    connector_number=connector["connector_number"],
                    name=connector["name"],
                    priority=connector["priority"],
                    status=connector["status"],
                    error_code=connector["error_code"],
                    status_updated_at=connector["status_updated_at"],
                    active_transaction=_newest_on(
                        active.get(station_id, []), connector["connector_number"]
                    ),
                )
            )
        return {
            row["id"]: StationLiveState(
                station_id=row["id"],
                online=row["online"],
                last_seen_at=row["last_seen_at"],
                connectors=by_station.get(row["id"], []),
                active_transactions=active.get(row["id"], []),
            )
            for row in stations
        }

    async def _active_transactions(
        self, driver: Any, station_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[ActiveTransaction]]:
        """Running sessions per station, newest first, with the energy read so far."""
        transactions = await driver.fetch(_RUNNING_SESSIONS, station_ids)
        if not transactions:
            return {}
        registers: dict[uuid.UUID, tuple[float, float, datetime]] = {
            row["transaction_id"]: (
                _to_wh(row["fv"], row["fu"]),
                _to_wh(row["lv"], row["lu"]),
                row["last_at"],
            )
            for row in await driver.fetch(
                _ENERGY_REGISTERS, [tx["id"] for tx in transactions], ENERGY_REGISTER
            )
        }
        result: dict[uuid.UUID, list[ActiveTransaction]] = defaultdict(list)
        for tx in transactions:
            energy_wh: float | None = None
            energy_at: datetime | None = None
            reading = registers.get(tx["id"])
            if reading is not None:
                first_wh, last_wh, energy_at = reading
                start_wh = tx["meter_start_wh"]
                baseline = start_wh if start_wh is not None else first_wh
                delivered = last_wh - baseline
                # A register below the start value means a meter reset or a unit mix-up on the
                # charger's side: no number is better than a wrong one.
                energy_wh = delivered if delivered >= 0 else None
            result[tx["station_id"]].append(
                ActiveTransaction(
                    id=tx["id"],
                    transaction_id=tx["transaction_id"],
                    connector_number=tx["connector_number"],
                    id_tag=tx["id_tag"],
                    started_at=tx["started_at"],
                    meter_start_wh=tx["meter_start_wh"],
                    energy_wh=energy_wh,
                    energy_at=energy_at,
                )
            )
        return result


async def _driver(session: AsyncSession) -> Any:
    """The asyncpg connection under the session's (transaction's) connection."""
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None, "a checked-out connection always has its driver connection"
    return driver


_LIVE_STATIONS = (
    "SELECT id, online, last_seen_at FROM station WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL"
)
_LIVE_STATIONS_OF_PARTNER = _LIVE_STATIONS + " AND partner_id = $2"
_LIVE_CONNECTORS = (
    "SELECT id, station_id, connector_number, name, priority, status, error_code,"
    " status_updated_at FROM connector WHERE station_id = ANY($1::uuid[])"
    " ORDER BY station_id, connector_number"
)
_RUNNING_SESSIONS = (
    "SELECT id, station_id, transaction_id, connector_number, id_tag, started_at, meter_start_wh"
    ' FROM "transaction" WHERE station_id = ANY($1::uuid[]) AND stopped_at IS NULL'
    " ORDER BY station_id, started_at DESC"
)
#: First and last total (phase-less) energy register of each session.
_ENERGY_REGISTERS = (
    "SELECT transaction_id,"
    " (array_agg(value ORDER BY time, id))[1] AS fv,"
    " (array_agg(unit ORDER BY time, id))[1] AS fu,"
    " (array_agg(value ORDER BY time DESC, id DESC))[1] AS lv,"
    " (array_agg(unit ORDER BY time DESC, id DESC))[1] AS lu,"
    " max(time) AS last_at"
    " FROM meter_value WHERE transaction_id = ANY($1::uuid[]) AND measurand = $2"
    " AND phase IS NULL GROUP BY transaction_id"
)


def _newest_on(active: list[ActiveTransaction], connector_number: int) -> ActiveTransaction | None:
    """``active`` is newest first; a stale unstopped session must not hide the current one."""
    return next((tx for tx in active if tx.connector_number == connector_number), None)


class MeterValueRepository:
    """Time-range reads of one station's samples."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @staticmethod
    def _window(
        station_id: uuid.UUID,
        from_: datetime,
        to: datetime,
        measurands: Sequence[str] | None,
        connector_number: int | None,
    ) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = [
            MeterValue.station_id == station_id,
            MeterValue.time >= from_,
            MeterValue.time < to,
        ]
        if measurands:
            clauses.append(MeterValue.measurand.in_(measurands))
        if connector_number is not None:
            clauses.append(MeterValue.connector_number == connector_number)
        return clauses

    async def list_samples(
        self,
        *,
        station_id: uuid.UUID,
        from_: datetime,
        to: datetime,
        measurands: Sequence[str] | None,
        connector_number: int | None,
        after: tuple[datetime, int] | None,
        limit: int,
    ) -> list[MeterSample]:
        """Samples in ``[from_, to)`` ordered by (time, id), strictly after ``after``."""
        clauses = self._window(station_id, from_, to, measurands, connector_number)
        if after is not None:
            after_time, after_id = after
            # The plain range on time lets the (station_id, time) index start at the cursor;
            # the row comparison breaks ties between samples of the same instant.
            clauses.append(MeterValue.time >= after_time)
            clauses.append(tuple_(MeterValue.time, MeterValue.id) > tuple_(after_time, after_id))
        rows = (
            await self._session.execute(
                select(MeterValue)
                .where(*clauses)
                .order_by(MeterValue.time, MeterValue.id)
                .limit(limit)
            )
        ).scalars()
        return [
            MeterSample(
                id=row.id,
                time=row.time,
                connector_number=row.connector_number,
                transaction_id=row.transaction_id,
                measurand=row.measurand,
                value=row.value,
                unit=row.unit,
                phase=row.phase,
                context=row.context,
                location=row.location,
            )
            for row in rows
        ]

    async def aggregate(
        self,
        *,
        station_id: uuid.UUID,
        from_: datetime,
        to: datetime,
        bucket: timedelta,
        origin: datetime,
        measurands: Sequence[str] | None,
        connector_number: int | None,
        max_rows: int,
    ) -> list[MeterBucket]:
        """Per bucket and series: avg, min, max, last (by time, then id) and count.

        At most ``max_rows + 1`` rows come back so the caller can tell "exactly full" from
        "too many".
        """
        # date_bin is computed once in a subquery so GROUP BY and SELECT share one expression
        # (two copies would be two bind parameters, which PostgreSQL cannot prove equal).
        binned = (
            select(
                func.date_bin(
                    bindparam("bucket", bucket, type_=Interval()),
                    MeterValue.time,
                    literal(origin, DateTime(timezone=True)),
                ).label("bucket_start"),
                MeterValue.id,
                MeterValue.time,
                MeterValue.measurand,
                MeterValue.connector_number,
                MeterValue.phase,
                MeterValue.unit,
                MeterValue.value,
            )
            .where(*self._window(station_id, from_, to, measurands, connector_number))
            .subquery("binned")
        )
        c = binned.c
        newest = (c.time.desc(), c.id.desc())
        stmt = (
            select(
                c.bucket_start,
                c.measurand,
                c.connector_number,
                c.phase,
                c.unit,
                func.avg(c.value).label("avg"),
                func.min(c.value).label("min"),
                func.max(c.value).label("max"),
                func.array_agg(aggregate_order_by(c.value, *newest))[1].label("last"),
                func.max(c.time).label("last_at"),
                func.count().label("n"),
            )
            .group_by(c.bucket_start, c.measurand, c.connector_number, c.phase, c.unit)
            .order_by(c.bucket_start, c.measurand, c.connector_number, c.phase, c.unit)
            .limit(max_rows + 1)
        )
        return [
            MeterBucket(
                bucket_start=row.bucket_start,
                measurand=row.measurand,
                connector_number=row.connector_number,
                phase=row.phase,
                unit=row.unit,
                avg=float(row.avg),
                min=row.min,
                max=row.max,
                last=row.last,
                last_at=row.last_at,
                count=row.n,
            )
            for row in (await self._session.execute(stmt)).all()
        ]

    async def latest(
        self,
        *,
        station_id: uuid.UUID,
        since: datetime,
        measurands: Sequence[str] | None = None,
        connector_number: int | None = None,
    ) -> list[LatestMetric]:
        """Newest sample per (measurand, connector, phase) since ``since`` (DISTINCT ON)."""
        clauses: list[ColumnElement[bool]] = [
            MeterValue.station_id == station_id,
            MeterValue.time >= since,
        ]
        if measurands:
            clauses.append(MeterValue.measurand.in_(measurands))
        if connector_number is not None:
            clauses.append(MeterValue.connector_number == connector_number)
        series = (MeterValue.measurand, MeterValue.connector_number, MeterValue.phase)
        stmt = _distinct_on(select(MeterValue), *series).where(*clauses)
        stmt = stmt.order_by(*series, MeterValue.time.desc(), MeterValue.id.desc())
        return [
            LatestMetric(
                measurand=row.measurand,
                connector_number=row.connector_number,
                phase=row.phase,
                value=row.value,
                unit=row.unit,
                time=row.time,
            )
            for row in (await self._session.execute(stmt)).scalars()
        ]
