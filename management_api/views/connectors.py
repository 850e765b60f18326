"""Connectors: nested under their station for creation, addressed by id afterwards."""

from __future__ import annotations

import uuid

from aiohttp import web

from core.repositories.catalog import ConnectorFilter
from core.services import catalog
from management_api.endpoints import ANY_ROLE, WRITERS, Reply, operation, scope_of, uow_of
from management_api.schemas.common import Page, page_of
from management_api.schemas.connectors import (
    ConnectorCreate,
    ConnectorListParams,
    ConnectorOut,
    ConnectorPatch,
    StationConnectorListParams,
)

API = "/api/v1"


@operation(
    tag="connectors",
    roles=ANY_ROLE,
    query=StationConnectorListParams,
    response=Page[ConnectorOut],
)
async def list_station_connectors(
    request: web.Request, station_id: uuid.UUID, query: StationConnectorListParams
) -> Page[ConnectorOut]:
    """List a station's connectors."""
    page = await catalog.list_connectors(
        uow=uow_of(request),
        partner_id=scope_of(request),
        filters=ConnectorFilter(
            station_id=station_id, status=query.status, priority=query.priority
        ),
        sort=query.sort,
        cursor=query.cursor,
        limit=query.limit,
        station_must_exist=True,
    )
    return page_of(ConnectorOut, page)


@operation(
    tag="connectors",
    roles=WRITERS,
    body=ConnectorCreate,
    response=ConnectorOut,
    status=201,
    errors={409},
)
async def create_connector(
    request: web.Request, station_id: uuid.UUID, body: ConnectorCreate
) -> Reply:
    """Add a connector to a station.

    409 when the number is above the type's plug_count or already used, or when the station
    already has a priority connector.
    """
    record = await catalog.create_connector(
        uow=uow_of(request),
        partner_id=scope_of(request),
        station_id=station_id,
        values=body.model_dump(),
    )
    return Reply(
        ConnectorOut.model_validate(record), 201, {"Location": f"{API}/connectors/{record.id}"}
    )


@operation(tag="connectors", roles=ANY_ROLE, query=ConnectorListParams, response=Page[ConnectorOut])
async def list_connectors(request: web.Request, query: ConnectorListParams) -> Page[ConnectorOut]:
    """List connectors of the caller's stations, filtered."""
    page = await catalog.list_connectors(
        uow=uow_of(request),
        partner_id=scope_of(request),
        filters=ConnectorFilter(
            station_id=query.station_id, status=query.status, priority=query.priority
        ),
        sort=query.sort,
        cursor=query.cursor,
        limit=query.limit,
    )
    return page_of(ConnectorOut, page)


@operation(tag="connectors", roles=ANY_ROLE, response=ConnectorOut)
async def get_connector(request: web.Request, connector_id: uuid.UUID) -> ConnectorOut:
    """Get a connector."""
    record = await catalog.get_connector(
        uow=uow_of(request), partner_id=scope_of(request), connector_id=connector_id
    )
    return ConnectorOut.model_validate(record)


@operation(
    tag="connectors", roles=WRITERS, body=ConnectorCreate, response=ConnectorOut, errors={409}
)
async def replace_connector(
    request: web.Request, connector_id: uuid.UUID, body: ConnectorCreate
) -> ConnectorOut:
    """Replace a connector's number, name and priority (same conflicts as creating one)."""
    record = await catalog.update_connector(
        uow=uow_of(request),
        partner_id=scope_of(request),
        connector_id=connector_id,
        values=body.model_dump(),
    )
    return ConnectorOut.model_validate(record)


@operation(
    tag="connectors", roles=WRITERS, body=ConnectorPatch, response=ConnectorOut, errors={409}
)
async def update_connector(
    request: web.Request, connector_id: uuid.UUID, body: ConnectorPatch
) -> ConnectorOut:
    """Change fields of a connector (same conflicts as creating one)."""
    record = await catalog.update_connector(
        uow=uow_of(request),
        partner_id=scope_of(request),
        connector_id=connector_id,
        values=body.changes(),
    )
    return ConnectorOut.model_validate(record)


@operation(tag="connectors", roles=WRITERS, status=204)
async def delete_connector(request: web.Request, connector_id: uuid.UUID) -> None:
    """Delete a connector."""
    await catalog.delete_connector(
        uow=uow_of(request), partner_id=scope_of(request), connector_id=connector_id
    )
