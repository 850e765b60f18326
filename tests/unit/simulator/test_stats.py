"""Latency percentiles, counters across processes and the summary the benchmark reads."""

from __future__ import annotations

import pickle
import random

import pytest

from simulator.stats import Histogram, Snapshot, Stats, summary


def _exact_percentile(values_ms: list[float], q: float) -> float:
    ordered = sorted(values_ms)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil, nearest-rank definition
    return ordered[int(rank) - 1]


@pytest.mark.parametrize("q", [50, 90, 99])
def test_percentiles_are_within_the_bucket_precision(q: int) -> None:
    rng = random.Random(3)
    values_ms = [rng.lognormvariate(1.0, 1.2) for _ in range(5000)]  # 0.1 ms .. a few s
    hist = Histogram()
    for value in values_ms:
        hist.record(value / 1000.0)

    exact = _exact_percentile(values_ms, q)

    assert hist.percentile(q) == pytest.approx(exact, rel=0.025)


def test_percentiles_of_a_known_distribution() -> None:
    hist = Histogram()
    for ms in range(1, 101):  # 1 .. 100 ms, once each
        hist.record(ms / 1000.0)

    assert hist.percentile(50) == pytest.approx(50.0, rel=0.025)
    assert hist.percentile(99) == pytest.approx(99.0, rel=0.025)
    assert hist.percentile(100) == pytest.approx(100.0, rel=0.025)
    assert hist.summary_ms()["max"] == 100.0


def test_an_empty_histogram_reports_zero() -> None:
    assert Histogram().percentile(99) == 0.0
    assert Histogram().summary_ms() == {"p50": 0.0, "p90": 0.0, "p99": 0.0, "max": 0.0}


def test_a_percentile_never_exceeds_the_maximum_seen() -> None:
    hist = Histogram()
    hist.record(0.0123)

    assert hist.percentile(99) == pytest.approx(12.3)


def test_merged_histograms_equal_one_that_saw_everything() -> None:
    rng = random.Random(5)
    values = [rng.uniform(0.0001, 0.2) for _ in range(2000)]
    whole, first, second = Histogram(), Histogram(), Histogram()
    for index, value in enumerate(values):
        whole.record(value)
        (first if index % 2 else second).record(value)

    first.merge(second)

    assert first.buckets == whole.buckets
    assert first.count == whole.count
    assert first.max_us == whole.max_us


def test_the_window_since_a_copy_holds_only_the_new_latencies() -> None:
    hist = Histogram()
    for _ in range(100):
        hist.record(0.001)  # 1 ms
    earlier = hist.copy()
    for _ in range(10):
        hist.record(0.050)  # 50 ms

    window = hist.minus(earlier)

    assert window.count == 10
    assert window.percentile(50) == pytest.approx(50.0, rel=0.025)
    assert earlier.count == 100  # the copy did not move with the original


def test_stats_count_calls_errors_and_deliveries() -> None:
    stats = Stats()
    stats.connection_opened()
    stats.boot_accepted(first=True)
    stats.call_answered("BootNotification", 0.004)
    stats.call_answered("Heartbeat", 0.002)
    stats.call_answered("Heartbeat", 0.003)
    first_timeout = stats.error("timeout")
    second_timeout = stats.error("timeout")
    stats.error("handshake:404")
    stats.refusal("boot:Pending")
    stats.command_answered("Reset")
    stats.transaction_started()
    stats.meter_values()
    stats.samples(4)

    data = stats.data
    assert (first_timeout, second_timeout) == (True, False)  # only the first is logged
    assert data.calls_by_action == {"BootNotification": 1, "Heartbeat": 2}
    assert data.calls_total == 3
    assert data.errors_by_kind == {"timeout": 2, "handshake:404": 1}
    assert data.errors_total == 3
    assert data.refusals_by_kind == {"boot:Pending": 1}
    assert data.commands_by_action == {"Reset": 1}
    assert (data.connected, data.booted, data.first_boots) == (1, 1, 1)
    assert (data.transactions_started, data.meter_values_sent, data.samples_sent) == (1, 1, 4)
    assert data.latency_by_action["Heartbeat"].count == 2


def test_gauges_drop_with_connections_but_not_once_frozen() -> None:
    stats = Stats()
    for _ in range(3):
        stats.connection_opened()
        stats.boot_accepted(first=True)
    stats.connection_closed(was_booted=True)
    stats.freeze_gauges()
    stats.connection_closed(was_booted=True)  # shutting down

    assert (stats.data.connected, stats.data.booted) == (2, 2)
    assert stats.data.connects_total == 3


def test_snapshots_are_independent_picklable_and_merge_to_sums() -> None:
    one, two = Stats(), Stats()
    one.call_answered("Heartbeat", 0.001)
    one.error("timeout")
    two.call_answered("Heartbeat", 0.002)
    two.call_answered("Authorize", 0.003)
    two.error("callerror:InternalError")
    two.connection_opened()
    snap = one.snapshot()
    one.call_answered("Heartbeat", 0.001)  # after the snapshot

    copied = pickle.loads(pickle.dumps(snap))  # noqa: S301 (our own bytes, as workers send)
    merged = Snapshot.merge([copied, two.snapshot()])

    assert snap.calls_by_action == {"Heartbeat": 1}
    assert merged.calls_by_action == {"Heartbeat": 2, "Authorize": 1}
    assert merged.errors_by_kind == {"timeout": 1, "callerror:InternalError": 1}
    assert merged.latency.count == 3
    assert merged.latency_by_action["Heartbeat"].count == 2
    assert merged.connected == 1


def test_summary_is_the_documented_json_document() -> None:
    stats = Stats()
    stats.connection_opened()
    stats.boot_accepted(first=True)
    for _ in range(10):
        stats.call_answered("Heartbeat", 0.002)
    stats.error("timeout")
    started_at = stats.data.last_first_boot_at - 1.5

    result = summary(
        stats.snapshot(),
        started_at=started_at,
        duration_s=5.0,
        chargers=1,
        protocol="ocpp1.6",
        scenario="idle",
        processes=1,
    )

    assert list(result) == [
        "started_at",
        "duration_s",
        "chargers",
        "protocol",
        "scenario",
        "processes",
        "connected",
        "booted",
        "connects_total",
        "boots_total",
        "all_booted_after_s",
        "calls_total",
        "calls_per_s",
        "latency_ms",
        "calls_by_action",
        "latency_by_action_ms",
        "errors_total",
        "errors_by_kind",
        "refusals_by_kind",
        "commands_by_action",
        "transactions_started",
        "transactions_stopped",
        "meter_values_sent",
        "samples_sent",
    ]
    assert result["calls_total"] == 10
    assert result["calls_per_s"] == 2.0
    assert result["errors_total"] == 1
    assert result["errors_by_kind"] == {"timeout": 1}
    assert result["all_booted_after_s"] == 1.5
    assert result["latency_ms"]["p50"] == pytest.approx(2.0, rel=0.025)


def test_all_booted_after_is_unknown_until_every_charger_booted() -> None:
    stats = Stats()
    stats.boot_accepted(first=True)

    result = summary(
        stats.snapshot(),
        started_at=0.0,
        duration_s=1.0,
        chargers=2,
        protocol="mixed",
        scenario="storm",
        processes=1,
    )

    assert result["all_booted_after_s"] is None
