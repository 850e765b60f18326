"""One subscriber's view of the live event stream: its partner's stations only, its filters,
heartbeats while nothing happens, and an end when it falls behind.

The /events websocket handler authenticates, builds an ``EventFilter`` from the caller's partner
and query string, then forwards what ``LiveEventStream`` yields; when the stream ends with
``dropped`` set, it closes the socket (the client was too slow and should reconnect).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from core.bus.events import Event, EventBus, EventType, Subscription
from core.clock import Clock
from core.errors import ValidationFailedError

#: Seconds of silence after which the stream yields a heartbeat.
DEFAULT_HEARTBEAT_SECONDS = 15.0
#: Events a subscriber may have waiting before it counts as too slow and is dropped.
DEFAULT_MAX_QUEUE = 1000


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events one subscriber may and wants to see.

    ``partner_id`` is the caller's partner; None means an admin, who sees every station
    (including pending ones that have no partner yet). A partner never sees an event of another
    partner's station, nor one without a partner, whatever the other filters say.
    """

    partner_id: uuid.UUID | None
    station_ids: frozenset[uuid.UUID] | None = None
    types: frozenset[EventType] | None = None

    def matches(self, event: Event) -> bool:
        """True when ``event`` may and should be delivered."""
        if self.partner_id is not None and event.partner_id != self.partner_id:
            return False
        if self.station_ids is not None and event.station_id not in self.station_ids:
            return False
        return self.types is None or event.type in self.types


def build_event_filter(
    *,
    partner_id: uuid.UUID | None,
    station_ids: Iterable[str | uuid.UUID] = (),
    types: Iterable[str] = (),
) -> EventFilter:
    """Parse query-string filters (repeated or comma-separated); empty means "all"."""
    errors: list[dict[str, str]] = []
    stations: set[uuid.UUID] = set()
    for raw in _split(station_ids):
        try:
            stations.add(raw if isinstance(raw, uuid.UUID) else uuid.UUID(raw))
        except ValueError:
            errors.append({"field": "station_id", "message": f"not a UUID: {raw!r}"})
    kinds: set[EventType] = set()
    known = ", ".join(kind.value for kind in EventType)
    for raw in _split(types):
        try:
            kinds.add(EventType(raw))
        except ValueError:
            errors.append(
                {"field": "type", "message": f"unknown event type {raw!r}; one of {known}"}
            )
    if errors:
        raise ValidationFailedError("invalid event filter", errors)
    return EventFilter(
        partner_id=partner_id,
        station_ids=frozenset(stations) if stations else None,
        types=frozenset(kinds) if kinds else None,
    )


def _split(values: Iterable[Any]) -> list[Any]:
    items: list[Any] = []
    for value in values:
        if isinstance(value, str):
            items.extend(part.strip() for part in value.split(",") if part.strip())
        else:
            items.append(value)
    return items


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Yielded after ``heartbeat_interval`` seconds without a delivered event."""

    at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, shaped like an event so clients can switch on ``type``."""
        return {"type": "heartbeat", "at": self.at.isoformat()}


class LiveEventStream:
    """Subscribe on enter, unsubscribe on exit; iterate for events and heartbeats.

    Filtering happens on this side of the subscription queue, so events of other partners
    also take queue slots until they are skipped; the consumer keeps up as long as it is not
    blocked on its own socket, which is exactly the "slow consumer" the drop is meant for.
    """

    def __init__(
        self,
        *,
        event_bus: EventBus,
        event_filter: EventFilter,
        clock: Clock,
        heartbeat_interval: float = DEFAULT_HEARTBEAT_SECONDS,
        max_queue: int = DEFAULT_MAX_QUEUE,
    ) -> None:
        if heartbeat_interval <= 0:
            raise ValueError("heartbeat_interval must be positive")
        self._bus = event_bus
        self._filter = event_filter
        self._clock = clock
        self._heartbeat_interval = heartbeat_interval
        self._max_queue = max_queue
        self._subscription: Subscription | None = None

    async def __aenter__(self) -> Self:
        self._subscription = self._bus.subscribe(max_queue=self._max_queue)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop receiving; iteration ends after what is already queued."""
        if self._subscription is not None:
            self._subscription.close()

    @property
    def dropped(self) -> bool:
        """True when the stream ended because the subscriber fell behind."""
        return self._subscription is not None and self._subscription.dropped

    def __aiter__(self) -> AsyncIterator[Event | Heartbeat]:
        return self._items()

    async def _items(self) -> AsyncIterator[Event | Heartbeat]:
        subscription = self._subscription
        if subscription is None:
            raise RuntimeError("LiveEventStream used outside 'async with'")
        loop = asyncio.get_running_loop()
        quiet_since = loop.time()
        while True:
            remaining = max(0.0, quiet_since + self._heartbeat_interval - loop.time())
            event = await subscription.get(timeout=remaining)
            if event is None:
                if subscription.closed:
                    return
                yield Heartbeat(self._clock.now())
                quiet_since = loop.time()
            elif self._filter.matches(event):
                yield event
                quiet_since = loop.time()
