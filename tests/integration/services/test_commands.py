"""Remote commands against the real database, through the in-process command bus.

The charger side is ``FakeCharger``, an honest ``CommandExecutor``: it holds the sockets of the
charge point ids in ``connected`` and answers each action as scripted (accept, reject, CALLERROR,
raise, time out like a real executor, never answer, or answer once a gate opens).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.bus.commands import CommandReply, CommandRequest, InProcessCommandBus
from core.bus.events import Event, EventType, Subscription
from core.clock import FixedClock
from core.db.models import Command
from core.domain.enums import CommandAction, CommandStatus
from core.errors import NotFoundError, StationOfflineError, ValidationFailedError
from core.runtime import Resources
from core.services.commands import (
    CommandRecorder,
    CommandStationOfflineError,
    QueuedCommandDispatcher,
    deliver_queued_commands,
    expire_stale_commands,
    get_command,
    issue_command,
    list_commands,
)
from tests.integration.services.factories import make_command, make_partner, make_station

Behaviour = Callable[[CommandRequest], Awaitable[CommandReply]]


class FakeCharger:
    """Executes commands for the charge points it "holds", per a script of behaviours."""

    def __init__(self) -> None:
        self.connected: set[str] = set()
        self.received: list[CommandRequest] = []
        self.arrived = asyncio.Event()
        self.gate = asyncio.Event()
        self.behaviour: Behaviour = self.accept
        self.drop_after_check: set[str] = set()

    def holds(self, charge_point_id: str) -> bool:
        held = charge_point_id in self.connected
        if held and charge_point_id in self.drop_after_check:
            # The socket closes right after this check: the next one says "gone".
            self.connected.discard(charge_point_id)
            self.drop_after_check.discard(charge_point_id)
        return held

    async def execute(self, request: CommandRequest) -> CommandReply:
        self.received.append(request)
        self.arrived.set()
        return await self.behaviour(request)

    # -- behaviours --

    async def accept(self, request: CommandRequest) -> CommandReply:
        status = "Unlocked" if request.action is CommandAction.UNLOCK_CONNECTOR else "Accepted"
        return CommandReply(
            request.command_id,
            CommandStatus.ACCEPTED,
            response={"status": status, "raw": {"status": status}},
        )

    async def reject(self, request: CommandRequest) -> CommandReply:
        return CommandReply(
            request.command_id,
            CommandStatus.REJECTED,
            response={"status": "Rejected", "raw": {"status": "Rejected"}},
        )

    async def call_error(self, request: CommandRequest) -> CommandReply:
        return CommandReply(
            request.command_id,
            CommandStatus.FAILED,
            error="NotImplemented: Reset is not supported by this firmware",
        )

    async def explode(self, request: CommandRequest) -> CommandReply:
        raise ConnectionResetError("websocket closed while sending")

    async def time_out(self, request: CommandRequest) -> CommandReply:
        # What a real executor does: wait at most request.timeout, then report it.
        try:
            await asyncio.wait_for(asyncio.Event().wait(), request.timeout)
        except TimeoutError:
            return CommandReply(request.command_id, CommandStatus.TIMED_OUT, error="no answer")
        raise AssertionError("unreachable")

    async def never_answer(self, request: CommandRequest) -> CommandReply:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def answer_when_gate_opens(self, request: CommandRequest) -> CommandReply:
        await self.gate.wait()
        return await self.accept(request)


@pytest.fixture
def charger(resources: Resources) -> FakeCharger:
    fake = FakeCharger()
    resources.command_bus.bind_executor(fake)
    return fake


@pytest.fixture
async def recorder(resources: Resources) -> AsyncIterator[CommandRecorder]:
    async with CommandRecorder(
        uow=resources.uow,
        command_bus=resources.command_bus,
        event_bus=resources.event_bus,
        clock=resources.clock,
        default_wait=10.0,
        default_timeout=5.0,
        grace=0.05,
    ) as rec:
        yield rec


@pytest.fixture
def events(resources: Resources) -> Subscription:
    return resources.event_bus.subscribe()


async def next_completed(subscription: Subscription) -> Event:
    """The next command.completed event (the bound only guards against a hung test)."""
    while True:
        event = await subscription.get(timeout=10)
        assert event is not None, "no command.completed event arrived"
        if event.type is EventType.COMMAND_COMPLETED:
            return event


async def stored(resources: Resources, command_id: uuid.UUID) -> Command:
    async with resources.session_factory() as session:
        return (await session.execute(select(Command).where(Command.id == command_id))).scalar_one()


async def command_count(resources: Resources) -> int:
    async with resources.session_factory() as session:
        return len((await session.execute(select(Command.id))).all())


async def test_answered_in_time_gives_the_final_record(
    resources: Resources, charger: FakeCharger, recorder: CommandRecorder, events: Subscription
) -> None:
    station = await make_station(resources)
    charger.connected.add(station.charge_point_id)

    outcome = await issue_command(
        recorder=recorder,
        station_id=station.id,
        partner_id=station.partner_id,
        action=CommandAction.REMOTE_START,
        payload={"id_tag": "TAG-42", "connector_number": 2},
        requested_by="client-a",
    )

    assert outcome.completed
    record = outcome.record
    assert record.status is CommandStatus.ACCEPTED
    assert record.response == {"status": "Accepted", "raw": {"status": "Accepted"}}
    assert record.error is None
    assert record.sent_at is not None
    assert record.answered_at is not None
    [request] = charger.received
    assert request.command_id == record.id
    assert request.charge_point_id == station.charge_point_id
    assert request.station_id == station.id
    assert request.payload == {"id_tag": "TAG-42", "connector_number": 2}
    assert request.timeout == 5.0
    row = await stored(resources, record.id)
    assert (row.status, row.requested_by, row.queued) == ("accepted", "client-a", False)
    assert row.payload == {"id_tag": "TAG-42", "connector_number": 2}
    event = await next_completed(events)
    assert event.station_id == station.id
    assert event.partner_id == station.partner_id
    assert event.data == {
        "command_id": str(record.id),
        "action": "remote-start",
        "status": "accepted",
    }


@pytest.mark.parametrize(
    ("behaviour", "status", "error"),
    [
        ("reject", CommandStatus.REJECTED, None),
        (
            "call_error",
            CommandStatus.FAILED,
            "NotImplemented: Reset is not supported by this firmware",
        ),
        (
            "explode",
            CommandStatus.FAILED,
            "send failed: ConnectionResetError: websocket closed while sending",
        ),
        ("time_out", CommandStatus.TIMED_OUT, "no answer"),
        ("never_answer", CommandStatus.TIMED_OUT, "no answer within 0.05 s"),
    ],
)
async def test_every_kind_of_answer_is_recorded(
    resources: Resources,
    charger: FakeCharger,
    recorder: CommandRecorder,
    behaviour: str,
    status: CommandStatus,
    error: str | None,
) -> None:
    station = await make_station(resources)
    charger.connected.add(station.charge_point_id)
    charger.behaviour = getattr(charger, behaviour)

    outcome = await issue_command(
        recorder=recorder,
        station_id=station.id,
        partner_id=station.partner_id,
        action=CommandAction.RESET,
        payload={"type": "Hard"},
        requested_by="client-a",
        timeout=0.05,
    )

    assert outcome.completed
    assert outcome.record.status is status
    assert outcome.record.error == error
    row = await stored(resources, outcome.record.id)
    assert (row.status, row.error) == (status.value, error)
    assert row.answered_at is not None


async def test_slow_answer_gives_pending_then_is_recorded(
    resources: Resources, charger: FakeCharger, recorder: CommandRecorder, events: Subscription
) -> None:
    station = await make_station(resources)
    charger.connected.add(station.charge_point_id)
    charger.behaviour = charger.answer_when_gate_opens

    outcome = await issue_command(
        recorder=recorder,
        station_id=station.id,
        partner_id=None,
        action=CommandAction.UNLOCK_CONNECTOR,
        payload={"connector_number": 1},
        requested_by="admin",
        wait=0,
    )

    assert not outcome.completed
    assert outcome.record.status is CommandStatus.PENDING
    assert outcome.record.sent_at is not None
    assert (await stored(resources, outcome.record.id)).status == "pending"

    charger.gate.set()
    event = await next_completed(events)
    assert event.data["command_id"] == str(outcome.record.id)
    row = await stored(resources, outcome.record.id)
    assert row.status == "accepted"
    assert row.response == {"status": "Unlocked", "raw": {"status": "Unlocked"}}
    fetched = await get_command(uow=resources.uow, command_id=row.id, partner_id=None)
    assert fetched.status is CommandStatus.ACCEPTED


async def test_answer_is_recorded_when_the_caller_gives_up(
    resources: Resources, charger: FakeCharger, recorder: CommandRecorder, events: Subscription
) -> None:
    station = await make_station(resources)
    charger.connected.add(station.charge_point_id)
    charger.behaviour = charger.answer_when_gate_opens
    caller = asyncio.create_task(
        issue_command(
            recorder=recorder,
            station_id=station.id,
            partner_id=station.partner_id,
            action=CommandAction.CLEAR_CACHE,
            payload={},
            requested_by="client-a",
            wait=30,
        )
    )
    await charger.arrived.wait()

    caller.cancel()  # the HTTP client hung up
    with pytest.raises(asyncio.CancelledError):
        await caller
    charger.gate.set()

    event = await next_completed(events)
    row = await stored(resources, uuid.UUID(event.data["command_id"]))
    assert row.status == "accepted"


async def test_offline_station_is_a_conflict_and_a_failed_record(
    resources: Resources, charger: FakeCharger, recorder: CommandRecorder
) -> None:
    station = await make_station(resources)

    with pytest.raises(StationOfflineError) as caught:
        await issue_command(
            recorder=recorder,
            station_id=station.id,
            partner_id=station.partner_id,
            action=CommandAction.CLEAR_CACHE,
            payload={},
            requested_by="client-a",
        )

    assert isinstance(caught.value, CommandStationOfflineError)
    record = caught.value.record
    assert (record.status, record.error) == (CommandStatus.FAILED, "station offline")
    row = await stored(resources, record.id)
    assert (row.status, row.error, row.sent_at) == ("failed", "station offline", None)
    assert charger.received == []


async def test_station_gone_between_check_and_send_is_offline(
    resources: Resources, charger: FakeCharger, recorder: CommandRecorder
) -> None:
    station = await make_station(resources)
    charger.connected.add(station.charge_point_id)
    charger.drop_after_check.add(station.charge_point_id)

    with pytest.raises(StationOfflineError):
        await issue_command(
            recorder=recorder,
            station_id=station.id,
            partner_id=station.partner_id,
            action=CommandAction.CLEAR_CACHE,
            payload={},
            requested_by="client-a",
        )
    assert charger.received == []


async def test_queued_commands_are_delivered_in_order_when_the_station_connects(
    resources: Resources, charger: FakeCharger, recorder: CommandRecorder, events: Subscription
) -> None:
    station = await make_station(resources)
    issued = []
    plan: list[tuple[CommandAction, dict[str, Any]]] = [
        (CommandAction.CHANGE_AVAILABILITY, {"operative": True}),
        (CommandAction.REMOTE_START, {"id_tag": "TAG-1"}),
    ]
    for action, payload in plan:
        outcome = await issue_command(
            recorder=recorder,
            station_id=station.id,
            partner_id=station.partner_id,
            action=action,
            payload=payload,
            requested_by="client-a",
            queue=True,
        )
        assert not outcome.completed
        assert outcome.record.queued
        assert outcome.record.sent_at is None
        issued.append(outcome.record.id)
    assert charger.received == []

    async with QueuedCommandDispatcher(recorder=recorder, sweep_interval=None) as dispatcher:
        charger.connected.add(station.charge_point_id)
        dispatcher.station_connected(station.id)  # what the csms gateway calls on a connect
        completed = [await next_completed(events), await next_completed(events)]

    assert [uuid.UUID(e.data["command_id"]) for e in completed] == issued
    assert [request.command_id for request in charger.received] == issued
    assert charger.received[0].payload == {"connector_number": None, "operative": True}
    for command_id in issued:
        row = await stored(resources, command_id)
        assert (row.status, row.queued) == ("accepted", True)
        assert row.sent_at is not None


async def test_queued_command_for_a_connected_station_is_sent_at_once(
    resources: Resources, charger: FakeCharger, recorder: CommandRecorder
) -> None:
    station = await make_station(resources)
    charger.connected.add(station.charge_point_id)

    outcome = await issue_command(
        recorder=recorder,
        station_id=station.id,
        partner_id=station.partner_id,
        action=CommandAction.GET_CONFIGURATION,
        payload={"keys": ["HeartbeatInterval"]},
        requested_by="client-a",
        queue=True,
    )

    assert outcome.completed
    assert outcome.record.status is CommandStatus.ACCEPTED
    assert len(charger.received) == 1


async def test_concurrent_deliveries_send_each_command_once(
    resources: Resources, charger: FakeCharger, recorder: CommandRecorder
) -> None:
    station = await make_station(resources)
    queued = [
        (
            await make_command(
                resources,
                station_id=station.id,
                queued=True,
                requested_at=datetime.now(UTC) + timedelta(seconds=i),
            )
        ).id
        for i in range(6)
    ]
    charger.connected.add(station.charge_point_id)

    results = await asyncio.gather(
        *(deliver_queued_commands(recorder=recorder, station_id=station.id) for _ in range(3))
    )

    sent = [request.command_id for request in charger.received]
    assert sorted(sent) == sorted(queued)
    assert sorted(record.id for batch in results for record in batch) == sorted(queued)


async def test_queue_goes_one_command_at_a_time(
    resources: Resources, charger: FakeCharger, recorder: CommandRecorder
) -> None:
    station = await make_station(resources)
    base = datetime.now(UTC) - timedelta(minutes=1)
    first = await make_command(resources, station_id=station.id, queued=True, requested_at=base)
    second = await make_command(
        resources, station_id=station.id, queued=True, requested_at=base + timedelta(seconds=1)
    )
    charger.connected.add(station.charge_point_id)
    charger.behaviour = charger.answer_when_gate_opens
    delivery = asyncio.create_task(
        deliver_queued_commands(recorder=recorder, station_id=station.id)
    )
    await charger.arrived.wait()

    # While the oldest is in flight nothing else of the queue may go: not by another
    # dispatcher, not by a new queue=true request for the connected station.
    assert await deliver_queued_commands(recorder=recorder, station_id=station.id) == []
    third = await issue_command(
        recorder=recorder,
        station_id=station.id,
        partner_id=station.partner_id,
        action=CommandAction.CLEAR_CACHE,
        payload={},
        requested_by="client-a",
        queue=True,
        wait=0,
    )
    assert not third.completed
    assert third.record.sent_at is None
    assert [request.command_id for request in charger.received] == [first.id]

    charger.gate.set()
    delivered = await delivery
    assert [record.id for record in delivered] == [first.id, second.id, third.record.id]
    assert [request.command_id for request in charger.received] == [
        first.id,
        second.id,
        third.record.id,
    ]


async def test_delivery_stops_and_keeps_the_queue_when_the_station_drops(
    resources: Resources, charger: FakeCharger, recorder: CommandRecorder
) -> None:
    station = await make_station(resources)
    command = await make_command(resources, station_id=station.id, queued=True)
    charger.connected.add(station.charge_point_id)
    # The bus check passes; the executor's own check at submit finds the socket gone.
    charger.drop_after_check.add(station.charge_point_id)
    resources.command_bus.bind_executor(charger)

    delivered = await deliver_queued_commands(recorder=recorder, station_id=station.id)

    assert delivered == []
    row = await stored(resources, command.id)
    assert (row.status, row.sent_at) == ("pending", None)


async def test_sweep_delivers_queued_commands_of_online_stations(
    resources: Resources, charger: FakeCharger, recorder: CommandRecorder
) -> None:
    online = await make_station(resources, online=True)
    offline = await make_station(resources, online=False)
    first = await make_command(resources, station_id=online.id, queued=True)
    second = await make_command(resources, station_id=offline.id, queued=True)
    charger.connected.add(online.charge_point_id)

    dispatcher = QueuedCommandDispatcher(recorder=recorder, sweep_interval=None)
    async with dispatcher:
        await dispatcher.sweep()
        await dispatcher.wait_idle()

    assert (await stored(resources, first.id)).status == "accepted"
    assert (await stored(resources, second.id)).status == "pending"


async def test_expire_settles_only_commands_nobody_can_answer(
    resources: Resources, charger: FakeCharger, events: Subscription
) -> None:
    station = await make_station(resources)
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    clock = FixedClock(now)
    rec = CommandRecorder(
        uow=resources.uow,
        command_bus=resources.command_bus,
        event_bus=resources.event_bus,
        clock=clock,
        default_timeout=30,
        grace=2,
    )
    long_ago = now - timedelta(minutes=5)
    just_now = now - timedelta(seconds=10)
    sent_long_ago = await make_command(
        resources, station_id=station.id, requested_at=long_ago, sent_at=long_ago
    )
    never_sent = await make_command(resources, station_id=station.id, requested_at=long_ago)
    queued = await make_command(
        resources, station_id=station.id, requested_at=long_ago, queued=True
    )
    queued_sent = await make_command(
        resources, station_id=station.id, requested_at=long_ago, sent_at=long_ago, queued=True
    )
    recent = await make_command(
        resources, station_id=station.id, requested_at=just_now, sent_at=just_now
    )
    answered = await make_command(
        resources,
        station_id=station.id,
        requested_at=long_ago,
        sent_at=long_ago,
        status="accepted",
        answered_at=long_ago,
    )

    expired = await expire_stale_commands(recorder=rec)

    assert {record.id for record in expired} == {sent_long_ago.id, never_sent.id, queued_sent.id}
    statuses = {
        command.id: (await stored(resources, command.id)).status
        for command in (sent_long_ago, never_sent, queued, queued_sent, recent, answered)
    }
    assert statuses == {
        sent_long_ago.id: "timed_out",
        never_sent.id: "failed",
        queued.id: "pending",
        queued_sent.id: "timed_out",
        recent.id: "pending",
        answered.id: "accepted",
    }
    assert (await stored(resources, sent_long_ago.id)).answered_at == now
    published = {(await next_completed(events)).data["command_id"] for _ in range(3)}
    assert published == {str(sent_long_ago.id), str(never_sent.id), str(queued_sent.id)}
    assert await expire_stale_commands(recorder=rec) == []


async def test_closing_the_recorder_leaves_the_record_for_the_sweeper(
    resources: Resources, charger: FakeCharger
) -> None:
    station = await make_station(resources)
    charger.connected.add(station.charge_point_id)
    charger.behaviour = charger.never_answer
    clock = FixedClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    rec = CommandRecorder(
        uow=resources.uow,
        command_bus=resources.command_bus,
        event_bus=resources.event_bus,
        clock=clock,
        default_timeout=30,
    )
    async with rec:
        outcome = await issue_command(
            recorder=rec,
            station_id=station.id,
            partner_id=station.partner_id,
            action=CommandAction.CLEAR_CACHE,
            payload={},
            requested_by="client-a",
            wait=0,
        )
        assert rec.in_flight == 1
    assert rec.in_flight == 0
    assert (await stored(resources, outcome.record.id)).status == "pending"

    clock.advance(3600)
    await expire_stale_commands(recorder=rec)
    assert (await stored(resources, outcome.record.id)).status == "timed_out"


async def test_partners_never_reach_each_others_commands(
    resources: Resources, charger: FakeCharger, recorder: CommandRecorder
) -> None:
    mine = await make_station(resources)
    theirs = await make_station(resources)
    charger.connected.update({mine.charge_point_id, theirs.charge_point_id})
    other_partner = theirs.partner_id
    assert other_partner is not None
    assert other_partner != mine.partner_id

    with pytest.raises(NotFoundError):
        await issue_command(
            recorder=recorder,
            station_id=mine.id,
            partner_id=other_partner,
            action=CommandAction.CLEAR_CACHE,
            payload={},
            requested_by="intruder",
        )
    assert await command_count(resources) == 0
    assert charger.received == []

    outcome = await issue_command(
        recorder=recorder,
        station_id=mine.id,
        partner_id=mine.partner_id,
        action=CommandAction.CLEAR_CACHE,
        payload={},
        requested_by="owner",
    )
    with pytest.raises(NotFoundError):
        await get_command(uow=resources.uow, command_id=outcome.record.id, partner_id=other_partner)
    with pytest.raises(NotFoundError):
        await list_commands(uow=resources.uow, station_id=mine.id, partner_id=other_partner)
    admin_view = await get_command(uow=resources.uow, command_id=outcome.record.id, partner_id=None)
    assert admin_view.id == outcome.record.id


async def test_deleted_and_unknown_stations_are_not_found(
    resources: Resources, charger: FakeCharger, recorder: CommandRecorder
) -> None:
    deleted = await make_station(resources, deleted_at=datetime.now(UTC))
    for station_id in (deleted.id, uuid.uuid4()):
        with pytest.raises(NotFoundError):
            await issue_command(
                recorder=recorder,
                station_id=station_id,
                partner_id=None,
                action=CommandAction.CLEAR_CACHE,
                payload={},
                requested_by="admin",
            )
    assert await command_count(resources) == 0


@pytest.mark.parametrize(
    ("payload", "options", "field"),
    [
        ({"type": "Warm"}, {}, "type"),
        ({"type": "Soft", "extra": 1}, {}, "extra"),
        ({"type": "Soft"}, {"wait": -1}, "wait"),
        ({"type": "Soft"}, {"wait": 61}, "wait"),
        ({"type": "Soft"}, {"timeout": 0}, "timeout"),
        ({"type": "Soft"}, {"timeout": 6}, "timeout"),
    ],
)
async def test_invalid_requests_write_nothing(
    resources: Resources,
    charger: FakeCharger,
    recorder: CommandRecorder,
    payload: dict[str, object],
    options: dict[str, float],
    field: str,
) -> None:
    station = await make_station(resources)
    charger.connected.add(station.charge_point_id)

    with pytest.raises(ValidationFailedError) as caught:
        await issue_command(
            recorder=recorder,
            station_id=station.id,
            partner_id=station.partner_id,
            action=CommandAction.RESET,
            payload=payload,
            requested_by="client-a",
            **options,  # type: ignore[arg-type]
        )

    assert field in {error["field"] for error in caught.value.errors}
    assert await command_count(resources) == 0
    assert charger.received == []


async def test_history_pages_newest_first_without_gaps_or_duplicates(
    resources: Resources, charger: FakeCharger
) -> None:
    station = await make_station(resources)
    other = await make_station(resources, partner_id=station.partner_id)
    base = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    made = []
    for i in range(11):
        # Pairs share a timestamp, so the id must break ties.
        at = base + timedelta(minutes=i // 2)
        status = "accepted" if i % 3 else "failed"
        made.append(
            await make_command(resources, station_id=station.id, requested_at=at, status=status)
        )
    await make_command(resources, station_id=other.id, requested_at=base)
    expected = [c.id for c in sorted(made, key=lambda c: (c.requested_at, c.id), reverse=True)]

    seen: list[uuid.UUID] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await list_commands(
            uow=resources.uow,
            station_id=station.id,
            partner_id=station.partner_id,
            cursor=cursor,
            limit=4,
        )
        seen.extend(record.id for record in page.items)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == expected
    assert pages == 3

    failed = await list_commands(
        uow=resources.uow,
        station_id=station.id,
        partner_id=None,
        status=CommandStatus.FAILED,
    )
    assert [r.id for r in failed.items] == [i for i in expected if i in {c.id for c in made[::3]}]
    assert failed.next_cursor is None


async def test_bad_cursor_is_a_validation_error(resources: Resources) -> None:
    station = await make_station(resources)
    with pytest.raises(ValidationFailedError):
        await list_commands(
            uow=resources.uow, station_id=station.id, partner_id=None, cursor="not-a-cursor"
        )


async def test_other_partner_with_same_named_station_is_isolated(resources: Resources) -> None:
    partner = await make_partner(resources)
    station = await make_station(resources, partner_id=partner.id, name="same")
    other = await make_station(resources, name="same")
    await make_command(resources, station_id=other.id)

    page = await list_commands(uow=resources.uow, station_id=station.id, partner_id=partner.id)

    assert page.items == []


async def test_a_recorder_that_is_not_running_refuses_before_writing(
    resources: Resources, charger: FakeCharger
) -> None:
    station = await make_station(resources)
    charger.connected.add(station.charge_point_id)
    idle = CommandRecorder(
        uow=resources.uow,
        command_bus=resources.command_bus,
        event_bus=resources.event_bus,
        clock=resources.clock,
    )
    with pytest.raises(RuntimeError):
        await issue_command(
            recorder=idle,
            station_id=station.id,
            partner_id=None,
            action=CommandAction.CLEAR_CACHE,
            payload={},
            requested_by="admin",
        )
    assert await command_count(resources) == 0


def test_the_recorder_takes_its_defaults_from_the_settings(resources: Resources) -> None:
    recorder = CommandRecorder.from_resources(resources)
    assert recorder.default_wait == resources.settings.command_wait_seconds
    assert recorder.default_timeout == resources.settings.command_timeout_seconds
    assert recorder.max_timeout == resources.settings.command_timeout_seconds
    assert recorder.uow is resources.uow
    assert recorder.command_bus is resources.command_bus
    assert recorder.event_bus is resources.event_bus


class UnreachableBus(InProcessCommandBus):
    """A bus whose transport is down (think Redis unreachable) after the presence check."""

    async def is_connected(self, charge_point_id: str) -> bool:
        return True

    async def submit(self, request: CommandRequest) -> asyncio.Future[CommandReply]:
        raise ConnectionError("bus transport unreachable")


async def test_a_failing_bus_is_recorded_as_a_failed_send(
    resources: Resources, events: Subscription
) -> None:
    station = await make_station(resources)
    async with CommandRecorder(
        uow=resources.uow,
        command_bus=UnreachableBus(),
        event_bus=resources.event_bus,
        clock=resources.clock,
    ) as rec:
        outcome = await issue_command(
            recorder=rec,
            station_id=station.id,
            partner_id=station.partner_id,
            action=CommandAction.CLEAR_CACHE,
            payload={},
            requested_by="client-a",
        )

    assert outcome.completed
    assert outcome.record.status is CommandStatus.FAILED
    assert outcome.record.error == "send failed: ConnectionError: bus transport unreachable"
    assert (await next_completed(events)).data["status"] == "failed"
