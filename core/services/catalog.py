"""Use cases of what partners manage: partners and their API clients, station types, sites,
stations with their connectors, id tags, and reading transactions.

Conventions shared with the other services: keyword-only parameters; ``uow`` is a factory of
units of work; ``partner_id`` is the caller's partner, None for an admin. A resource outside the
caller's scope raises ``NotFoundError`` exactly like a missing one, so nothing leaks about other
partners. Roles are enforced by the HTTP edge before these are called; what the body may contain
is validated there too, and the values arrive here as plain, typed mappings.

The database holds the rules that must survive concurrency (unique names and identities, one
priority connector, connector numbers within the type's plug count); their violations come back
as ``ConflictError`` with a sentence a partner can act on (``CONSTRAINT_MESSAGES``).
"""

from __future__ import annotations

import asyncio
import contextlib
import decimal
import ipaddress
import re
import secrets
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.errors import constraint_name
from core.domain.enums import ApiRole, RegistrationStatus
from core.errors import ConflictError, NotFoundError, ValidationFailedError
from core.pagination import Page, clamp_limit, decode_cursor, encode_cursor
from core.repositories.catalog import (
    CLIENT_SORTS,
    CONNECTOR_SORTS,
    ID_TAG_SORTS,
    PARTNER_SORTS,
    SITE_SORTS,
    STATION_SORTS,
    STATION_TYPE_SORTS,
    TRANSACTION_SORTS,
    ApiClientRecord,
    ApiClientRepository,
    ConnectorFilter,
    ConnectorRecord,
    ConnectorRepository,
    IdTagFilter,
    IdTagRecord,
    IdTagRepository,
    Keyset,
    PartnerRecord,
    PartnerRepository,
    SiteFilter,
    SiteRecord,
    SiteRepository,
    SortMap,
    StationFilter,
    StationRecord,
    StationRepository,
    StationTypeRecord,
    StationTypeRepository,
    TransactionFilter,
    TransactionRecord,
    TransactionRepository,
)
from core.security import hash_secret, new_secret
from core.services.auth import TokenService
from core.uow import UnitOfWork

UowFactory = Callable[[], UnitOfWork]


class _Identified(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


R = TypeVar("R", bound=_Identified)
R_co = TypeVar("R_co", bound=_Identified, covariant=True)
F_contra = TypeVar("F_contra", contravariant=True)


class _ScopedReads(Protocol[R_co]):
    """A repository whose rows a scope may not see read as missing."""

    async def get(self, item_id: uuid.UUID, /, *, partner_id: uuid.UUID | None) -> R_co | None: ...


class _ScopedRows(_ScopedReads[R_co], Protocol[R_co]):
    """A repository of scoped rows that are changed and removed one at a time."""

    async def update(
        self, item_id: uuid.UUID, values: Mapping[str, Any], /, *, partner_id: uuid.UUID | None
    ) -> R_co | None: ...

    async def delete(self, item_id: uuid.UUID, /, *, partner_id: uuid.UUID | None) -> bool: ...


class _Adds(Protocol[R_co]):
    """A repository that inserts one row from its column values."""

    async def add(self, values: Mapping[str, Any], /) -> R_co: ...


class _ScopedLists(Protocol[F_contra, R_co]):
    """A repository listing keyset pages of what a scope may see."""

    async def list(
        self, *, partner_id: uuid.UUID | None, filters: F_contra, keyset: Keyset
    ) -> Sequence[R_co]: ...


#: What each rule of the schema means to the partner who broke it.
CONSTRAINT_MESSAGES: dict[str, str] = {
    "uq_partner_name": "a partner with this name already exists",
    "uq_api_client_client_id": "an API client with this client_id already exists",
    "uq_station_type_name": "a station type with this name already exists",
    "fk_station_type_id_station_type": (
        "the station type is in use by stations (deleted stations keep their type for history)"
    ),
    "ck_station_type_plug_count_fits": (
        "stations of this type have connectors numbered above the new plug_count"
    ),
    "uq_site_partner_id_name": "the partner already has a site with this name",
    "uq_station_charge_point_id_live": "a station with this charge_point_id already exists",
    "uq_station_partner_id_name_live": "the partner already has a station with this name",
    "uq_station_device_id": "a station with this device_id already exists",
    "ck_station_type_fits_connectors": (
        "the station has connectors numbered above the new type's plug_count"
    ),
    "fk_station_partner_id_partner": (
        "the partner still has stations (deleted ones are kept for history); disable it instead"
    ),
    "uq_connector_station_id_connector_number": (
        "the station already has a connector with this connector_number"
    ),
    "uq_connector_station_id_priority": "station already has a priority connector",
    "ck_connector_within_plug_count": "connector_number exceeds the station type's plug_count",
    "uq_id_tag_partner_id_value": "the partner already has an id tag with this value",
}


def conflict_message(exc: IntegrityError) -> str:
    """A partner-readable sentence for a refused write."""
    name = constraint_name(exc)
    if name is None:
        return "the change conflicts with existing data"
    return CONSTRAINT_MESSAGES.get(name, f"the change conflicts with the rule {name}")


@contextlib.contextmanager
def constraint_conflicts() -> Iterator[None]:
    """Turn a constraint violation raised inside the block into a ``ConflictError``."""
    try:
        yield
    except IntegrityError as exc:
        raise ConflictError(conflict_message(exc)) from exc


def _invalid(field: str, message: str) -> ValidationFailedError:
    return ValidationFailedError(f"{field}: {message}", [{"field": field, "message": message}])


# --- lists -----------------------------------------------------------------------------------


def resolve_keyset(
    *, sorts: SortMap, sort: str | None, default: str, cursor: str | None, limit: int | None
) -> Keyset:
    """Validate ``sort``/``cursor``/``limit`` of a list; a cursor only fits the sort it was made
    for (it carries that sort), so changing the order mid-walk is a 422, not a wrong page."""
    spec = sort or default
    field = spec.removeprefix("-")
    if field not in sorts:
        allowed = ", ".join(f"{name}, -{name}" for name in sorts)
        raise _invalid("sort", f"must be one of {allowed}")
    size = clamp_limit(limit)
    after: tuple[Any, uuid.UUID] | None = None
    if cursor is not None:
        made_for, raw_value, last_id = decode_cursor(cursor, (str, str, uuid.UUID))
        if made_for != spec or raw_value is None or last_id is None:
            raise _invalid("cursor", "not a cursor of this list and sort order")
        after = (_cursor_value(sorts[field].type.python_type, raw_value), last_id)
    return Keyset(sort=field, descending=spec.startswith("-"), after=after, limit=size)


def _cursor_value(kind: type, raw: str) -> Any:
    """Cursors carry every sort value as text (``encode_cursor`` stringifies them)."""
    try:
        if kind is datetime:
            parsed = datetime.fromisoformat(raw)
            if parsed.tzinfo is None:
                raise ValueError("naive datetime")
            return parsed
        if kind is int:
            return int(raw)
        if kind is decimal.Decimal:
            return decimal.Decimal(raw)
        return raw
    except (ValueError, ArithmeticError) as exc:
        raise _invalid("cursor", "not a cursor of this list and sort order") from exc


def _page(records: Sequence[R], keyset: Keyset) -> Page[R]:
    """Cut the extra row read to detect the end, and make the cursor from the last row kept."""
    if len(records) <= keyset.limit:
        return Page(list(records), None)
    items = list(records[: keyset.limit])
    last = items[-1]
    spec = f"-{keyset.sort}" if keyset.descending else keyset.sort
    value = getattr(last, keyset.sort)
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return Page(items, encode_cursor([spec, text, last.id]))


def _list_owner(partner_id: uuid.UUID | None, owner: uuid.UUID | None) -> uuid.UUID | None:
    """The ``partner_id`` filter: any partner for an admin, only one's own for the others."""
    if partner_id is not None and owner is not None and owner != partner_id:
        raise _invalid("partner_id", "only an admin may filter by another partner")
    return owner


async def _owner_for_create(
    unit: UnitOfWork, partner_id: uuid.UUID | None, requested: uuid.UUID | None
) -> uuid.UUID:
    """The partner a new resource belongs to: required from an admin, implied for the others."""
    if partner_id is None:
        if requested is None:
            raise _invalid("partner_id", "required when an admin creates this resource")
        if await PartnerRepository(unit.session).get(requested) is None:
            raise _invalid("partner_id", "no partner with this id")
        return requested
    if requested is not None and requested != partner_id:
        raise _invalid("partner_id", "may only name the caller's own partner")
    return partner_id


def _only(values: Mapping[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"unexpected fields {sorted(unknown)}")
    return dict(values)


async def _scoped_page(
    uow: UowFactory,
    repository: Callable[[AsyncSession], _ScopedLists[F_contra, R]],
    keyset: Keyset,
    *,
    partner_id: uuid.UUID | None,
    filters: F_contra,
) -> Page[R]:
    """Read one page of a scoped list (the keyset is resolved, and the filters checked, first)."""
    async with uow() as unit:
        records = await repository(unit.session).list(
            partner_id=partner_id, filters=filters, keyset=keyset
        )
    return _page(records, keyset)


async def _scoped_get(
    uow: UowFactory,
    repository: Callable[[AsyncSession], _ScopedReads[R]],
    item_id: uuid.UUID,
    *,
    partner_id: uuid.UUID | None,
    missing: str,
) -> R:
    """One row the scope may see; ``missing`` is the 404's message otherwise."""
    async with uow() as unit:
        record = await repository(unit.session).get(item_id, partner_id=partner_id)
    if record is None:
        raise NotFoundError(missing)
    return record


async def _create_owned(
    uow: UowFactory,
    repository: Callable[[AsyncSession], _Adds[R]],
    data: dict[str, Any],
    *,
    partner_id: uuid.UUID | None,
) -> R:
    """Insert a row belonging to the caller's partner, or to the one an admin names."""
    async with uow() as unit:
        data["partner_id"] = await _owner_for_create(unit, partner_id, data.get("partner_id"))
        with constraint_conflicts():
            record = await repository(unit.session).add(data)
            await unit.commit()
    return record


@dataclass(frozen=True, slots=True)
class _Scoped(Generic[R]):
    """The read-change-remove use cases that sites, id tags, connectors and station types share:
    each resource names only its repository, the fields a change may carry and its 404."""

    repository: Callable[[AsyncSession], _ScopedRows[R]]
    fields: frozenset[str]
    missing: str

    async def get(self, uow: UowFactory, item_id: uuid.UUID, *, partner_id: uuid.UUID | None) -> R:
        """One row the scope may see."""
        return await _scoped_get(
            uow, self.repository, item_id, partner_id=partner_id, missing=self.missing
        )

    async def update(
        self,
        uow: UowFactory,
        item_id: uuid.UUID,
        values: Mapping[str, Any],
        *,
        partner_id: uuid.UUID | None,
    ) -> R:
        """Change a visible row; an empty change reads it, so PATCH {} still 404s when missing."""
        data = _only(values, self.fields)
        async with uow() as unit:
            repo = self.repository(unit.session)
            if not data:
                record = await repo.get(item_id, partner_id=partner_id)
            else:
                with constraint_conflicts():
                    record = await repo.update(item_id, data, partner_id=partner_id)
                    await unit.commit()
        if record is None:
            raise NotFoundError(self.missing)
        return record

    async def delete(
        self, uow: UowFactory, item_id: uuid.UUID, *, partner_id: uuid.UUID | None
    ) -> None:
        """Remove a visible row; a rule that still needs it is a conflict."""
        async with uow() as unit:
            with constraint_conflicts():
                found = await self.repository(unit.session).delete(item_id, partner_id=partner_id)
                await unit.commit()
        if not found:
            raise NotFoundError(self.missing)


# --- partners and their clients --------------------------------------------------------------

_PARTNER_FIELDS = frozenset({"name", "disabled"})


async def list_partners(
    *, uow: UowFactory, sort: str | None, cursor: str | None, limit: int | None
) -> Page[PartnerRecord]:
    """A page of partners."""
    keyset = resolve_keyset(
        sorts=PARTNER_SORTS, sort=sort, default="created_at", cursor=cursor, limit=limit
    )
    async with uow() as unit:
        return _page(await PartnerRepository(unit.session).list(keyset), keyset)


async def get_partner(*, uow: UowFactory, target_id: uuid.UUID) -> PartnerRecord:
    """One partner."""
    async with uow() as unit:
        record = await PartnerRepository(unit.session).get(target_id)
    if record is None:
        raise NotFoundError("partner not found")
    return record


async def create_partner(*, uow: UowFactory, name: str) -> PartnerRecord:
    """Onboard a partner."""
    async with uow() as unit:
        with constraint_conflicts():
            record = await PartnerRepository(unit.session).add(name=name)
            await unit.commit()
    return record


async def update_partner(
    *,
    uow: UowFactory,
    tokens: TokenService,
    target_id: uuid.UUID,
    values: Mapping[str, Any],
) -> PartnerRecord:
    """Rename, disable or re-enable a partner; disabling kills its clients' tokens at once."""
    changes = _only(values, _PARTNER_FIELDS)
    disable = changes.pop("disabled", None)
    async with uow() as unit:
        repo = PartnerRepository(unit.session)
        current = await repo.get(target_id)
        if current is None:
            raise NotFoundError("partner not found")
        if disable is True and current.disabled_at is None:
            changes["disabled_at"] = func.now()
        elif disable is False:
            changes["disabled_at"] = None
        record = current
        if changes:
            with constraint_conflicts():
                updated = await repo.update(target_id, changes)
                await unit.commit()
            assert updated is not None
            record = updated
        clients = await ApiClientRepository(unit.session).client_ids_of_partner(target_id)
    if record.disabled_at is not None:
        await tokens.kill_client_tokens(clients)
    return record


async def delete_partner(*, uow: UowFactory, tokens: TokenService, target_id: uuid.UUID) -> None:
    """Remove a partner with its clients, sites and id tags (409 while it has stations)."""
    async with uow() as unit:
        clients = await ApiClientRepository(unit.session).client_ids_of_partner(target_id)
        with constraint_conflicts():
            found = await PartnerRepository(unit.session).delete(target_id)
            await unit.commit()
    if not found:
        raise NotFoundError("partner not found")
    await tokens.kill_client_tokens(clients)


async def list_clients(
    *,
    uow: UowFactory,
    target_id: uuid.UUID,
    sort: str | None,
    cursor: str | None,
    limit: int | None,
) -> Page[ApiClientRecord]:
    """A page of a partner's API clients (never their secrets)."""
    keyset = resolve_keyset(
        sorts=CLIENT_SORTS, sort=sort, default="created_at", cursor=cursor, limit=limit
    )
    async with uow() as unit:
        if await PartnerRepository(unit.session).get(target_id) is None:
            raise NotFoundError("partner not found")
        records = await ApiClientRepository(unit.session).list_for_partner(target_id, keyset)
    return _page(records, keyset)


async def create_client(
    *,
    uow: UowFactory,
    target_id: uuid.UUID,
    role: ApiRole,
    client_id: str | None,
) -> tuple[ApiClientRecord, str]:
    """Give a partner an operator or viewer client; the secret is returned this once only."""
    if role is ApiRole.ADMIN:
        raise _invalid("role", "partner clients are operators or viewers")
    secret = new_secret()
    secret_hash = await asyncio.to_thread(hash_secret, secret)
    async with uow() as unit:
        if await PartnerRepository(unit.session).get(target_id) is None:
            raise NotFoundError("partner not found")
        with constraint_conflicts():
            record = await ApiClientRepository(unit.session).add(
                client_id=client_id or f"client-{secrets.token_hex(8)}",
                secret_hash=secret_hash,
                role=role.value,
                partner_id=target_id,
            )
            await unit.commit()
    return record, secret


async def delete_client(
    *, uow: UowFactory, tokens: TokenService, target_id: uuid.UUID, client_uuid: uuid.UUID
) -> None:
    """Remove one of a partner's clients; its token dies with it."""
    async with uow() as unit:
        repo = ApiClientRepository(unit.session)
        record = await repo.get_for_partner(target_id, client_uuid)
        if record is None:
            raise NotFoundError("API client not found")
        await repo.delete(client_uuid)
        await unit.commit()
    await tokens.kill_client_tokens([record.client_id])


# --- station types ---------------------------------------------------------------------------

_STATION_TYPE_FIELDS = frozenset(
    {"name", "plug_count", "efficiency", "current_type", "max_power_kw"}
)
_STATION_TYPES = _Scoped(StationTypeRepository, _STATION_TYPE_FIELDS, "station type not found")


async def list_station_types(
    *,
    uow: UowFactory,
    current_type: str | None,
    sort: str | None,
    cursor: str | None,
    limit: int | None,
) -> Page[StationTypeRecord]:
    """A page of station types (every role may read them)."""
    keyset = resolve_keyset(
        sorts=STATION_TYPE_SORTS, sort=sort, default="created_at", cursor=cursor, limit=limit
    )
    async with uow() as unit:
        records = await StationTypeRepository(unit.session).list(
            current_type=current_type, keyset=keyset
        )
    return _page(records, keyset)


async def get_station_type(*, uow: UowFactory, type_id: uuid.UUID) -> StationTypeRecord:
    """One station type."""
    return await _STATION_TYPES.get(uow, type_id, partner_id=None)


async def create_station_type(*, uow: UowFactory, values: Mapping[str, Any]) -> StationTypeRecord:
    """Add a station type (admin)."""
    data = _only(values, _STATION_TYPE_FIELDS)
    async with uow() as unit:
        with constraint_conflicts():
            record = await StationTypeRepository(unit.session).add(data)
            await unit.commit()
    return record


async def update_station_type(
    *, uow: UowFactory, type_id: uuid.UUID, values: Mapping[str, Any]
) -> StationTypeRecord:
    """Change a station type (admin); fewer plugs than connectors in use is a conflict."""
    return await _STATION_TYPES.update(uow, type_id, values, partner_id=None)


async def delete_station_type(*, uow: UowFactory, type_id: uuid.UUID) -> None:
    """Remove a station type (admin); a type in use is a conflict."""
    await _STATION_TYPES.delete(uow, type_id, partner_id=None)


# --- sites -----------------------------------------------------------------------------------

_SITES = _Scoped(
    SiteRepository, frozenset({"name", "address", "latitude", "longitude"}), "site not found"
)


async def list_sites(
    *,
    uow: UowFactory,
    partner_id: uuid.UUID | None,
    owner: uuid.UUID | None,
    sort: str | None,
    cursor: str | None,
    limit: int | None,
) -> Page[SiteRecord]:
    """A page of the caller's sites (an admin may filter by ``owner``)."""
    keyset = resolve_keyset(
        sorts=SITE_SORTS, sort=sort, default="created_at", cursor=cursor, limit=limit
    )
    filters = SiteFilter(owner=_list_owner(partner_id, owner))
    return await _scoped_page(uow, SiteRepository, keyset, partner_id=partner_id, filters=filters)


async def get_site(
    *, uow: UowFactory, partner_id: uuid.UUID | None, site_id: uuid.UUID
) -> SiteRecord:
    """One site of the caller's."""
    return await _SITES.get(uow, site_id, partner_id=partner_id)


async def create_site(
    *, uow: UowFactory, partner_id: uuid.UUID | None, values: Mapping[str, Any]
) -> SiteRecord:
    """Add a site to the caller's partner (an admin names the partner)."""
    data = _only(values, _SITES.fields | {"partner_id"})
    return await _create_owned(uow, SiteRepository, data, partner_id=partner_id)


async def update_site(
    *,
    uow: UowFactory,
    partner_id: uuid.UUID | None,
    site_id: uuid.UUID,
    values: Mapping[str, Any],
) -> SiteRecord:
    """Change a site of the caller's."""
    return await _SITES.update(uow, site_id, values, partner_id=partner_id)


async def delete_site(*, uow: UowFactory, partner_id: uuid.UUID | None, site_id: uuid.UUID) -> None:
    """Remove a site; its stations stay, without a site."""
    await _SITES.delete(uow, site_id, partner_id=partner_id)


# --- stations --------------------------------------------------------------------------------

_STATION_FIELDS = frozenset(
    {
        "name",
        "charge_point_id",
        "type_id",
        "site_id",
        "device_id",
        "ip_address",
        "firmware_version",
        "vendor",
        "model",
        "serial_number",
        "registration_status",
        "partner_id",
        "ocpp_password",
    }
)
_CONNECTORS = _Scoped(
    ConnectorRepository, frozenset({"connector_number", "name", "priority"}), "connector not found"
)
_CHARGE_POINT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,48}$")


async def list_stations(
    *,
    uow: UowFactory,
    partner_id: uuid.UUID | None,
    filters: StationFilter,
    sort: str | None,
    cursor: str | None,
    limit: int | None,
) -> Page[StationRecord]:
    """A page of the caller's live stations, filtered."""
    keyset = resolve_keyset(
        sorts=STATION_SORTS, sort=sort, default="created_at", cursor=cursor, limit=limit
    )
    _list_owner(partner_id, filters.owner)
    return await _scoped_page(
        uow, StationRepository, keyset, partner_id=partner_id, filters=filters
    )


async def get_station(
    *, uow: UowFactory, partner_id: uuid.UUID | None, station_id: uuid.UUID
) -> StationRecord:
    """One live station of the caller's, with its connectors."""
    return await _scoped_get(
        uow, StationRepository, station_id, partner_id=partner_id, missing="station not found"
    )


async def _station_columns(data: dict[str, Any]) -> dict[str, Any]:
    """API values to column values: the password is hashed, the address stored as text."""
    if "ocpp_password" in data:
        password = data.pop("ocpp_password")
        data["password_hash"] = (
            None if password is None else await asyncio.to_thread(hash_secret, password)
        )
    if data.get("ip_address") is not None:
        data["ip_address"] = str(ipaddress.ip_address(str(data["ip_address"])))
    if "registration_status" in data:
        data["registration_status"] = RegistrationStatus(data["registration_status"]).value
    if "charge_point_id" in data and not _CHARGE_POINT_ID.match(data["charge_point_id"]):
        raise _invalid("charge_point_id", "1..48 characters of A-Z a-z 0-9 . _ - :")
    return data


async def _check_references(
    unit: UnitOfWork,
    *,
    owner: uuid.UUID | None,
    type_id: uuid.UUID | None,
    site_id: uuid.UUID | None,
) -> None:
    """A station's type must exist and its site must belong to the station's partner."""
    if type_id is not None and await StationTypeRepository(unit.session).get(type_id) is None:
        raise _invalid("type_id", "no station type with this id")
    if site_id is not None and (
        owner is None or await SiteRepository(unit.session).get(site_id, partner_id=owner) is None
    ):
        raise _invalid("site_id", "no site with this id belongs to the station's partner")


async def create_station(
    *,
    uow: UowFactory,
    partner_id: uuid.UUID | None,
    values: Mapping[str, Any],
    connectors: Sequence[Mapping[str, Any]] = (),
) -> StationRecord:
    """Register a station, with its connectors, in one transaction."""
    data = await _station_columns(_only(values, _STATION_FIELDS))
    items = [_only(item, _CONNECTORS.fields) for item in connectors]
    async with uow() as unit:
        owner = await _owner_for_create(unit, partner_id, data.get("partner_id"))
        data["partner_id"] = owner
        await _check_references(
            unit, owner=owner, type_id=data.get("type_id"), site_id=data.get("site_id")
        )
        with constraint_conflicts():
            station_id = await StationRepository(unit.session).add(data)
            await ConnectorRepository(unit.session).add_many(station_id, items)
            await unit.commit()
        record = await StationRepository(unit.session).get(station_id, partner_id=None)
    assert record is not None
    return record


async def update_station(
    *,
    uow: UowFactory,
    partner_id: uuid.UUID | None,
    station_id: uuid.UUID,
    values: Mapping[str, Any],
) -> StationRecord:
    """Change a live station of the caller's (PUT passes every field, PATCH the given ones)."""
    data = await _station_columns(_only(values, _STATION_FIELDS))
    async with uow() as unit:
        repo = StationRepository(unit.session)
        current = await repo.get(station_id, partner_id=partner_id)
        if current is None:
            raise NotFoundError("station not found")
        owner = current.partner_id
        if "partner_id" in data:
            if partner_id is not None and data["partner_id"] != partner_id:
                raise _invalid("partner_id", "may only name the caller's own partner")
            if data["partner_id"] != owner:
                owner = await _owner_for_create(unit, None, data["partner_id"])
        site_id = data.get("site_id", current.site_id)
        await _check_references(unit, owner=owner, type_id=data.get("type_id"), site_id=site_id)
        status = data.get("registration_status", current.registration_status)
        if owner is None and status != RegistrationStatus.PENDING.value:
            raise _invalid("registration_status", "a station without a partner stays Pending")
        if data:
            with constraint_conflicts():
                await repo.update(station_id, data, partner_id=partner_id)
                await unit.commit()
        record = await repo.get(station_id, partner_id=None)
    assert record is not None
    return record


async def delete_station(
    *, uow: UowFactory, partner_id: uuid.UUID | None, station_id: uuid.UUID
) -> None:
    """Soft-delete a station: it disappears from the API and frees its name and identity."""
    async with uow() as unit:
        found = await StationRepository(unit.session).soft_delete(station_id, partner_id=partner_id)
        await unit.commit()
    if not found:
        raise NotFoundError("station not found")


# --- connectors ------------------------------------------------------------------------------


async def list_connectors(
    *,
    uow: UowFactory,
    partner_id: uuid.UUID | None,
    filters: ConnectorFilter,
    sort: str | None,
    cursor: str | None,
    limit: int | None,
    station_must_exist: bool = False,
) -> Page[ConnectorRecord]:
    """A page of connectors of the caller's live stations.

    ``station_must_exist`` is for ``/stations/{id}/connectors``: there an unknown station is a
    404, while as a filter of ``/connectors`` it simply matches nothing.
    """
    keyset = resolve_keyset(
        sorts=CONNECTOR_SORTS,
        sort=sort,
        default="connector_number" if station_must_exist else "created_at",
        cursor=cursor,
        limit=limit,
    )
    async with uow() as unit:
        if (
            station_must_exist
            and filters.station_id is not None
            and not await StationRepository(unit.session).exists(
                filters.station_id, partner_id=partner_id
            )
        ):
            raise NotFoundError("station not found")
        records = await ConnectorRepository(unit.session).list(
            partner_id=partner_id, filters=filters, keyset=keyset
        )
    return _page(records, keyset)


async def get_connector(
    *, uow: UowFactory, partner_id: uuid.UUID | None, connector_id: uuid.UUID
) -> ConnectorRecord:
    """One connector of the caller's live stations."""
    return await _CONNECTORS.get(uow, connector_id, partner_id=partner_id)


async def create_connector(
    *,
    uow: UowFactory,
    partner_id: uuid.UUID | None,
    station_id: uuid.UUID,
    values: Mapping[str, Any],
) -> ConnectorRecord:
    """Add a connector to a station (numbered within plug_count, at most one priority)."""
    item = _only(values, _CONNECTORS.fields)
    async with uow() as unit:
        if not await StationRepository(unit.session).exists(station_id, partner_id=partner_id):
            raise NotFoundError("station not found")
        with constraint_conflicts():
            (record,) = await ConnectorRepository(unit.session).add_many(station_id, [item])
            await unit.commit()
    return record


async def update_connector(
    *,
    uow: UowFactory,
    partner_id: uuid.UUID | None,
    connector_id: uuid.UUID,
    values: Mapping[str, Any],
) -> ConnectorRecord:
    """Change a connector's number, name or priority (status is reported by the charger)."""
    return await _CONNECTORS.update(uow, connector_id, values, partner_id=partner_id)


async def delete_connector(
    *, uow: UowFactory, partner_id: uuid.UUID | None, connector_id: uuid.UUID
) -> None:
    """Remove a connector."""
    await _CONNECTORS.delete(uow, connector_id, partner_id=partner_id)


# --- id tags ---------------------------------------------------------------------------------

_ID_TAGS = _Scoped(
    IdTagRepository,
    frozenset({"value", "status", "expires_at", "parent_id_tag"}),
    "id tag not found",
)


async def list_id_tags(
    *,
    uow: UowFactory,
    partner_id: uuid.UUID | None,
    filters: IdTagFilter,
    sort: str | None,
    cursor: str | None,
    limit: int | None,
) -> Page[IdTagRecord]:
    """A page of the caller's id tags."""
    keyset = resolve_keyset(
        sorts=ID_TAG_SORTS, sort=sort, default="created_at", cursor=cursor, limit=limit
    )
    _list_owner(partner_id, filters.owner)
    return await _scoped_page(uow, IdTagRepository, keyset, partner_id=partner_id, filters=filters)


async def get_id_tag(
    *, uow: UowFactory, partner_id: uuid.UUID | None, tag_id: uuid.UUID
) -> IdTagRecord:
    """One id tag of the caller's."""
    return await _ID_TAGS.get(uow, tag_id, partner_id=partner_id)


async def create_id_tag(
    *, uow: UowFactory, partner_id: uuid.UUID | None, values: Mapping[str, Any]
) -> IdTagRecord:
    """Add an id tag to the caller's partner (an admin names the partner)."""
    data = _only(values, _ID_TAGS.fields | {"partner_id"})
    return await _create_owned(uow, IdTagRepository, data, partner_id=partner_id)


async def update_id_tag(
    *,
    uow: UowFactory,
    partner_id: uuid.UUID | None,
    tag_id: uuid.UUID,
    values: Mapping[str, Any],
) -> IdTagRecord:
    """Change an id tag of the caller's."""
    return await _ID_TAGS.update(uow, tag_id, values, partner_id=partner_id)


async def delete_id_tag(
    *, uow: UowFactory, partner_id: uuid.UUID | None, tag_id: uuid.UUID
) -> None:
    """Remove an id tag."""
    await _ID_TAGS.delete(uow, tag_id, partner_id=partner_id)


# --- transactions ----------------------------------------------------------------------------


async def list_transactions(
    *,
    uow: UowFactory,
    partner_id: uuid.UUID | None,
    filters: TransactionFilter,
    sort: str | None,
    cursor: str | None,
    limit: int | None,
) -> Page[TransactionRecord]:
    """A page of transactions of the caller's live stations, newest first by default."""
    if (
        filters.started_after is not None
        and filters.started_before is not None
        and filters.started_after >= filters.started_before
    ):
        raise _invalid("started_after", "must be before started_before")
    keyset = resolve_keyset(
        sorts=TRANSACTION_SORTS, sort=sort, default="-started_at", cursor=cursor, limit=limit
    )
    return await _scoped_page(
        uow, TransactionRepository, keyset, partner_id=partner_id, filters=filters
    )


async def get_transaction(
    *, uow: UowFactory, partner_id: uuid.UUID | None, transaction_uuid: uuid.UUID
) -> TransactionRecord:
    """One transaction of the caller's live stations."""
    return await _scoped_get(
        uow,
        TransactionRepository,
        transaction_uuid,
        partner_id=partner_id,
        missing="transaction not found",
    )
