"""Remote commands: a stored record first, then the command bus, then the charger's answer.

Order matters and is the point of this module:

1. the command row is committed (``pending``) before anything is sent, so a crash at any later
   step leaves a record that the sweeper can settle;
2. sending "claims" the row (sets ``sent_at`` only if still unsent), so a queued command is sent
   once even when a dispatcher and an API request race for it;
3. a task held by the ``CommandRecorder`` awaits the reply and writes it in its own unit of work,
   whether or not the HTTP caller is still waiting, then publishes ``command.completed``.

The HTTP layer maps ``issue_command``'s ``CommandOutcome`` to 200 (``completed``) or 202 with a
``Location`` (still pending), ``NotFoundError`` to 404, ``ValidationFailedError`` to 422 and
``StationOfflineError`` to 409.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from config.logging import get_logger
from core.bus.commands import CommandBus, CommandReply, CommandRequest, StationNotConnectedError
from core.bus.events import Event, EventBus, EventType
from core.clock import Clock
from core.domain.enums import CommandAction, CommandStatus
from core.errors import NotFoundError, StationOfflineError, ValidationFailedError
from core.pagination import Page, clamp_limit, decode_cursor, encode_cursor
from core.repositories.commands import CommandRecord, CommandRepository
from core.repositories.history import StationRef, StationStateRepository
from core.uow import UnitOfWork

if TYPE_CHECKING:
    from core.runtime import Resources

log = get_logger("commands")

UowFactory = Callable[[], UnitOfWork]

#: Upper bound of ``wait`` (the HTTP request must not hang on for minutes).
MAX_WAIT_SECONDS = 60.0
#: Extra time given to a bus reply beyond the command's timeout before the recorder gives up.
DEFAULT_GRACE_SECONDS = 2.0
#: Extra margin before the sweeper settles a command another process may still be awaiting
#: (covers clock skew between nodes and a busy event loop).
SWEEP_MARGIN = timedelta(seconds=30)


# --- payloads ------------------------------------------------------------------------------
# The version-independent payloads of docs/CONTRACTS.md. Strict: no "1" for 1, no "true" for
# true, no unknown keys; csms maps these to each OCPP version.

ConnectorNumber = Annotated[int, Field(ge=1, le=16)]
# OCPP 2.0.1 keys are "Component.Variable", each name at most 50 characters.
ConfigurationKey = Annotated[str, Field(min_length=1, max_length=101)]


def _no_nul(value: Any) -> Any:
    # PostgreSQL cannot store NUL in jsonb: refusing it here keeps a client mistake a 422.
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if isinstance(value, list):
        for item in value:
            _no_nul(item)
    return value


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return _no_nul(value)


class RemoteStartPayload(_Payload):
    """Start a session for ``id_tag``; the charger picks the connector when none is given."""

    id_tag: str = Field(min_length=1, max_length=36)
    connector_number: ConnectorNumber | None = None


class RemoteStopPayload(_Payload):
    """Stop the session with this OCPP transaction id."""

    transaction_id: str = Field(min_length=1, max_length=36)

    @field_validator("transaction_id", mode="before")
    @classmethod
    def _integer_ids_welcome(cls, value: Any) -> Any:
        # OCPP 1.6 transaction ids are integers; accept them as JSON numbers too.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value


class ResetPayload(_Payload):
    """Soft (graceful) or hard reboot."""

    type: Literal["Soft", "Hard"]


class ChangeAvailabilityPayload(_Payload):
    """Switch a connector, or the whole station when ``connector_number`` is null, on or off."""

    connector_number: ConnectorNumber | None = None
    operative: bool


class UnlockConnectorPayload(_Payload):
    """Release the cable lock of one connector."""

    connector_number: ConnectorNumber


class TriggerMessagePayload(_Payload):
    """Ask the charger to send one of its own messages now."""

    message: Literal[
        "BootNotification",
        "Heartbeat",
        "StatusNotification",
        "MeterValues",
        "FirmwareStatusNotification",
        "DiagnosticsStatusNotification",
        "LogStatusNotification",
    ]
    connector_number: ConnectorNumber | None = None


class GetConfigurationPayload(_Payload):
    """Read configuration keys; null asks for everything (1.6) or a well-known list (2.0.1)."""

    keys: list[ConfigurationKey] | None = Field(default=None, max_length=100)


class ChangeConfigurationPayload(_Payload):
    """Set one configuration key."""

    key: ConfigurationKey
    value: str = Field(max_length=1000)


class ClearCachePayload(_Payload):
    """Clear the charger's authorization cache; takes nothing."""


#: One pydantic model per action: the HTTP layer can reuse them for its OpenAPI schemas.
COMMAND_PAYLOADS: Mapping[CommandAction, type[_Payload]] = {
    CommandAction.REMOTE_START: RemoteStartPayload,
    CommandAction.REMOTE_STOP: RemoteStopPayload,
    CommandAction.RESET: ResetPayload,
    CommandAction.CHANGE_AVAILABILITY: ChangeAvailabilityPayload,
    CommandAction.UNLOCK_CONNECTOR: UnlockConnectorPayload,
    CommandAction.TRIGGER_MESSAGE: TriggerMessagePayload,
    CommandAction.GET_CONFIGURATION: GetConfigurationPayload,
    CommandAction.CHANGE_CONFIGURATION: ChangeConfigurationPayload,
    CommandAction.CLEAR_CACHE: ClearCachePayload,
}


def validate_command_payload(action: CommandAction, payload: Any) -> dict[str, Any]:
    """Check ``payload`` against the contract of ``action``; return it normalised.

    Normalised means: defaults filled in (``connector_number: null``) and integer transaction
    ids turned into strings, i.e. exactly what csms expects in ``CommandRequest.payload``.
    """
    if payload is None:
        payload = {}
    if not isinstance(payload, Mapping):
        raise ValidationFailedError(
            "invalid command payload", [{"field": "payload", "message": "must be an object"}]
        )
    try:
        model = COMMAND_PAYLOADS[action].model_validate(dict(payload))
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(str(part) for part in error["loc"]) or "payload",
                "message": error["msg"],
            }
            for error in exc.errors()
        ]
        raise ValidationFailedError(f"invalid {action.value} payload", errors) from None
    return model.model_dump(mode="json")


# --- records and outcomes --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    """What ``issue_command`` can tell its caller now.

    ``completed`` means the record is final (HTTP 200 with it); otherwise the charger has not
    answered yet, or the command waits in the queue (HTTP 202 with ``Location``).
    """

    record: CommandRecord

    @property
    def completed(self) -> bool:
        """True when the status is final."""
        return self.record.finished


class CommandStationOfflineError(StationOfflineError):
    """The station is offline and the caller did not ask to queue; ``record`` is the failed one."""

    def __init__(self, detail: str, record: CommandRecord) -> None:
        super().__init__(detail)
        self.record = record


class NotSent(enum.Enum):
    """Why ``CommandRecorder.send`` handed nothing to the bus."""

    OFFLINE = "offline"  # nobody holds the charger's socket; a claim was undone
    TAKEN = "taken"  # not next in its queue, claimed by another sender, or already final


def _offline_detail(ref: StationRef) -> str:
    return f"station {ref.charge_point_id} is not connected"


# --- the recorder ----------------------------------------------------------------------------


class CommandRecorder:
    """Sends claimed commands and holds the tasks that record their answers.

    One per process that issues commands (the API, and csms for queued ones). ``close`` cancels
    what is still awaited: those records stay pending and the sweeper settles them later.
    """

    def __init__(
        self,
        *,
        uow: UowFactory,
        command_bus: CommandBus,
        event_bus: EventBus,
        clock: Clock,
        default_wait: float = 10.0,
        default_timeout: float = 30.0,
        max_timeout: float | None = None,
        grace: float = DEFAULT_GRACE_SECONDS,
    ) -> None:
        self.uow = uow
        self.command_bus = command_bus
        self.event_bus = event_bus
        self.clock = clock
        self.default_wait = default_wait
        self.default_timeout = default_timeout
        self.max_timeout = max_timeout if max_timeout is not None else default_timeout
        if not 0 < self.default_timeout <= self.max_timeout:
            raise ValueError("need 0 < default_timeout <= max_timeout")
        self.grace = grace
        self._tasks: set[asyncio.Task[CommandRecord]] = set()
        self._open = False

    @classmethod
    def from_resources(cls, resources: Resources) -> CommandRecorder:
        """The recorder a process builds from its shared resources and settings."""
        settings = resources.settings
        return cls(
            uow=resources.uow,
            command_bus=resources.command_bus,
            event_bus=resources.event_bus,
            clock=resources.clock,
            default_wait=settings.command_wait_seconds,
            default_timeout=settings.command_timeout_seconds,
        )

    async def start(self) -> None:
        """Accept work."""
        self._open = True

    async def close(self) -> None:
        """Stop accepting work and cancel the answers still awaited."""
        self._open = False
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def running(self) -> bool:
        """True between ``start`` and ``close``: only then may commands be claimed and sent."""
        return self._open

    @property
    def in_flight(self) -> int:
        """Answers currently awaited by this recorder."""
        return len(self._tasks)

    def resolve_wait(self, wait: float | None) -> float:
        """The default, or the caller's value if it is within bounds."""
        value = self.default_wait if wait is None else wait
        if not 0 <= value <= MAX_WAIT_SECONDS:
            raise ValidationFailedError(
                "invalid wait",
                [{"field": "wait", "message": f"must be between 0 and {MAX_WAIT_SECONDS:g}"}],
            )
        return value

    def resolve_timeout(self, timeout: float | None) -> float:
        """The default, or the caller's value if the sweeper's horizon still covers it."""
        value = self.default_timeout if timeout is None else timeout
        if not 0 < value <= self.max_timeout:
            raise ValidationFailedError(
                "invalid timeout",
                [{"field": "timeout", "message": f"must be > 0 and <= {self.max_timeout:g}"}],
            )
        return value

    # -- sending --

    async def send(
        self, ref: StationRef, record: CommandRecord, *, timeout: float
    ) -> asyncio.Task[CommandRecord] | NotSent:
        """Claim an unsent command and hand it to the bus; the task yields the final record.

        A queued command is claimed only when it is next in its station's queue; otherwise it
        stays queued for the dispatcher, which keeps the queue's order.
        """
        if not self._open:
            raise RuntimeError("CommandRecorder is not started")
        if not await self.command_bus.is_connected(ref.charge_point_id):
            return NotSent.OFFLINE
        async with self.uow() as unit:
            repo = CommandRepository(unit.session)
            now = self.clock.now()
            if record.queued:
                claimed = await repo.claim_next_queued(ref.id, at=now, only=record.id)
            else:
                claimed = await repo.claim(record.id, at=now)
            await unit.commit()
        if claimed is None:
            return NotSent.TAKEN
        return await self.send_claimed(ref, claimed, timeout=timeout)

    async def send_claimed(
        self, ref: StationRef, record: CommandRecord, *, timeout: float
    ) -> asyncio.Task[CommandRecord] | NotSent:
        """Submit a command this process claimed; undo the claim if the station is gone."""
        if not self._open:
            raise RuntimeError("CommandRecorder is not started")
        request = CommandRequest(
            command_id=record.id,
            station_id=ref.id,
            charge_point_id=ref.charge_point_id,
            action=record.action,
            payload=record.payload,
            timeout=timeout,
        )
        future: asyncio.Future[CommandReply]
        try:
            future = await self.command_bus.submit(request)
        except StationNotConnectedError:
            async with self.uow() as unit:
                await CommandRepository(unit.session).release(record.id)
                await unit.commit()
            return NotSent.OFFLINE
        except Exception as exc:  # the bus itself failed: the record says so
            log.warning("command_submit_failed", command_id=str(record.id), error=repr(exc))
            future = asyncio.get_running_loop().create_future()
            future.set_exception(exc)
        else:
            log.info(
                "command_sent",
                command_id=str(record.id),
                action=record.action.value,
                charge_point_id=ref.charge_point_id,
            )
        return self._hold(self._await_reply(ref, record, future, timeout), record.id)

    def _hold(self, coro: Any, command_id: uuid.UUID) -> asyncio.Task[CommandRecord]:
        task: asyncio.Task[CommandRecord] = asyncio.create_task(
            coro, name=f"command-reply-{command_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task[CommandRecord]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("command_record_failed", task=task.get_name(), error=repr(task.exception()))

    async def _await_reply(
        self,
        ref: StationRef,
        record: CommandRecord,
        future: asyncio.Future[CommandReply],
        timeout: float,
    ) -> CommandRecord:
        response: dict[str, Any] | None = None
        error: str | None = None
        try:
            # The executor bounds its own wait by ``timeout``; this bound only catches a bus
            # or executor that never resolves the future.
            reply = await asyncio.wait_for(future, timeout + self.grace)
        except TimeoutError:
            status, error = CommandStatus.TIMED_OUT, f"no answer within {timeout:g} s"
        except StationNotConnectedError:
            status, error = CommandStatus.FAILED, "station offline"
        except Exception as exc:
            status, error = CommandStatus.FAILED, f"send failed: {type(exc).__name__}: {exc}"
        else:
            status = CommandStatus(reply.status)
            response, error = reply.response, reply.error
            if status is CommandStatus.PENDING:
                status, error = CommandStatus.FAILED, "the executor returned no final status"
        return await self.settle(ref, record.id, status=status, response=response, error=error)

    # -- settling --

    async def settle(
        self,
        ref: StationRef,
        command_id: uuid.UUID,
        *,
        status: CommandStatus,
        response: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> CommandRecord:
        """Write a final status unless one is already there; return the record as stored."""
        async with self.uow() as unit:
            repo = CommandRepository(unit.session)
            settled = await repo.finish(
                command_id, status=status, response=response, error=error, at=self.clock.now()
            )
            current = settled if settled is not None else await repo.get(command_id)
            await unit.commit()
        if current is None:  # the station (and its commands) were deleted meanwhile
            raise NotFoundError("command not found")
        if settled is not None:
            log.info(
                "command_completed",
                command_id=str(command_id),
                status=settled.status.value,
                charge_point_id=ref.charge_point_id,
            )
            await self.publish_completed(ref, settled)
        return current

    async def publish_completed(self, ref: StationRef, record: CommandRecord) -> None:
        """Tell /events subscribers; a failing bus must not undo a recorded answer."""
        event = Event(
            type=EventType.COMMAND_COMPLETED,
            station_id=ref.id,
            charge_point_id=ref.charge_point_id,
            partner_id=ref.partner_id,
            at=self.clock.now(),
            data={
                "command_id": str(record.id),
                "action": record.action.value,
                "status": record.status.value,
            },
        )
        try:
            await self.event_bus.publish(event)
        except Exception as exc:
            log.warning("command_event_not_published", command_id=str(record.id), error=repr(exc))

    async def outcome(
        self, task: asyncio.Task[CommandRecord], command_id: uuid.UUID, *, wait: float
    ) -> CommandOutcome:
        """Wait up to ``wait`` seconds without ever cancelling the recording task."""
        # asyncio.wait leaves the task alone on timeout and when the caller is cancelled
        # (a client that hangs up): the answer is still recorded.
        await asyncio.wait({task}, timeout=wait)
        if task.done() and not task.cancelled() and task.exception() is None:
            return CommandOutcome(task.result())
        async with self.uow() as unit:
            current = await CommandRepository(unit.session).get(command_id)
        if current is None:
            raise NotFoundError("command not found")
        return CommandOutcome(current)


# --- use cases --------------------------------------------------------------------------------


async def _station_ref(
    uow: UowFactory, station_id: uuid.UUID, partner_id: uuid.UUID | None
) -> StationRef:
    async with uow() as unit:
        ref = await StationStateRepository(unit.session).get_ref(station_id, partner_id=partner_id)
    if ref is None:
        raise NotFoundError("station not found")
    return ref


async def issue_command(
    *,
    recorder: CommandRecorder,
    station_id: uuid.UUID,
    partner_id: uuid.UUID | None,
    action: CommandAction,
    payload: Mapping[str, Any] | None,
    requested_by: str | None,
    wait: float | None = None,
    queue: bool = False,
    timeout: float | None = None,
) -> CommandOutcome:
    """Record a command, send it, and wait up to ``wait`` seconds for the charger's answer.

    ``partner_id`` is the caller's partner (None for an admin). ``wait`` and ``timeout``
    default to the recorder's (``COMMAND_WAIT_SECONDS``, ``COMMAND_TIMEOUT_SECONDS``).
    Raises ``NotFoundError`` for a station the caller may not see, ``ValidationFailedError``
    for a bad payload or bound, and ``CommandStationOfflineError`` (a ``StationOfflineError``)
    when the station is offline and ``queue`` is false, after recording the command as failed.
    With ``queue`` true an offline station's command stays pending until it reconnects.
    """
    if not recorder.running:
        raise RuntimeError("CommandRecorder is not started")
    clean = validate_command_payload(action, payload)
    wait_s = recorder.resolve_wait(wait)
    timeout_s = recorder.resolve_timeout(timeout)
    async with recorder.uow() as unit:
        ref = await StationStateRepository(unit.session).get_ref(station_id, partner_id=partner_id)
        if ref is None:
            raise NotFoundError("station not found")
        record = await CommandRepository(unit.session).add(
            station_id=ref.id,
            action=action,
            payload=clean,
            requested_by=requested_by,
            queued=queue,
            requested_at=recorder.clock.now(),
        )
        # Durable before it can reach the charger: an answer never arrives for a command
        # that nobody remembers asking for.
        await unit.commit()

    sent = await recorder.send(ref, record, timeout=timeout_s)
    if sent is NotSent.TAKEN:
        # Queued behind older commands of the station (or a dispatcher got it first): the
        # dispatcher sends it in order and its recorder writes the answer.
        return CommandOutcome(record)
    if sent is NotSent.OFFLINE:
        if queue:
            log.info(
                "command_queued", command_id=str(record.id), charge_point_id=ref.charge_point_id
            )
            return CommandOutcome(record)
        failed = await recorder.settle(
            ref, record.id, status=CommandStatus.FAILED, error="station offline"
        )
        raise CommandStationOfflineError(_offline_detail(ref), failed)
    assert isinstance(sent, asyncio.Task)
    return await recorder.outcome(sent, record.id, wait=wait_s)


async def deliver_queued_commands(
    *, recorder: CommandRecorder, station_id: uuid.UUID
) -> list[CommandRecord]:
    """Send a (re)connected station's queued commands one by one, oldest first.

    Each command's answer is awaited before the next is sent, so "make it available, then
    start" keeps its order on the charger. Stops as soon as the station is gone; what is left
    stays queued. Queued commands use the recorder's default timeout (the schema keeps none per
    command). Returns the final records of the commands sent.
    """
    async with recorder.uow() as unit:
        ref = await StationStateRepository(unit.session).get_ref(station_id, partner_id=None)
    if ref is None:
        return []
    delivered: list[CommandRecord] = []
    while recorder.running and await recorder.command_bus.is_connected(ref.charge_point_id):
        async with recorder.uow() as unit:
            record = await CommandRepository(unit.session).claim_next_queued(
                ref.id, at=recorder.clock.now()
            )
            await unit.commit()
        if record is None:
            break
        sent = await recorder.send_claimed(ref, record, timeout=recorder.default_timeout)
        if not isinstance(sent, asyncio.Task):
            break
        delivered.append(await asyncio.shield(sent))
    if delivered:
        log.info(
            "queued_commands_delivered", charge_point_id=ref.charge_point_id, count=len(delivered)
        )
    return delivered


async def expire_stale_commands(
    *, recorder: CommandRecorder, limit: int = 500
) -> list[CommandRecord]:
    """Settle commands whose answer can no longer come (e.g. the process awaiting it died).

    Sent and unanswered for longer than the longest allowed timeout (plus margins) ->
    ``timed_out``; never sent although not queued -> ``failed``. Queued, unsent commands wait
    for their station indefinitely.
    """
    now = recorder.clock.now()
    horizon = now - timedelta(seconds=recorder.max_timeout + recorder.grace) - SWEEP_MARGIN
    async with recorder.uow() as unit:
        repo = CommandRepository(unit.session)
        expired = await repo.expire(sent_before=horizon, unsent_before=horizon, at=now, limit=limit)
        refs = await repo.station_refs(list({record.station_id for record in expired}))
        await unit.commit()
    for record in expired:
        log.info("command_expired", command_id=str(record.id), status=record.status.value)
        ref = refs.get(record.station_id)
        if ref is not None:
            await recorder.publish_completed(ref, record)
    return expired


async def get_command(
    *, uow: UowFactory, command_id: uuid.UUID, partner_id: uuid.UUID | None
) -> CommandRecord:
    """One command of a station the caller may see; ``NotFoundError`` otherwise."""
    async with uow() as unit:
        record = await CommandRepository(unit.session).get_scoped(command_id, partner_id=partner_id)
    if record is None:
        raise NotFoundError("command not found")
    return record


async def list_commands(
    *,
    uow: UowFactory,
    station_id: uuid.UUID,
    partner_id: uuid.UUID | None,
    status: CommandStatus | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[CommandRecord]:
    """A station's commands, newest first, one keyset page at a time."""
    size = clamp_limit(limit)
    before = decode_cursor(cursor, (datetime, uuid.UUID)) if cursor else None
    async with uow() as unit:
        ref = await StationStateRepository(unit.session).get_ref(station_id, partner_id=partner_id)
        if ref is None:
            raise NotFoundError("station not found")
        rows = await CommandRepository(unit.session).list_for_station(
            ref.id,
            status=status,
            before=(before[0], before[1]) if before else None,
            limit=size + 1,
        )
    items = rows[:size]
    more = len(rows) > size
    return Page(items, encode_cursor((items[-1].requested_at, items[-1].id)) if more else None)


# --- the dispatcher ---------------------------------------------------------------------------


class QueuedCommandDispatcher:
    """Delivers queued commands when their station connects, and sweeps stale records.

    Runs in csms (or the embedded launcher). The csms tells it directly about each station that
    connects (``station_connected``): listening on the event bus instead would make every csms
    decode every event of the fleet only to find the connects. The stations of a burst of
    connects (a storm) share one indexed query that keeps only those with queued commands, so a
    connect costs no database session of its own. Every
    ``sweep_interval`` seconds it expires stale commands and retries queued ones of online
    stations (which covers a command queued by another process while its station was
    connecting, and a connect this process missed).
    """

    def __init__(
        self,
        *,
        recorder: CommandRecorder,
        sweep_interval: float | None = 30.0,
        sweep_batch: int = 100,
    ) -> None:
        self._recorder = recorder
        self._sweep_interval = sweep_interval
        self._sweep_batch = sweep_batch
        self._background: list[asyncio.Task[None]] = []
        self._stations: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._again: set[uuid.UUID] = set()
        # Connected stations not yet looked up, and the task looking them up (one at a time).
        self._connected: set[uuid.UUID] = set()
        self._checker: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> None:
        """Start the periodic sweep (connects arrive through ``station_connected``)."""
        self._closing = False
        if self._sweep_interval:
            self._background.append(
                asyncio.create_task(self._sweep_forever(), name="command-sweeper")
            )

    async def close(self) -> None:
        """Stop sweeping; cancel lookups and deliveries in progress."""
        self._closing = True
        tasks = [*self._background, *self._stations.values()]
        if self._checker is not None:
            tasks.append(self._checker)
            self._checker = None
        self._connected.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._background.clear()
        self._stations.clear()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def station_connected(self, station_id: uuid.UUID) -> None:
        """Deliver the station's queue if it has one; cheap for the (usual) empty queue.

        Stations noted while a lookup runs wait for the next one: a storm of connects costs a
        handful of queries, not a session per station.
        """
        if self._closing:
            return
        self._connected.add(station_id)
        if self._checker is None:
            self._checker = asyncio.create_task(self._check_connected(), name="queued-lookup")

    async def _check_connected(self) -> None:
        try:
            while self._connected and not self._closing:
                batch = [self._connected.pop() for _ in range(min(1000, len(self._connected)))]
                try:
                    async with self._recorder.uow() as unit:
                        waiting = await CommandRepository(unit.session).with_queued(batch)
                except Exception as exc:  # the sweep retries online stations with a queue
                    log.error("queued_lookup_failed", stations=len(batch), error=repr(exc))
                    continue
                for station_id in waiting:
                    self.schedule(station_id)
        finally:
            self._checker = None

    def schedule(self, station_id: uuid.UUID) -> None:
        """Deliver a station's queue soon; one delivery per station at a time."""
        if self._closing:
            return
        if station_id in self._stations:
            # The running delivery may have looked already: run it once more afterwards.
            self._again.add(station_id)
            return
        task = asyncio.create_task(self._deliver(station_id), name=f"deliver-{station_id}")
        self._stations[station_id] = task
        task.add_done_callback(functools.partial(self._delivery_done, station_id))

    def _delivery_done(self, station_id: uuid.UUID, _task: asyncio.Task[None]) -> None:
        task = self._stations.pop(station_id, None)
        if task is not None and not task.cancelled() and task.exception() is not None:
            log.error(
                "queued_delivery_failed", station_id=str(station_id), error=repr(task.exception())
            )
        if station_id in self._again:
            self._again.discard(station_id)
            self.schedule(station_id)

    async def _deliver(self, station_id: uuid.UUID) -> None:
        await deliver_queued_commands(recorder=self._recorder, station_id=station_id)

    async def wait_idle(self) -> None:
        """Return once no lookup or delivery is running (for shutdown ordering and tests)."""
        while self._stations or self._checker is not None:
            pending: list[asyncio.Task[None]] = list(self._stations.values())
            if self._checker is not None:
                pending.append(self._checker)
            await asyncio.gather(*pending, return_exceptions=True)

    async def sweep(self) -> None:
        """Expire stale commands and retry queued ones of stations that are online now."""
        await expire_stale_commands(recorder=self._recorder)
        async with self._recorder.uow() as unit:
            stations = await CommandRepository(unit.session).stations_with_queued(
                limit=self._sweep_batch
            )
        for ref in stations:
            if await self._recorder.command_bus.is_connected(ref.charge_point_id):
                self.schedule(ref.id)

    async def _sweep_forever(self) -> None:
        assert self._sweep_interval
        while True:
            await asyncio.sleep(self._sweep_interval)
            try:
                await self.sweep()
            except Exception as exc:  # a failed sweep must not stop the next one
                log.error("command_sweep_failed", error=repr(exc))


__all__ = [
    "COMMAND_PAYLOADS",
    "CommandOutcome",
    "CommandRecord",
    "CommandRecorder",
    "CommandStationOfflineError",
    "NotSent",
    "QueuedCommandDispatcher",
    "deliver_queued_commands",
    "expire_stale_commands",
    "get_command",
    "issue_command",
    "list_commands",
    "validate_command_payload",
]
