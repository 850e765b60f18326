"""Meter history over HTTP: samples sent by a real charger, read back raw, aggregated and latest.

Expected aggregates are computed here in Python from the samples the charger sent, independently
of the SQL that computes them in the service.
"""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from ocpp.v16 import call as call16

from tests.integration.api.conftest import PartnerCallers, make_station
from tests.integration.csms.support import Csms, connect_charger, iso

# (measurand, unit, phase): three series per connector, one of them phased.
SERIES = [
    ("Energy.Active.Import.Register", "Wh", None),
    ("Power.Active.Import", "W", None),
    ("Current.Import", "A", "L1"),
]

Sample = tuple[datetime, int, str, str, str | None, float]  # time, connector, measurand, unit...


def _samples(start: datetime) -> list[Sample]:
    """About 90 minutes of irregular samples on connectors 1 and 2 (seeded: reproducible)."""
    rng = random.Random(20261123)
    samples: list[Sample] = []
    for connector in (1, 2):
        at = start
        while at < start + timedelta(minutes=90):
            at += timedelta(seconds=rng.randint(20, 200), milliseconds=rng.randint(0, 999))
            for measurand, unit, phase in SERIES:
                value = round(rng.uniform(0, 1000), 1)
                samples.append((at, connector, measurand, unit, phase, value))
    return samples


async def _send(charger: Any, samples: list[Sample]) -> None:
    """One MeterValues per (connector, timestamp), as a charger sampling periodically would."""
    grouped: dict[tuple[int, datetime], list[dict[str, Any]]] = defaultdict(list)
    for at, connector, measurand, unit, phase, value in samples:
        sampled: dict[str, Any] = {"value": str(value), "measurand": measurand, "unit": unit}
        if phase:
            sampled["phase"] = phase
        grouped[(connector, at)].append(sampled)
    for (connector, at), values in grouped.items():
        await charger.call(
            call16.MeterValues(
                connector_id=connector,
                meter_value=[{"timestamp": iso(at), "sampledValue": values}],
            )
        )


def _floor(moment: datetime, width: timedelta) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    return epoch + (moment - epoch) // width * width


def _expected_buckets(
    samples: list[Sample], start: datetime, end: datetime, width: timedelta
) -> list[dict[str, Any]]:
    groups: dict[tuple[datetime, str, int, str | None, str], list[tuple[datetime, float]]] = (
        defaultdict(list)
    )
    for at, connector, measurand, unit, phase, value in samples:
        if start <= at < end:
            groups[(_floor(at, width), measurand, connector, phase, unit)].append((at, value))
    rows = []
    for (bucket, measurand, connector, phase, unit), points in groups.items():
        values = [value for _at, value in points]
        last_at, last = max(points)
        rows.append(
            {
                "bucket_start": bucket,
                "measurand": measurand,
                "connector_number": connector,
                "phase": phase,
                "unit": unit,
                "avg": statistics.fmean(values),
                "min": min(values),
                "max": max(values),
                "last": last,
                "last_at": last_at,
                "count": len(values),
            }
        )
    rows.sort(key=lambda r: (r["bucket_start"], r["measurand"], r["connector_number"]))
    return rows


def _normalise(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        row = dict(item)
        row["bucket_start"] = datetime.fromisoformat(row["bucket_start"])
        row["last_at"] = datetime.fromisoformat(row["last_at"])
        rows.append(row)
    return rows


@pytest.fixture
async def recorded(
    api: TestClient[Any, Any], csms: Csms, acme: PartnerCallers, type_ids: dict[str, str]
) -> tuple[dict[str, Any], list[Sample], datetime]:
    station = await make_station(acme.operator, type_ids["AC 22 kW dual"])
    start = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=7, second=0, microsecond=0)
    samples = _samples(start)
    cpid = station["charge_point_id"]
    async with connect_charger(csms.url(cpid), cpid, "ocpp1.6") as charger:
        await _send(charger, samples)
    return station, samples, start


@pytest.mark.parametrize(("bucket", "width"), [("15m", timedelta(minutes=15)), ("1h", None)])
async def test_aggregates_match_values_computed_independently(
    acme: PartnerCallers,
    recorded: tuple[dict[str, Any], list[Sample], datetime],
    bucket: str,
    width: timedelta | None,
) -> None:
    station, samples, start = recorded
    width = width or timedelta(hours=1)
    # A window that cuts buckets at both ends: partial buckets count only what is inside.
    window_start = start + timedelta(minutes=11, seconds=13)
    window_end = start + timedelta(minutes=77, seconds=41)
    answer = await acme.viewer.ok(
        "GET",
        f"/stations/{station['id']}/meter-values",
        params={"bucket": bucket, "from": iso(window_start), "to": iso(window_end)},
    )
    assert answer["bucket"] == bucket
    assert datetime.fromisoformat(answer["from"]) == window_start
    got = sorted(
        _normalise(answer["items"]),
        key=lambda r: (r["bucket_start"], r["measurand"], r["connector_number"]),
    )
    expected = _expected_buckets(samples, window_start, window_end, width)
    assert len(got) == len(expected)
    for row, want in zip(got, expected, strict=True):
        assert row["avg"] == pytest.approx(want.pop("avg"), rel=1e-9)
        row.pop("avg")
        assert row == want

    # Filters: one measurand on one connector.
    filtered = await acme.viewer.ok(
        "GET",
        f"/stations/{station['id']}/meter-values",
        params={
            "bucket": bucket,
            "from": iso(window_start),
            "to": iso(window_end),
            "measurand": "Power.Active.Import",
            "connector_number": "2",
        },
    )
    want_filtered = [
        r
        for r in _expected_buckets(samples, window_start, window_end, width)
        if r["measurand"] == "Power.Active.Import" and r["connector_number"] == 2
    ]
    assert [r["count"] for r in filtered["items"]] == [r["count"] for r in want_filtered]
    assert [r["max"] for r in filtered["items"]] == [r["max"] for r in want_filtered]


async def test_raw_pages_latest_values_and_bounds(
    acme: PartnerCallers,
    globex: PartnerCallers,
    recorded: tuple[dict[str, Any], list[Sample], datetime],
) -> None:
    station, samples, start = recorded
    path = f"/stations/{station['id']}/meter-values"
    window = {"from": iso(start), "to": iso(start + timedelta(hours=2))}

    # Raw mode: every sample exactly once, in time order, over small keyset pages.
    seen: list[tuple[datetime, int, str, float]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {**window, "limit": "40", **({"cursor": cursor} if cursor else {})}
        page = await acme.viewer.ok("GET", path, params=params)
        pages += 1
        seen += [
            (
                datetime.fromisoformat(item["time"]),
                item["connector_number"],
                item["measurand"],
                item["value"],
            )
            for item in page["items"]
        ]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages > 2
    assert [moment for moment, *_ in seen] == sorted(moment for moment, *_ in seen)
    assert sorted(seen) == sorted((at, c, m, v) for at, c, m, _u, _p, v in samples)

    # Latest: per (measurand, connector, phase) the newest sample the charger sent.
    latest = await acme.viewer.ok("GET", f"/stations/{station['id']}/metrics/latest")
    newest: dict[tuple[str, int, str | None], Sample] = {}
    for sample in samples:
        key = (sample[2], sample[1], sample[4])
        if key not in newest or sample[0] > newest[key][0]:
            newest[key] = sample
    assert {
        (m["measurand"], m["connector_number"], m["phase"]): (
            datetime.fromisoformat(m["time"]),
            m["value"],
            m["unit"],
        )
        for m in latest["items"]
    } == {key: (s[0], s[5], s[3]) for key, s in newest.items()}
    only = await acme.viewer.ok(
        "GET",
        f"/stations/{station['id']}/metrics/latest",
        params={"measurand": "Current.Import", "connector_number": "1"},
    )
    assert [(m["measurand"], m["connector_number"]) for m in only["items"]] == [
        ("Current.Import", 1)
    ]

    # Bounds and validation: all 422, never a runaway query.
    for params, field in (
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "from"),
        ({"bucket": "1s", "from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "bucket"),
        ({"from": "2026-01-01T00:00:00"}, "from"),
        ({"bucket": "0m"}, "bucket"),
        ({"bucket": "15m", "cursor": "abc"}, "cursor"),
        ({"connector_number": "-1"}, "connector_number"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ):
        response = await acme.viewer.get(path, params=params)
        problem = await response.json()
        assert response.status == 422, (params, problem)
        assert field in [error["field"] for error in problem["errors"]], problem

    # Another partner's station does not exist for them.
    assert (await globex.viewer.get(path)).status == 404
    assert (await globex.viewer.get(f"/stations/{station['id']}/metrics/latest")).status == 404
