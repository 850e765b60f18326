"""Meter history, latest metrics and live state against the real database.

Samples are random but seeded; every expectation is computed here in plain Python from the
same rows that were inserted, never by asking the database a second time.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from core.clock import FixedClock
from core.db.engine import create_session_factory, to_async_url
from core.errors import NotFoundError, ValidationFailedError
from core.runtime import Resources
from core.services import history
from core.services.history import (
    BUCKET_ORIGIN,
    aggregate_meter_values,
    latest_metrics,
    list_meter_values,
    station_live_state,
)
from core.uow import UnitOfWorkFactory
from tests.integration.services.factories import (
    add_meter_values,
    make_connector,
    make_station,
    make_transaction,
)

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
WINDOW_START = NOW - timedelta(hours=6)

# (measurand, unit, phases)
SERIES: list[tuple[str, str, list[str | None]]] = [
    ("Energy.Active.Import.Register", "Wh", [None]),
    ("Power.Active.Import", "W", [None]),
    ("Current.Import", "A", ["L1", "L2", "L3"]),
    ("SoC", "Percent", [None]),
]


def random_samples(seed: int, count: int) -> list[dict[str, Any]]:
    """Samples over the six hours before NOW, a few sharing an instant, some outside."""
    rng = random.Random(seed)
    samples = []
    instants: list[datetime] = []
    for _ in range(count):
        if instants and rng.random() < 0.15:
            time = rng.choice(instants)  # ties on time: the id must order them
        else:
            time = WINDOW_START + timedelta(microseconds=rng.randrange(6 * 3600 * 10**6))
            instants.append(time)
        measurand, unit, phases = rng.choice(SERIES)
        samples.append(
            {
                "time": time,
                "connector_number": rng.choice([1, 2]),
                "measurand": measurand,
                "unit": unit,
                "phase": rng.choice(phases),
                "value": round(rng.uniform(0, 20000), 3),
                "context": "Sample.Periodic",
            }
        )
    # Just outside the window on both sides.
    for time in (WINDOW_START - timedelta(microseconds=1), NOW):
        samples.append(
            {"time": time, "measurand": "Power.Active.Import", "unit": "W", "value": 1.0}
        )
    return samples


def in_window(rows: list[dict[str, Any]], start: datetime, end: datetime) -> list[dict[str, Any]]:
    return [row for row in rows if start <= row["time"] < end]


def expected_buckets(
    rows: list[dict[str, Any]], start: datetime, end: datetime, width: timedelta
) -> list[tuple[Any, ...]]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in in_window(rows, start, end):
        slot = BUCKET_ORIGIN + ((row["time"] - BUCKET_ORIGIN) // width) * width
        key = (slot, row["measurand"], row["connector_number"], row["phase"] or "", row["unit"])
        groups[key].append(row)
    result = []
    for key in sorted(groups):
        members = groups[key]
        values = [m["value"] for m in members]
        newest = max(members, key=lambda m: (m["time"], m["id"]))
        slot, measurand, connector, phase, unit = key
        result.append(
            (
                slot,
                measurand,
                connector,
                phase or None,
                unit,
                sum(values) / len(values),
                min(values),
                max(values),
                newest["value"],
                newest["time"],
                len(values),
            )
        )
    return result


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def station_with_samples(resources: Resources) -> tuple[Any, list[dict[str, Any]]]:
    station = await make_station(resources)
    rows = await add_meter_values(resources, station.id, random_samples(seed=20261123, count=1500))
    # Noise on another station of the same partner must never show up.
    neighbour = await make_station(resources, partner_id=station.partner_id)
    await add_meter_values(resources, neighbour.id, random_samples(seed=7, count=100))
    return station, rows


@pytest.mark.parametrize(
    ("bucket", "offset"),
    [("15m", timedelta(0)), ("1h", timedelta(minutes=7, seconds=3)), ("1d", timedelta(0))],
)
async def test_aggregates_match_an_independent_computation(
    resources: Resources,
    clock: FixedClock,
    station_with_samples: tuple[Any, list[dict[str, Any]]],
    bucket: str,
    offset: timedelta,
) -> None:
    station, rows = station_with_samples
    start = WINDOW_START + offset
    width = history.parse_bucket(bucket)

    got = await aggregate_meter_values(
        uow=resources.uow,
        clock=clock,
        station_id=station.id,
        partner_id=station.partner_id,
        bucket=bucket,
        from_=start,
        to=NOW,
    )

    expected = expected_buckets(rows, start, NOW, width)
    # The service orders by bucket, then series; NULL phases sort last in PostgreSQL.
    assert [b.bucket_start for b in got] == sorted(b.bucket_start for b in got)
    got = sorted(
        got,
        key=lambda b: (b.bucket_start, b.measurand, b.connector_number, b.phase or "", b.unit),
    )
    assert len(got) == len(expected)
    for bucket_row, want in zip(got, expected, strict=True):
        (slot, measurand, connector, phase, unit, avg, low, high, last, last_at, count) = want
        assert (
            bucket_row.bucket_start,
            bucket_row.measurand,
            bucket_row.connector_number,
            bucket_row.phase,
            bucket_row.unit,
        ) == (slot, measurand, connector, phase, unit)
        assert bucket_row.avg == pytest.approx(avg, rel=1e-12)
        assert (bucket_row.min, bucket_row.max, bucket_row.last) == (low, high, last)
        assert (bucket_row.last_at, bucket_row.count) == (last_at, count)
    assert sum(b.count for b in got) == len(in_window(rows, start, NOW))


async def test_buckets_stay_utc_aligned_whatever_the_session_time_zone(
    resources: Resources,
    clock: FixedClock,
    station_with_samples: tuple[Any, list[dict[str, Any]]],
) -> None:
    station, rows = station_with_samples
    # Half-hour offset: any bucket computed in session-local time would be shifted by 30 min.
    engine = create_async_engine(
        to_async_url(resources.database_url),
        connect_args={"server_settings": {"timezone": "Asia/Kolkata"}},
    )
    try:
        got = await aggregate_meter_values(
            uow=UnitOfWorkFactory(create_session_factory(engine)),
            clock=clock,
            station_id=station.id,
            partner_id=None,
            bucket="1h",
            from_=WINDOW_START,
            to=NOW,
            measurand="SoC",
        )
    finally:
        await engine.dispose()

    chosen = [row for row in rows if row["measurand"] == "SoC"]
    expected = expected_buckets(chosen, WINDOW_START, NOW, timedelta(hours=1))
    assert [(b.bucket_start, b.connector_number, b.count) for b in got] == [
        (e[0], e[2], e[10]) for e in expected
    ]
    assert all(b.bucket_start.minute == 0 for b in got)


async def test_aggregates_filter_by_measurand_and_connector(
    resources: Resources,
    clock: FixedClock,
    station_with_samples: tuple[Any, list[dict[str, Any]]],
) -> None:
    station, rows = station_with_samples
    chosen = [
        row for row in rows if row["measurand"] == "Current.Import" and row["connector_number"] == 2
    ]

    got = await aggregate_meter_values(
        uow=resources.uow,
        clock=clock,
        station_id=station.id,
        partner_id=None,
        bucket=timedelta(minutes=30),
        from_=WINDOW_START,
        to=NOW,
        measurand="Current.Import",
        connector_number=2,
    )

    expected = expected_buckets(chosen, WINDOW_START, NOW, timedelta(minutes=30))
    assert [(b.bucket_start, b.phase, b.count, b.last) for b in got] == [
        (e[0], e[3], e[10], e[8]) for e in expected
    ]
    assert {b.phase for b in got} == {"L1", "L2", "L3"}


async def test_raw_pages_walk_every_sample_once_in_order(
    resources: Resources,
    clock: FixedClock,
    station_with_samples: tuple[Any, list[dict[str, Any]]],
) -> None:
    station, rows = station_with_samples
    wanted = {"Power.Active.Import", "SoC"}
    expected = sorted(
        (row for row in in_window(rows, WINDOW_START, NOW) if row["measurand"] in wanted),
        key=lambda row: (row["time"], row["id"]),
    )
    assert len({row["time"] for row in expected}) < len(expected), "the data must contain ties"

    seen: list[int] = []
    cursor: str | None = None
    while True:
        page = await list_meter_values(
            uow=resources.uow,
            clock=clock,
            station_id=station.id,
            partner_id=station.partner_id,
            from_=WINDOW_START,
            to=NOW,
            measurand=sorted(wanted),
            cursor=cursor,
            limit=37,
        )
        assert len(page.items) <= 37
        seen.extend(sample.id for sample in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert seen == [row["id"] for row in expected]
    first = expected[0]
    page = await list_meter_values(
        uow=resources.uow,
        clock=clock,
        station_id=station.id,
        partner_id=None,
        from_=WINDOW_START,
        to=NOW,
        measurand=sorted(wanted),
        limit=1,
    )
    [sample] = page.items
    assert (sample.time, sample.measurand, sample.value, sample.unit, sample.context) == (
        first["time"],
        first["measurand"],
        first["value"],
        first["unit"],
        first["context"],
    )


async def test_raw_window_defaults_to_the_last_day(resources: Resources, clock: FixedClock) -> None:
    station = await make_station(resources)
    rows = await add_meter_values(
        resources,
        station.id,
        [
            {"time": NOW - timedelta(days=1, seconds=1), "measurand": "SoC", "value": 1.0},
            {"time": NOW - timedelta(hours=23), "measurand": "SoC", "value": 2.0},
            {"time": NOW - timedelta(seconds=1), "measurand": "SoC", "value": 3.0},
        ],
    )

    page = await list_meter_values(
        uow=resources.uow, clock=clock, station_id=station.id, partner_id=None
    )

    assert [sample.id for sample in page.items] == [rows[1]["id"], rows[2]["id"]]
    assert page.next_cursor is None


async def test_latest_metrics_match_an_independent_computation(
    resources: Resources,
    clock: FixedClock,
    station_with_samples: tuple[Any, list[dict[str, Any]]],
) -> None:
    station, rows = station_with_samples
    # A series last heard of before the lookback is not "latest" any more.
    await add_meter_values(
        resources,
        station.id,
        [
            {
                "time": NOW - timedelta(days=8),
                "measurand": "Temperature",
                "unit": "Celsius",
                "value": 30,
            }
        ],
    )
    newest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = (row["measurand"], row["connector_number"], row["phase"])
        if key not in newest or (row["time"], row["id"]) > (newest[key]["time"], newest[key]["id"]):
            newest[key] = row

    got = await latest_metrics(
        uow=resources.uow, clock=clock, station_id=station.id, partner_id=station.partner_id
    )

    assert {(m.measurand, m.connector_number, m.phase): (m.value, m.unit, m.time) for m in got} == {
        key: (row["value"], row["unit"], row["time"]) for key, row in newest.items()
    }
    assert len(got) == len(newest)


@pytest.mark.parametrize(
    ("call", "options", "field"),
    [
        ("raw", {"from_": NOW, "to": NOW}, "from"),
        ("raw", {"from_": NOW, "to": NOW - timedelta(seconds=1)}, "from"),
        ("raw", {"from_": NOW - timedelta(days=31, seconds=1), "to": NOW}, "from"),
        ("raw", {"from_": datetime(2026, 11, 1), "to": NOW}, "from"),
        ("raw", {"cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
        ("raw", {"limit": 0}, "limit"),
        ("raw", {"limit": 501}, "limit"),
        ("raw", {"connector_number": -1}, "connector_number"),
        ("agg", {"bucket": "1m", "from_": NOW - timedelta(days=7), "to": NOW}, "bucket"),
        ("agg", {"bucket": "0m"}, "bucket"),
        ("agg", {"bucket": "5 parsecs"}, "bucket"),
        ("agg", {"bucket": timedelta(0)}, "bucket"),
        ("agg", {"bucket": "1d", "from_": NOW - timedelta(days=367), "to": NOW}, "from"),
    ],
)
async def test_unbounded_or_malformed_queries_are_rejected(
    resources: Resources, clock: FixedClock, call: str, options: dict[str, Any], field: str
) -> None:
    station = await make_station(resources)
    scope: dict[str, Any] = {
        "uow": resources.uow,
        "clock": clock,
        "station_id": station.id,
        "partner_id": None,
    }
    query = (
        list_meter_values(**scope, **options)
        if call == "raw"
        else aggregate_meter_values(**scope, **{"bucket": "1h", **options})
    )
    with pytest.raises(ValidationFailedError) as caught:
        await query
    assert field in {error["field"] for error in caught.value.errors}


async def test_too_many_aggregate_rows_is_rejected(
    resources: Resources,
    clock: FixedClock,
    station_with_samples: tuple[Any, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    station, _rows = station_with_samples
    monkeypatch.setattr(history, "MAX_AGGREGATE_ROWS", 5)
    with pytest.raises(ValidationFailedError):
        await aggregate_meter_values(
            uow=resources.uow,
            clock=clock,
            station_id=station.id,
            partner_id=None,
            bucket="1h",
            from_=WINDOW_START,
            to=NOW,
        )


async def test_another_partners_station_is_not_found(
    resources: Resources,
    clock: FixedClock,
    station_with_samples: tuple[Any, list[dict[str, Any]]],
) -> None:
    station, _rows = station_with_samples
    stranger = (await make_station(resources)).partner_id
    scope: dict[str, Any] = {
        "uow": resources.uow,
        "clock": clock,
        "station_id": station.id,
        "partner_id": stranger,
    }
    with pytest.raises(NotFoundError):
        await list_meter_values(**scope)
    with pytest.raises(NotFoundError):
        await aggregate_meter_values(**scope, bucket="1h")
    with pytest.raises(NotFoundError):
        await latest_metrics(**scope)
    with pytest.raises(NotFoundError):
        await latest_metrics(**{**scope, "station_id": uuid.uuid4(), "partner_id": None})


async def test_live_state_of_a_batch(resources: Resources) -> None:
    busy = await make_station(resources, online=True, last_seen_at=NOW)
    idle = await make_station(resources, partner_id=busy.partner_id)
    foreign = await make_station(resources, online=True)
    deleted = await make_station(resources, partner_id=busy.partner_id, deleted_at=NOW)
    await make_connector(
        resources,
        station_id=busy.id,
        connector_number=1,
        status="Charging",
        status_updated_at=NOW,
        priority=True,
    )
    await make_connector(
        resources,
        station_id=busy.id,
        connector_number=2,
        status="Faulted",
        error_code="GroundFailure",
    )
    await make_connector(resources, station_id=idle.id, connector_number=1, status="Available")
    await make_connector(resources, station_id=foreign.id, connector_number=1, status="Charging")

    # Connector 1: a stale session never stopped, then the running one (register in kWh).
    await make_transaction(
        resources,
        station_id=busy.id,
        connector_number=1,
        started_at=NOW - timedelta(days=2),
        meter_start_wh=0.0,
    )
    running = await make_transaction(
        resources,
        station_id=busy.id,
        connector_number=1,
        started_at=NOW - timedelta(hours=1),
        meter_start_wh=1_000.0,
    )
    finished = await make_transaction(
        resources,
        station_id=busy.id,
        connector_number=2,
        started_at=NOW - timedelta(hours=3),
        stopped_at=NOW - timedelta(hours=2),
    )
    # A session without meter_start: the first register reading is the baseline.
    no_start = await make_transaction(
        resources, station_id=idle.id, connector_number=3, started_at=NOW - timedelta(minutes=30)
    )
    register = "Energy.Active.Import.Register"
    await add_meter_values(
        resources,
        busy.id,
        [
            {"time": NOW - timedelta(minutes=50), "measurand": register, "unit": "kWh",
             "value": 1.5, "transaction_id": running.id},
            {"time": NOW - timedelta(minutes=10), "measurand": register, "unit": "kWh",
             "value": 4.25, "transaction_id": running.id},
            # Per-phase registers and other measurands do not count as the session's energy.
            {"time": NOW - timedelta(minutes=5), "measurand": register, "unit": "kWh",
             "value": 99.0, "phase": "L1", "transaction_id": running.id},
            {"time": NOW - timedelta(minutes=5), "measurand": "Power.Active.Import", "unit": "W",
             "value": 7000.0, "transaction_id": running.id},
            {"time": NOW - timedelta(hours=2), "measurand": register, "unit": "Wh",
             "value": 500.0, "transaction_id": finished.id},
        ],
    )  # fmt: skip
    await add_meter_values(
        resources,
        idle.id,
        [
            {"time": NOW - timedelta(minutes=29), "measurand": register, "value": 200.0,
             "connector_number": 3, "transaction_id": no_start.id},
            {"time": NOW - timedelta(minutes=1), "measurand": register, "value": 950.0,
             "connector_number": 3, "transaction_id": no_start.id},
        ],
    )  # fmt: skip

    states = await station_live_state(
        uow=resources.uow,
        station_ids=[busy.id, idle.id, foreign.id, deleted.id, busy.id, uuid.uuid4()],
        partner_id=busy.partner_id,
    )

    assert set(states) == {busy.id, idle.id}
    state = states[busy.id]
    assert (state.online, state.last_seen_at) == (True, NOW)
    one, two = state.connectors
    assert (one.connector_number, one.status, one.priority) == (1, "Charging", True)
    assert (two.connector_number, two.status, two.error_code) == (2, "Faulted", "GroundFailure")
    assert two.active_transaction is None
    assert one.active_transaction is not None
    assert one.active_transaction.id == running.id
    assert one.active_transaction.energy_wh == pytest.approx(3_250.0)
    assert one.active_transaction.energy_at == NOW - timedelta(minutes=10)
    newest_first = [tx.id for tx in state.active_transactions]
    assert len(newest_first) == 2
    assert newest_first[0] == running.id

    quiet = states[idle.id]
    assert (quiet.online, quiet.last_seen_at) == (False, None)
    assert [c.active_transaction for c in quiet.connectors] == [None]
    [orphan] = quiet.active_transactions
    assert orphan.id == no_start.id
    assert orphan.energy_wh == pytest.approx(750.0)

    admin = await station_live_state(
        uow=resources.uow, station_ids=[foreign.id, deleted.id], partner_id=None
    )
    assert set(admin) == {foreign.id}
    assert await station_live_state(uow=resources.uow, station_ids=[], partner_id=None) == {}
