"""Contract tests: every implementation of a bus/store interface behaves the same.

The in-process implementations always run; the Redis ones run against REDIS_URL (skipped
without it, a failure under CI).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from core.bus.commands import (
    CommandReply,
    CommandRequest,
    InProcessCommandBus,
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
    def __init__(self, connected: set[str]) -> None:
        self.connected = connected

    def holds(self, charge_point_id: str) -> bool:
        return charge_point_id in self.connected

    async def execute(self, request: CommandRequest) -> CommandReply:
        await asyncio.sleep(0.01)
        return CommandReply(
            command_id=request.command_id,
            status=CommandStatus.ACCEPTED,
            response={"echo": request.payload},
        )


def _request(cpid: str) -> CommandRequest:
    return CommandRequest(
        command_id=uuid.uuid4(),
        station_id=uuid.uuid4(),
        charge_point_id=cpid,
        action=CommandAction.RESET,
        payload={"type": "Soft"},
    )


async def test_command_bus_routes_to_the_executor_holding_the_station() -> None:
    bus = InProcessCommandBus()
    with pytest.raises(StationNotConnectedError):
        await bus.submit(_request("CP-1"))
    bus.bind_executor(_Executor({"CP-1"}))
    assert await bus.is_connected("CP-1")
    assert not await bus.is_connected("CP-2")
    request = _request("CP-1")
    reply = await (await bus.submit(request))
    assert reply.command_id == request.command_id
    assert reply.status is CommandStatus.ACCEPTED
    assert reply.response == {"echo": {"type": "Soft"}}
    with pytest.raises(StationNotConnectedError):
        await bus.submit(_request("CP-2"))
    await bus.close()
