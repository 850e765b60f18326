"""Partners and their API clients: the admin's onboarding endpoints."""

from __future__ import annotations

import uuid

from aiohttp import web

from core.domain.enums import ApiRole
from core.services import catalog
from management_api.endpoints import ADMIN_ONLY, Reply, operation, uow_of
from management_api.keys import TOKENS
from management_api.schemas.common import Page, page_of
from management_api.schemas.partners import (
    ClientCreate,
    ClientCreated,
    ClientListParams,
    ClientOut,
    PartnerCreate,
    PartnerListParams,
    PartnerOut,
    PartnerPatch,
)

API = "/api/v1"


@operation(tag="partners", roles=ADMIN_ONLY, query=PartnerListParams, response=Page[PartnerOut])
async def list_partners(request: web.Request, query: PartnerListParams) -> Page[PartnerOut]:
    """List partners."""
    page = await catalog.list_partners(
        uow=uow_of(request), sort=query.sort, cursor=query.cursor, limit=query.limit
    )
    return page_of(PartnerOut, page)


@operation(
    tag="partners",
    roles=ADMIN_ONLY,
    body=PartnerCreate,
    response=PartnerOut,
    status=201,
    errors={409},
)
async def create_partner(request: web.Request, body: PartnerCreate) -> Reply:
    """Onboard a partner (409 when the name is taken)."""
    record = await catalog.create_partner(uow=uow_of(request), name=body.name)
    return Reply(
        PartnerOut.model_validate(record), 201, {"Location": f"{API}/partners/{record.id}"}
    )


@operation(tag="partners", roles=ADMIN_ONLY, response=PartnerOut)
async def get_partner(request: web.Request, partner_id: uuid.UUID) -> PartnerOut:
    """Get a partner."""
    record = await catalog.get_partner(uow=uow_of(request), target_id=partner_id)
    return PartnerOut.model_validate(record)


@operation(tag="partners", roles=ADMIN_ONLY, body=PartnerPatch, response=PartnerOut, errors={409})
async def update_partner(
    request: web.Request, partner_id: uuid.UUID, body: PartnerPatch
) -> PartnerOut:
    """Rename, disable or re-enable a partner.

    Disabling kills the tokens of its clients at once and refuses them new ones.
    """
    record = await catalog.update_partner(
        uow=uow_of(request), tokens=request.app[TOKENS], target_id=partner_id, values=body.changes()
    )
    return PartnerOut.model_validate(record)


@operation(tag="partners", roles=ADMIN_ONLY, status=204, errors={409})
async def delete_partner(request: web.Request, partner_id: uuid.UUID) -> None:
    """Delete a partner with its clients, sites and id tags.

    409 while it has stations, deleted ones included (they are kept for history): disable the
    partner instead.
    """
    await catalog.delete_partner(
        uow=uow_of(request), tokens=request.app[TOKENS], target_id=partner_id
    )


@operation(tag="partners", roles=ADMIN_ONLY, query=ClientListParams, response=Page[ClientOut])
async def list_clients(
    request: web.Request, partner_id: uuid.UUID, query: ClientListParams
) -> Page[ClientOut]:
    """List a partner's API clients (their secrets are never shown again)."""
    page = await catalog.list_clients(
        uow=uow_of(request),
        target_id=partner_id,
        sort=query.sort,
        cursor=query.cursor,
        limit=query.limit,
    )
    return page_of(ClientOut, page)


@operation(
    tag="partners",
    roles=ADMIN_ONLY,
    body=ClientCreate,
    response=ClientCreated,
    status=201,
    errors={409},
)
async def create_client(request: web.Request, partner_id: uuid.UUID, body: ClientCreate) -> Reply:
    """Create an API client for a partner; the response holds its secret, shown this once."""
    record, secret = await catalog.create_client(
        uow=uow_of(request),
        target_id=partner_id,
        role=ApiRole(body.role),
        client_id=body.client_id,
    )
    created = ClientCreated.model_validate(
        {**ClientOut.model_validate(record).model_dump(), "client_secret": secret}
    )
    return Reply(created, 201)


@operation(tag="partners", roles=ADMIN_ONLY, status=204)
async def delete_client(
    request: web.Request, partner_id: uuid.UUID, api_client_id: uuid.UUID
) -> None:
    """Delete one of a partner's API clients; its token dies with it."""
    await catalog.delete_client(
        uow=uow_of(request),
        tokens=request.app[TOKENS],
        target_id=partner_id,
        client_uuid=api_client_id,
    )
