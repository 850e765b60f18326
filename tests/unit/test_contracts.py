"""Contract tests: every implementation of a bus/store interface behaves the same.

The in-process implementations always run; the Redis ones run against REDIS_URL (skipped
without it, a failure under CI).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from core.bus.commands import (
    CommandBus,
    CommandReply,
    CommandRequest,
    InProcessCommandBus,
    PresenceListener,
    RedisCommandBus,
    StationNotConnectedError,
)
from core.bus.events import Event, EventBus, EventType, InProcessEventBus, RedisEventBus
from core.domain.enums import CommandAction, CommandStatus
from core.ratelimit import InMemoryRateLimiter, RateLimiter, RedisRateLimiter
from core.tokens import InMemoryTokenStore, RedisTokenStore, TokenStore


def _redis_client(request: pytest.FixtureRequest) -> Any:
    import redis.asyncio as aioredis

    return aioredis.from_url(request.getfixturevalue("redis_url"))


def _prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture(params=["memory", "redis"])
async def token_store(request: pytest.FixtureRequest) -> AsyncIterator[TokenStore]:
    if request.param == "memory":
        yield InMemoryTokenStore()
    else:
        client = _redis_client(request)
        yield RedisTokenStore(client, prefix=_prefix())
        await client.aclose()


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    if request.param == "memory":
        yield InMemoryRateLimiter(rate_per_second=5, burst=3)
    else:
        client = _redis_client(request)
        yield RedisRateLimiter(client, rate_per_second=5, burst=3, prefix=_prefix())
        await client.aclose()


@pytest.fixture(params=["memory", "redis"])
async def event_bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    bus: EventBus
    client = None
    if request.param == "memory":
        bus = InProcessEventBus()
    else:
        client = _redis_client(request)
        bus = RedisEventBus(client, channel=f"{_prefix()}events")
    await bus.start()
    yield bus
    await bus.close()
    if client is not None:
        await client.aclose()


def _event(n: int = 0) -> Event:
    return Event(
        type=EventType.CONNECTOR_STATUS_CHANGED,
        station_id=uuid.uuid4(),
        charge_point_id=f"CP-{n}",
        partner_id=uuid.uuid4(),
        at=datetime.now(UTC),
        data={"connector_number": 1, "previous": "Available", "status": "Charging"},
    )


async def test_token_lifecycle(token_store: TokenStore) -> None:
    await token_store.issue("client-a", "jti-1", ttl_seconds=60)
    assert await token_store.is_live("jti-1")
    await token_store.revoke("jti-1")
    assert not await token_store.is_live("jti-1")
    assert not await token_store.is_live("never-issued")


async def test_new_token_kills_previous_of_same_client_only(token_store: TokenStore) -> None:
    await token_store.issue("client-a", "a-1", ttl_seconds=60)
    await token_store.issue("client-b", "b-1", ttl_seconds=60)
    await token_store.issue("client-a", "a-2", ttl_seconds=60)
    assert not await token_store.is_live("a-1")
    assert await token_store.is_live("a-2")
    assert await token_store.is_live("b-1")


async def test_revoking_a_client_kills_its_live_token_only(token_store: TokenStore) -> None:
    await token_store.issue("client-a", "a-1", ttl_seconds=60)
    await token_store.issue("client-b", "b-1", ttl_seconds=60)
    await token_store.revoke_client("client-a")
    assert not await token_store.is_live("a-1")
    assert await token_store.is_live("b-1")
    await token_store.revoke_client("client-never-issued")  # no-op
    await token_store.issue("client-a", "a-2", ttl_seconds=60)
    assert await token_store.is_live("a-2")


async def test_tokens_expire(token_store: TokenStore) -> None:
    await token_store.issue("client-a", "short", ttl_seconds=0.2)
    assert await token_store.is_live("short")
    await asyncio.sleep(0.35)
    assert not await token_store.is_live("short")


async def test_rate_limiter_allows_burst_then_asks_to_wait(limiter: RateLimiter) -> None:
    waits = [await limiter.acquire("k") for _ in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert 0 < waits[3] <= 0.2 + 1e-6
    assert await limiter.acquire("other-key") == 0.0
    await asyncio.sleep(waits[3] + 0.05)
    assert await limiter.acquire("k") == 0.0


async def test_event_bus_delivers_to_every_subscriber(event_bus: EventBus) -> None:
    first, second = event_bus.subscribe(), event_bus.subscribe()
    sent = _event()
    await event_bus.publish(sent)
    got_first = await first.get(timeout=2)
    got_second = await second.get(timeout=2)
    assert got_first == sent
    assert got_second == sent
    first.close()
    await event_bus.publish(_event(1))
    assert (await second.get(timeout=2)) is not None
    assert await first.get(timeout=0.05) is None


async def test_slow_subscriber_is_dropped_not_buffered(event_bus: EventBus) -> None:
    slow = event_bus.subscribe(max_queue=3)
    for n in range(5):
        await event_bus.publish(_event(n))
    await asyncio.sleep(0.2)
    assert slow.dropped
    assert slow.closed
    received = [event async for event in slow]
    assert len(received) == 3


class _Executor:
    """An honest fake csms executor: holds some charge point ids, answers as scripted.

    ``connect``/``disconnect`` are what the connection registry reports when a socket comes and
    goes; changing ``connected`` directly is a socket that vanished without a word (a race).
    """

    def __init__(self, *held: str) -> None:
        self.connected = set(held)
        self.listener: PresenceListener | None = None
        self.received: list[CommandRequest] = []
        self.arrived = asyncio.Event()
        self.behaviour: Callable[[CommandRequest], Awaitable[CommandReply]] = self.accept

    def holds(self, charge_point_id: str) -> bool:
        return charge_point_id in self.connected

    def held(self) -> list[str]:
        return sorted(self.connected)

    def watch(self, listener: PresenceListener | None) -> None:
        self.listener = listener

    def connect(self, charge_point_id: str) -> None:
        self.connected.add(charge_point_id)
        if self.listener is not None:
            self.listener(charge_point_id, True)

    def disconnect(self, charge_point_id: str) -> None:
        self.connected.discard(charge_point_id)
        if self.listener is not None:
            self.listener(charge_point_id, False)

    async def execute(self, request: CommandRequest) -> CommandReply:
        self.received.append(request)
        self.arrived.set()
        return await self.behaviour(request)

    async def accept(self, request: CommandRequest) -> CommandReply:
        return CommandReply(
            command_id=request.command_id,
            status=CommandStatus.ACCEPTED,
            response={"echo": request.payload},
        )

    async def explode(self, request: CommandRequest) -> CommandReply:
        raise ConnectionResetError("websocket closed while sending")

    async def never_answer(self, request: CommandRequest) -> CommandReply:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def _request(cpid: str, timeout: float = 10.0) -> CommandRequest:
    return CommandRequest(
        command_id=uuid.uuid4(),
        station_id=uuid.uuid4(),
        charge_point_id=cpid,
        action=CommandAction.RESET,
        payload={"type": "Soft"},
        timeout=timeout,
    )


async def _eventually(condition: Callable[[], Awaitable[bool]], within: float = 2.0) -> None:
    """Wait for a condition another task or node makes true (presence is written async).

    The state lives in Redis, which offers no event to wait on: poll it briefly, bounded.
    """
    async with asyncio.timeout(within):
        while not await condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


#: What a bus adds to request.timeout before it reports timed_out itself (short for the tests).
_GRACE = 0.2


@dataclass
class _Nodes:
    """Where commands are submitted and where the executor is bound: the same bus for the
    in-process and single-node Redis cases, two Redis buses ("nodes") for the routed case."""

    submitter: CommandBus
    holder: CommandBus


@pytest.fixture(params=["memory", "redis", "redis-two-nodes"])
async def nodes(request: pytest.FixtureRequest) -> AsyncIterator[_Nodes]:
    client = None
    buses: list[CommandBus]
    if request.param == "memory":
        buses = [InProcessCommandBus(grace=_GRACE)]
    else:
        client = _redis_client(request)
        prefix = _prefix()
        count = 1 if request.param == "redis" else 2
        buses = [RedisCommandBus(client, prefix=prefix, grace=_GRACE) for _ in range(count)]
    for bus in buses:
        await bus.start()
    yield _Nodes(submitter=buses[0], holder=buses[-1])
    for bus in buses:
        await bus.close()
    if client is not None:
        await client.aclose()


async def test_command_bus_routes_to_the_executor_holding_the_station(nodes: _Nodes) -> None:
    bus = nodes.submitter
    with pytest.raises(StationNotConnectedError):
        await bus.submit(_request("CP-1"))
    executor = _Executor("CP-1")
    nodes.holder.bind_executor(executor)
    await _eventually(lambda: bus.is_connected("CP-1"))
    assert not await bus.is_connected("CP-2")
    request = _request("CP-1")
    reply = await (await bus.submit(request))
    assert reply == CommandReply(
        request.command_id, CommandStatus.ACCEPTED, response={"echo": {"type": "Soft"}}
    )
    assert executor.received == [request]
    with pytest.raises(StationNotConnectedError):
        await bus.submit(_request("CP-2"))


async def test_command_bus_reports_an_executor_error_as_a_failed_reply(nodes: _Nodes) -> None:
    executor = _Executor("CP-1")
    executor.behaviour = executor.explode
    nodes.holder.bind_executor(executor)
    await _eventually(lambda: nodes.submitter.is_connected("CP-1"))
    request = _request("CP-1")
    reply = await (await nodes.submitter.submit(request))
    assert reply == CommandReply(
        request.command_id,
        CommandStatus.FAILED,
        error="send failed: ConnectionResetError: websocket closed while sending",
    )


async def test_command_bus_times_out_an_executor_that_never_answers(nodes: _Nodes) -> None:
    executor = _Executor("CP-1")
    executor.behaviour = executor.never_answer
    nodes.holder.bind_executor(executor)
    await _eventually(lambda: nodes.submitter.is_connected("CP-1"))
    request = _request("CP-1", timeout=0.05)
    async with asyncio.timeout(5):
        reply = await (await nodes.submitter.submit(request))
    assert reply.command_id == request.command_id
    assert reply.status is CommandStatus.TIMED_OUT
    assert reply.error == f"no reply from the executor within {0.05 + _GRACE:g} s"


async def test_command_bus_close_cancels_what_is_in_flight(nodes: _Nodes) -> None:
    executor = _Executor("CP-1")
    executor.behaviour = executor.never_answer
    nodes.holder.bind_executor(executor)
    await _eventually(lambda: nodes.submitter.is_connected("CP-1"))
    future = await nodes.submitter.submit(_request("CP-1"))
    await asyncio.wait_for(executor.arrived.wait(), 5)
    await nodes.submitter.close()
    assert future.cancelled()


# --- the Redis bus across nodes ----------------------------------------------------------------


class _Cluster:
    """Started Redis command buses ("nodes") sharing one private key prefix, as csms and API
    processes share one Redis; reads the documented presence keys to see who holds what."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.prefix = _prefix()
        self.buses: list[RedisCommandBus] = []

    async def node(self, **options: Any) -> RedisCommandBus:
        bus = RedisCommandBus(self.client, prefix=self.prefix, grace=_GRACE, **options)
        self.buses.append(bus)
        await bus.start()
        return bus

    async def holder(self, charge_point_id: str) -> str | None:
        raw = await self.client.get(f"{self.prefix}at:{charge_point_id}")
        return None if raw is None else raw.decode()

    async def close(self) -> None:
        for bus in self.buses:
            await bus.close()
        await self.client.aclose()


@pytest.fixture
async def cluster(request: pytest.FixtureRequest) -> AsyncIterator[_Cluster]:
    nodes = _Cluster(_redis_client(request))
    yield nodes
    await nodes.close()


async def test_redis_command_bus_reaches_the_executor_of_another_node(cluster: _Cluster) -> None:
    api, csms_a, csms_b = await cluster.node(), await cluster.node(), await cluster.node()
    on_a, on_b = _Executor("CP-A"), _Executor("CP-B")
    csms_a.bind_executor(on_a)
    csms_b.bind_executor(on_b)
    await _eventually(lambda: api.is_connected("CP-B"))
    await _eventually(lambda: api.is_connected("CP-A"))
    assert await cluster.holder("CP-A") == csms_a.node_id
    assert await cluster.holder("CP-B") == csms_b.node_id

    to_b, to_a = _request("CP-B"), _request("CP-A")
    replies = await asyncio.gather(
        *[await bus.submit(r) for bus, r in ((api, to_b), (csms_b, to_a))]
    )
    assert [reply.command_id for reply in replies] == [to_b.command_id, to_a.command_id]
    assert on_b.received == [to_b]
    assert on_a.received == [to_a]


async def test_redis_presence_follows_disconnect_and_reconnect(cluster: _Cluster) -> None:
    api, csms_a, csms_b = await cluster.node(), await cluster.node(), await cluster.node()
    on_a, on_b = _Executor(), _Executor()
    csms_a.bind_executor(on_a)
    csms_b.bind_executor(on_b)

    on_a.connect("CP-1")
    await _eventually(lambda: api.is_connected("CP-1"))
    assert (await (await api.submit(_request("CP-1")))).status is CommandStatus.ACCEPTED
    assert len(on_a.received) == 1

    # The charger reconnects to B before A notices its old socket is dead: the newest wins...
    on_b.connect("CP-1")
    await _eventually(lambda: _is(cluster.holder("CP-1"), csms_b.node_id))
    # ... and A's late disconnect does not take presence away from B.
    on_a.disconnect("CP-1")
    request = _request("CP-1")
    assert (await (await api.submit(request))).status is CommandStatus.ACCEPTED
    assert on_b.received == [request]
    assert await cluster.holder("CP-1") == csms_b.node_id

    on_b.disconnect("CP-1")
    await _eventually(lambda: _negated(api.is_connected("CP-1")))
    with pytest.raises(StationNotConnectedError):
        await api.submit(_request("CP-1"))


async def test_redis_presence_expires_with_its_node_and_is_refreshed_while_it_lives(
    cluster: _Cluster,
) -> None:
    api, csms = await cluster.node(), await cluster.node(presence_ttl=0.3)
    csms.bind_executor(_Executor("CP-1"))
    await _eventually(lambda: api.is_connected("CP-1"))
    ttl_ms = await cluster.client.pttl(f"{cluster.prefix}at:CP-1")
    assert 0 < ttl_ms <= 300
    # Several TTLs later the live node still holds it (refreshed), without a new connect.
    await asyncio.sleep(0.8)
    assert await cluster.holder("CP-1") == csms.node_id


async def test_redis_bus_refuses_at_once_a_station_whose_node_is_gone(cluster: _Cluster) -> None:
    api = await cluster.node()
    # What a node that died leaves behind until its keys expire: presence nobody listens for.
    await cluster.client.set(f"{cluster.prefix}at:CP-1", "a-dead-node", px=60_000)
    assert await api.is_connected("CP-1")
    with pytest.raises(StationNotConnectedError):
        await api.submit(_request("CP-1"))
    assert await cluster.holder("CP-1") is None
    assert not await api.is_connected("CP-1")


async def test_redis_bus_reports_a_station_gone_by_the_time_the_request_arrives(
    cluster: _Cluster,
) -> None:
    api, csms = await cluster.node(), await cluster.node()
    executor = _Executor("CP-1")
    csms.bind_executor(executor)
    await _eventually(lambda: api.is_connected("CP-1"))
    executor.connected.discard("CP-1")  # the socket closed, its removal not yet reported
    future = await api.submit(_request("CP-1"))
    with pytest.raises(StationNotConnectedError):
        await future
    assert executor.received == []


async def test_redis_node_shutting_down_fails_its_commands_at_once(cluster: _Cluster) -> None:
    api, csms = await cluster.node(), await cluster.node()
    executor = _Executor("CP-1")
    executor.behaviour = executor.never_answer
    csms.bind_executor(executor)
    await _eventually(lambda: api.is_connected("CP-1"))
    request = _request("CP-1", timeout=30)
    future = await api.submit(request)
    await asyncio.wait_for(executor.arrived.wait(), 5)
    await csms.close()
    reply = await asyncio.wait_for(future, 5)
    assert reply == CommandReply(
        request.command_id,
        CommandStatus.FAILED,
        error="the csms node shut down before the charger answered",
    )
    # Its presence went with it.
    assert not await api.is_connected("CP-1")


async def test_redis_bus_needs_an_executor_that_reports_presence(cluster: _Cluster) -> None:
    class Silent:
        def holds(self, charge_point_id: str) -> bool:
            return True

        async def execute(self, request: CommandRequest) -> CommandReply:
            raise AssertionError("never called")

    bus = await cluster.node()
    with pytest.raises(TypeError):
        bus.bind_executor(Silent())


async def _is(value: Awaitable[object], expected: object) -> bool:
    return await value == expected


async def _negated(value: Awaitable[bool]) -> bool:
    return not await value
