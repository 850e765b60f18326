"""Event bus: csms publishes what happens on the chargers, the API's /events streams it.

Delivery is at-most-once and never blocks the publisher: a subscriber whose queue is full is
closed (``Subscription.dropped``) instead of growing memory or slowing the OCPP hot path.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson


class EventType(StrEnum):
    """Kinds of events; the value is what clients filter on."""

    STATION_CONNECTED = "station.connected"
    STATION_DISCONNECTED = "station.disconnected"
    CONNECTOR_STATUS_CHANGED = "connector.status_changed"
    TRANSACTION_STARTED = "transaction.started"
    TRANSACTION_STOPPED = "transaction.stopped"
    METER_VALUES = "meter_values"
    COMMAND_COMPLETED = "command.completed"


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened on a station; ``partner_id`` scopes who may see it."""

    type: EventType
    station_id: uuid.UUID
    charge_point_id: str
    partner_id: uuid.UUID | None
    at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, the one streamed to clients and sent over Redis."""
        return {
            "type": self.type.value,
            "station_id": str(self.station_id),
            "charge_point_id": self.charge_point_id,
            "partner_id": str(self.partner_id) if self.partner_id else None,
            "at": self.at.isoformat(),
            "data": dict(self.data),
        }

    def to_json(self) -> bytes:
        """Serialized form."""
        return orjson.dumps(self.to_dict(), default=str)

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        """Inverse of ``to_json``."""
        doc = orjson.loads(raw)
        partner = doc.get("partner_id")
        return cls(
            type=EventType(doc["type"]),
            station_id=uuid.UUID(doc["station_id"]),
            charge_point_id=doc["charge_point_id"],
            partner_id=uuid.UUID(partner) if partner else None,
            at=datetime.fromisoformat(doc["at"]),
            data=doc.get("data") or {},
        )


class Subscription:
    """A bounded queue of events for one consumer; async-iterable until closed."""

    _CLOSED = object()

    def __init__(self, bus: EventBus, max_queue: int) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=max_queue + 1)
        self._max_queue = max_queue
        self.dropped = False
        self.closed = False

    def offer(self, event: Event) -> None:
        """Called by the bus; never blocks. Overflow closes the subscription."""
        if self.closed:
            return
        if self._queue.qsize() >= self._max_queue:
            self.dropped = True
            self.close()
            return
        self._queue.put_nowait(event)

    def close(self) -> None:
        """Stop delivery; the iterator ends after what is already queued."""
        if not self.closed:
            self.closed = True
            self._bus.unsubscribe(self)
            self._queue.put_nowait(self._CLOSED)

    async def get(self, timeout: float | None = None) -> Event | None:
        """Next event, or None on timeout or once closed and drained."""
        try:
            item = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None
        if item is self._CLOSED:
            self._queue.put_nowait(self._CLOSED)
            return None
        assert isinstance(item, Event)
        return item

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            item = await self._queue.get()
            if item is self._CLOSED:
                return
            assert isinstance(item, Event)
            yield item


class EventBus(ABC):
    """Publish/subscribe of station events."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    @abstractmethod
    async def publish(self, event: Event) -> None:
        """Send an event to every subscriber (of every process, for distributed buses)."""

    def subscribe(self, *, max_queue: int = 1000) -> Subscription:
        """A new subscription receiving every event published from now on."""
        subscription = Subscription(self, max_queue)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget a subscription (``Subscription.close`` calls this)."""
        self._subscriptions.discard(subscription)

    def _deliver_locally(self, event: Event) -> None:
        for subscription in list(self._subscriptions):
            subscription.offer(event)

    async def start(self) -> None:
        """Open connections / listeners (no-op in process)."""

    async def close(self) -> None:
        """Close every subscription and release resources."""
        for subscription in list(self._subscriptions):
            subscription.close()


class InProcessEventBus(EventBus):
    """Delivery within one process: publishers and subscribers share the loop."""

    async def publish(self, event: Event) -> None:
        """Fan out to local subscribers."""
        self._deliver_locally(event)


class RedisEventBus(EventBus):
    """Delivery across processes over one Redis pub/sub channel."""

    def __init__(self, redis: Any, channel: str = "csms:events") -> None:
        super().__init__()
        self._redis = redis
        self._channel = channel
        self._pubsub: Any = None
        self._listener: asyncio.Task[None] | None = None
        # Events published in the same loop iteration, and the future their publishers await.
        self._batch: tuple[list[bytes], asyncio.Future[None]] | None = None
        self._flushes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Subscribe to the channel and start the listener task."""
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(self._channel)
        self._listener = asyncio.create_task(self._listen(), name="redis-event-listener")

    async def _listen(self) -> None:
        assert self._pubsub is not None
        async for message in self._pubsub.listen():
            # A csms node has no local subscribers: skip decoding what nobody reads.
            if message.get("type") == "message" and self._subscriptions:
                self._deliver_locally(Event.from_json(message["data"]))

    async def publish(self, event: Event) -> None:
        """Publish on the channel; every process (this one included) delivers it.

        Publishes made in the same loop iteration share one pipelined round trip: a
        group-commit batch wakes hundreds of OCPP handlers at once, and a PUBLISH (and a pooled
        connection) each would cost a Redis round trip per message.
        """
        batch = self._batch
        if batch is None:
            loop = asyncio.get_running_loop()
            batch = self._batch = ([], loop.create_future())
            loop.call_soon(self._start_flush)
        batch[0].append(event.to_json())
        # shield: one publisher being cancelled must not cancel its neighbours' delivery.
        await asyncio.shield(batch[1])

    def _start_flush(self) -> None:
        batch, self._batch = self._batch, None
        if batch is None:
            return
        task = asyncio.get_running_loop().create_task(self._flush(*batch))
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _flush(self, payloads: list[bytes], done: asyncio.Future[None]) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for payload in payloads:
                    pipe.publish(self._channel, payload)
                await pipe.execute()
        except Exception as exc:  # every publisher of the batch hears about it
            if not done.done():
                done.set_exception(exc)
                done.exception()  # retrieved: nobody may be left awaiting it
        else:
            if not done.done():
                done.set_result(None)

    async def close(self) -> None:
        """Stop listening and close subscriptions."""
        await super().close()
        if self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        if self._pubsub is not None:
            await self._pubsub.aclose()
