"""Helpers for csms integration tests: the running server handle, rows, and real OCPP clients.

Clients are the ``ocpp`` package's ChargePoint classes (1.6 and 2.0.1) over real websockets,
plus a raw-frame client for what a well-behaved library would never send. Test chargers answer
every remote command, so the command path can be driven end to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import orjson
import websockets
from ocpp.routing import on as ocpp_on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as result201
from sqlalchemy import select, text
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.server import Server
from websockets.typing import Subprotocol

from core.bus.events import Event, EventType, Subscription
from core.db.models import IdTag, Partner, Station, StationType
from core.runtime import Resources
from core.security import hash_secret

_seq = itertools.count(1)
F = TypeVar("F", bound=Callable[..., Any])


def on(action: str) -> Callable[[F], F]:
    """The ocpp library's handler decorator, typed."""
    return cast(Callable[[F], F], ocpp_on(action))


def iso(moment: datetime) -> str:
    """The wire form of a timestamp."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def port_of(server: Server) -> int:
    """The port the OS picked for ``csms_port=0``."""
    sockets = list(server.sockets)
    return int(sockets[0].getsockname()[1])


@dataclass
class Csms:
    """A running central system and the helpers tests use against it."""

    resources: Resources
    server: Server
    events: Subscription

    @property
    def port(self) -> int:
        return port_of(self.server)

    def url(self, charge_point_id: str, prefix: str = "/ocpp/") -> str:
        return f"ws://127.0.0.1:{self.port}{prefix}{charge_point_id}"

    async def fetch(self, sql: str, **params: Any) -> list[Any]:
        async with self.resources.engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).mappings().all())

    async def event(
        self, kind: EventType, predicate: Callable[[Event], bool] = lambda _e: True
    ) -> Event:
        """The next event of ``kind`` (others are skipped); fails after 10 s."""
        async with asyncio.timeout(10):
            while True:
                got = await self.events.get()
                assert got is not None, "event subscription closed"
                if got.type is kind and predicate(got):
                    return got

    def drain_events(self) -> list[Event]:
        """Everything published so far and not consumed yet."""
        drained: list[Event] = []
        while True:
            try:
                item = self.events._queue.get_nowait()
            except asyncio.QueueEmpty:
                return drained
            if isinstance(item, Event):
                drained.append(item)


# --- rows ----------------------------------------------------------------------------------


@dataclass
class Seeded:
    """A partner with one station (and its id tags)."""

    partner_id: uuid.UUID
    station_id: uuid.UUID
    charge_point_id: str
    password: str | None = None
    id_tags: dict[str, uuid.UUID] = field(default_factory=dict)


async def seed_station(
    resources: Resources,
    *,
    charge_point_id: str | None = None,
    password: str | None = None,
    type_name: str = "AC 22 kW dual",
    partner_id: uuid.UUID | None = None,
    id_tags: dict[str, dict[str, Any]] | None = None,
    deleted: bool = False,
) -> Seeded:
    """A partner (new unless given), a station of ``type_name`` and id tags of that partner."""
    n = next(_seq)
    cpid = charge_point_id or f"CP-{n}-{uuid.uuid4().hex[:6]}"
    async with resources.session_factory() as session:
        if partner_id is None:
            partner = Partner(name=f"partner-{n}-{uuid.uuid4().hex[:6]}")
            session.add(partner)
            await session.flush()
            partner_id = partner.id
        type_id = (
            await session.execute(select(StationType.id).where(StationType.name == type_name))
        ).scalar_one()
        station = Station(
            partner_id=partner_id,
            type_id=type_id,
            name=cpid[:32],
            charge_point_id=cpid,
            password_hash=hash_secret(password) if password else None,
            deleted_at=datetime.now(UTC) if deleted else None,
        )
        session.add(station)
        await session.flush()
        tags: dict[str, uuid.UUID] = {}
        for value, extra in (id_tags or {}).items():
            tag = IdTag(partner_id=partner_id, value=value, **extra)
            session.add(tag)
            await session.flush()
            tags[value] = tag.id
        await session.commit()
        return Seeded(partner_id, station.id, cpid, password, tags)


# --- chargers ------------------------------------------------------------------------------


class Charger16(ChargePoint16):  # type: ignore[misc]
    """A 1.6 charge point that answers every remote command of CONTRACTS.md."""

    def __init__(self, charge_point_id: str, connection: Any) -> None:
        super().__init__(charge_point_id, connection, response_timeout=10)
        self.received: list[tuple[str, dict[str, Any]]] = []

    def _got(self, action: str, **kwargs: Any) -> None:
        self.received.append((action, kwargs))

    @on("RemoteStartTransaction")
    def remote_start(self, **kwargs: Any) -> Any:
        self._got("RemoteStartTransaction", **kwargs)
        return result16.RemoteStartTransaction(status="Accepted")

    @on("RemoteStopTransaction")
    def remote_stop(self, **kwargs: Any) -> Any:
        self._got("RemoteStopTransaction", **kwargs)
        return result16.RemoteStopTransaction(status="Rejected")

    @on("Reset")
    def reset(self, **kwargs: Any) -> Any:
        self._got("Reset", **kwargs)
        return result16.Reset(status="Accepted")

    @on("ChangeAvailability")
    def change_availability(self, **kwargs: Any) -> Any:
        self._got("ChangeAvailability", **kwargs)
        return result16.ChangeAvailability(status="Scheduled")

    @on("UnlockConnector")
    def unlock(self, **kwargs: Any) -> Any:
        self._got("UnlockConnector", **kwargs)
        return result16.UnlockConnector(status="Unlocked")

    @on("TriggerMessage")
    def trigger(self, **kwargs: Any) -> Any:
        self._got("TriggerMessage", **kwargs)
        return result16.TriggerMessage(status="Accepted")

    @on("GetConfiguration")
    def get_configuration(self, **kwargs: Any) -> Any:
        self._got("GetConfiguration", **kwargs)
        return result16.GetConfiguration(
            configuration_key=[{"key": "HeartbeatInterval", "readonly": False, "value": "300"}],
            unknown_key=["Nope"],
        )

    @on("ChangeConfiguration")
    def change_configuration(self, **kwargs: Any) -> Any:
        self._got("ChangeConfiguration", **kwargs)
        return result16.ChangeConfiguration(status="RebootRequired")

    @on("ClearCache")
    def clear_cache(self, **kwargs: Any) -> Any:
        self._got("ClearCache", **kwargs)
        return result16.ClearCache(status="Accepted")


class Charger201(ChargePoint201):  # type: ignore[misc]
    """A 2.0.1 charging station that answers every remote command of CONTRACTS.md."""

    def __init__(self, charge_point_id: str, connection: Any) -> None:
        super().__init__(charge_point_id, connection, response_timeout=10)
        self.received: list[tuple[str, dict[str, Any]]] = []

    def _got(self, action: str, **kwargs: Any) -> None:
        self.received.append((action, kwargs))

    @on("RequestStartTransaction")
    def remote_start(self, **kwargs: Any) -> Any:
        self._got("RequestStartTransaction", **kwargs)
        return result201.RequestStartTransaction(status="Accepted", transaction_id="tx-remote")

    @on("RequestStopTransaction")
    def remote_stop(self, **kwargs: Any) -> Any:
        self._got("RequestStopTransaction", **kwargs)
        return result201.RequestStopTransaction(status="Accepted")

    @on("Reset")
    def reset(self, **kwargs: Any) -> Any:
        self._got("Reset", **kwargs)
        return result201.Reset(status="Scheduled")

    @on("ChangeAvailability")
    def change_availability(self, **kwargs: Any) -> Any:
        self._got("ChangeAvailability", **kwargs)
        return result201.ChangeAvailability(status="Accepted")

    @on("UnlockConnector")
    def unlock(self, **kwargs: Any) -> Any:
        self._got("UnlockConnector", **kwargs)
        return result201.UnlockConnector(status="UnlockFailed")

    @on("TriggerMessage")
    def trigger(self, **kwargs: Any) -> Any:
        self._got("TriggerMessage", **kwargs)
        return result201.TriggerMessage(status="Rejected")

    @on("GetVariables")
    def get_variables(self, **kwargs: Any) -> Any:
        self._got("GetVariables", **kwargs)
        results = []
        for item in kwargs["get_variable_data"]:
            component, variable = item["component"]["name"], item["variable"]["name"]
            known = (component, variable) == ("OCPPCommCtrlr", "HeartbeatInterval")
            entry: dict[str, Any] = {
                "attribute_status": "Accepted" if known else "UnknownVariable",
                "component": {"name": component},
                "variable": {"name": variable},
            }
            if known:
                entry["attribute_value"] = "300"
            results.append(entry)
        return result201.GetVariables(get_variable_result=results)

    @on("SetVariables")
    def set_variables(self, **kwargs: Any) -> Any:
        self._got("SetVariables", **kwargs)
        item = kwargs["set_variable_data"][0]
        return result201.SetVariables(
            set_variable_result=[
                {
                    "attribute_status": "Accepted",
                    "component": item["component"],
                    "variable": item["variable"],
                }
            ]
        )

    @on("ClearCache")
    def clear_cache(self, **kwargs: Any) -> Any:
        self._got("ClearCache", **kwargs)
        return result201.ClearCache(status="Accepted")


@contextlib.asynccontextmanager
async def connect_charger(
    url: str,
    charge_point_id: str,
    protocol: str,
    *,
    password: str | None = None,
) -> AsyncIterator[Any]:
    """An ``ocpp`` ChargePoint connected to ``url`` whose reader runs until the block exits."""
    headers = {}
    if password is not None:
        import base64

        token = base64.b64encode(f"{charge_point_id}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    async with websockets.connect(
        url, subprotocols=[Subprotocol(protocol)], additional_headers=headers
    ) as ws:
        charger_cls = Charger16 if protocol == "ocpp1.6" else Charger201
        charger = charger_cls(charge_point_id, ws)
        reader = asyncio.create_task(charger.start())
        try:
            yield charger
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                await reader


class RawClient:
    """Frames in, frames out: for what the ocpp library would never send."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def send(self, frame: Any) -> None:
        await self.ws.send(frame if isinstance(frame, str) else orjson.dumps(frame).decode())

    async def receive(self) -> list[Any]:
        async with asyncio.timeout(10):
            raw = await self.ws.recv()
        decoded: list[Any] = orjson.loads(raw)
        return decoded

    async def exchange(self, frame: Any) -> list[Any]:
        await self.send(frame)
        return await self.receive()

    async def call(self, action: str, payload: dict[str, Any], unique_id: str = "") -> list[Any]:
        return await self.exchange([2, unique_id or uuid.uuid4().hex, action, payload])


@contextlib.asynccontextmanager
async def raw_client(url: str, protocol: str | None) -> AsyncIterator[RawClient]:
    """A plain websocket speaking ``protocol`` (None = offer no subprotocol)."""
    subprotocols = [Subprotocol(protocol)] if protocol else None
    async with websockets.connect(url, subprotocols=subprotocols) as ws:
        yield RawClient(ws)


def boot_16() -> dict[str, Any]:
    return {"chargePointVendor": "ACME", "chargePointModel": "Rapid-1"}


def boot_201() -> dict[str, Any]:
    return {"reason": "PowerUp", "chargingStation": {"vendorName": "ACME", "model": "Rapid-2"}}
