"""Command bus: the only path from the management API to a charger's websocket.

The API submits a ``CommandRequest``; whichever csms node holds the charger's socket executes it
and the ``CommandReply`` comes back through the bus. The in-process bus calls the local executor
directly; the Redis bus routes by charger presence across nodes with the same interface (see
"Scale-out: the Redis command bus" in docs/CONTRACTS.md for its keys, channels and TTLs).

Both buses bound every future they return: an executor that raises yields a ``failed`` reply,
one that never answers a ``timed_out`` reply ``grace`` seconds after ``request.timeout``, so a
submitter never waits forever whatever the executor or the network does.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import orjson

from config.logging import get_logger
from core.domain.enums import CommandAction, CommandStatus

log = get_logger("core")

#: Seconds a bus waits beyond ``request.timeout`` before it reports ``timed_out`` itself (the
#: executor bounds its own wait by ``request.timeout``; this covers the hops around it).
DEFAULT_GRACE_SECONDS = 2.0


class StationNotConnectedError(Exception):
    """No csms node holds a websocket for this charger right now."""


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """A version-independent command for one charger."""

    command_id: uuid.UUID
    station_id: uuid.UUID
    charge_point_id: str
    action: CommandAction
    payload: dict[str, Any] = field(default_factory=dict)
    timeout: float = 30.0


@dataclass(frozen=True, slots=True)
class CommandReply:
    """What became of a command: the charger's answer mapped back, or why there is none."""

    command_id: uuid.UUID
    status: CommandStatus
    response: dict[str, Any] | None = None
    error: str | None = None


class CommandExecutor(Protocol):
    """Implemented by csms: knows the local sockets and speaks each OCPP version."""

    def holds(self, charge_point_id: str) -> bool:
        """True when this node has a live websocket for the charger."""
        ...

    async def execute(self, request: CommandRequest) -> CommandReply:
        """Send the command, wait for the answer (bounded by ``request.timeout``)."""
        ...


#: Called with ``(charge_point_id, True)`` when a socket is registered on this node and
#: ``(charge_point_id, False)`` when it is gone; must not block or raise.
PresenceListener = Callable[[str, bool], None]


@runtime_checkable
class PresenceReportingExecutor(CommandExecutor, Protocol):
    """An executor that also says which chargers it holds, so a bus can publish presence.

    The in-process bus only needs ``holds``; a bus routing across nodes must know the full set
    up front and hear about every connect and disconnect as it happens.
    """

    def held(self) -> list[str]:
        """Charge point ids of every live socket on this node, now."""
        ...

    def watch(self, listener: PresenceListener | None) -> None:
        """Report later connects/disconnects to ``listener`` (None stops reporting)."""
        ...


def failed_reply(request: CommandRequest, exc: Exception) -> CommandReply:
    """The reply for an executor that raised instead of answering (worded like the recorder)."""
    return CommandReply(
        request.command_id,
        CommandStatus.FAILED,
        error=f"send failed: {type(exc).__name__}: {exc}",
    )


def timed_out_reply(request: CommandRequest, waited: float) -> CommandReply:
    """The reply for an executor (or node) that never answered."""
    return CommandReply(
        request.command_id,
        CommandStatus.TIMED_OUT,
        error=f"no reply from the executor within {waited:g} s",
    )


class CommandBus(ABC):
    """Submit commands from anywhere; executors register where the sockets are."""

    @abstractmethod
    def bind_executor(self, executor: CommandExecutor) -> None:
        """Called by csms at start-up."""

    @abstractmethod
    async def is_connected(self, charge_point_id: str) -> bool:
        """True when some node holds the charger."""

    @abstractmethod
    async def submit(self, request: CommandRequest) -> asyncio.Future[CommandReply]:
        """Start the command; the future resolves with the reply.

        Raises ``StationNotConnectedError`` at once when no node holds the charger.
        """

    async def start(self) -> None:
        """Open connections / listeners (no-op in process)."""

    async def close(self) -> None:
        """Cancel what is in flight and release resources."""


async def _execute_bounded(
    executor: CommandExecutor, request: CommandRequest, grace: float
) -> CommandReply:
    """Run the executor so that it cannot raise or hang past ``request.timeout + grace``."""
    waited = request.timeout + grace
    try:
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
        # races with the result, and close() must be able to cancel this.
        async with asyncio.timeout(waited):
            return await executor.execute(request)
    except TimeoutError:
        return timed_out_reply(request, waited)
    except Exception as exc:  # a broken executor is the command's failure, not the bus's
        log.warning("command_executor_failed", command_id=str(request.command_id), error=repr(exc))
        return failed_reply(request, exc)


class InProcessCommandBus(CommandBus):
    """Executor and submitters share the process (the embedded deployment)."""

    def __init__(self, *, grace: float = DEFAULT_GRACE_SECONDS) -> None:
        self._executor: CommandExecutor | None = None
        self._grace = grace
        self._tasks: set[asyncio.Task[CommandReply]] = set()

    def bind_executor(self, executor: CommandExecutor) -> None:
        """Remember the local executor."""
        self._executor = executor

    async def is_connected(self, charge_point_id: str) -> bool:
        """Ask the local executor."""
        return self._executor is not None and self._executor.holds(charge_point_id)

    async def submit(self, request: CommandRequest) -> asyncio.Future[CommandReply]:
        """Run the command in a task this bus holds, so it outlives an impatient caller."""
        executor = self._executor
        if executor is None or not executor.holds(request.charge_point_id):
            raise StationNotConnectedError(request.charge_point_id)
        task = asyncio.create_task(
            _execute_bounded(executor, request, self._grace), name=f"command-{request.command_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        """Cancel commands still waiting for chargers."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


# --- Redis ------------------------------------------------------------------------------------

# Presence operations, one character per key so a whole batch is one script call.
_CONNECT, _DISCONNECT, _REFRESH = "c", "d", "r"

# A connect always wins (the newest socket speaks for the charger); a disconnect or a refresh
# only touches a key this node still owns, so a node with a stale socket cannot take presence
# back from the node the charger reconnected to.
_PRESENCE_LUA = """
local node, ttl, ops = ARGV[1], ARGV[2], ARGV[3]
for i, key in ipairs(KEYS) do
  local op = string.sub(ops, i, i)
  if op == 'c' then
    redis.call('SET', key, node, 'PX', ttl)
  else
    local holder = redis.call('GET', key)
    if op == 'd' then
      if holder == node then redis.call('DEL', key) end
    elseif holder == false or holder == node then
      redis.call('SET', key, node, 'PX', ttl)
    end
  end
end
return #KEYS
"""

# Look the holder up and hand it the request in one round trip. Nobody listening on the
# holder's channel means the node is gone: its presence is dropped and the caller told so.
_ROUTE_LUA = """
local node = redis.call('GET', KEYS[1])
if not node then return false end
local receivers = redis.call('PUBLISH', ARGV[1] .. node, ARGV[2])
if receivers == 0 and redis.call('GET', KEYS[1]) == node then
  redis.call('DEL', KEYS[1])
end
return {node, receivers}
"""

#: Keys per presence script call, so a storm of connects does not block Redis for long.
_PRESENCE_BATCH = 500


@dataclass(slots=True)
class _Waiter:
    """A submitted command whose reply this node awaits."""

    request: CommandRequest
    future: asyncio.Future[CommandReply]
    timer: asyncio.TimerHandle | None = None


def _request_to_json(request: CommandRequest, *, correlation: str, reply_to: str) -> bytes:
    return orjson.dumps(
        {
            "kind": "request",
            "correlation": correlation,
            "reply_to": reply_to,
            "command_id": str(request.command_id),
            "station_id": str(request.station_id),
            "charge_point_id": request.charge_point_id,
            "action": request.action.value,
            "payload": request.payload,
            "timeout": request.timeout,
        },
        default=str,
    )


def _request_from_doc(doc: dict[str, Any]) -> CommandRequest:
    return CommandRequest(
        command_id=uuid.UUID(doc["command_id"]),
        station_id=uuid.UUID(doc["station_id"]),
        charge_point_id=doc["charge_point_id"],
        action=CommandAction(doc["action"]),
        payload=doc.get("payload") or {},
        timeout=float(doc["timeout"]),
    )


def _reply_to_json(correlation: str, reply: CommandReply | None) -> bytes:
    """``reply`` None means "this node does not hold the charger (any more)"."""
    doc: dict[str, Any] = {"kind": "reply", "correlation": correlation}
    if reply is None:
        doc["offline"] = True
    else:
        doc.update(
            command_id=str(reply.command_id),
            status=reply.status.value,
            response=reply.response,
            error=reply.error,
        )
    return orjson.dumps(doc, default=str)


class RedisCommandBus(CommandBus):
    """Routes each command to the csms node holding the charger, through Redis.

    Every bus is a node with a random id. Nodes with an executor publish presence keys
    (``{prefix}at:{charge_point_id}`` -> node id, TTL ``presence_ttl``, refreshed every third of
    it) and listen on ``{prefix}node:{node_id}`` for requests; every bus listens on
    ``{prefix}reply:{node_id}`` for the replies to what it submitted. One pub/sub connection
    carries both channels; presence changes are batched by one task, so a connect storm costs a
    few script calls, not one round trip per charger.
    """

    def __init__(
        self,
        redis: Any,
        *,
        prefix: str = "csms:cmd:",
        presence_ttl: float = 15.0,
        grace: float = DEFAULT_GRACE_SECONDS,
        retry_delay: float = 1.0,
    ) -> None:
        if presence_ttl <= 0 or grace < 0:
            raise ValueError("need presence_ttl > 0 and grace >= 0")
        self.node_id = uuid.uuid4().hex
        self._redis = redis
        self._prefix = prefix
        self._presence_ttl_ms = max(1, int(presence_ttl * 1000))
        self._refresh_interval = presence_ttl / 3
        self._grace = grace
        self._retry_delay = retry_delay
        self._request_channel = f"{prefix}node:{self.node_id}"
        self._reply_channel = f"{prefix}reply:{self.node_id}"
        self._presence_script = redis.register_script(_PRESENCE_LUA)
        self._route_script = redis.register_script(_ROUTE_LUA)
        self._executor: PresenceReportingExecutor | None = None
        self._pending: dict[str, str] = {}
        self._dirty = asyncio.Event()
        self._waiting: dict[str, _Waiter] = {}
        self._serving: set[asyncio.Task[None]] = set()
        self._local: set[asyncio.Task[CommandReply]] = set()
        self._pubsub: Any = None
        self._listener: asyncio.Task[None] | None = None
        self._presence: asyncio.Task[None] | None = None
        self._stopping = False

    def _key(self, charge_point_id: str) -> str:
        return f"{self._prefix}at:{charge_point_id}"

    # -- presence --

    def bind_executor(self, executor: CommandExecutor) -> None:
        """Publish the executor's chargers and follow its connects and disconnects."""
        if not isinstance(executor, PresenceReportingExecutor):
            raise TypeError("the Redis command bus needs an executor that reports presence")
        previous = self._executor
        if previous is not None and previous is not executor:
            previous.watch(None)
            for charge_point_id in previous.held():
                self._pending[charge_point_id] = _DISCONNECT
        self._executor = executor
        executor.watch(self._presence_changed)
        for charge_point_id in executor.held():
            self._pending[charge_point_id] = _CONNECT
        self._dirty.set()

    def _presence_changed(self, charge_point_id: str, connected: bool) -> None:
        self._pending[charge_point_id] = _CONNECT if connected else _DISCONNECT
        self._dirty.set()

    async def _apply_presence(self, ops: dict[str, str]) -> None:
        items = list(ops.items())
        for at in range(0, len(items), _PRESENCE_BATCH):
            batch = items[at : at + _PRESENCE_BATCH]
            await self._presence_script(
                keys=[self._key(charge_point_id) for charge_point_id, _ in batch],
                args=[self.node_id, self._presence_ttl_ms, "".join(op for _, op in batch)],
            )

    async def _presence_loop(self) -> None:
        """Write presence changes as they come, and refresh every held key before it expires.

        One task does both, so a refresh can never re-create a key a disconnect just removed.
        ``close`` stops it between writes rather than cancelling one half-sent (and it waits
        with ``asyncio.timeout``: on 3.11 ``wait_for`` can swallow a racing cancellation).
        """
        loop = asyncio.get_running_loop()
        next_refresh = loop.time() + self._refresh_interval
        while not self._stopping:
            await self._wait_dirty(next_refresh - loop.time())
            if self._stopping:
                return
            self._dirty.clear()
            ops, self._pending = self._pending, {}
            if loop.time() >= next_refresh:
                next_refresh = loop.time() + self._refresh_interval
                if self._executor is not None:
                    for charge_point_id in self._executor.held():
                        ops.setdefault(charge_point_id, _REFRESH)
            if not ops:
                continue
            try:
                await self._apply_presence(ops)
            except Exception as exc:  # Redis away: keep the changes, retry shortly
                log.warning("command_presence_write_failed", keys=len(ops), error=repr(exc))
                for charge_point_id, op in ops.items():
                    self._pending.setdefault(charge_point_id, op)
                next_refresh = min(next_refresh, loop.time() + self._retry_delay)

    async def _wait_dirty(self, delay: float) -> None:
        if delay <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._dirty.wait()

    async def is_connected(self, charge_point_id: str) -> bool:
        """This node's own sockets first, then the presence key of any other node."""
        if self._executor is not None and self._executor.holds(charge_point_id):
            return True
        return bool(await self._redis.exists(self._key(charge_point_id)))

    # -- submitting --

    async def submit(self, request: CommandRequest) -> asyncio.Future[CommandReply]:
        """Execute locally when this node holds the charger, else route to the holder's node."""
        executor = self._executor
        if executor is not None and executor.holds(request.charge_point_id):
            task = asyncio.create_task(
                _execute_bounded(executor, request, self._grace),
                name=f"command-{request.command_id}",
            )
            self._local.add(task)
            task.add_done_callback(self._local.discard)
            return task
        if self._listener is None:
            raise RuntimeError("RedisCommandBus is not started")
        correlation = uuid.uuid4().hex
        future: asyncio.Future[CommandReply] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(request, future)
        # Registered before the request leaves: the reply may arrive before the script returns.
        self._waiting[correlation] = waiter
        future.add_done_callback(lambda _f: self._forget(correlation))
        try:
            routed = await self._route_script(
                keys=[self._key(request.charge_point_id)],
                args=[
                    f"{self._prefix}node:",
                    _request_to_json(
                        request, correlation=correlation, reply_to=self._reply_channel
                    ),
                ],
            )
        except BaseException:
            future.cancel()
            raise
        if not routed or int(routed[1]) == 0:
            future.cancel()
            raise StationNotConnectedError(request.charge_point_id)
        if not future.done():
            waited = request.timeout + self._grace
            waiter.timer = asyncio.get_running_loop().call_later(
                waited, self._expire, correlation, waited
            )
        return future

    def _forget(self, correlation: str) -> None:
        waiter = self._waiting.pop(correlation, None)
        if waiter is not None and waiter.timer is not None:
            waiter.timer.cancel()

    def _expire(self, correlation: str, waited: float) -> None:
        waiter = self._waiting.get(correlation)
        if waiter is not None and not waiter.future.done():
            log.warning(
                "command_reply_missing",
                command_id=str(waiter.request.command_id),
                charge_point_id=waiter.request.charge_point_id,
            )
            waiter.future.set_result(timed_out_reply(waiter.request, waited))

    def _resolve(self, doc: dict[str, Any]) -> None:
        waiter = self._waiting.get(str(doc.get("correlation")))
        if waiter is None or waiter.future.done():
            return  # late (already timed out) or for a submitter that gave up
        if doc.get("offline"):
            waiter.future.set_exception(StationNotConnectedError(waiter.request.charge_point_id))
            return
        waiter.future.set_result(
            CommandReply(
                command_id=uuid.UUID(doc["command_id"]),
                status=CommandStatus(doc["status"]),
                response=doc.get("response"),
                error=doc.get("error"),
            )
        )

    # -- serving other nodes' requests --

    async def _serve(self, doc: dict[str, Any]) -> None:
        correlation, reply_to = str(doc["correlation"]), str(doc["reply_to"])
        request = _request_from_doc(doc)
        executor = self._executor
        reply: CommandReply | None = None
        try:
            if executor is not None and executor.holds(request.charge_point_id):
                reply = await _execute_bounded(executor, request, self._grace)
        except asyncio.CancelledError:
            # This node is shutting down: tell the submitter now rather than at its timeout.
            reply = CommandReply(
                request.command_id,
                CommandStatus.FAILED,
                error="the csms node shut down before the charger answered",
            )
            with contextlib.suppress(Exception):
                await self._redis.publish(reply_to, _reply_to_json(correlation, reply))
            raise
        await self._redis.publish(reply_to, _reply_to_json(correlation, reply))

    def _served(self, task: asyncio.Task[None]) -> None:
        self._serving.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("command_reply_not_sent", error=repr(task.exception()))

    def _dispatch(self, raw: bytes) -> None:
        doc = orjson.loads(raw)
        if doc.get("kind") == "reply":
            self._resolve(doc)
        elif doc.get("kind") == "request":
            task = asyncio.create_task(self._serve(doc), name=f"command-serve-{doc['command_id']}")
            self._serving.add(task)
            task.add_done_callback(self._served)

    async def _listen(self) -> None:
        assert self._pubsub is not None
        while True:
            try:
                async for message in self._pubsub.listen():
                    if message.get("type") == "message":
                        try:
                            self._dispatch(message["data"])
                        except Exception as exc:  # one bad message must not stop the node
                            log.error("command_message_invalid", error=repr(exc))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the connection dropped: redis-py resubscribes on read
                log.warning("command_listener_failed", error=repr(exc))
                await asyncio.sleep(self._retry_delay)

    # -- lifecycle --

    async def start(self) -> None:
        """Subscribe to this node's request and reply channels; start the presence writer."""
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(self._request_channel, self._reply_channel)
        self._listener = asyncio.create_task(self._listen(), name="redis-command-listener")
        self._presence = asyncio.create_task(self._presence_loop(), name="redis-command-presence")

    async def close(self) -> None:
        """Stop serving and listening, withdraw this node's presence, cancel awaited replies."""
        in_flight: list[asyncio.Task[Any]] = [*self._serving, *self._local]
        for task in in_flight:
            task.cancel()
        if in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)
        if self._presence is not None:
            self._stopping = True
            self._dirty.set()
            done, _ = await asyncio.wait({self._presence}, timeout=self._retry_delay * 5)
            if not done:  # a write stuck on an unreachable Redis
                self._presence.cancel()
                await asyncio.gather(self._presence, return_exceptions=True)
            self._presence = None
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None
        executor = self._executor
        if executor is not None:
            executor.watch(None)
            for charge_point_id in executor.held():
                self._pending[charge_point_id] = _DISCONNECT
            self._executor = None
        ops, self._pending = self._pending, {}
        if ops:
            try:
                await self._apply_presence(ops)
            except Exception as exc:  # the keys expire on their own
                log.warning("command_presence_not_withdrawn", keys=len(ops), error=repr(exc))
        for waiter in list(self._waiting.values()):
            waiter.future.cancel()
        if self._pubsub is not None:
            await self._pubsub.aclose()
            self._pubsub = None
