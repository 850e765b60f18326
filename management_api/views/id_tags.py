"""Id tags: the tokens a partner's drivers authorize with."""

from __future__ import annotations

import uuid

from aiohttp import web

from core.repositories.catalog import IdTagFilter
from core.services import catalog
from management_api.endpoints import ANY_ROLE, WRITERS, Reply, operation, scope_of, uow_of
from management_api.schemas.common import Page, page_of
from management_api.schemas.id_tags import (
    IdTagCreate,
    IdTagListParams,
    IdTagOut,
    IdTagPatch,
    IdTagReplace,
)

API = "/api/v1"


@operation(tag="id-tags", roles=ANY_ROLE, query=IdTagListParams, response=Page[IdTagOut])
async def list_id_tags(request: web.Request, query: IdTagListParams) -> Page[IdTagOut]:
    """List the caller's id tags, filtered."""
    page = await catalog.list_id_tags(
        uow=uow_of(request),
        partner_id=scope_of(request),
        filters=IdTagFilter(owner=query.partner_id, value=query.value, status=query.status),
        sort=query.sort,
        cursor=query.cursor,
        limit=query.limit,
    )
    return page_of(IdTagOut, page)


@operation(tag="id-tags", roles=ANY_ROLE, response=IdTagOut)
async def get_id_tag(request: web.Request, id_tag_id: uuid.UUID) -> IdTagOut:
    """Get an id tag."""
    record = await catalog.get_id_tag(
        uow=uow_of(request), partner_id=scope_of(request), tag_id=id_tag_id
    )
    return IdTagOut.model_validate(record)


@operation(
    tag="id-tags", roles=WRITERS, body=IdTagCreate, response=IdTagOut, status=201, errors={409}
)
async def create_id_tag(request: web.Request, body: IdTagCreate) -> Reply:
    """Add an id tag (an admin names the partner; 409 when the partner has this value)."""
    record = await catalog.create_id_tag(
        uow=uow_of(request), partner_id=scope_of(request), values=body.model_dump()
    )
    return Reply(IdTagOut.model_validate(record), 201, {"Location": f"{API}/id-tags/{record.id}"})


@operation(tag="id-tags", roles=WRITERS, body=IdTagReplace, response=IdTagOut, errors={409})
async def replace_id_tag(
    request: web.Request, id_tag_id: uuid.UUID, body: IdTagReplace
) -> IdTagOut:
    """Replace an id tag's fields (omitted ones reset to their defaults)."""
    record = await catalog.update_id_tag(
        uow=uow_of(request),
        partner_id=scope_of(request),
        tag_id=id_tag_id,
        values=body.model_dump(),
    )
    return IdTagOut.model_validate(record)


@operation(tag="id-tags", roles=WRITERS, body=IdTagPatch, response=IdTagOut, errors={409})
async def update_id_tag(request: web.Request, id_tag_id: uuid.UUID, body: IdTagPatch) -> IdTagOut:
    """Change fields of an id tag."""
    record = await catalog.update_id_tag(
        uow=uow_of(request),
        partner_id=scope_of(request),
        tag_id=id_tag_id,
        values=body.changes(),
    )
    return IdTagOut.model_validate(record)


@operation(tag="id-tags", roles=WRITERS, status=204)
async def delete_id_tag(request: web.Request, id_tag_id: uuid.UUID) -> None:
    """Delete an id tag."""
    await catalog.delete_id_tag(uow=uow_of(request), partner_id=scope_of(request), tag_id=id_tag_id)
