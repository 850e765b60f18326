"""Prometheus metrics of the OCPP central system, served as text on ``GET /metrics``.

Each server owns its registry (no process-global state, so tests can run several servers).
Labelled children are cached: ``labels()`` is a lock and a dict lookup per call otherwise.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST as PROMETHEUS_CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["PROMETHEUS_CONTENT_TYPE", "CsmsMetrics"]


class CsmsMetrics:
    """Connected stations, messages, CALLERRORs, group-commit batches and command outcomes."""

    def __init__(self, connected: Callable[[], int]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._connected = Gauge(
            "ocpp_connected_stations",
            "Chargers with an open websocket on this node",
            registry=self.registry,
        )
        self._connected.set_function(lambda: float(connected()))
        self._messages = Counter(
            "ocpp_messages",
            "CALLs received from chargers",
            ["action", "version"],
            registry=self.registry,
        )
        self._duplicates = Counter(
            "ocpp_duplicate_calls",
            "CALLs answered from the per-connection cache (same message id again)",
            ["version"],
            registry=self.registry,
        )
        self._errors = Counter(
            "ocpp_call_errors",
            "CALLERRORs sent to chargers",
            ["code", "version"],
            registry=self.registry,
        )
        self._commands = Counter(
            "ocpp_commands",
            "Remote commands sent to chargers by outcome",
            ["action", "status"],
            registry=self.registry,
        )
        self._batch_size = Histogram(
            "group_commit_batch_size",
            "Operations per group-commit transaction",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
            registry=self.registry,
        )
        self._batch_seconds = Histogram(
            "group_commit_flush_seconds",
            "Time to apply and commit one group-commit batch",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=self.registry,
        )
        self._batch_failures = Counter(
            "group_commit_failures",
            "Group-commit transactions that failed (their operations are retried one by one)",
            registry=self.registry,
        )
        self._message_children: dict[tuple[str, str], Counter] = {}
        self._error_children: dict[tuple[str, str], Counter] = {}

    def message(self, action: str, version: str) -> None:
        """Count a CALL received."""
        key = (action, version)
        child = self._message_children.get(key)
        if child is None:
            child = self._message_children[key] = self._messages.labels(action, version)
        child.inc()

    def duplicate(self, version: str) -> None:
        """Count a CALL answered from the duplicate cache."""
        self._duplicates.labels(version).inc()

    def call_error(self, code: str, version: str) -> None:
        """Count a CALLERROR sent."""
        key = (code, version)
        child = self._error_children.get(key)
        if child is None:
            child = self._error_children[key] = self._errors.labels(code, version)
        child.inc()

    def command(self, action: str, status: str) -> None:
        """Count a remote command outcome."""
        self._commands.labels(action, status).inc()

    def flush(self, size: int, seconds: float, failed: bool) -> None:
        """Group-commit observer."""
        self._batch_size.observe(size)
        self._batch_seconds.observe(seconds)
        if failed:
            self._batch_failures.inc()

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
