"""Stations: register chargers (with their connectors), change them, soft-delete them."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from core.repositories.catalog import StationFilter, StationRecord
from core.repositories.history import StationLiveState
from core.services import catalog, history
from core.uow import UnitOfWork
from management_api.endpoints import ANY_ROLE, WRITERS, Reply, operation, scope_of, uow_of
from management_api.schemas.common import Page
from management_api.schemas.stations import (
    StationCreate,
    StationListParams,
    StationOut,
    StationPatch,
    StationReplace,
)

API = "/api/v1"
CONFLICTS = (
    "409 when the charge_point_id, the name (within the partner) or the device_id is taken, or "
    "when the type has fewer plugs than the connectors use."
)


def _shallow(record: Any) -> dict[str, Any]:
    """A record's fields as a dict, values as they are.

    ``dataclasses.asdict`` deep-copies every value (UUIDs, datetimes) and recurses: on a page
    of 50 stations that was a third of the API's CPU under the bench's load.
    """
    return {field.name: getattr(record, field.name) for field in dataclasses.fields(record)}


def _station_out(record: StationRecord, live: StationLiveState | None) -> StationOut:
    """The record (description) merged with the live state read just after it."""
    data = _shallow(record)
    running: dict[uuid.UUID, Any] = {}
    if live is not None:
        data["online"] = live.online
        data["last_seen_at"] = live.last_seen_at
        data["active_transactions"] = [_shallow(tx) for tx in live.active_transactions]
        running = {
            connector.id: None
            if connector.active_transaction is None
            else _shallow(connector.active_transaction)
            for connector in live.connectors
        }
    else:  # deleted between the two reads: show the description alone
        data["active_transactions"] = []
    connectors = []
    for connector in record.connectors:
        fields = _shallow(connector)
        fields["active_transaction"] = running.get(connector.id)
        connectors.append(fields)
    data["connectors"] = connectors
    return StationOut.model_validate(data)


async def _with_live_state(
    request: web.Request,
    records: Sequence[StationRecord],
    uow: Callable[[], UnitOfWork] | None = None,
) -> list[StationOut]:
    """Station responses with their live state, read for the whole batch at once (no N+1)."""
    live = await history.station_live_state(
        uow=uow or uow_of(request),
        station_ids=[record.id for record in records],
        partner_id=scope_of(request),
    )
    return [_station_out(record, live.get(record.id)) for record in records]


async def _one(request: web.Request, record: StationRecord) -> StationOut:
    (out,) = await _with_live_state(request, [record])
    return out


@operation(tag="stations", roles=ANY_ROLE, query=StationListParams, response=Page[StationOut])
async def list_stations(request: web.Request, query: StationListParams) -> Page[StationOut]:
    """List the caller's stations, filtered.

    `status` matches stations with at least one connector in that status; `q` is a
    case-insensitive substring of the name or the charge_point_id; `partner_id` is for admins.
    """
    filters = StationFilter(
        owner=query.partner_id,
        type_id=query.type_id,
        current_type=query.current_type,
        site_id=query.site_id,
        status=query.status,
        online=query.online,
        firmware_version=query.firmware_version,
        q=query.q,
    )
    async with uow_of(request)() as unit:
        uow = unit.lend()
        page = await catalog.list_stations(
            uow=uow,
            partner_id=scope_of(request),
            filters=filters,
            sort=query.sort,
            cursor=query.cursor,
            limit=query.limit,
        )
        items = await _with_live_state(request, page.items, uow)
    return Page[StationOut](items=items, next_cursor=page.next_cursor)


@operation(tag="stations", roles=ANY_ROLE, response=StationOut)
async def get_station(request: web.Request, station_id: uuid.UUID) -> StationOut:
    """Get a station with its connectors and live state."""
    async with uow_of(request)() as unit:
        uow = unit.lend()
        record = await catalog.get_station(
            uow=uow, partner_id=scope_of(request), station_id=station_id
        )
        (out,) = await _with_live_state(request, [record], uow)
    return out


@operation(
    tag="stations",
    roles=WRITERS,
    body=StationCreate,
    response=StationOut,
    status=201,
    errors={409},
)
async def create_station(request: web.Request, body: StationCreate) -> Reply:
    """Register a station, optionally with its connectors.

    An admin names the partner (`partner_id`); for an operator it is implied. Connectors are
    numbered 1..plug_count with at most one priority; any violation rolls the whole station
    back. 409 when the charge_point_id, the name (within the partner) or the device_id is taken,
    or a connector breaks a rule.
    """
    record = await catalog.create_station(
        uow=uow_of(request),
        partner_id=scope_of(request),
        values=body.values(),
        connectors=[connector.model_dump() for connector in body.connectors],
    )
    return Reply(await _one(request, record), 201, {"Location": f"{API}/stations/{record.id}"})


@operation(tag="stations", roles=WRITERS, body=StationReplace, response=StationOut, errors={409})
async def replace_station(
    request: web.Request, station_id: uuid.UUID, body: StationReplace
) -> StationOut:
    """Replace a station's description (omitted fields become null).

    `device_id`, `partner_id`, `registration_status` and `ocpp_password` are kept unless given;
    connectors are managed through their own endpoints.
    """
    record = await catalog.update_station(
        uow=uow_of(request),
        partner_id=scope_of(request),
        station_id=station_id,
        values=body.values(),
    )
    return await _one(request, record)


@operation(tag="stations", roles=WRITERS, body=StationPatch, response=StationOut, errors={409})
async def update_station(
    request: web.Request, station_id: uuid.UUID, body: StationPatch
) -> StationOut:
    """Change fields of a station."""
    record = await catalog.update_station(
        uow=uow_of(request),
        partner_id=scope_of(request),
        station_id=station_id,
        values=body.changes(),
    )
    return await _one(request, record)


@operation(tag="stations", roles=WRITERS, status=204)
async def delete_station(request: web.Request, station_id: uuid.UUID) -> None:
    """Delete a station (soft): it is gone from the API and its name and identity are free.

    Its history (transactions, meter values, commands) is kept.
    """
    await catalog.delete_station(
        uow=uow_of(request), partner_id=scope_of(request), station_id=station_id
    )
