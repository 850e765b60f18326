"""Storage of what partners manage: partners, API clients, station types, sites, stations,
connectors, id tags, and the read side of transactions.

Repositories take a session and never commit. Every query of partner-owned rows takes the
caller's scope (``partner_id``; None = admin) so isolation is part of the WHERE clause, never a
check after the fact. Lists are keyset pages: ``(sort column, id) > (last value, last id)``,
ordered by the same pair, reading ``limit + 1`` rows so the service knows whether a next page
exists. Each filter and sort key rides an index of the fixed schema (named next to it).
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Select, delete, exists, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from core.db.models import (
    ApiClient,
    Connector,
    IdTag,
    Partner,
    Site,
    Station,
    StationType,
    Transaction,
)

R = TypeVar("R")

_FRESH = {"populate_existing": True}


# --- records ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartnerRecord:
    """A partner company."""

    id: uuid.UUID
    name: str
    created_at: datetime
    disabled_at: datetime | None


@dataclass(frozen=True, slots=True)
class ApiClientRecord:
    """An API client; the secret hash stays inside the repository and the auth service."""

    id: uuid.UUID
    client_id: str
    role: str
    partner_id: uuid.UUID | None
    created_at: datetime
    disabled_at: datetime | None


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """What authenticating a client needs: its record, its hash, and its partner's state."""

    client: ApiClientRecord
    secret_hash: str
    partner_disabled_at: datetime | None


@dataclass(frozen=True, slots=True)
class StationTypeRecord:
    """A hardware class of stations."""

    id: uuid.UUID
    name: str
    plug_count: int
    efficiency: Decimal
    current_type: str
    max_power_kw: Decimal
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SiteRecord:
    """A location grouping a partner's stations."""

    id: uuid.UUID
    partner_id: uuid.UUID
    name: str
    address: str | None
    latitude: float | None
    longitude: float | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ConnectorRecord:
    """One plug of a station with its latest reported status."""

    id: uuid.UUID
    station_id: uuid.UUID
    connector_number: int
    name: str | None
    priority: bool
    status: str | None
    error_code: str | None
    status_updated_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StationRecord:
    """A live (not deleted) station and its connectors, ordered by number."""

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
    ocpp_protocol: str | None
    registration_status: str
    online: bool
    last_seen_at: datetime | None
    created_at: datetime
    updated_at: datetime
    connectors: tuple[ConnectorRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class IdTagRecord:
    """An authorization token drivers present."""

    id: uuid.UUID
    partner_id: uuid.UUID
    value: str
    status: str
    expires_at: datetime | None
    parent_id_tag: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TransactionRecord:
    """A charging session as recorded by the central system."""

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


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}


def _field_names(cls: type[Any]) -> tuple[str, ...]:
    """``fields()`` walks the class' field dict on every call: ~15 us per record on a page."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def _record(cls: type[R], row: Any, **extra: Any) -> R:
    """Copy the dataclass' fields from an ORM row (the field names are the column names)."""
    values = {name: getattr(row, name) for name in _field_names(cls) if name not in extra}
    values.update(extra)
    return cls(**values)


def _station_record(row: Any, connectors: Iterable[ConnectorRecord] = ()) -> StationRecord:
    # asyncpg returns INET as ipaddress objects; the API speaks strings.
    ip = None if row.ip_address is None else str(row.ip_address)
    return _record(StationRecord, row, ip_address=ip, connectors=tuple(connectors))


#: Plain column selects for the hot reads (station pages, one station, their connectors): rows
#: instead of ORM objects skip the identity map and instance state, which cost ~20 us per object
#: (a page of 50 stations with 100 connectors: a few ms of CPU per request under load).
STATION_COLUMNS: tuple[Any, ...] = tuple(
    getattr(Station, f.name) for f in fields(StationRecord) if f.name != "connectors"
)
CONNECTOR_COLUMNS: tuple[Any, ...] = tuple(
    getattr(Connector, f.name) for f in fields(ConnectorRecord)
)


# --- keyset pages ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Keyset:
    """Where a page starts and how it is ordered: ``sort`` is a key of the list's sort map."""

    sort: str
    descending: bool
    after: tuple[Any, uuid.UUID] | None
    limit: int


SortMap = Mapping[str, InstrumentedAttribute[Any]]


def _keyset(stmt: Select[Any], sorts: SortMap, id_column: Any, keyset: Keyset) -> Select[Any]:
    """Add the keyset predicate and order; read one row more than the page to detect the end."""
    column = sorts[keyset.sort]
    if keyset.after is not None:
        value, last_id = keyset.after
        pair = tuple_(column, id_column)
        stmt = stmt.where(
            pair < tuple_(value, last_id) if keyset.descending else pair > tuple_(value, last_id)
        )
    if keyset.descending:
        stmt = stmt.order_by(column.desc(), id_column.desc())
    else:
        stmt = stmt.order_by(column.asc(), id_column.asc())
    return stmt.limit(keyset.limit + 1)


def contains_pattern(text: str) -> str:
    """An ILIKE pattern matching ``text`` anywhere, with its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _live_station(partner_id: uuid.UUID | None) -> list[ColumnElement[bool]]:
    """Deleted stations are gone for everyone; a partner sees only its own."""
    clauses: list[ColumnElement[bool]] = [Station.deleted_at.is_(None)]
    if partner_id is not None:
        clauses.append(Station.partner_id == partner_id)
    return clauses


def _owned(column: Any, partner_id: uuid.UUID | None) -> list[ColumnElement[bool]]:
    return [] if partner_id is None else [column == partner_id]


class _Repository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _rows(self, stmt: Any) -> list[Any]:
        result = await self._session.execute(stmt, execution_options=_FRESH)
        return list(result.scalars())

    async def _row(self, stmt: Any) -> Any:
        result = await self._session.execute(stmt, execution_options=_FRESH)
        return result.scalar_one_or_none()

    async def _tuples(self, stmt: Any) -> list[Any]:
        """Rows of a column select (read-only: no ORM objects to build)."""
        return list((await self._session.execute(stmt)).all())

    async def _tuple(self, stmt: Any) -> Any:
        return (await self._session.execute(stmt)).one_or_none()


# --- partners and clients --------------------------------------------------------------------

PARTNER_SORTS: SortMap = {"created_at": Partner.created_at, "name": Partner.name}


class PartnerRepository(_Repository):
    """Partners (admin only, so no scope)."""

    async def get(self, partner_id: uuid.UUID) -> PartnerRecord | None:
        """A partner by id."""
        row = await self._row(select(Partner).where(Partner.id == partner_id))
        return None if row is None else _record(PartnerRecord, row)

    async def list(self, keyset: Keyset) -> list[PartnerRecord]:
        """A page of partners (name: ``uq_partner_name``)."""
        stmt = _keyset(select(Partner), PARTNER_SORTS, Partner.id, keyset)
        return [_record(PartnerRecord, row) for row in await self._rows(stmt)]

    async def add(self, *, name: str) -> PartnerRecord:
        """Insert a partner."""
        row = await self._row(insert(Partner).values(name=name).returning(Partner))
        return _record(PartnerRecord, row)

    async def update(
        self, partner_id: uuid.UUID, values: Mapping[str, Any]
    ) -> PartnerRecord | None:
        """Change columns of a partner; None when it does not exist."""
        row = await self._row(
            update(Partner).where(Partner.id == partner_id).values(**values).returning(Partner)
        )
        return None if row is None else _record(PartnerRecord, row)

    async def delete(self, partner_id: uuid.UUID) -> bool:
        """Delete a partner (its clients, sites and id tags cascade; stations restrict)."""
        row = await self._row(delete(Partner).where(Partner.id == partner_id).returning(Partner.id))
        return row is not None


CLIENT_SORTS: SortMap = {"created_at": ApiClient.created_at, "client_id": ApiClient.client_id}


class ApiClientRepository(_Repository):
    """API clients and their secret hashes."""

    async def credentials(self, client_id: str) -> ClientCredentials | None:
        """The client, its hash and its partner's disabled state, in one round trip."""
        result = await self._session.execute(
            select(ApiClient, Partner.disabled_at)
            .outerjoin(Partner, Partner.id == ApiClient.partner_id)
            .where(ApiClient.client_id == client_id),
            execution_options=_FRESH,
        )
        found = result.one_or_none()
        if found is None:
            return None
        row, partner_disabled_at = found
        return ClientCredentials(
            _record(ApiClientRecord, row), row.secret_hash, partner_disabled_at
        )

    async def list_for_partner(
        self, partner_id: uuid.UUID, keyset: Keyset
    ) -> list[ApiClientRecord]:
        """A page of one partner's clients (``ix_api_client_partner_id``)."""
        stmt = _keyset(
            select(ApiClient).where(ApiClient.partner_id == partner_id),
            CLIENT_SORTS,
            ApiClient.id,
            keyset,
        )
        return [_record(ApiClientRecord, row) for row in await self._rows(stmt)]

    async def client_ids_of_partner(self, partner_id: uuid.UUID) -> list[str]:
        """Every client id of a partner (to kill their tokens when the partner changes)."""
        result = await self._session.execute(
            select(ApiClient.client_id).where(ApiClient.partner_id == partner_id)
        )
        return list(result.scalars())

    async def get_for_partner(
        self, partner_id: uuid.UUID, client_uuid: uuid.UUID
    ) -> ApiClientRecord | None:
        """One client of one partner."""
        row = await self._row(
            select(ApiClient).where(ApiClient.id == client_uuid, ApiClient.partner_id == partner_id)
        )
        return None if row is None else _record(ApiClientRecord, row)

    async def add(
        self, *, client_id: str, secret_hash: str, role: str, partner_id: uuid.UUID | None
    ) -> ApiClientRecord:
        """Insert a client."""
        row = await self._row(
            insert(ApiClient)
            .values(client_id=client_id, secret_hash=secret_hash, role=role, partner_id=partner_id)
            .returning(ApiClient)
        )
        return _record(ApiClientRecord, row)

    async def set_secret(self, client_id: str, secret_hash: str) -> None:
        """Replace a client's secret hash and enable it."""
        await self._session.execute(
            update(ApiClient)
            .where(ApiClient.client_id == client_id)
            .values(secret_hash=secret_hash, disabled_at=None)
        )

    async def delete(self, client_uuid: uuid.UUID) -> bool:
        """Delete a client."""
        row = await self._row(
            delete(ApiClient).where(ApiClient.id == client_uuid).returning(ApiClient.id)
        )
        return row is not None


# --- station types ---------------------------------------------------------------------------

STATION_TYPE_SORTS: SortMap = {
    "created_at": StationType.created_at,
    "name": StationType.name,
    "plug_count": StationType.plug_count,
    "max_power_kw": StationType.max_power_kw,
}


class StationTypeRepository(_Repository):
    """Station types: global, a handful of rows.

    Every scope sees every type, so the ``partner_id`` the reads and writes take changes
    nothing: it is there so types share the use cases of the scoped resources.
    """

    async def get(
        self, type_id: uuid.UUID, *, partner_id: uuid.UUID | None = None
    ) -> StationTypeRecord | None:
        """A station type by id."""
        row = await self._row(select(StationType).where(StationType.id == type_id))
        return None if row is None else _record(StationTypeRecord, row)

    async def list(self, *, current_type: str | None, keyset: Keyset) -> list[StationTypeRecord]:
        """A page of station types."""
        stmt = select(StationType)
        if current_type is not None:
            stmt = stmt.where(StationType.current_type == current_type)
        stmt = _keyset(stmt, STATION_TYPE_SORTS, StationType.id, keyset)
        return [_record(StationTypeRecord, row) for row in await self._rows(stmt)]

    async def add(self, values: Mapping[str, Any]) -> StationTypeRecord:
        """Insert a station type."""
        row = await self._row(insert(StationType).values(**values).returning(StationType))
        return _record(StationTypeRecord, row)

    async def update(
        self, type_id: uuid.UUID, values: Mapping[str, Any], *, partner_id: uuid.UUID | None = None
    ) -> StationTypeRecord | None:
        """Change columns; None when the type does not exist."""
        row = await self._row(
            update(StationType)
            .where(StationType.id == type_id)
            .values(**values)
            .returning(StationType)
        )
        return None if row is None else _record(StationTypeRecord, row)

    async def delete(self, type_id: uuid.UUID, *, partner_id: uuid.UUID | None = None) -> bool:
        """Delete a type (restricted by the stations that use it)."""
        row = await self._row(
            delete(StationType).where(StationType.id == type_id).returning(StationType.id)
        )
        return row is not None


# --- sites -----------------------------------------------------------------------------------

SITE_SORTS: SortMap = {"created_at": Site.created_at, "name": Site.name}


@dataclass(frozen=True, slots=True)
class SiteFilter:
    """Site list filters; None = not filtered."""

    owner: uuid.UUID | None = None


class SiteRepository(_Repository):
    """Sites, always scoped to the caller's partner."""

    async def get(self, site_id: uuid.UUID, *, partner_id: uuid.UUID | None) -> SiteRecord | None:
        """A site the scope may see."""
        row = await self._row(
            select(Site).where(Site.id == site_id, *_owned(Site.partner_id, partner_id))
        )
        return None if row is None else _record(SiteRecord, row)

    async def list(
        self, *, partner_id: uuid.UUID | None, filters: SiteFilter, keyset: Keyset
    ) -> list[SiteRecord]:
        """A page of sites (``uq_site_partner_id_name`` for a partner's sites)."""
        stmt = select(Site).where(*_owned(Site.partner_id, partner_id))
        if filters.owner is not None:
            stmt = stmt.where(Site.partner_id == filters.owner)
        stmt = _keyset(stmt, SITE_SORTS, Site.id, keyset)
        return [_record(SiteRecord, row) for row in await self._rows(stmt)]

    async def add(self, values: Mapping[str, Any]) -> SiteRecord:
        """Insert a site."""
        row = await self._row(insert(Site).values(**values).returning(Site))
        return _record(SiteRecord, row)

    async def update(
        self, site_id: uuid.UUID, values: Mapping[str, Any], *, partner_id: uuid.UUID | None
    ) -> SiteRecord | None:
        """Change columns of a visible site (and its ``updated_at``)."""
        row = await self._row(
            update(Site)
            .where(Site.id == site_id, *_owned(Site.partner_id, partner_id))
            .values(**values, updated_at=func.now())
            .returning(Site)
        )
        return None if row is None else _record(SiteRecord, row)

    async def delete(self, site_id: uuid.UUID, *, partner_id: uuid.UUID | None) -> bool:
        """Delete a visible site (its stations keep existing without a site)."""
        row = await self._row(
            delete(Site)
            .where(Site.id == site_id, *_owned(Site.partner_id, partner_id))
            .returning(Site.id)
        )
        return row is not None


# --- stations and connectors -----------------------------------------------------------------

STATION_SORTS: SortMap = {
    "created_at": Station.created_at,
    "name": Station.name,
    "charge_point_id": Station.charge_point_id,
}


@dataclass(frozen=True, slots=True)
class StationFilter:
    """Station list filters; None = not filtered."""

    owner: uuid.UUID | None = None
    type_id: uuid.UUID | None = None
    current_type: str | None = None
    site_id: uuid.UUID | None = None
    status: str | None = None
    online: bool | None = None
    firmware_version: str | None = None
    q: str | None = None


class StationRepository(_Repository):
    """Stations and their connectors; deleted stations are invisible here."""

    async def get(
        self, station_id: uuid.UUID, *, partner_id: uuid.UUID | None
    ) -> StationRecord | None:
        """A live station the scope may see, with its connectors."""
        row = await self._tuple(
            select(*STATION_COLUMNS).where(Station.id == station_id, *_live_station(partner_id))
        )
        if row is None:
            return None
        connectors = await ConnectorRepository(self._session).of_stations([row.id])
        return _station_record(row, connectors.get(row.id, ()))

    async def exists(self, station_id: uuid.UUID, *, partner_id: uuid.UUID | None) -> bool:
        """Whether a live station is visible to the scope."""
        row = await self._row(
            select(Station.id).where(Station.id == station_id, *_live_station(partner_id))
        )
        return row is not None

    async def list(
        self, *, partner_id: uuid.UUID | None, filters: StationFilter, keyset: Keyset
    ) -> list[StationRecord]:
        """A page of live stations with their connectors.

        Indexes: partner (``ix_station_partner_id_created_at_id``), type and current type
        (``ix_station_type_id``), site (``ix_station_site_id``), connector status
        (``ix_connector_status``), online (``ix_station_online``), firmware
        (``ix_station_firmware_version``), ``q`` (the two trigram indexes).
        """
        stmt = select(*STATION_COLUMNS).where(*_live_station(partner_id))
        if filters.owner is not None:
            stmt = stmt.where(Station.partner_id == filters.owner)
        if filters.type_id is not None:
            stmt = stmt.where(Station.type_id == filters.type_id)
        if filters.current_type is not None:
            stmt = stmt.where(
                Station.type_id.in_(
                    select(StationType.id).where(StationType.current_type == filters.current_type)
                )
            )
        if filters.site_id is not None:
            stmt = stmt.where(Station.site_id == filters.site_id)
        if filters.status is not None:
            stmt = stmt.where(
                exists().where(
                    Connector.station_id == Station.id, Connector.status == filters.status
                )
            )
        if filters.online is not None:
            stmt = stmt.where(Station.online.is_(filters.online))
        if filters.firmware_version is not None:
            stmt = stmt.where(Station.firmware_version == filters.firmware_version)
        if filters.q is not None:
            pattern = contains_pattern(filters.q)
            stmt = stmt.where(
                or_(
                    Station.name.ilike(pattern, escape="\\"),
                    Station.charge_point_id.ilike(pattern, escape="\\"),
                )
            )
        rows = await self._tuples(_keyset(stmt, STATION_SORTS, Station.id, keyset))
        connectors = await ConnectorRepository(self._session).of_stations([r.id for r in rows])
        return [_station_record(row, connectors.get(row.id, ())) for row in rows]

    async def add(self, values: Mapping[str, Any]) -> uuid.UUID:
        """Insert a station; returns its id."""
        result = await self._session.execute(insert(Station).values(**values).returning(Station.id))
        return uuid.UUID(str(result.scalar_one()))

    async def update(
        self, station_id: uuid.UUID, values: Mapping[str, Any], *, partner_id: uuid.UUID | None
    ) -> bool:
        """Change columns of a live, visible station; ``updated_at`` is the database's
        transaction time, so it never precedes ``created_at``."""
        result = await self._session.execute(
            update(Station)
            .where(Station.id == station_id, *_live_station(partner_id))
            .values(**values, updated_at=func.now())
            .returning(Station.id)
        )
        return result.scalar_one_or_none() is not None

    async def soft_delete(self, station_id: uuid.UUID, *, partner_id: uuid.UUID | None) -> bool:
        """Mark a live station deleted, which frees its name and charge_point_id."""
        result = await self._session.execute(
            update(Station)
            .where(Station.id == station_id, *_live_station(partner_id))
            .values(deleted_at=func.now(), updated_at=func.now())
            .returning(Station.id)
        )
        return result.scalar_one_or_none() is not None


CONNECTOR_SORTS: SortMap = {
    "created_at": Connector.created_at,
    "connector_number": Connector.connector_number,
}


@dataclass(frozen=True, slots=True)
class ConnectorFilter:
    """Connector list filters; None = not filtered."""

    station_id: uuid.UUID | None = None
    status: str | None = None
    priority: bool | None = None


def _visible_connector(partner_id: uuid.UUID | None) -> ColumnElement[bool]:
    return Connector.station_id.in_(select(Station.id).where(*_live_station(partner_id)))


class ConnectorRepository(_Repository):
    """Connectors, visible through their (live) station."""

    async def of_stations(
        self, station_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[ConnectorRecord]]:
        """Connectors of several stations, by station, ordered by number (one query)."""
        if not station_ids:
            return {}
        rows = await self._tuples(
            select(*CONNECTOR_COLUMNS)
            .where(Connector.station_id.in_(station_ids))
            .order_by(Connector.station_id, Connector.connector_number)
        )
        grouped: dict[uuid.UUID, list[ConnectorRecord]] = {}
        for row in rows:
            grouped.setdefault(row.station_id, []).append(_record(ConnectorRecord, row))
        return grouped

    async def get(
        self, connector_id: uuid.UUID, *, partner_id: uuid.UUID | None
    ) -> ConnectorRecord | None:
        """A connector of a live station the scope may see."""
        row = await self._row(
            select(Connector).where(Connector.id == connector_id, _visible_connector(partner_id))
        )
        return None if row is None else _record(ConnectorRecord, row)

    async def list(
        self, *, partner_id: uuid.UUID | None, filters: ConnectorFilter, keyset: Keyset
    ) -> list[ConnectorRecord]:
        """A page of connectors (station: ``uq_connector_station_id_connector_number``,
        status: ``ix_connector_status``, priority: ``uq_connector_station_id_priority``)."""
        stmt = select(Connector).where(_visible_connector(partner_id))
        if filters.station_id is not None:
            stmt = stmt.where(Connector.station_id == filters.station_id)
        if filters.status is not None:
            stmt = stmt.where(Connector.status == filters.status)
        if filters.priority is not None:
            stmt = stmt.where(Connector.priority.is_(filters.priority))
        stmt = _keyset(stmt, CONNECTOR_SORTS, Connector.id, keyset)
        return [_record(ConnectorRecord, row) for row in await self._rows(stmt)]

    async def add_many(
        self, station_id: uuid.UUID, items: Sequence[Mapping[str, Any]]
    ) -> builtins.list[ConnectorRecord]:
        """Insert connectors of one station in one statement."""
        if not items:
            return []
        rows = await self._rows(
            insert(Connector)
            .values([{**item, "station_id": station_id} for item in items])
            .returning(Connector)
        )
        return sorted((_record(ConnectorRecord, r) for r in rows), key=lambda c: c.connector_number)

    async def update(
        self, connector_id: uuid.UUID, values: Mapping[str, Any], *, partner_id: uuid.UUID | None
    ) -> ConnectorRecord | None:
        """Change columns of a visible connector."""
        row = await self._row(
            update(Connector)
            .where(Connector.id == connector_id, _visible_connector(partner_id))
            .values(**values)
            .returning(Connector)
        )
        return None if row is None else _record(ConnectorRecord, row)

    async def delete(self, connector_id: uuid.UUID, *, partner_id: uuid.UUID | None) -> bool:
        """Delete a visible connector."""
        row = await self._row(
            delete(Connector)
            .where(Connector.id == connector_id, _visible_connector(partner_id))
            .returning(Connector.id)
        )
        return row is not None


# --- id tags ---------------------------------------------------------------------------------

ID_TAG_SORTS: SortMap = {"created_at": IdTag.created_at, "value": IdTag.value}


@dataclass(frozen=True, slots=True)
class IdTagFilter:
    """Id tag list filters; None = not filtered."""

    owner: uuid.UUID | None = None
    value: str | None = None
    status: str | None = None


class IdTagRepository(_Repository):
    """Id tags, scoped to the caller's partner."""

    async def get(self, tag_id: uuid.UUID, *, partner_id: uuid.UUID | None) -> IdTagRecord | None:
        """An id tag the scope may see."""
        row = await self._row(
            select(IdTag).where(IdTag.id == tag_id, *_owned(IdTag.partner_id, partner_id))
        )
        return None if row is None else _record(IdTagRecord, row)

    async def list(
        self, *, partner_id: uuid.UUID | None, filters: IdTagFilter, keyset: Keyset
    ) -> list[IdTagRecord]:
        """A page of id tags (owner and value: ``uq_id_tag_partner_id_value``,
        value alone: ``ix_id_tag_value``)."""
        stmt = select(IdTag).where(*_owned(IdTag.partner_id, partner_id))
        if filters.owner is not None:
            stmt = stmt.where(IdTag.partner_id == filters.owner)
        if filters.value is not None:
            stmt = stmt.where(IdTag.value == filters.value)
        if filters.status is not None:
            stmt = stmt.where(IdTag.status == filters.status)
        stmt = _keyset(stmt, ID_TAG_SORTS, IdTag.id, keyset)
        return [_record(IdTagRecord, row) for row in await self._rows(stmt)]

    async def add(self, values: Mapping[str, Any]) -> IdTagRecord:
        """Insert an id tag."""
        row = await self._row(insert(IdTag).values(**values).returning(IdTag))
        return _record(IdTagRecord, row)

    async def update(
        self, tag_id: uuid.UUID, values: Mapping[str, Any], *, partner_id: uuid.UUID | None
    ) -> IdTagRecord | None:
        """Change columns of a visible id tag (and its ``updated_at``)."""
        row = await self._row(
            update(IdTag)
            .where(IdTag.id == tag_id, *_owned(IdTag.partner_id, partner_id))
            .values(**values, updated_at=func.now())
            .returning(IdTag)
        )
        return None if row is None else _record(IdTagRecord, row)

    async def delete(self, tag_id: uuid.UUID, *, partner_id: uuid.UUID | None) -> bool:
        """Delete a visible id tag."""
        row = await self._row(
            delete(IdTag)
            .where(IdTag.id == tag_id, *_owned(IdTag.partner_id, partner_id))
            .returning(IdTag.id)
        )
        return row is not None


# --- transactions (read side) ----------------------------------------------------------------

TRANSACTION_SORTS: SortMap = {
    "started_at": Transaction.started_at,
    "created_at": Transaction.created_at,
}


@dataclass(frozen=True, slots=True)
class TransactionFilter:
    """Transaction list filters; None = not filtered."""

    station_id: uuid.UUID | None = None
    id_tag: str | None = None
    active: bool | None = None
    started_after: datetime | None = None
    started_before: datetime | None = None


class TransactionRepository(_Repository):
    """Transactions of live stations the scope may see."""

    async def get(
        self, transaction_uuid: uuid.UUID, *, partner_id: uuid.UUID | None
    ) -> TransactionRecord | None:
        """One transaction."""
        row = await self._row(
            select(Transaction)
            .join(Station, Station.id == Transaction.station_id)
            .where(Transaction.id == transaction_uuid, *_live_station(partner_id))
        )
        return None if row is None else _record(TransactionRecord, row)

    async def list(
        self, *, partner_id: uuid.UUID | None, filters: TransactionFilter, keyset: Keyset
    ) -> list[TransactionRecord]:
        """A page of transactions (station: ``ix_transaction_station_id_started_at``, id tag:
        ``ix_transaction_id_tag``, active: ``ix_transaction_active``, time range and order:
        ``ix_transaction_started_at_id``)."""
        stmt = (
            select(Transaction)
            .join(Station, Station.id == Transaction.station_id)
            .where(*_live_station(partner_id))
        )
        if filters.station_id is not None:
            stmt = stmt.where(Transaction.station_id == filters.station_id)
        if filters.id_tag is not None:
            stmt = stmt.where(Transaction.id_tag == filters.id_tag)
        if filters.active is True:
            stmt = stmt.where(Transaction.stopped_at.is_(None))
        elif filters.active is False:
            stmt = stmt.where(Transaction.stopped_at.is_not(None))
        if filters.started_after is not None:
            stmt = stmt.where(Transaction.started_at >= filters.started_after)
        if filters.started_before is not None:
            stmt = stmt.where(Transaction.started_at < filters.started_before)
        stmt = _keyset(stmt, TRANSACTION_SORTS, Transaction.id, keyset)
        return [_record(TransactionRecord, row) for row in await self._rows(stmt)]
