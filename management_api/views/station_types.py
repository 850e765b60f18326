"""Station types: everyone reads them, admins maintain them."""

from __future__ import annotations

import uuid

from aiohttp import web

from core.services import catalog
from management_api.endpoints import ADMIN_ONLY, ANY_ROLE, Reply, operation, uow_of
from management_api.schemas.common import Page, page_of
from management_api.schemas.station_types import (
    StationTypeCreate,
    StationTypeListParams,
    StationTypeOut,
    StationTypePatch,
)

API = "/api/v1"


@operation(
    tag="station-types",
    roles=ANY_ROLE,
    query=StationTypeListParams,
    response=Page[StationTypeOut],
)
async def list_station_types(
    request: web.Request, query: StationTypeListParams
) -> Page[StationTypeOut]:
    """List station types."""
    page = await catalog.list_station_types(
        uow=uow_of(request),
        current_type=query.current_type,
        sort=query.sort,
        cursor=query.cursor,
        limit=query.limit,
    )
    return page_of(StationTypeOut, page)


@operation(tag="station-types", roles=ANY_ROLE, response=StationTypeOut)
async def get_station_type(request: web.Request, type_id: uuid.UUID) -> StationTypeOut:
    """Get a station type."""
    record = await catalog.get_station_type(uow=uow_of(request), type_id=type_id)
    return StationTypeOut.model_validate(record)


@operation(
    tag="station-types",
    roles=ADMIN_ONLY,
    body=StationTypeCreate,
    response=StationTypeOut,
    status=201,
    errors={409},
)
async def create_station_type(request: web.Request, body: StationTypeCreate) -> Reply:
    """Add a station type (409 when the name is taken)."""
    record = await catalog.create_station_type(uow=uow_of(request), values=body.model_dump())
    return Reply(
        StationTypeOut.model_validate(record),
        201,
        {"Location": f"{API}/station-types/{record.id}"},
    )


@operation(
    tag="station-types",
    roles=ADMIN_ONLY,
    body=StationTypeCreate,
    response=StationTypeOut,
    errors={409},
)
async def replace_station_type(
    request: web.Request, type_id: uuid.UUID, body: StationTypeCreate
) -> StationTypeOut:
    """Replace a station type.

    409 when the new plug_count is below a connector number in use, or the name is taken.
    """
    record = await catalog.update_station_type(
        uow=uow_of(request), type_id=type_id, values=body.model_dump()
    )
    return StationTypeOut.model_validate(record)


@operation(
    tag="station-types",
    roles=ADMIN_ONLY,
    body=StationTypePatch,
    response=StationTypeOut,
    errors={409},
)
async def update_station_type(
    request: web.Request, type_id: uuid.UUID, body: StationTypePatch
) -> StationTypeOut:
    """Change fields of a station type (same conflicts as PUT)."""
    record = await catalog.update_station_type(
        uow=uow_of(request), type_id=type_id, values=body.changes()
    )
    return StationTypeOut.model_validate(record)


@operation(tag="station-types", roles=ADMIN_ONLY, status=204, errors={409})
async def delete_station_type(request: web.Request, type_id: uuid.UUID) -> None:
    """Delete a station type (409 while stations, deleted ones included, use it)."""
    await catalog.delete_station_type(uow=uow_of(request), type_id=type_id)
