"""Counters and latency histograms behind the progress line, the summary and ``--json``.

One :class:`Stats` per process is updated by every charger (one event loop, no locks). Worker
processes ship :class:`Snapshot` copies to the parent, which merges them, so the figures of a
multi-process run are the same sums as those of a single process.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from simulator.station import iso_time

#: Bucket width: each bucket is 4 % wider than the previous one, so a percentile read from the
#: geometric middle of its bucket is within 2 % of the true value, in ~200 buckets up to 10 s.
_GROWTH = 1.04
_LOG_GROWTH = math.log(_GROWTH)


class Histogram:
    """A log-bucketed latency histogram: constant memory, mergeable across processes."""

    __slots__ = ("buckets", "count", "max_us")

    def __init__(self) -> None:
        self.buckets: dict[int, int] = {}
        self.count = 0
        self.max_us = 0.0

    def record(self, seconds: float) -> None:
        """Add one latency measured in seconds."""
        micros = seconds * 1e6
        index = int(math.log(micros) / _LOG_GROWTH) if micros > 1.0 else 0
        self.buckets[index] = self.buckets.get(index, 0) + 1
        self.count += 1
        if micros > self.max_us:
            self.max_us = micros

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0..100) in milliseconds; 0 when nothing was recorded."""
        if not self.count:
            return 0.0
        rank = max(1, math.ceil(q / 100.0 * self.count))
        seen = 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                middle = _GROWTH ** (index + 0.5) if index else 1.0
                return min(middle, self.max_us) / 1000.0
        return self.max_us / 1000.0

    def merge(self, other: Histogram) -> None:
        """Add another histogram's counts into this one."""
        for index, count in other.buckets.items():
            self.buckets[index] = self.buckets.get(index, 0) + count
        self.count += other.count
        self.max_us = max(self.max_us, other.max_us)

    def minus(self, earlier: Histogram) -> Histogram:
        """What was recorded since ``earlier`` (a copy taken from this histogram before)."""
        window = Histogram()
        for index, count in self.buckets.items():
            delta = count - earlier.buckets.get(index, 0)
            if delta > 0:
                window.buckets[index] = delta
        window.count = self.count - earlier.count
        window.max_us = self.max_us  # the window's own maximum is not tracked; an upper bound
        return window

    def copy(self) -> Histogram:
        """An independent copy (snapshots must not change under the progress loop)."""
        other = Histogram()
        other.buckets = dict(self.buckets)
        other.count = self.count
        other.max_us = self.max_us
        return other

    def summary_ms(self) -> dict[str, float]:
        """``{p50, p90, p99, max}`` in milliseconds, rounded for humans and JSON."""
        return {
            "p50": round(self.percentile(50), 3),
            "p90": round(self.percentile(90), 3),
            "p99": round(self.percentile(99), 3),
            "max": round(self.max_us / 1000.0, 3),
        }


def _add(target: dict[str, int], source: dict[str, int]) -> None:
    for key, value in source.items():
        target[key] = target.get(key, 0) + value


@dataclass(slots=True)
class Snapshot:
    """A copy of the counters at one moment; picklable, mergeable, the input of every report."""

    connected: int = 0
    booted: int = 0
    connects_total: int = 0
    boots_total: int = 0
    first_boots: int = 0
    last_first_boot_at: float = 0.0
    calls_by_action: dict[str, int] = field(default_factory=dict)
    latency: Histogram = field(default_factory=Histogram)
    latency_by_action: dict[str, Histogram] = field(default_factory=dict)
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    refusals_by_kind: dict[str, int] = field(default_factory=dict)
    commands_by_action: dict[str, int] = field(default_factory=dict)
    transactions_started: int = 0
    transactions_stopped: int = 0
    meter_values_sent: int = 0
    samples_sent: int = 0

    @property
    def calls_total(self) -> int:
        """CALLs the central system answered (with a CALLRESULT or a CALLERROR)."""
        return sum(self.calls_by_action.values())

    @property
    def errors_total(self) -> int:
        """Every error of every kind."""
        return sum(self.errors_by_kind.values())

    @classmethod
    def merge(cls, snapshots: Iterable[Snapshot]) -> Snapshot:
        """The sum of several processes' snapshots."""
        total = cls()
        for snap in snapshots:
            total.connected += snap.connected
            total.booted += snap.booted
            total.connects_total += snap.connects_total
            total.boots_total += snap.boots_total
            total.first_boots += snap.first_boots
            total.last_first_boot_at = max(total.last_first_boot_at, snap.last_first_boot_at)
            _add(total.calls_by_action, snap.calls_by_action)
            total.latency.merge(snap.latency)
            for action, hist in snap.latency_by_action.items():
                total.latency_by_action.setdefault(action, Histogram()).merge(hist)
            _add(total.errors_by_kind, snap.errors_by_kind)
            _add(total.refusals_by_kind, snap.refusals_by_kind)
            _add(total.commands_by_action, snap.commands_by_action)
            total.transactions_started += snap.transactions_started
            total.transactions_stopped += snap.transactions_stopped
            total.meter_values_sent += snap.meter_values_sent
            total.samples_sent += snap.samples_sent
        return total


class Stats:
    """The live counters of one process, updated by every charger on its event loop."""

    __slots__ = ("_frozen", "_seen_errors", "data")

    def __init__(self) -> None:
        self.data = Snapshot()
        self._frozen = False
        self._seen_errors: set[str] = set()

    # connection and boot gauges -------------------------------------------------------------

    def connection_opened(self) -> None:
        """A websocket handshake succeeded."""
        self.data.connects_total += 1
        if not self._frozen:
            self.data.connected += 1

    def connection_closed(self, *, was_booted: bool) -> None:
        """A websocket is gone, for whatever reason."""
        if not self._frozen:
            self.data.connected -= 1
            if was_booted:
                self.data.booted -= 1

    def boot_accepted(self, *, first: bool) -> None:
        """The central system accepted a BootNotification; ``first`` for a charger's first one."""
        self.data.boots_total += 1
        if not self._frozen:
            self.data.booted += 1
        if first:
            self.data.first_boots += 1
            self.data.last_first_boot_at = time.time()

    def freeze_gauges(self) -> None:
        """Keep ``connected``/``booted`` as they are now: shutting down must not zero them."""
        self._frozen = True

    # calls ----------------------------------------------------------------------------------

    def call_answered(self, action: str, seconds: float) -> None:
        """One CALL got its CALLRESULT or CALLERROR after ``seconds``."""
        data = self.data
        data.calls_by_action[action] = data.calls_by_action.get(action, 0) + 1
        data.latency.record(seconds)
        hist = data.latency_by_action.get(action)
        if hist is None:
            hist = data.latency_by_action[action] = Histogram()
        hist.record(seconds)

    def error(self, kind: str) -> bool:
        """Count an error; True the first time this kind is seen (worth a warning line)."""
        errors = self.data.errors_by_kind
        errors[kind] = errors.get(kind, 0) + 1
        if kind in self._seen_errors:
            return False
        self._seen_errors.add(kind)
        return True

    def refusal(self, kind: str) -> None:
        """The central system said no where it may (boot Pending/Rejected, id tag Invalid)."""
        refusals = self.data.refusals_by_kind
        refusals[kind] = refusals.get(kind, 0) + 1

    def command_answered(self, action: str) -> None:
        """We answered a CALL of the central system."""
        commands = self.data.commands_by_action
        commands[action] = commands.get(action, 0) + 1

    # what was delivered -----------------------------------------------------------------------

    def transaction_started(self) -> None:
        """A start of transaction was acknowledged."""
        self.data.transactions_started += 1

    def transaction_stopped(self) -> None:
        """A stop of transaction was acknowledged."""
        self.data.transactions_stopped += 1

    def meter_values(self) -> None:
        """A periodic or triggered meter-values message was acknowledged."""
        self.data.meter_values_sent += 1

    def samples(self, count: int) -> None:
        """``count`` sampled values were acknowledged, in any message."""
        self.data.samples_sent += count

    def snapshot(self) -> Snapshot:
        """A deep copy, safe to keep, merge or pickle while the counters keep moving."""
        data = self.data
        return Snapshot(
            connected=data.connected,
            booted=data.booted,
            connects_total=data.connects_total,
            boots_total=data.boots_total,
            first_boots=data.first_boots,
            last_first_boot_at=data.last_first_boot_at,
            calls_by_action=dict(data.calls_by_action),
            latency=data.latency.copy(),
            latency_by_action={k: v.copy() for k, v in data.latency_by_action.items()},
            errors_by_kind=dict(data.errors_by_kind),
            refusals_by_kind=dict(data.refusals_by_kind),
            commands_by_action=dict(data.commands_by_action),
            transactions_started=data.transactions_started,
            transactions_stopped=data.transactions_stopped,
            meter_values_sent=data.meter_values_sent,
            samples_sent=data.samples_sent,
        )


def summary(
    snap: Snapshot,
    *,
    started_at: float,
    duration_s: float,
    chargers: int,
    protocol: str,
    scenario: str,
    processes: int,
) -> dict[str, Any]:
    """The run's summary as the JSON document ``--json`` writes (and the benchmark reads)."""
    calls_total = snap.calls_total
    all_booted_after = (
        round(snap.last_first_boot_at - started_at, 3)
        if chargers and snap.first_boots >= chargers
        else None
    )
    return {
        "started_at": iso_time(started_at),
        "duration_s": round(duration_s, 3),
        "chargers": chargers,
        "protocol": protocol,
        "scenario": scenario,
        "processes": processes,
        "connected": snap.connected,
        "booted": snap.booted,
        "connects_total": snap.connects_total,
        "boots_total": snap.boots_total,
        "all_booted_after_s": all_booted_after,
        "calls_total": calls_total,
        "calls_per_s": round(calls_total / duration_s, 1) if duration_s > 0 else 0.0,
        "latency_ms": snap.latency.summary_ms(),
        "calls_by_action": dict(sorted(snap.calls_by_action.items())),
        "latency_by_action_ms": {
            action: hist.summary_ms() for action, hist in sorted(snap.latency_by_action.items())
        },
        "errors_total": snap.errors_total,
        "errors_by_kind": dict(sorted(snap.errors_by_kind.items())),
        "refusals_by_kind": dict(sorted(snap.refusals_by_kind.items())),
        "commands_by_action": dict(sorted(snap.commands_by_action.items())),
        "transactions_started": snap.transactions_started,
        "transactions_stopped": snap.transactions_stopped,
        "meter_values_sent": snap.meter_values_sent,
        "samples_sent": snap.samples_sent,
    }
