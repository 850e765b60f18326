"""Sites: a partner's locations."""

from __future__ import annotations

import uuid

from aiohttp import web

from core.services import catalog
from management_api.endpoints import ANY_ROLE, WRITERS, Reply, operation, scope_of, uow_of
from management_api.schemas.common import Page, page_of
from management_api.schemas.sites import SiteCreate, SiteListParams, SiteOut, SitePatch, SiteReplace

API = "/api/v1"


@operation(tag="sites", roles=ANY_ROLE, query=SiteListParams, response=Page[SiteOut])
async def list_sites(request: web.Request, query: SiteListParams) -> Page[SiteOut]:
    """List the caller's sites (an admin sees every partner's, or filters by partner_id)."""
    page = await catalog.list_sites(
        uow=uow_of(request),
        partner_id=scope_of(request),
        owner=query.partner_id,
        sort=query.sort,
        cursor=query.cursor,
        limit=query.limit,
    )
    return page_of(SiteOut, page)


@operation(tag="sites", roles=ANY_ROLE, response=SiteOut)
async def get_site(request: web.Request, site_id: uuid.UUID) -> SiteOut:
    """Get a site."""
    record = await catalog.get_site(
        uow=uow_of(request), partner_id=scope_of(request), site_id=site_id
    )
    return SiteOut.model_validate(record)


@operation(tag="sites", roles=WRITERS, body=SiteCreate, response=SiteOut, status=201, errors={409})
async def create_site(request: web.Request, body: SiteCreate) -> Reply:
    """Add a site (an admin names the partner; 409 when the partner has a site of that name)."""
    record = await catalog.create_site(
        uow=uow_of(request), partner_id=scope_of(request), values=body.model_dump()
    )
    return Reply(SiteOut.model_validate(record), 201, {"Location": f"{API}/sites/{record.id}"})


@operation(tag="sites", roles=WRITERS, body=SiteReplace, response=SiteOut, errors={409})
async def replace_site(request: web.Request, site_id: uuid.UUID, body: SiteReplace) -> SiteOut:
    """Replace a site's fields (omitted ones become null)."""
    record = await catalog.update_site(
        uow=uow_of(request),
        partner_id=scope_of(request),
        site_id=site_id,
        values=body.model_dump(),
    )
    return SiteOut.model_validate(record)


@operation(tag="sites", roles=WRITERS, body=SitePatch, response=SiteOut, errors={409})
async def update_site(request: web.Request, site_id: uuid.UUID, body: SitePatch) -> SiteOut:
    """Change fields of a site."""
    record = await catalog.update_site(
        uow=uow_of(request),
        partner_id=scope_of(request),
        site_id=site_id,
        values=body.changes(),
    )
    return SiteOut.model_validate(record)


@operation(tag="sites", roles=WRITERS, status=204)
async def delete_site(request: web.Request, site_id: uuid.UUID) -> None:
    """Delete a site; its stations stay, without a site."""
    await catalog.delete_site(uow=uow_of(request), partner_id=scope_of(request), site_id=site_id)
