"""Storage of what chargers report: stations' live state, connectors, transactions, samples.

Two repositories, neither of which commits:

* ``StationAdmissionRepository`` works on a SQLAlchemy session (one unit of work per
  handshake): who may connect, and the Pending rows created for unknown chargers.
* ``ChargingBatchRepository`` works on the asyncpg connection of a group-commit batch: every
  method takes the rows of *many* messages and runs one set-based statement (``unnest`` of
  arrays, data-modifying CTEs), so a batch costs a handful of round trips however many chargers
  it serves. Each method is idempotent, which is what makes a retried message (or a batch
  replayed after an unknown commit outcome) harmless.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import Station
from core.domain.charging import (
    IdTagRecord,
    StationAdmission,
    StationRef,
    TransactionRecord,
)
from core.domain.enums import IdTagStatus, RegistrationStatus

_NAME_WIDTH = 32


class StationAdmissionRepository:
    """Handshake-time reads and writes of ``station`` rows (session based)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get_by_charge_point_id(self, charge_point_id: str) -> StationAdmission | None:
        """The live (not soft-deleted) station with this OCPP identity."""
        result = await self._session.execute(
            select(
                Station.id,
                Station.partner_id,
                Station.registration_status,
                Station.password_hash,
            ).where(Station.charge_point_id == charge_point_id, Station.deleted_at.is_(None))
        )
        row = result.one_or_none()
        if row is None:
            return None
        return StationAdmission(
            station=StationRef(row.id, charge_point_id, row.partner_id),
            registration_status=RegistrationStatus(row.registration_status),
            password_hash=row.password_hash,
        )

    async def add_pending(self, charge_point_id: str) -> StationAdmission | None:
        """Create a Pending, partner-less station; None when a concurrent handshake won."""
        stmt = (
            insert(Station)
            .values(
                charge_point_id=charge_point_id,
                name=charge_point_id[:_NAME_WIDTH],
                registration_status=RegistrationStatus.PENDING.value,
                partner_id=None,
            )
            .on_conflict_do_nothing(
                index_elements=[Station.charge_point_id],
                index_where=Station.deleted_at.is_(None),
            )
            .returning(Station.id)
        )
        station_id = (await self._session.execute(stmt)).scalar_one_or_none()
        if station_id is None:
            return None
        return StationAdmission(
            station=StationRef(station_id, charge_point_id, None),
            registration_status=RegistrationStatus.PENDING,
            password_hash=None,
            created=True,
        )

    async def mark_all_offline(self) -> int:
        """Clear stale online flags left by a process that died (single-node deployments)."""
        result = await self._session.execute(
            update(Station).where(Station.online.is_(True)).values(online=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


# --- rows of a batch -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectRow:
    """A charger's websocket was accepted."""

    station_id: uuid.UUID
    protocol: str
    ip_address: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class BootRow:
    """Identity a station reported at boot; ``ord`` ties the answer back to its message."""

    ord: int
    station_id: uuid.UUID
    vendor: str
    model: str
    serial_number: str | None
    firmware_version: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class BootRegistration:
    """What a boot found: the registration state and the partner, as stored now."""

    registration_status: RegistrationStatus
    partner_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class IdTagLookup:
    """An id tag presented at a station (looked up within the station's partner)."""

    ord: int
    station_id: uuid.UUID
    value: str


@dataclass(frozen=True, slots=True)
class StatusRow:
    """Latest status of connector ``connector_number`` (>= 1)."""

    ord: int
    station_id: uuid.UUID
    connector_number: int
    status: str
    error_code: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class StatusChange:
    """The status a connector had before, and whether the new one was stored.

    ``stored`` is False when the connector does not exist and cannot be created because the
    station type has fewer plugs.
    """

    previous_status: str | None
    previous_error_code: str | None
    stored: bool


@dataclass(frozen=True, slots=True)
class StartRow:
    """A transaction to create, or to find again when this is a retry.

    ``transaction_id`` is the id to use: a fresh random candidate when the central system
    assigns ids (then the retry key is station, connector, id tag, start time and meter start)
    or the charger's own id (then the retry key is station and id).
    """

    ord: int
    station_id: uuid.UUID
    connector_number: int
    id_tag: str | None
    id_tag_status: str | None
    started_at: datetime
    meter_start_wh: float | None
    transaction_id: str


@dataclass(frozen=True, slots=True)
class StartResult:
    """The transaction a start resolved to, and whether this start created it."""

    record: TransactionRecord
    created: bool


@dataclass(frozen=True, slots=True)
class TokenRow:
    """An id tag learned after the start (2.0.1 Updated); only fills an empty id tag."""

    station_id: uuid.UUID
    transaction_id: str
    id_tag: str
    id_tag_status: str


@dataclass(frozen=True, slots=True)
class SampleRow:
    """One sampled value; ``connector_number`` None = the transaction's connector."""

    ord: int
    station_id: uuid.UUID
    connector_number: int | None
    transaction_id: str | None
    time: datetime
    measurand: str
    value: float
    unit: str | None
    phase: str | None
    context: str | None
    location: str | None


@dataclass(frozen=True, slots=True)
class StopRow:
    """A transaction to end; ``meter_stop_wh`` None = the last energy register sample."""

    ord: int
    station_id: uuid.UUID
    transaction_id: str
    stopped_at: datetime
    meter_stop_wh: float | None
    reason: str


def _record(row: Any, prefix: str = "") -> TransactionRecord:
    return TransactionRecord(
        id=row[f"{prefix}id"],
        transaction_id=row[f"{prefix}transaction_id"],
        connector_number=row[f"{prefix}connector_number"],
        id_tag=row[f"{prefix}id_tag"],
        started_at=row[f"{prefix}started_at"],
        meter_start_wh=row[f"{prefix}meter_start_wh"],
        stopped_at=row[f"{prefix}stopped_at"],
        meter_stop_wh=row[f"{prefix}meter_stop_wh"],
        energy_wh=row[f"{prefix}energy_wh"],
        stop_reason=row[f"{prefix}stop_reason"],
    )


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


_ADMISSIONS = """
SELECT id, charge_point_id, partner_id, registration_status, password_hash
  FROM station
 WHERE charge_point_id = ANY($1::text[]) AND deleted_at IS NULL
"""

_MARK_CONNECTED = """
UPDATE station AS s
   SET online = true,
       ocpp_protocol = v.protocol,
       ip_address = COALESCE(v.ip::inet, s.ip_address),
       last_seen_at = v.at
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) AS v(id, protocol, ip, at)
 WHERE s.id = v.id
"""

_MARK_DISCONNECTED = """
UPDATE station AS s
   SET online = false, last_seen_at = v.at
  FROM unnest($1::uuid[], $2::timestamptz[]) AS v(id, at)
 WHERE s.id = v.id
"""

_TOUCH = """
UPDATE station AS s
   SET online = true, last_seen_at = v.at
  FROM unnest($1::uuid[], $2::timestamptz[]) AS v(id, at)
 WHERE s.id = v.id
"""

_BOOT = """
UPDATE station AS s
   SET vendor = v.vendor,
       model = v.model,
       serial_number = COALESCE(v.serial_number, s.serial_number),
       firmware_version = COALESCE(v.firmware_version, s.firmware_version),
       online = true,
       last_seen_at = v.at,
       updated_at = v.at
  FROM unnest($1::int[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
              $7::timestamptz[])
       AS v(ord, id, vendor, model, serial_number, firmware_version, at)
 WHERE s.id = v.id AND s.deleted_at IS NULL
RETURNING v.ord, s.registration_status, s.partner_id
"""

_ID_TAGS = """
SELECT v.ord, it.status, it.expires_at, it.parent_id_tag
  FROM unnest($1::int[], $2::uuid[], $3::text[]) AS v(ord, station_id, value)
  JOIN station s ON s.id = v.station_id
  JOIN id_tag it ON it.partner_id = s.partner_id AND it.value = v.value
"""

# Existing connectors are updated (no trigger fires for a status column); missing ones are
# created only within the station type's plug count, so the plug-count trigger never refuses
# a row and a stray connector number cannot fail a whole batch.
_STATUSES = """
WITH v AS (
    SELECT *
      FROM unnest($1::int[], $2::uuid[], $3::int[], $4::text[], $5::text[], $6::timestamptz[])
           AS v(ord, station_id, connector_number, status, error_code, at)
), old AS (
    SELECT v.ord, c.id, c.status, c.error_code
      FROM v
      JOIN connector c ON c.station_id = v.station_id AND c.connector_number = v.connector_number
), updated AS (
    UPDATE connector AS c
       SET status = v.status, error_code = v.error_code, status_updated_at = v.at
      FROM old JOIN v ON v.ord = old.ord
     WHERE c.id = old.id
), inserted AS (
    INSERT INTO connector (station_id, connector_number, status, error_code, status_updated_at)
    SELECT v.station_id, v.connector_number, v.status, v.error_code, v.at
      FROM v
      JOIN station s ON s.id = v.station_id
      LEFT JOIN station_type st ON st.id = s.type_id
     WHERE NOT EXISTS (SELECT 1 FROM old WHERE old.ord = v.ord)
       AND (st.plug_count IS NULL OR v.connector_number <= st.plug_count)
    ON CONFLICT (station_id, connector_number) DO NOTHING
    RETURNING station_id, connector_number
)
SELECT v.ord, old.status AS previous_status, old.error_code AS previous_error_code,
       (old.id IS NOT NULL OR ins.station_id IS NOT NULL) AS stored
  FROM v
  LEFT JOIN old ON old.ord = v.ord
  LEFT JOIN inserted ins
         ON ins.station_id = v.station_id AND ins.connector_number = v.connector_number
"""

_START_ASSIGNED = """
WITH v AS (
    SELECT *
      FROM unnest($1::int[], $2::uuid[], $3::int[], $4::text[], $5::text[], $6::timestamptz[],
                  $7::float8[], $8::text[])
           AS v(ord, station_id, connector_number, id_tag, id_tag_status, started_at,
                meter_start_wh, transaction_id)
), existing AS (
    SELECT DISTINCT ON (v.ord) v.ord, t.*
      FROM v
      JOIN transaction t
        ON t.station_id = v.station_id
       AND t.started_at = v.started_at
       AND t.connector_number = v.connector_number
       AND t.id_tag IS NOT DISTINCT FROM v.id_tag
       AND t.meter_start_wh IS NOT DISTINCT FROM v.meter_start_wh
     ORDER BY v.ord, t.created_at
), inserted AS (
    INSERT INTO transaction (station_id, connector_number, id_tag, id_tag_status, transaction_id,
                             started_at, meter_start_wh)
    SELECT v.station_id, v.connector_number, v.id_tag, v.id_tag_status, v.transaction_id,
           v.started_at, v.meter_start_wh
      FROM v
      JOIN station s ON s.id = v.station_id
     WHERE NOT EXISTS (SELECT 1 FROM existing e WHERE e.ord = v.ord)
    ON CONFLICT (station_id, transaction_id) DO NOTHING
    RETURNING station_id, id, transaction_id, connector_number, id_tag, started_at,
              meter_start_wh, stopped_at, meter_stop_wh, energy_wh, stop_reason
)
SELECT e.ord, false AS created, e.id, e.transaction_id, e.connector_number, e.id_tag,
       e.started_at, e.meter_start_wh, e.stopped_at, e.meter_stop_wh, e.energy_wh, e.stop_reason
  FROM existing e
UNION ALL
SELECT v.ord, true AS created, i.id, i.transaction_id, i.connector_number, i.id_tag,
       i.started_at, i.meter_start_wh, i.stopped_at, i.meter_stop_wh, i.energy_wh, i.stop_reason
  FROM inserted i
  JOIN v ON v.station_id = i.station_id AND v.transaction_id = i.transaction_id
"""

_START_GIVEN = """
WITH v AS (
    SELECT *
      FROM unnest($1::int[], $2::uuid[], $3::int[], $4::text[], $5::text[], $6::timestamptz[],
                  $7::float8[], $8::text[])
           AS v(ord, station_id, connector_number, id_tag, id_tag_status, started_at,
                meter_start_wh, transaction_id)
), inserted AS (
    INSERT INTO transaction (station_id, connector_number, id_tag, id_tag_status, transaction_id,
                             started_at, meter_start_wh)
    SELECT v.station_id, v.connector_number, v.id_tag, v.id_tag_status, v.transaction_id,
           v.started_at, v.meter_start_wh
      FROM v
      JOIN station s ON s.id = v.station_id
    ON CONFLICT (station_id, transaction_id) DO NOTHING
    RETURNING station_id, id, transaction_id, connector_number, id_tag, started_at,
              meter_start_wh, stopped_at, meter_stop_wh, energy_wh, stop_reason
)
SELECT v.ord, (i.id IS NOT NULL) AS created,
       COALESCE(i.id, t.id) AS id,
       v.transaction_id,
       COALESCE(i.connector_number, t.connector_number) AS connector_number,
       CASE WHEN i.id IS NULL THEN t.id_tag ELSE i.id_tag END AS id_tag,
       COALESCE(i.started_at, t.started_at) AS started_at,
       CASE WHEN i.id IS NULL THEN t.meter_start_wh ELSE i.meter_start_wh END AS meter_start_wh,
       t.stopped_at, t.meter_stop_wh, t.energy_wh, t.stop_reason
  FROM v
  LEFT JOIN inserted i ON i.station_id = v.station_id AND i.transaction_id = v.transaction_id
  LEFT JOIN transaction t ON t.station_id = v.station_id AND t.transaction_id = v.transaction_id
"""

_TOKENS = """
UPDATE transaction AS t
   SET id_tag = v.id_tag, id_tag_status = v.id_tag_status, updated_at = now()
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])
       AS v(station_id, transaction_id, id_tag, id_tag_status)
 WHERE t.station_id = v.station_id AND t.transaction_id = v.transaction_id AND t.id_tag IS NULL
"""

# A sample already stored for the same station, time, connector, measurand, phase, location
# and context is a retry, not a new reading: it is skipped (meter_value has no unique key, and
# cannot have one cheaply on a table this size). Returns the ords with at least one new sample.
_SAMPLES = """
WITH v AS (
    SELECT v.ord, v.time, v.station_id,
           COALESCE(v.connector_number, t.connector_number, 0) AS connector_number,
           t.id AS transaction_ref, v.measurand, v.value, v.unit, v.phase, v.context, v.location
      FROM unnest($1::int[], $2::uuid[], $3::int[], $4::text[], $5::timestamptz[], $6::text[],
                  $7::float8[], $8::text[], $9::text[], $10::text[], $11::text[])
           AS v(ord, station_id, connector_number, transaction_id, time, measurand, value, unit,
                phase, context, location)
      JOIN station s ON s.id = v.station_id
      LEFT JOIN transaction t
             ON t.station_id = v.station_id AND t.transaction_id = v.transaction_id
), fresh AS (
    SELECT DISTINCT ON (v.station_id, v.time, v.connector_number, v.measurand, v.phase,
                        v.location, v.context) v.*
      FROM v
     WHERE NOT EXISTS (
           SELECT 1 FROM meter_value m
            WHERE m.station_id = v.station_id
              AND m.time = v.time
              AND m.connector_number = v.connector_number
              AND m.measurand = v.measurand
              AND m.phase IS NOT DISTINCT FROM v.phase
              AND m.location IS NOT DISTINCT FROM v.location
              AND m.context IS NOT DISTINCT FROM v.context)
), inserted AS (
    INSERT INTO meter_value (time, station_id, connector_number, transaction_id, measurand, value,
                             unit, phase, context, location)
    SELECT time, station_id, connector_number, transaction_ref, measurand, value, unit, phase,
           context, location
      FROM fresh
)
SELECT DISTINCT ord FROM fresh
"""

# Energy comes from the stop's meter reading, else from the last Energy.Active.Import.Register
# sample stored for the transaction; a missing start reading falls back to a Transaction.Begin
# sample (without one, energy stays unknown rather than guessed). A stop time before the start
# (a charger clock jump) is clamped to the start so the row stays valid.
_STOPS = """
WITH v AS (
    SELECT *
      FROM unnest($1::int[], $2::uuid[], $3::text[], $4::timestamptz[], $5::float8[], $6::text[])
           AS v(ord, station_id, transaction_id, stopped_at, meter_stop_wh, reason)
), target AS (
    SELECT v.ord, t.id,
           GREATEST(v.stopped_at, t.started_at) AS stopped_at,
           COALESCE(v.meter_stop_wh, (
               SELECT CASE WHEN m.unit = 'kWh' THEN m.value * 1000 ELSE m.value END
                 FROM meter_value m
                WHERE m.transaction_id = t.id AND m.phase IS NULL
                  AND m.measurand = 'Energy.Active.Import.Register'
                ORDER BY m.time DESC LIMIT 1)) AS meter_stop_wh,
           COALESCE(t.meter_start_wh, (
               SELECT CASE WHEN m.unit = 'kWh' THEN m.value * 1000 ELSE m.value END
                 FROM meter_value m
                WHERE m.transaction_id = t.id AND m.phase IS NULL
                  AND m.measurand = 'Energy.Active.Import.Register'
                  AND m.context = 'Transaction.Begin'
                ORDER BY m.time ASC LIMIT 1)) AS meter_start_wh,
           v.reason
      FROM v
      JOIN transaction t
        ON t.station_id = v.station_id AND t.transaction_id = v.transaction_id
       AND t.stopped_at IS NULL
)
UPDATE transaction AS t
   SET stopped_at = g.stopped_at,
       meter_stop_wh = g.meter_stop_wh,
       meter_start_wh = g.meter_start_wh,
       energy_wh = g.meter_stop_wh - g.meter_start_wh,
       stop_reason = g.reason,
       updated_at = now()
  FROM target g
 WHERE t.id = g.id
RETURNING g.ord, t.id, t.transaction_id, t.connector_number, t.id_tag, t.started_at,
          t.meter_start_wh, t.stopped_at, t.meter_stop_wh, t.energy_wh, t.stop_reason
"""

_KNOWN_TRANSACTIONS = """
SELECT v.ord
  FROM unnest($1::int[], $2::uuid[], $3::text[]) AS v(ord, station_id, transaction_id)
  JOIN transaction t ON t.station_id = v.station_id AND t.transaction_id = v.transaction_id
"""


class ChargingBatchRepository:
    """Set-based writes of a group-commit batch, on the batch's asyncpg connection."""

    def __init__(self, connection: Any) -> None:
        self._conn = connection

    async def admissions(self, charge_point_ids: set[str]) -> dict[str, StationAdmission]:
        """The live (not soft-deleted) stations with these OCPP identities, by identity."""
        if not charge_point_ids:
            return {}
        # A bitmap scan here means the trigram index of the station search (gin_trgm_ops has
        # "=" too, and the planner costs it far too low): with similar identities (a fleet
        # named CP-00001...) that took ~1.7 s for 300 of 10,000 stations, 0.6 ms through the
        # unique btree. Only a plain index scan can use the btree and never the GIN index.
        await self._conn.execute("SET LOCAL enable_bitmapscan = off")
        try:
            records = await self._conn.fetch(_ADMISSIONS, list(charge_point_ids))
        finally:
            await self._conn.execute("SET LOCAL enable_bitmapscan TO DEFAULT")
        return {
            rec["charge_point_id"]: StationAdmission(
                station=StationRef(rec["id"], rec["charge_point_id"], rec["partner_id"]),
                registration_status=RegistrationStatus(rec["registration_status"]),
                password_hash=rec["password_hash"],
            )
            for rec in records
        }

    async def mark_connected(self, rows: Sequence[ConnectRow]) -> None:
        """Online, negotiated protocol, address and last-seen time."""
        if rows:
            await self._conn.execute(
                _MARK_CONNECTED,
                [r.station_id for r in rows],
                [r.protocol for r in rows],
                [r.ip_address for r in rows],
                [r.at for r in rows],
            )

    async def mark_disconnected(self, rows: Sequence[tuple[uuid.UUID, datetime]]) -> None:
        """Offline at once, with the time the socket closed."""
        if rows:
            await self._conn.execute(_MARK_DISCONNECTED, [r[0] for r in rows], [r[1] for r in rows])

    async def touch(self, rows: Sequence[tuple[uuid.UUID, datetime]]) -> None:
        """A heartbeat: the station is alive (and so online) at this time."""
        if rows:
            await self._conn.execute(_TOUCH, [r[0] for r in rows], [r[1] for r in rows])

    async def record_boots(self, rows: Sequence[BootRow]) -> dict[int, BootRegistration]:
        """Store boot identities; answer each live station's registration and partner."""
        if not rows:
            return {}
        records = await self._conn.fetch(
            _BOOT,
            [r.ord for r in rows],
            [r.station_id for r in rows],
            [r.vendor for r in rows],
            [r.model for r in rows],
            [r.serial_number for r in rows],
            [r.firmware_version for r in rows],
            [r.at for r in rows],
        )
        return {
            rec["ord"]: BootRegistration(
                RegistrationStatus(rec["registration_status"]), rec["partner_id"]
            )
            for rec in records
        }

    async def find_id_tags(self, lookups: Sequence[IdTagLookup]) -> dict[int, IdTagRecord]:
        """Id tags by value within each station's partner; absent ords are unknown tags."""
        if not lookups:
            return {}
        records = await self._conn.fetch(
            _ID_TAGS,
            [r.ord for r in lookups],
            [r.station_id for r in lookups],
            [r.value for r in lookups],
        )
        return {
            rec["ord"]: IdTagRecord(
                IdTagStatus(rec["status"]), rec["expires_at"], rec["parent_id_tag"]
            )
            for rec in records
        }

    async def record_statuses(self, rows: Sequence[StatusRow]) -> dict[int, StatusChange]:
        """Latest status per connector; rows must name each connector at most once."""
        if not rows:
            return {}
        records = await self._conn.fetch(
            _STATUSES,
            [r.ord for r in rows],
            [r.station_id for r in rows],
            [r.connector_number for r in rows],
            [r.status for r in rows],
            [r.error_code for r in rows],
            [r.at for r in rows],
        )
        return {
            rec["ord"]: StatusChange(
                rec["previous_status"], rec["previous_error_code"], rec["stored"]
            )
            for rec in records
        }

    async def start_transactions(
        self, rows: Sequence[StartRow], *, assigned_ids: bool
    ) -> dict[int, StartResult]:
        """Create transactions or find the ones these starts already created.

        With ``assigned_ids`` a row whose candidate id collided with another transaction of the
        station is left out of the answer: the caller retries it with a new candidate.
        """
        if not rows:
            return {}
        records = await self._conn.fetch(
            _START_ASSIGNED if assigned_ids else _START_GIVEN,
            [r.ord for r in rows],
            [r.station_id for r in rows],
            [r.connector_number for r in rows],
            [r.id_tag for r in rows],
            [r.id_tag_status for r in rows],
            [r.started_at for r in rows],
            [_float(r.meter_start_wh) for r in rows],
            [r.transaction_id for r in rows],
        )
        return {
            rec["ord"]: StartResult(_record(rec), rec["created"])
            for rec in records
            if rec["id"] is not None
        }

    async def learn_id_tags(self, rows: Sequence[TokenRow]) -> None:
        """Give transactions started without an id tag the one presented afterwards."""
        if rows:
            await self._conn.execute(
                _TOKENS,
                [r.station_id for r in rows],
                [r.transaction_id for r in rows],
                [r.id_tag for r in rows],
                [r.id_tag_status for r in rows],
            )

    async def add_samples(self, rows: Sequence[SampleRow]) -> set[int]:
        """Append samples, skipping ones already stored; return the ords that added any."""
        if not rows:
            return set()
        records = await self._conn.fetch(
            _SAMPLES,
            [r.ord for r in rows],
            [r.station_id for r in rows],
            [r.connector_number for r in rows],
            [r.transaction_id for r in rows],
            [r.time for r in rows],
            [r.measurand for r in rows],
            [float(r.value) for r in rows],
            [r.unit for r in rows],
            [r.phase for r in rows],
            [r.context for r in rows],
            [r.location for r in rows],
        )
        return {rec["ord"] for rec in records}

    async def stop_transactions(self, rows: Sequence[StopRow]) -> dict[int, TransactionRecord]:
        """End running transactions; rows must name each transaction at most once.

        Only transactions still running are returned, so a repeated stop changes nothing.
        """
        if not rows:
            return {}
        records = await self._conn.fetch(
            _STOPS,
            [r.ord for r in rows],
            [r.station_id for r in rows],
            [r.transaction_id for r in rows],
            [r.stopped_at for r in rows],
            [_float(r.meter_stop_wh) for r in rows],
            [r.reason for r in rows],
        )
        return {rec["ord"]: _record(rec) for rec in records}

    async def known_transactions(self, refs: Sequence[tuple[int, uuid.UUID, str]]) -> set[int]:
        """Which (ord, station, transaction id) name an existing transaction."""
        if not refs:
            return set()
        records = await self._conn.fetch(
            _KNOWN_TRANSACTIONS, [r[0] for r in refs], [r[1] for r in refs], [r[2] for r in refs]
        )
        return {rec["ord"] for rec in records}
