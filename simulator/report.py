"""What a person reads: the live progress line, the periodic lines and the final summary."""

from __future__ import annotations

from typing import Any

from simulator.stats import Snapshot


def window_fields(
    snap: Snapshot, previous: Snapshot, seconds: float, chargers: int
) -> dict[str, Any]:
    """The figures of the last ``seconds``: rates and latency over the window, totals so far."""
    window = snap.latency.minus(previous.latency)
    calls = snap.calls_total - previous.calls_total
    return {
        "connected": snap.connected,
        "booted": snap.booted,
        "chargers": chargers,
        "calls_per_s": round(calls / seconds, 1) if seconds > 0 else 0.0,
        "p50_ms": round(window.percentile(50), 2),
        "p99_ms": round(window.percentile(99), 2),
        "errors": snap.errors_total,
        "tx_started": snap.transactions_started,
        "tx_stopped": snap.transactions_stopped,
        "meter_values": snap.meter_values_sent,
    }


def progress_line(fields: dict[str, Any]) -> str:
    """One terminal line, e.g. ``connected 10/10 booted 10 | 12.0 calls/s | ...``."""
    return (
        f"connected {fields['connected']}/{fields['chargers']} booted {fields['booted']}"
        f" | {fields['calls_per_s']:.1f} calls/s"
        f" | p50 {fields['p50_ms']:.1f} ms p99 {fields['p99_ms']:.1f} ms"
        f" | errors {fields['errors']}"
        f" | tx {fields['tx_started']} started {fields['tx_stopped']} stopped"
        f" | {fields['meter_values']} meter values"
    )


def _counts(counts: dict[str, int]) -> str:
    if not counts:
        return "none"
    return ", ".join(f"{key} {value}" for key, value in sorted(counts.items()))


def summary_text(summary: dict[str, Any]) -> str:
    """The final summary as a few readable lines."""
    latency = summary["latency_ms"]
    booted_after = summary.get("all_booted_after_s")
    lines = [
        f"Simulator summary: {summary['chargers']} chargers ({summary['protocol']}, "
        f"{summary['scenario']}) for {summary['duration_s']:.1f} s",
        f"  connected    {summary['connected']}/{summary['chargers']}, booted "
        f"{summary['booted']} (connects {summary['connects_total']}, boots "
        f"{summary['boots_total']}"
        + (f", all booted after {booted_after:.2f} s)" if booted_after is not None else ")"),
        f"  calls        {summary['calls_total']} ({summary['calls_per_s']:.1f}/s): "
        f"{_counts(summary['calls_by_action'])}",
        f"  latency ms   p50 {latency['p50']:.2f}  p90 {latency['p90']:.2f}  "
        f"p99 {latency['p99']:.2f}  max {latency['max']:.2f}",
        f"  transactions {summary['transactions_started']} started, "
        f"{summary['transactions_stopped']} stopped; {summary['meter_values_sent']} meter values "
        f"({summary['samples_sent']} samples)",
        f"  commands     {_counts(summary['commands_by_action'])}",
        f"  refusals     {_counts(summary['refusals_by_kind'])}",
        f"  errors       {summary['errors_total']}: {_counts(summary['errors_by_kind'])}",
    ]
    return "\n".join(lines)
