"""Rows for service tests: ``make_x(resources, **overrides)`` inserts one and returns it."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import insert, select

from core.db.models import (
    Command,
    Connector,
    MeterValue,
    Partner,
    Station,
    StationType,
    Transaction,
)
from core.runtime import Resources

_seq = itertools.count(1)


T = TypeVar("T")


async def _add(resources: Resources, row: T) -> T:
    async with resources.session_factory() as session:
        session.add(row)
        await session.commit()
        await session.refresh(row)
    return row


async def station_type_id(resources: Resources, name: str = "AC 22 kW dual") -> uuid.UUID:
    """Id of one of the five seeded station types."""
    async with resources.session_factory() as session:
        return (
            await session.execute(select(StationType.id).where(StationType.name == name))
        ).scalar_one()


async def make_partner(resources: Resources, **overrides: Any) -> Partner:
    """A partner with a unique name."""
    values: dict[str, Any] = {"name": f"partner-{next(_seq)}-{uuid.uuid4().hex[:6]}"}
    values.update(overrides)
    return await _add(resources, Partner(**values))


async def make_station(
    resources: Resources,
    *,
    partner_id: uuid.UUID | None = None,
    type_name: str = "AC 22 kW dual",
    **overrides: Any,
) -> Station:
    """A registered station (of a new partner unless one is given)."""
    if partner_id is None:
        partner_id = (await make_partner(resources)).id
    n = next(_seq)
    values: dict[str, Any] = {
        "partner_id": partner_id,
        "type_id": await station_type_id(resources, type_name),
        "name": f"station-{n}",
        "charge_point_id": f"CP-{n}-{uuid.uuid4().hex[:8]}",
    }
    values.update(overrides)
    return await _add(resources, Station(**values))


async def make_connector(
    resources: Resources, *, station_id: uuid.UUID, connector_number: int = 1, **overrides: Any
) -> Connector:
    """A connector of a station."""
    values: dict[str, Any] = {"station_id": station_id, "connector_number": connector_number}
    values.update(overrides)
    return await _add(resources, Connector(**values))


async def make_transaction(
    resources: Resources, *, station_id: uuid.UUID, **overrides: Any
) -> Transaction:
    """A running transaction on connector 1 unless told otherwise."""
    values: dict[str, Any] = {
        "station_id": station_id,
        "connector_number": 1,
        "transaction_id": str(next(_seq)),
        "id_tag": "TAG-1",
        "started_at": datetime.now(UTC),
    }
    values.update(overrides)
    return await _add(resources, Transaction(**values))


async def make_command(resources: Resources, *, station_id: uuid.UUID, **overrides: Any) -> Command:
    """A command row in whatever state the test needs."""
    values: dict[str, Any] = {"station_id": station_id, "action": "clear-cache", "payload": {}}
    values.update(overrides)
    return await _add(resources, Command(**values))


async def add_meter_values(
    resources: Resources, station_id: uuid.UUID, samples: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Insert samples in one multi-row statement; return them with their ids."""
    defaults: dict[str, Any] = {
        "station_id": station_id,
        "connector_number": 1,
        "transaction_id": None,
        "unit": None,
        "phase": None,
        "context": None,
        "location": None,
    }
    rows = [{**defaults, **sample} for sample in samples]
    if not rows:
        return []
    async with resources.session_factory() as session:
        result = await session.execute(
            insert(MeterValue).returning(MeterValue.id, sort_by_parameter_order=True), rows
        )
        ids = list(result.scalars())
        await session.commit()
    return [{**row, "id": row_id} for row, row_id in zip(rows, ids, strict=True)]
