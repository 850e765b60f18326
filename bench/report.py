"""The report: machine and versions, one section per scenario, a table for people.

Every figure is only as good as the machine it names, so the machine comes first.
"""

from __future__ import annotations

import os
import platform
import subprocess
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from bench.system import ROOT

_PACKAGES = (
    "ocpp",
    "websockets",
    "aiohttp",
    "sqlalchemy",
    "asyncpg",
    "redis",
    "fastjsonschema",
    "orjson",
    "uvloop",
    "structlog",
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


async def _server_version(kind: str, url: str) -> str | None:
    """PostgreSQL / Redis server versions (the product's own figures depend on them)."""
    try:
        if kind == "postgresql":
            import asyncpg

            from bench.database import plain_dsn

            conn = await asyncpg.connect(plain_dsn(url))
            try:
                return str(await conn.fetchval("SHOW server_version"))
            finally:
                await conn.close()
        import redis.asyncio as aioredis

        client = aioredis.from_url(url)
        try:
            info = await client.info("server")
            return str(info.get("redis_version"))
        finally:
            await client.aclose()
    except Exception:  # a version is nice to have, never a reason to fail the report
        return None


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


async def machine(database_url: str, redis_url: str) -> dict[str, Any]:
    """Cores, CPU model, memory, kernel, Python, key packages, servers and the git commit."""
    packages: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            packages[name] = None
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "cores": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": packages,
        "postgresql": await _server_version("postgresql", database_url),
        "redis": await _server_version("redis", redis_url),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(dirty),
        "load_average_at_start": list(os.getloadavg()),
    }


def new_report(mode: str, machine_info: dict[str, Any]) -> dict[str, Any]:
    """The document the scenarios fill in."""
    return {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "mode": mode,
        "machine": machine_info,
        "scenarios": {},
    }


def add_ratios(report: dict[str, Any]) -> None:
    """Ingest against the baseline: calls/s and CPU per call as ratios."""
    scenarios = report["scenarios"]
    ours, base = scenarios.get("ingest"), scenarios.get("baseline")
    if not ours or not base or ours.get("status") != "ok" or base.get("status") != "ok":
        return
    o, b = ours["figures"], base["figures"]
    ratio: dict[str, Any] = {
        "calls_per_s_ratio": round(o["calls_per_s"] / b["calls_per_s"], 2)
        if b["calls_per_s"]
        else None,
        "cpu_per_call_ratio": round(o["csms_cpu_us_per_call"] / b["csms_cpu_us_per_call"], 2)
        if o["csms_cpu_us_per_call"] and b["csms_cpu_us_per_call"]
        else None,
        "note": "ours / baseline; the baseline persists nothing and validates with jsonschema",
    }
    ours["vs_baseline"] = ratio


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _row(name: str, what: str, value: Any, target: str = "", met: str = "") -> str:
    return f"{name:<10} {what[:52]:<52} {_fmt(value):>12} {target:>12}  {met}".rstrip()


def table(report: dict[str, Any]) -> str:
    """One line per target of SPEC section 9, plus the headline figures of each scenario."""
    m = report["machine"]
    lines = [
        f"Machine: {m['cores']} cores, {m['cpu_model']}, Python {m['python']}, "
        f"PostgreSQL {m['postgresql']}, Redis {m['redis']}, commit {str(m['git_commit'])[:10]}"
        + (" (dirty)" if m.get("git_dirty") else ""),
        f"Mode: {report['mode']}",
        "",
        f"{'scenario':<10} {'figure':<52} {'value':>12} {'target':>12}  met",
        "-" * 96,
    ]
    for name, section in report["scenarios"].items():
        if section.get("status") != "ok":
            reason = section.get("reason", section.get("error", ""))
            lines.append(f"{name:<10} {section.get('status')}: {reason}"[:200])
            continue
        rows: list[tuple[str, Any, str, str]] = []
        f = section["figures"]
        if name in ("ingest", "baseline"):
            rows.append(("calls/s in the window (shared 2-core box)", f["calls_per_s"], "", ""))
            rows.append(("server CPU % of one core", f["csms_cpu_percent"], "", ""))
            if name == "baseline":
                rows.append(("server CPU per call (us)", f["csms_cpu_us_per_call"], "", ""))
                rows.append(
                    ("latency p99, worst 5 s window (ms)", f["latency_p99_ms_steady_state"], "", "")
                )
            ratio = section.get("vs_baseline")
            if ratio:
                rows.append(("calls/s vs baseline (ratio)", ratio["calls_per_s_ratio"], "", ""))
                rows.append(
                    ("CPU per call vs baseline (ratio)", ratio["cpu_per_call_ratio"], "", "")
                )
        for t in section.get("targets", []):
            met = {True: "yes", False: "NO", None: "-"}[t["met"]]
            rows.append((t["what"], t["value"], t["target"], met))
        for i, (what, value, target, met) in enumerate(rows):
            lines.append(_row(name if i == 0 else "", what, value, target, met))
    return "\n".join(lines)
