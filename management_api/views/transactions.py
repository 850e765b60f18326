"""Transactions: the charging sessions of the caller's stations, read-only."""

from __future__ import annotations

import uuid

from aiohttp import web

from core.repositories.catalog import TransactionFilter
from core.services import catalog
from management_api.endpoints import ANY_ROLE, operation, scope_of, uow_of
from management_api.schemas.common import Page, page_of
from management_api.schemas.transactions import TransactionListParams, TransactionOut


@operation(
    tag="transactions",
    roles=ANY_ROLE,
    query=TransactionListParams,
    response=Page[TransactionOut],
)
async def list_transactions(
    request: web.Request, query: TransactionListParams
) -> Page[TransactionOut]:
    """List transactions of the caller's stations, newest first unless sorted otherwise.

    `active=true` keeps running sessions, `active=false` finished ones; `started_after` is
    inclusive, `started_before` exclusive (both need a timezone, e.g. `Z`).
    """
    filters = TransactionFilter(
        station_id=query.station_id,
        id_tag=query.id_tag,
        active=query.active,
        started_after=query.started_after,
        started_before=query.started_before,
    )
    page = await catalog.list_transactions(
        uow=uow_of(request),
        partner_id=scope_of(request),
        filters=filters,
        sort=query.sort,
        cursor=query.cursor,
        limit=query.limit,
    )
    return page_of(TransactionOut, page)


@operation(tag="transactions", roles=ANY_ROLE, response=TransactionOut)
async def get_transaction(request: web.Request, transaction_id: uuid.UUID) -> TransactionOut:
    """Get a transaction."""
    record = await catalog.get_transaction(
        uow=uow_of(request), partner_id=scope_of(request), transaction_uuid=transaction_id
    )
    return TransactionOut.model_validate(record)
