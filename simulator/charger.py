"""One simulated charging station: connect, boot, run a scenario, obey the central system.

Version-independent: the adapter (``v16`` or ``v201``) builds and reads payloads, the
:class:`~simulator.station.Station` holds the state, and this class decides what happens and in
which order. Every task a connection starts is held in ``_tasks`` and cancelled with the
connection; what must survive a drop (a running transaction, the availability) lives in the
station, so the next connection picks it up after booting again.
"""

from __future__ import annotations

import asyncio
import random
import time
from functools import partial
from typing import Any

from websockets.asyncio.client import ClientConnection

from simulator.logs import get_logger
from simulator.model import (
    Adapter,
    BootReason,
    BootResult,
    Context,
    Decision,
    Outcome,
    PayloadError,
    Request,
    Trigger,
)
from simulator.options import ChargerSpec, Options
from simulator.scenarios import Scenario
from simulator.station import (
    ENERGY,
    AvailabilityChange,
    Clock,
    Connector,
    ConnectorStatus,
    SetResult,
    Station,
    StopReason,
    Transaction,
    format_seconds,
)
from simulator.stats import Stats
from simulator.transport import (
    Answer,
    CallErrorReply,
    CallTimeout,
    ConnectFailed,
    ConnectionLost,
    HandshakeRefused,
    OcppConnection,
    backoff_delay,
    open_websocket,
)

log = get_logger("simulator")

#: Retry delay after a boot refused without an interval (or not answered at all).
BOOT_RETRY_S = 10.0
#: Fallback heartbeat interval when neither the central system nor --heartbeat gave one.
DEFAULT_HEARTBEAT_S = 300.0


async def _wait(event: asyncio.Event, timeout: float | None) -> bool:
    """Wait for ``event`` up to ``timeout`` seconds (None: forever); True when it was set."""
    if event.is_set():
        return True
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True


class Charger:
    """A charging station that speaks OCPP to the central system."""

    __slots__ = (
        "_boot_reason",
        "_boot_waiter",
        "_booted",
        "_conn",
        "_ever_booted",
        "_heartbeat_changed",
        "_heartbeat_task",
        "_reboot",
        "_reset_pending",
        "_tasks",
        "_tx_tasks",
        "_wake",
        "adapter",
        "options",
        "rng",
        "scenario",
        "spec",
        "station",
        "stats",
    )

    def __init__(
        self,
        spec: ChargerSpec,
        *,
        options: Options,
        adapter: Adapter,
        stats: Stats,
        scenario: Scenario,
        rng: random.Random,
        clock: Clock = time.time,
    ) -> None:
        self.spec = spec
        self.options = options
        self.adapter = adapter
        self.stats = stats
        self.scenario = scenario
        self.rng = rng
        config = adapter.new_config(spec.connectors, scenario.measurands)
        config.put(adapter.meter_interval_key, format_seconds(options.meter_interval))
        if options.heartbeat is not None:
            config.put(adapter.heartbeat_key, format_seconds(options.heartbeat))
        self.station = Station(
            spec.charge_point_id,
            connectors=spec.connectors,
            power_w=spec.power_w,
            config=config,
            clock=clock,
        )
        self._conn: OcppConnection | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._tx_tasks: dict[int, asyncio.Task[None]] = {}
        self._wake: dict[int, asyncio.Event] = {}
        self._heartbeat_changed: asyncio.Event | None = None
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._boot_waiter: asyncio.Future[None] | None = None
        self._booted = False
        self._ever_booted = False
        self._reboot = False
        self._reset_pending: StopReason | None = None
        self._boot_reason = BootReason.POWER_UP

    @property
    def index(self) -> int:
        """The charger's position in the fleet (0-based)."""
        return self.spec.index

    @property
    def booted(self) -> bool:
        """Whether the current connection's BootNotification was accepted."""
        return self._booted

    # connection lifecycle ----------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, serve and reconnect with back-off and jitter until cancelled."""
        failures = 0
        while True:
            try:
                ws = await open_websocket(
                    self.options.url,
                    self.spec.charge_point_id,
                    self.adapter.protocol,
                    password=self.options.password,
                    open_timeout=self.options.connect_timeout,
                )
            except HandshakeRefused as exc:
                self._error(
                    f"handshake:{exc.kind}", "handshake_refused", status=exc.kind, detail=exc.detail
                )
            except ConnectFailed as exc:
                self._error("connect_failed", "connect_failed", reason=str(exc))
            else:
                booted, dropped = await self._session(ws)
                if self._reboot:
                    self._reboot = False
                    await asyncio.sleep(self.options.reboot_delay)
                    failures = 0
                    continue
                if booted:
                    failures = 0
                if dropped:
                    self._error("connection_closed", "connection_closed")
            await asyncio.sleep(
                backoff_delay(
                    failures,
                    minimum=self.options.backoff_min,
                    maximum=self.options.backoff_max,
                    rng=self.rng,
                )
            )
            failures += 1

    async def _session(self, ws: ClientConnection) -> tuple[bool, bool]:
        """Serve one connection; returns (whether it booted, whether the peer dropped it)."""
        conn = OcppConnection(ws, self.stats, call_timeout=self.options.call_timeout)
        self._conn = conn
        self._booted = False
        self._heartbeat_changed = asyncio.Event()
        self.station.forget_reported()
        self.stats.connection_opened()
        log.debug("connected", charge_point_id=self.spec.charge_point_id)
        self._spawn(self._lifecycle())
        booted = dropped = False
        try:
            await conn.serve(self._on_call, self._spawn)
        finally:
            dropped = not conn.closed_by_us
            booted = self._booted
            self._conn = None
            self._booted = False
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            self._heartbeat_task = None
            try:
                await conn.close()
            finally:
                if tasks:
                    await asyncio.gather(*tasks, return_exceptions=True)
                self.stats.connection_closed(was_booted=booted)
        return booted, dropped

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        """Run ``coro`` as a task of this connection: held, cancelled with it, errors logged."""
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None and not isinstance(exc, ConnectionLost):
            log.exception("charger_task_failed", exc=exc, charge_point_id=self.spec.charge_point_id)

    def _error(self, kind: str, event: str, **fields: Any) -> None:
        """Count an error; the first of each kind in the process is worth a warning line."""
        if self.stats.error(kind):
            log.warning(event, charge_point_id=self.spec.charge_point_id, **fields)
        else:
            log.debug(event, charge_point_id=self.spec.charge_point_id, **fields)

    async def _call(self, request: Request) -> dict[str, Any] | None:
        """Send a CALL; None when it was answered with a CALLERROR or not at all (counted)."""
        conn = self._conn
        if conn is None:
            raise ConnectionLost
        try:
            payload = await conn.call(request.action, request.payload)
        except (CallErrorReply, CallTimeout):
            return None
        if request.samples:
            self.stats.samples(request.samples)
        return payload

    async def _lifecycle(self) -> None:
        """Boot, announce every connector, resume transactions, heartbeat, run the scenario."""
        await self._boot_until_accepted()
        for number in range(len(self.station.connectors) + 1):
            await self._notify(number)
        for connector in self.station.active():
            self._start_transaction_task(connector)
        self._heartbeat_task = self._spawn(self._heartbeat_loop())
        if self._reset_pending is not None and not self.station.active():
            self._spawn(self._reboot_now(self._reset_pending))
            self._reset_pending = None
        await self.scenario.run(self)

    # boot and heartbeat ------------------------------------------------------------------------

    async def _boot_until_accepted(self) -> None:
        """BootNotification until Accepted, waiting the interval after Pending or Rejected."""
        reason, self._boot_reason = self._boot_reason, BootReason.POWER_UP
        while True:
            result = await self._send_boot(reason)
            if self._booted:
                return
            wait = result.interval if result is not None and result.interval > 0 else BOOT_RETRY_S
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._boot_waiter = waiter
            try:
                # A boot triggered by the central system meanwhile may be accepted earlier.
                async with asyncio.timeout(wait):
                    await waiter
            except TimeoutError:
                pass
            finally:
                self._boot_waiter = None
            if self._booted:
                return

    async def _send_boot(self, reason: BootReason) -> BootResult | None:
        payload = await self._call(self.adapter.boot(self.station, reason))
        if payload is None:
            return None
        result = self.adapter.parse_boot(payload)
        if result.status != "Accepted":
            self.stats.refusal(f"boot:{result.status}")
            log.debug(
                "boot_refused", charge_point_id=self.spec.charge_point_id, status=result.status
            )
            return result
        if self.options.heartbeat is None and result.interval > 0:
            self.station.config.put(self.adapter.heartbeat_key, format_seconds(result.interval))
            if self._heartbeat_changed is not None:
                self._heartbeat_changed.set()
        if not self._booted:
            self._booted = True
            self.stats.boot_accepted(first=not self._ever_booted)
            self._ever_booted = True
            log.debug("boot_accepted", charge_point_id=self.spec.charge_point_id)
            if self._boot_waiter is not None and not self._boot_waiter.done():
                self._boot_waiter.set_result(None)
        return result

    async def _heartbeat_loop(self) -> None:
        changed = self._heartbeat_changed
        assert changed is not None
        while True:
            interval = self.station.config.get_float(
                self.adapter.heartbeat_key, DEFAULT_HEARTBEAT_S
            )
            # A changed interval restarts the wait rather than cancelling a Heartbeat in flight.
            if await _wait(changed, interval if interval > 0 else None):
                changed.clear()
                continue
            await self._call(self.adapter.heartbeat())

    # status --------------------------------------------------------------------------------

    async def _notify(self, number: int, *, force: bool = False) -> None:
        """StatusNotification for ``number`` (0 = station) when its status changed."""
        request = self.adapter.status(self.station, number, force=force)
        if request is not None:
            await self._call(request)

    async def _notify_many(self, numbers: list[int]) -> None:
        for number in numbers:
            await self._notify(number)

    # transactions ------------------------------------------------------------------------------

    def _wake_event(self, number: int) -> asyncio.Event:
        event = self._wake.get(number)
        if event is None:
            event = self._wake[number] = asyncio.Event()
        return event

    async def _wake_up(self, number: int) -> None:
        self._wake_event(number).set()

    def _start_transaction_task(self, connector: Connector) -> asyncio.Task[None]:
        task = self._spawn(self._drive_transaction(connector))
        self._tx_tasks[connector.number] = task
        task.add_done_callback(partial(self._transaction_task_done, connector.number))
        return task

    def _transaction_task_done(self, number: int, task: asyncio.Task[None]) -> None:
        if self._tx_tasks.get(number) is task:
            del self._tx_tasks[number]

    def _measurands(self, key: str) -> list[str]:
        value = self.station.config.get(key) or ENERGY
        return value.split(",")

    def _session_power(self, connector: Connector) -> float:
        """The power an EV draws: a little under the connector's nominal power."""
        return round(connector.nominal_power_w * self.rng.uniform(0.85, 1.0), 1)

    async def _drive_transaction(self, connector: Connector) -> None:
        """Start (if not yet acknowledged), send meter values every interval, stop."""
        tx = connector.transaction
        if tx is None:
            return
        if not tx.start_acknowledged and not await self._send_start(connector, tx):
            return
        wake = self._wake_event(connector.number)
        while tx.stop_reason is None:
            interval = self.station.config.get_float(self.adapter.meter_interval_key, 0.0)
            delay: float | None = interval if interval > 0 else None
            if tx.stop_at is not None:
                left = tx.stop_at - self.station.clock()
                delay = left if delay is None else min(delay, left)
            woken = delay is None or delay > 0
            if woken:
                woken = await _wait(wake, delay)
                wake.clear()
            if tx.stop_reason is not None:
                break
            if tx.stop_at is not None and self.station.clock() >= tx.stop_at:
                tx.stop_reason = StopReason.LOCAL
                break
            if woken:  # a new interval or a stop request: look again before sampling
                continue
            await self._send_meter_values(connector, Context.PERIODIC, in_transaction=True)
        await self._send_stop(connector, tx)

    async def _send_start(self, connector: Connector, tx: Transaction) -> bool:
        """Start the transaction on the wire; False when the central system did not take it."""
        samples = self.station.samples(connector, [ENERGY])
        payload = await self._call(
            self.adapter.start_transaction(self.station, connector, tx, samples)
        )
        status = transaction_id = None
        if payload is not None:
            try:
                status, transaction_id = self.adapter.parse_start(payload, tx)
            except PayloadError as exc:
                self._error("protocol:bad_start_answer", "bad_start_answer", detail=str(exc))
        if status is None or transaction_id is None:
            self.station.end_transaction(connector)
            self.station.unplug(connector)
            await self._notify(connector.number)
            return False
        tx.transaction_id = transaction_id
        tx.start_acknowledged = True
        self.stats.transaction_started()
        if status != "Accepted":
            self.stats.refusal(f"start:{status}")
            tx.stop_reason = StopReason.DEAUTHORIZED
            return True
        self.station.charging_started(connector, self._session_power(connector))
        await self._notify(connector.number)
        return True

    async def _send_meter_values(
        self, connector: Connector, context: Context, *, in_transaction: bool
    ) -> None:
        samples = self.station.samples(connector, self._measurands(self.adapter.measurands_key))
        request = self.adapter.meter_values(
            self.station, connector, samples, context, in_transaction=in_transaction
        )
        if await self._call(request) is not None:
            self.stats.meter_values()

    async def _send_stop(
        self, connector: Connector, tx: Transaction, *, finishing: bool = True
    ) -> None:
        """Stop with the final register, then Finishing and, once unplugged, idle again."""
        samples = self.station.samples(
            connector, self._measurands(self.adapter.stop_measurands_key)
        )
        self.station.read_meter(connector)
        request = self.adapter.stop_transaction(self.station, connector, tx, samples)
        if await self._call(request) is not None:
            self.stats.transaction_stopped()
        self.station.end_transaction(connector)
        if finishing:
            await self._notify(connector.number)
        self.station.unplug(connector)
        await self._notify(connector.number)
        if self._reset_pending is not None and not self.station.active():
            reason, self._reset_pending = self._reset_pending, None
            self._spawn(self._reboot_now(reason))

    # what scenarios drive --------------------------------------------------------------------

    async def local_session(self, number: int, duration: float) -> bool:
        """A driver plugs in, authorizes and charges for ``duration`` seconds (or is refused)."""
        connector = self.station.connector(number)
        if connector is None or not self._booted or not self.station.plug_in(connector):
            return False
        await self._notify(number)
        payload = await self._call(self.adapter.authorize(self.spec.id_tag))
        status = self.adapter.parse_authorize(payload) if payload is not None else None
        if payload is not None and status != "Accepted":
            self.stats.refusal(f"authorize:{status}")
        usable = self.station.idle_status(connector) is ConnectorStatus.AVAILABLE
        if status != "Accepted" or not usable or connector.status is not ConnectorStatus.PREPARING:
            if connector.transaction is None:
                self.station.unplug(connector)
                await self._notify(number)
            return False
        self.station.begin_transaction(
            connector, self.spec.id_tag, stop_at=self.station.clock() + duration
        )
        await asyncio.wait([self._start_transaction_task(connector)])
        return True

    async def fault(self, number: int, error_code: str) -> bool:
        """Connector ``number`` faults, if it is idle."""
        connector = self.station.connector(number)
        if connector is None or not self.station.fault(connector, error_code):
            return False
        await self._notify(number)
        return True

    async def recover(self, number: int) -> None:
        """The fault clears."""
        connector = self.station.connector(number)
        if connector is not None and self.station.recover(connector):
            await self._notify(number)

    async def ingest_cycle(self, number: int) -> bool:
        """Authorize, start, Charging, 3 x meter values, stop, Available, Heartbeat."""
        connector = self.station.connector(number)
        if connector is None or not self._booted or not self.station.plug_in(connector):
            return False
        payload = await self._call(self.adapter.authorize(self.spec.id_tag))
        status = self.adapter.parse_authorize(payload) if payload is not None else None
        if status != "Accepted" or connector.status is not ConnectorStatus.PREPARING:
            if payload is not None and status != "Accepted":
                self.stats.refusal(f"authorize:{status}")
            self.station.unplug(connector)
            return False
        tx = self.station.begin_transaction(connector, self.spec.id_tag)
        if not await self._send_start(connector, tx):
            return False
        for _ in range(3):
            if tx.stop_reason is not None:
                break
            await self._send_meter_values(connector, Context.PERIODIC, in_transaction=True)
        if tx.stop_reason is None:
            tx.stop_reason = StopReason.LOCAL
        await self._send_stop(connector, tx, finishing=False)
        await self._call(self.adapter.heartbeat())
        return True

    # the central system's commands (CommandTarget) -------------------------------------------

    def _on_call(self, action: str, payload: Any) -> Answer:
        return self.adapter.handle(self, action, payload)

    def remote_start(
        self,
        connector_number: int | None,
        id_tag: str,
        *,
        remote_start_id: int | None = None,
        id_type: str = "Central",
    ) -> Decision:
        """Take the connector now (so a second request is refused), start on the wire next."""
        if not self._booted:
            return Decision(Outcome.REJECTED)
        connector = self.station.start_candidate(connector_number)
        if connector is None:
            return Decision(Outcome.REJECTED)
        self.station.plug_in(connector)
        session = self.scenario.remote_session_s(self.rng)
        self.station.begin_transaction(
            connector,
            id_tag,
            remote=True,
            remote_start_id=remote_start_id,
            id_type=id_type,
            stop_at=self.station.clock() + session if session is not None else None,
        )
        return Decision(Outcome.ACCEPTED, partial(self._remote_started, connector))

    async def _remote_started(self, connector: Connector) -> None:
        await self._notify(connector.number)
        self._start_transaction_task(connector)

    def remote_stop(self, transaction_id: str) -> Decision:
        """Accepted for a running transaction not already stopping."""
        connector = self.station.find_transaction(transaction_id)
        tx = connector.transaction if connector is not None else None
        if connector is None or tx is None or tx.stop_reason is not None:
            return Decision(Outcome.REJECTED)
        tx.stop_reason = StopReason.REMOTE
        return Decision(Outcome.ACCEPTED, partial(self._wake_up, connector.number))

    def reset(self, reason: StopReason, *, when_idle: bool) -> Decision:
        """Reboot now, or once the running transactions are over (Scheduled)."""
        if when_idle and self.station.active():
            self._reset_pending = reason
            return Decision(Outcome.SCHEDULED)
        return Decision(Outcome.ACCEPTED, partial(self._reboot_now, reason))

    async def _reboot_now(self, reason: StopReason) -> None:
        """Stop every transaction, close the socket; ``run`` reconnects and boots again."""
        for connector in self.station.active():
            tx = connector.transaction
            if tx is not None and tx.stop_reason is None:
                tx.stop_reason = reason
            self._wake_event(connector.number).set()
        current = asyncio.current_task()
        pending = [task for task in self._tx_tasks.values() if task is not current]
        if pending:
            await asyncio.wait(pending, timeout=self.options.call_timeout * 2)
        log.debug("rebooting", charge_point_id=self.spec.charge_point_id, reason=reason.value)
        self._reboot = True
        self._boot_reason = BootReason.REMOTE_RESET
        self.station.reboot()
        conn = self._conn
        if conn is not None:
            await conn.close()

    def change_availability(self, connector_number: int | None, operative: bool) -> Decision:
        """Accepted now, Scheduled behind a running session, or UnknownConnector."""
        change, changed = self.station.change_availability(connector_number, operative)
        if change is AvailabilityChange.UNKNOWN_CONNECTOR:
            return Decision(Outcome.UNKNOWN_CONNECTOR)
        outcome = Outcome.SCHEDULED if change is AvailabilityChange.SCHEDULED else Outcome.ACCEPTED
        return Decision(outcome, partial(self._notify_many, changed) if changed else None)

    def unlock(self, connector_number: int, *, stop_transaction: bool) -> Decision:
        """Unlocked; a running session is stopped first (1.6) or the request refused (2.0.1)."""
        connector = self.station.connector(connector_number)
        if connector is None:
            return Decision(Outcome.UNKNOWN_CONNECTOR)
        tx = connector.transaction
        if tx is None:
            return Decision(Outcome.UNLOCKED)
        if not stop_transaction:
            return Decision(Outcome.ONGOING_TRANSACTION)
        if tx.stop_reason is None:
            tx.stop_reason = StopReason.UNLOCK
        return Decision(Outcome.UNLOCKED, partial(self._wake_up, connector_number))

    def trigger(self, message: Trigger, connector_number: int | None) -> Decision:
        """Accepted, then the message is sent; Rejected for an unknown connector."""
        if connector_number is not None and self.station.connector(connector_number) is None:
            return Decision(Outcome.REJECTED)
        numbers = (
            [connector_number]
            if connector_number is not None
            else [c.number for c in self.station.connectors]
        )
        if message is Trigger.TRANSACTION_EVENT:
            numbers = [
                n
                for n in numbers
                if (tx := self.station.connectors[n - 1].transaction) is not None
                and tx.start_acknowledged
            ]
            if not numbers:
                return Decision(Outcome.REJECTED)
        return Decision(
            Outcome.ACCEPTED, partial(self._send_triggered, message, connector_number, numbers)
        )

    async def _send_triggered(
        self, message: Trigger, connector_number: int | None, numbers: list[int]
    ) -> None:
        if message is Trigger.BOOT:
            await self._send_boot(BootReason.TRIGGERED)
        elif message is Trigger.HEARTBEAT:
            await self._call(self.adapter.heartbeat())
        elif message is Trigger.STATUS:
            if connector_number is None:
                await self._notify(0, force=True)
            for number in numbers:
                await self._notify(number, force=True)
        elif message in (Trigger.METER_VALUES, Trigger.TRANSACTION_EVENT):
            for number in numbers:
                await self._send_meter_values(
                    self.station.connectors[number - 1],
                    Context.TRIGGER,
                    in_transaction=message is Trigger.TRANSACTION_EVENT,
                )
        elif message is Trigger.FIRMWARE_STATUS:
            await self._call(self.adapter.firmware_status())
        elif message is Trigger.DIAGNOSTICS_STATUS:
            await self._call(self.adapter.diagnostics_status())

    def change_configuration(self, key: str, value: str) -> SetResult:
        """Write a key; a new heartbeat or meter interval takes effect at once."""
        result = self.station.config.set(key, value)
        if result is SetResult.ACCEPTED:
            lowered = key.lower()
            if lowered == self.adapter.heartbeat_key.lower() and self._heartbeat_changed:
                self._heartbeat_changed.set()
            elif lowered == self.adapter.meter_interval_key.lower():
                for event in self._wake.values():
                    event.set()
        return result
