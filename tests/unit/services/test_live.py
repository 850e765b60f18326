"""The live stream of one subscriber: isolation by partner, filters, heartbeats, dropping."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from core.bus.events import Event, EventType, InProcessEventBus
from core.clock import FixedClock
from core.errors import ValidationFailedError
from core.services.live import EventFilter, Heartbeat, LiveEventStream, build_event_filter

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
MINE = uuid.uuid4()
THEIRS = uuid.uuid4()


def event(
    kind: EventType = EventType.CONNECTOR_STATUS_CHANGED,
    *,
    partner_id: uuid.UUID | None = MINE,
    station_id: uuid.UUID | None = None,
) -> Event:
    return Event(
        type=kind,
        station_id=station_id or uuid.uuid4(),
        charge_point_id="CP-1",
        partner_id=partner_id,
        at=NOW,
        data={"connector_number": 1, "previous": None, "status": "Charging", "error_code": None},
    )


def test_a_partner_sees_only_its_own_stations() -> None:
    mine = EventFilter(partner_id=MINE)
    assert mine.matches(event(partner_id=MINE))
    assert not mine.matches(event(partner_id=THEIRS))
    assert not mine.matches(event(partner_id=None))  # a pending station belongs to nobody yet


def test_an_admin_sees_everything() -> None:
    admin = EventFilter(partner_id=None)
    assert all(admin.matches(event(partner_id=p)) for p in (MINE, THEIRS, None))


def test_filters_narrow_but_never_widen() -> None:
    station = uuid.uuid4()
    wanted = build_event_filter(
        partner_id=MINE,
        station_ids=[str(station)],
        types=["connector.status_changed,transaction.started"],
    )
    assert wanted.matches(event(station_id=station))
    assert wanted.matches(event(EventType.TRANSACTION_STARTED, station_id=station))
    assert not wanted.matches(event(EventType.METER_VALUES, station_id=station))
    assert not wanted.matches(event())
    # Naming another partner's station does not let its events through.
    assert not wanted.matches(event(partner_id=THEIRS, station_id=station))


def test_empty_filters_mean_everything_visible() -> None:
    assert build_event_filter(partner_id=MINE, station_ids=[], types=[""]) == EventFilter(MINE)


def test_bad_filters_are_validation_errors() -> None:
    with pytest.raises(ValidationFailedError) as caught:
        build_event_filter(partner_id=MINE, station_ids=["nope"], types=["station.exploded"])
    assert {error["field"] for error in caught.value.errors} == {"station_id", "type"}


async def test_stream_yields_matching_events_and_heartbeats() -> None:
    bus = InProcessEventBus()
    clock = FixedClock(NOW)
    mine, theirs = event(), event(partner_id=THEIRS)
    async with LiveEventStream(
        event_bus=bus,
        event_filter=EventFilter(partner_id=MINE),
        clock=clock,
        heartbeat_interval=0.01,
    ) as stream:
        await bus.publish(theirs)
        await bus.publish(mine)
        items = aiter(stream)
        assert await anext(items) == mine
        # Nothing else of ours is queued: the next item is a heartbeat, the foreign event is
        # skipped and never delivered.
        assert await anext(items) == Heartbeat(NOW)
        stream.close()
        with pytest.raises(StopAsyncIteration):
            await anext(items)
    assert not stream.dropped
    assert Heartbeat(NOW).to_dict() == {"type": "heartbeat", "at": NOW.isoformat()}


async def test_a_subscriber_that_falls_behind_is_dropped() -> None:
    bus = InProcessEventBus()
    sent = [event() for _ in range(5)]
    async with LiveEventStream(
        event_bus=bus,
        event_filter=EventFilter(partner_id=MINE),
        clock=FixedClock(NOW),
        max_queue=3,
    ) as stream:
        for item in sent:
            await bus.publish(item)
        received = [item async for item in stream]
    assert stream.dropped
    assert received == sent[:3]
