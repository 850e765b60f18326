"""Test chargers that behave like real ones after a remote start or stop, and /events helpers.

``SessionCharger16`` / ``SessionCharger201`` extend the csms test chargers (which answer every
command) so that an accepted remote start really starts a transaction and sends meter values,
and a remote stop really ends it, exactly as the charger's own OCPP messages would.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

import orjson
import websockets
from aiohttp import ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestClient
from ocpp.routing import after as ocpp_after
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from websockets.typing import Subprotocol

from tests.integration.csms.support import Charger16, Charger201, iso, on

F = TypeVar("F", bound=Callable[..., Any])

ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"


def after(action: str) -> Callable[[F], F]:
    """The ocpp library's post-answer hook decorator, typed."""
    return cast(Callable[[F], F], ocpp_after(action))


def now_ms() -> datetime:
    """Now, at the millisecond precision timestamps survive the wire with."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass
class Session:
    """What a test charger did during one session, for the test to compare with the API."""

    transaction_id: str
    connector_number: int
    id_tag: str
    started_at: datetime
    #: (time, measurand, value, unit) of every sample sent during the session.
    samples: list[tuple[datetime, str, float, str]] = field(default_factory=list)
    energy_wh: float | None = None
    stopped_at: datetime | None = None


class _SessionMixin:
    """Holds the tasks that run sessions (the library's own ``@after`` tasks are unheld)."""

    def _init_sessions(self) -> None:
        self.tasks: set[asyncio.Task[None]] = set()
        self.session: Session | None = None
        self.started: asyncio.Future[Session] = asyncio.get_running_loop().create_future()
        self.stopped: asyncio.Future[Session] = asyncio.get_running_loop().create_future()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:  # fail the waiting test instead of hanging it
            for future in (self.started, self.stopped):
                if not future.done():
                    future.set_exception(error)


class SessionCharger16(_SessionMixin, Charger16):
    """1.6: RemoteStart -> StartTransaction + MeterValues; RemoteStop -> StopTransaction."""

    METER_START = 1000
    READINGS = ((1500.0, 7200.0), (2200.0, 7100.5))
    METER_STOP = 3000

    def __init__(self, charge_point_id: str, connection: Any) -> None:
        super().__init__(charge_point_id, connection)
        self._init_sessions()

    @on("RemoteStopTransaction")
    def remote_stop(self, **kwargs: Any) -> Any:
        self._got("RemoteStopTransaction", **kwargs)
        running = self.session is not None and self.session.stopped_at is None
        matches = running and str(kwargs["transaction_id"]) == self.session.transaction_id  # type: ignore[union-attr]
        return result16.RemoteStopTransaction(status="Accepted" if matches else "Rejected")

    @after("RemoteStartTransaction")
    def after_remote_start(self, **kwargs: Any) -> None:
        self._spawn(self._start(kwargs["id_tag"], kwargs.get("connector_id") or 1))

    @after("RemoteStopTransaction")
    def after_remote_stop(self, **kwargs: Any) -> None:
        session = self.session
        if session is not None and str(kwargs["transaction_id"]) == session.transaction_id:
            self._spawn(self._stop(session))

    async def _start(self, id_tag: str, connector: int) -> None:
        started_at = now_ms() - timedelta(seconds=30)
        answer = await self.call(
            call16.StartTransaction(
                connector_id=connector,
                id_tag=id_tag,
                meter_start=self.METER_START,
                timestamp=iso(started_at),
            )
        )
        session = Session(str(answer.transaction_id), connector, id_tag, started_at)
        self.session = session
        for n, (energy, power) in enumerate(self.READINGS, start=1):
            at = started_at + timedelta(seconds=10 * n)
            await self.call(
                call16.MeterValues(
                    connector_id=connector,
                    transaction_id=answer.transaction_id,
                    meter_value=[
                        {
                            "timestamp": iso(at),
                            "sampledValue": [
                                {"value": f"{energy}", "measurand": ENERGY, "unit": "Wh"},
                                {"value": f"{power}", "measurand": POWER, "unit": "W"},
                            ],
                        }
                    ],
                )
            )
            session.samples += [(at, ENERGY, energy, "Wh"), (at, POWER, power, "W")]
        self.started.set_result(session)

    async def _stop(self, session: Session) -> None:
        stopped_at = session.started_at + timedelta(seconds=25)
        await self.call(
            call16.StopTransaction(
                meter_stop=self.METER_STOP,
                timestamp=iso(stopped_at),
                transaction_id=int(session.transaction_id),
                reason="Remote",
            )
        )
        session.stopped_at = stopped_at
        session.energy_wh = float(self.METER_STOP - self.METER_START)
        self.stopped.set_result(session)


class SessionCharger201(_SessionMixin, Charger201):
    """2.0.1: RequestStart -> TransactionEvent Started/Updated; RequestStop -> Ended."""

    BEGIN_WH = 10000.0
    READINGS = ((10600.0, 11000.0), (11400.0, 10900.0))
    END_WH = 12500.0

    def __init__(self, charge_point_id: str, connection: Any) -> None:
        super().__init__(charge_point_id, connection)
        self._init_sessions()
        self._seq = 0

    @on("RequestStartTransaction")
    def remote_start(self, **kwargs: Any) -> Any:
        self._got("RequestStartTransaction", **kwargs)
        # Not started yet, so no transactionId in the answer: TransactionEvent brings it.
        return result201.RequestStartTransaction(status="Accepted")

    @on("RequestStopTransaction")
    def remote_stop(self, **kwargs: Any) -> Any:
        self._got("RequestStopTransaction", **kwargs)
        running = self.session is not None and self.session.stopped_at is None
        matches = running and kwargs["transaction_id"] == self.session.transaction_id  # type: ignore[union-attr]
        return result201.RequestStopTransaction(status="Accepted" if matches else "Rejected")

    @after("RequestStartTransaction")
    def after_remote_start(self, **kwargs: Any) -> None:
        self._spawn(
            self._start(kwargs["id_token"], kwargs.get("evse_id") or 1, kwargs["remote_start_id"])
        )

    @after("RequestStopTransaction")
    def after_remote_stop(self, **kwargs: Any) -> None:
        session = self.session
        if session is not None and kwargs["transaction_id"] == session.transaction_id:
            self._spawn(self._stop(session))

    def _event(self, event_type: str, at: datetime, **fields: Any) -> Any:
        seq_no, self._seq = self._seq, self._seq + 1
        return call201.TransactionEvent(
            event_type=event_type, timestamp=iso(at), seq_no=seq_no, **fields
        )

    async def _start(self, id_token: dict[str, Any], evse: int, remote_start_id: int) -> None:
        started_at = now_ms() - timedelta(seconds=30)
        session = Session(f"TX-{uuid.uuid4().hex[:12]}", evse, id_token["id_token"], started_at)
        await self.call(
            self._event(
                "Started",
                started_at,
                trigger_reason="RemoteStart",
                transaction_info={
                    "transaction_id": session.transaction_id,
                    "remote_start_id": remote_start_id,
                },
                evse={"id": evse, "connector_id": 1},
                id_token=id_token,
                meter_value=[
                    {
                        "timestamp": iso(started_at),
                        "sampled_value": [{"value": self.BEGIN_WH, "context": "Transaction.Begin"}],
                    }
                ],
            )
        )
        self.session = session
        session.samples.append((started_at, ENERGY, self.BEGIN_WH, "Wh"))
        for n, (energy, power) in enumerate(self.READINGS, start=1):
            at = started_at + timedelta(seconds=10 * n)
            await self.call(
                self._event(
                    "Updated",
                    at,
                    trigger_reason="MeterValuePeriodic",
                    transaction_info={"transaction_id": session.transaction_id},
                    meter_value=[
                        {
                            "timestamp": iso(at),
                            "sampled_value": [
                                {"value": energy, "unit_of_measure": {"unit": "Wh"}},
                                {
                                    "value": power,
                                    "measurand": POWER,
                                    "unit_of_measure": {"unit": "W"},
                                },
                            ],
                        }
                    ],
                )
            )
            session.samples += [(at, ENERGY, energy, "Wh"), (at, POWER, power, "W")]
        self.started.set_result(session)

    async def _stop(self, session: Session) -> None:
        stopped_at = session.started_at + timedelta(seconds=25)
        await self.call(
            self._event(
                "Ended",
                stopped_at,
                trigger_reason="RemoteStop",
                transaction_info={
                    "transaction_id": session.transaction_id,
                    "stopped_reason": "Remote",
                },
                meter_value=[
                    {
                        "timestamp": iso(stopped_at),
                        "sampled_value": [{"value": self.END_WH, "context": "Transaction.End"}],
                    }
                ],
            )
        )
        session.samples.append((stopped_at, ENERGY, self.END_WH, "Wh"))
        session.stopped_at = stopped_at
        session.energy_wh = self.END_WH - self.BEGIN_WH
        self.stopped.set_result(session)


@contextlib.asynccontextmanager
async def session_charger(url: str, charge_point_id: str, protocol: str) -> AsyncIterator[Any]:
    """A session-running test charger connected to ``url`` (like ``connect_charger``)."""
    cls = SessionCharger16 if protocol == "ocpp1.6" else SessionCharger201
    async with websockets.connect(url, subprotocols=[Subprotocol(protocol)]) as ws:
        charger = cls(charge_point_id, ws)
        reader = asyncio.create_task(charger.start())
        try:
            yield charger
        finally:
            reader.cancel()
            for task in [reader, *charger.tasks]:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                    await task


# --- /events -------------------------------------------------------------------------------


@dataclass
class Received:
    """One /events message and the loop time it arrived at."""

    at: float
    message: dict[str, Any]


class EventClient:
    """An /events websocket whose messages a reader task timestamps on arrival.

    Timestamps are taken by the reader, not by whoever awaits ``next``, so a test measuring
    latency is not charged for its own scheduling.
    """

    def __init__(self, ws: ClientWebSocketResponse) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[Received | None] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            async for message in self.ws:
                if message.type is WSMsgType.TEXT:
                    self.queue.put_nowait(Received(loop.time(), orjson.loads(message.data)))
        finally:
            self.queue.put_nowait(None)

    async def next(
        self, predicate: Callable[[dict[str, Any]], bool] = lambda _m: True, timeout: float = 10
    ) -> Received:
        """The next message matching ``predicate`` (heartbeats and others are skipped)."""
        async with asyncio.timeout(timeout):
            while True:
                item = await self.queue.get()
                assert item is not None, f"events socket closed ({self.ws.close_code})"
                if predicate(item.message):
                    return item

    async def until(self, predicate: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """Every message up to and including the first matching ``predicate``."""
        seen: list[dict[str, Any]] = []
        while True:
            item = await self.next()
            seen.append(item.message)
            if predicate(item.message):
                return seen

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@contextlib.asynccontextmanager
async def subscribe(
    client: TestClient[Any, Any],
    token: str,
    *,
    query: dict[str, str] | None = None,
    in_query: bool = False,
) -> AsyncIterator[EventClient]:
    """Open /events with the token in the header (or, like a browser, in the query string)."""
    params = dict(query or {})
    headers = {}
    if in_query:
        params["access_token"] = token
    else:
        headers["Authorization"] = f"Bearer {token}"
    ws = await client.ws_connect("/api/v1/events", params=params, headers=headers)
    events = EventClient(ws)
    try:
        yield events
    finally:
        await events.close()
