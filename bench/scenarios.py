"""The scenarios of SPEC section 9 and the baseline, each returning one section of the report.

Every scenario registers its own fleet (its own identity prefix) in the run's database, starts
a fresh central system on free ports, drives it with the simulator and measures the central
system's process from ``/proc``. A scenario that cannot run says why (``status``) instead of
failing the whole benchmark.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench import profile
from bench.database import Fleet, count, plain_dsn, register
from bench.load import SimRun, Simulator, api_token, fixed_rate, percentile
from bench.system import Service, Usage, between, free_port

#: Round trips below this many microseconds of CSMS CPU per call meet "10,000 calls/s on a core".
CPU_PER_CALL_TARGET_US = 100.0


@dataclass(frozen=True, slots=True)
class Sizes:
    """Counts and durations of a run (full = SPEC figures, quick = a smoke-sized run)."""

    ingest_chargers: int
    ingest_s: float
    baseline_s: float
    api_s: float
    api_rate: float
    command_rounds: int
    storm_chargers: int
    capacity_chargers: int
    capacity_idle_s: float
    sim_processes: int

    @classmethod
    def full(cls, sim_processes: int) -> Sizes:
        """SPEC section 9 as written."""
        return cls(200, 60.0, 30.0, 30.0, 500.0, 1000, 10_000, 20_000, 30.0, sim_processes)

    @classmethod
    def quick(cls, sim_processes: int) -> Sizes:
        """Same scenarios, reduced so the whole run stays under two minutes."""
        return cls(200, 8.0, 6.0, 8.0, 500.0, 100, 1_000, 1_000, 5.0, sim_processes)


@dataclass(frozen=True, slots=True)
class Context:
    """What every scenario needs."""

    database_url: str
    redis_url: str
    log_dir: Path
    sizes: Sizes
    quick: bool
    py_spy: str | None = None
    open_files: int = 1 << 20


def progress(message: str) -> None:
    """A progress line (stdout, flushed: the run takes minutes)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _target(what: str, target: str, value: Any, met: bool | None) -> dict[str, Any]:
    return {"what": what, "target": target, "value": value, "met": met}


def _system_env(ctx: Context, extra: dict[str, str]) -> dict[str, str]:
    env = {
        "DATABASE_URL": ctx.database_url,
        "REDIS_URL": ctx.redis_url,
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "console",
        "CSMS_HOST": "127.0.0.1",
        "API_HOST": "127.0.0.1",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


async def _start_csms(ctx: Context, name: str, **extra: str) -> tuple[Service, int]:
    port = free_port()
    csms = Service(
        name, ["-m", "csms"], _system_env(ctx, {"CSMS_PORT": str(port), **extra}), ctx.log_dir
    )
    await csms.wait_http(f"http://127.0.0.1:{port}/ready")
    return csms, port


def _ws_url(port: int) -> str:
    return f"ws://127.0.0.1:{port}/ocpp"


async def _wait_until(
    check: Callable[[], Awaitable[bool]], timeout: float, every: float = 0.25
) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(every)
    return False


async def _booted(database_url: str, fleet: Fleet) -> int:
    import asyncpg

    conn = await asyncpg.connect(plain_dsn(database_url))
    try:
        pattern = fleet.prefix + "%"
        value = await conn.fetchval(
            "SELECT count(*) FROM station WHERE charge_point_id LIKE $1 AND online"
            " AND vendor IS NOT NULL",
            pattern,
        )
        return int(value)
    finally:
        await conn.close()


async def _calls_served(url: str) -> int:
    """CALLs the server answered so far: csms ``/metrics`` or the baseline's ``/calls``."""
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        text = await resp.text()
    if url.endswith("/calls"):
        return int(text.strip())
    return int(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("ocpp_messages_total{")
        )
    )


@dataclass(slots=True)
class IngestRun:
    """A steady-state window of the ingest loop and the simulator's summary of the whole run."""

    summary: dict[str, Any]
    before: Usage
    after: Usage
    calls: int
    worst_window_p99_ms: float | None


async def _drive_ingest(
    ctx: Context,
    server: Service,
    port: int,
    calls_url: str,
    fleet: Fleet,
    name: str,
    window_s: float,
) -> IngestRun:
    """Run the loop; measure from when every charger cycles until ``window_s`` later.

    Connects and boots are left out of the window (they are the storm scenario's business):
    CPU per call and calls/s are those of the transaction mix alone.
    """
    sim = await Simulator.start(
        SimRun(
            url=_ws_url(port),
            count=fleet.count,
            scenario="ingest",
            duration=window_s + 600,
            prefix=fleet.prefix,
            connectors=fleet.connectors,
            tags=fleet.tags,
            processes=ctx.sizes.sim_processes,
        ),
        ctx.log_dir,
        name,
    )
    try:

        async def cycling() -> bool:
            return await _calls_served(calls_url) >= 4 * fleet.count

        if not await _wait_until(cycling, timeout=120, every=0.2):
            raise RuntimeError(f"{name}: the chargers never got to cycle")
        await asyncio.sleep(1.0)
        before, calls_before = server.usage(), await _calls_served(calls_url)
        sampler = None
        if ctx.py_spy and name == "sim-ingest":
            out = ctx.log_dir / "csms-ingest.folded"
            sampler = await profile.record(ctx.py_spy, server.pid, window_s - 1, out)
        await asyncio.sleep(window_s)
        after, calls_after = server.usage(), await _calls_served(calls_url)
        if sampler is not None:
            await sampler
        worst = sim.worst_p99_ms(before.at + 4.5, after.at + 0.5)
    finally:
        await sim.stop()
    summary = await sim.result(timeout=120)
    return IngestRun(summary, before, after, calls_after - calls_before, worst)


def _ingest_figures(run: IngestRun) -> dict[str, Any]:
    window = between(run.before, run.after)
    summary = run.summary
    cpu_us = 1e6 * window.cpu_s / run.calls if run.calls else None
    return {
        "chargers": summary["chargers"],
        "window_s": round(window.seconds, 2),
        "calls_in_window": run.calls,
        "calls_per_s": round(run.calls / window.seconds, 1) if window.seconds else 0.0,
        "csms_cpu_s": round(window.cpu_s, 3),
        "csms_cpu_percent": round(window.cpu_percent, 1),
        "csms_cpu_us_per_call": round(cpu_us, 1) if cpu_us is not None else None,
        "calls_per_s_one_core": round(1e6 / cpu_us) if cpu_us else None,
        "csms_rss_mib": round(run.after.rss_kib / 1024, 1),
        "latency_p99_ms_steady_state": run.worst_window_p99_ms,
        "whole_run": {
            "duration_s": summary["duration_s"],
            "calls_total": summary["calls_total"],
            "calls_by_action": summary["calls_by_action"],
            "latency_ms": summary["latency_ms"],
            "latency_by_action_ms": summary["latency_by_action_ms"],
            "errors_total": summary["errors_total"],
            "errors_by_kind": summary["errors_by_kind"],
        },
    }


# --- ingest -----------------------------------------------------------------------------------


async def ingest(ctx: Context) -> dict[str, Any]:
    """200 chargers in a closed loop of the transaction mix; everything persisted and counted."""
    sizes = ctx.sizes
    fleet = Fleet("ING-", sizes.ingest_chargers, 2, sizes.ingest_chargers)
    await register(ctx.database_url, fleet)
    csms, port = await _start_csms(ctx, "csms-ingest")
    try:
        progress(f"ingest: {fleet.count} chargers, closed loop, {sizes.ingest_s:.0f} s window")
        run = await _drive_ingest(
            ctx,
            csms,
            port,
            f"http://127.0.0.1:{port}/metrics",
            fleet,
            "sim-ingest",
            sizes.ingest_s,
        )
    finally:
        await csms.stop()
    summary = run.summary
    stored = await count(ctx.database_url, fleet)
    figures = _ingest_figures(run)
    sent_samples = int(summary["samples_sent"])
    figures["persisted"] = {
        "transactions_started_acknowledged": summary["transactions_started"],
        "transactions_in_database": stored.transactions,
        "transactions_stopped_acknowledged": summary["transactions_stopped"],
        "transactions_stopped_in_database": stored.transactions_stopped,
        "samples_acknowledged": sent_samples,
        "meter_value_rows_in_database": stored.meter_values,
        "lost": max(0, summary["transactions_started"] - stored.transactions)
        + max(0, summary["transactions_stopped"] - stored.transactions_stopped)
        + max(0, sent_samples - stored.meter_values),
    }
    folded = ctx.log_dir / "csms-ingest.folded"
    if ctx.py_spy and folded.exists():
        figures["profile"] = profile.summarise(folded)
    cpu_us = figures["csms_cpu_us_per_call"]
    p99 = figures["latency_p99_ms_steady_state"]
    lost = figures["persisted"]["lost"]
    errors = int(summary["errors_total"])
    return {
        "status": "ok",
        "figures": figures,
        "targets": [
            _target(
                "CSMS CPU per call (>= 10,000 calls/s on one core)",
                f"<= {CPU_PER_CALL_TARGET_US:.0f} us",
                cpu_us,
                cpu_us is not None and cpu_us <= CPU_PER_CALL_TARGET_US,
            ),
            _target(
                "call latency p99 (worst 5 s window)",
                "< 50 ms",
                p99,
                p99 is not None and p99 < 50.0,
            ),
            _target("acknowledged data lost", "0", lost, lost == 0),
            _target("errors", "0", errors, errors == 0),
        ],
    }


async def baseline(ctx: Context) -> dict[str, Any]:
    """The same ingest load against the ``ocpp`` library's ChargePoint persisting nothing."""
    sizes = ctx.sizes
    fleet = Fleet("BASE-", sizes.ingest_chargers, 2, sizes.ingest_chargers)
    port = free_port()
    server = Service("baseline", ["-m", "bench.baseline", "--port", str(port)], {}, ctx.log_dir)
    try:
        await server.wait_http(f"http://127.0.0.1:{port}/health")
        progress(f"baseline: ocpp ChargePoint, {fleet.count} chargers, {sizes.baseline_s:.0f} s")
        run = await _drive_ingest(
            ctx,
            server,
            port,
            f"http://127.0.0.1:{port}/calls",
            fleet,
            "sim-baseline",
            sizes.baseline_s,
        )
    finally:
        await server.stop()
    return {"status": "ok", "figures": _ingest_figures(run), "targets": []}


# --- capacity ---------------------------------------------------------------------------------


async def capacity(ctx: Context) -> dict[str, Any]:
    """N chargers connected, booted and heartbeating: memory per connection, idle CPU."""
    sizes = ctx.sizes
    # One socket per charger in the csms: the open-file limit caps the fleet one process holds.
    chargers = min(sizes.capacity_chargers, ctx.open_files - 1024)
    fleet = Fleet("CAP-", chargers, 1, 1)
    progress(f"capacity: registering {fleet.count} stations")
    await register(ctx.database_url, fleet)
    csms, port = await _start_csms(ctx, "csms-capacity")
    try:
        await asyncio.sleep(1.0)
        empty = csms.usage()
        ramp = max(1.0, fleet.count / 1000)
        progress(f"capacity: connecting {fleet.count} chargers over {ramp:.0f} s")
        started = time.monotonic()
        sim = await Simulator.start(
            SimRun(
                url=_ws_url(port),
                count=fleet.count,
                scenario="idle",
                duration=3600,
                prefix=fleet.prefix,
                connectors=1,
                tags=1,
                processes=ctx.sizes.sim_processes,
                ramp=ramp,
            ),
            ctx.log_dir,
            "sim-capacity",
        )
        all_booted = await _wait_until(
            lambda: _booted_all(ctx.database_url, fleet), timeout=ramp + 120, every=1.0
        )
        boot_s = time.monotonic() - started
        await asyncio.sleep(2.0)  # let the last boots' buffers settle before measuring
        loaded = csms.usage()
        holding = await _booted(ctx.database_url, fleet)
        progress(f"capacity: all booted={all_booted} after {boot_s:.1f} s; idle window")
        await asyncio.sleep(sizes.capacity_idle_s)
        idle = csms.usage()
        await sim.stop()
        summary = await sim.result(timeout=120)
    finally:
        await csms.stop()
    booted = int(summary["booted"])
    per_conn_kib = (loaded.rss_kib - empty.rss_kib) / max(1, holding)
    idle_window = between(loaded, idle)
    return {
        "status": "ok",
        "figures": {
            "chargers": fleet.count,
            "chargers_wanted": sizes.capacity_chargers,
            "open_files_limit": ctx.open_files,
            "booted": booted,
            "booted_when_measured": holding,
            "all_booted": all_booted,
            "all_booted_after_s": round(boot_s, 1),
            "ramp_s": ramp,
            "heartbeat_interval_s": 300,
            "csms_rss_empty_mib": round(empty.rss_kib / 1024, 1),
            "csms_rss_loaded_mib": round(loaded.rss_kib / 1024, 1),
            "kib_per_connection": round(per_conn_kib, 2),
            "idle_window_s": round(idle_window.seconds, 1),
            "idle_cpu_percent": round(idle_window.cpu_percent, 2),
            "errors_total": summary["errors_total"],
            "errors_by_kind": summary["errors_by_kind"],
        },
        "targets": [
            _target(
                "connected and booted",
                f"{sizes.capacity_chargers}",
                booted,
                booted >= sizes.capacity_chargers,
            ),
            _target(
                "CSMS memory per connection",
                "<= 20 KiB",
                round(per_conn_kib, 2),
                per_conn_kib <= 20.0,
            ),
            _target(
                "idle CPU",
                "< 5 %",
                round(idle_window.cpu_percent, 2),
                idle_window.cpu_percent < 5.0,
            ),
        ],
    }


async def _booted_all(database_url: str, fleet: Fleet) -> bool:
    return await _booted(database_url, fleet) >= fleet.count


# --- storm ------------------------------------------------------------------------------------


async def storm(ctx: Context) -> dict[str, Any]:
    """N chargers connect and boot at once, as after a restart of the central system."""
    sizes = ctx.sizes
    fleet = Fleet("STM-", sizes.storm_chargers, 1, 1)
    await register(ctx.database_url, fleet)
    csms, port = await _start_csms(ctx, "csms-storm")
    try:
        progress(f"storm: {fleet.count} chargers connect and boot at once")
        before = csms.usage()
        started = time.monotonic()
        sim = await Simulator.start(
            SimRun(
                url=_ws_url(port),
                count=fleet.count,
                scenario="storm",
                duration=3600,
                prefix=fleet.prefix,
                connectors=1,
                tags=1,
                processes=ctx.sizes.sim_processes,
            ),
            ctx.log_dir,
            "sim-storm",
        )
        all_booted = await _wait_until(
            lambda: _booted_all(ctx.database_url, fleet), timeout=120, every=0.25
        )
        booted_s = time.monotonic() - started
        after = csms.usage()
        await sim.stop()
        summary = await sim.result(timeout=120)
    finally:
        await csms.stop()
    sim_s = summary.get("all_booted_after_s")
    errors = int(summary["errors_total"])
    window = between(before, after)
    return {
        "status": "ok",
        "figures": {
            "chargers": fleet.count,
            "all_booted": all_booted,
            "all_booted_after_s_simulator": sim_s,
            "all_booted_in_database_after_s": round(booted_s, 2),
            "connects_total": summary["connects_total"],
            "boots_total": summary["boots_total"],
            "boot_latency_ms": summary["latency_by_action_ms"].get("BootNotification"),
            "errors_total": errors,
            "errors_by_kind": summary["errors_by_kind"],
            "refusals_by_kind": summary["refusals_by_kind"],
            "csms_cpu_s": round(window.cpu_s, 2),
            "csms_rss_mib": round(after.rss_kib / 1024, 1),
        },
        "targets": [
            _target(
                "all accepted within",
                "10 s",
                sim_s,
                bool(all_booted and sim_s is not None and sim_s <= 10.0),
            ),
            _target("errors", "0", errors, errors == 0),
        ],
    }


# --- api --------------------------------------------------------------------------------------


async def _start_api(ctx: Context, module: str, name: str, **extra: str) -> tuple[Service, str]:
    port = free_port()
    secret = secrets.token_urlsafe(16)
    settings = {
        "API_PORT": str(port),
        "ADMIN_CLIENT_ID": "bench-admin",
        "ADMIN_CLIENT_SECRET": secret,
        "TOKEN_TTL_SECONDS": "3600",
        "RATE_LIMIT_PER_SECOND": "100000",
        "RATE_LIMIT_BURST": "100000",
    }
    env = _system_env(ctx, {**settings, **extra})
    api = Service(name, ["-m", module], env, ctx.log_dir)
    base = f"http://127.0.0.1:{port}"
    await api.wait_http(f"{base}/ready")
    async with aiohttp.ClientSession() as http:
        token = await api_token(http, base, "bench-admin", secret)
    return api, f"{base}|{token}"


async def api(ctx: Context) -> dict[str, Any]:
    """Station list with filters and single stations at a fixed rate while ingest runs."""
    sizes = ctx.sizes
    fleet = Fleet("API-", sizes.ingest_chargers, 2, sizes.ingest_chargers)
    station_ids = await register(ctx.database_url, fleet)
    csms, port = await _start_csms(ctx, "csms-api")
    try:
        api_proc, base_token = await _start_api(ctx, "management_api", "api")
    except BaseException:
        await csms.stop()
        raise
    base, token = base_token.split("|", 1)
    paths = [
        "/api/v1/stations?online=true&current_type=AC&limit=50",
        f"/api/v1/stations/{station_ids[0]}",
        f"/api/v1/stations?q={fleet.prefix}001&limit=20&sort=-name",
        f"/api/v1/stations/{station_ids[len(station_ids) // 2]}",
    ]
    try:
        progress(
            f"api: {sizes.api_rate:.0f} req/s for {sizes.api_s:.0f} s while"
            f" {fleet.count} chargers run the ingest loop"
        )
        sim = await Simulator.start(
            SimRun(
                url=_ws_url(port),
                count=fleet.count,
                scenario="ingest",
                duration=sizes.api_s + 600,
                prefix=fleet.prefix,
                connectors=fleet.connectors,
                tags=fleet.tags,
                processes=sizes.sim_processes,
            ),
            ctx.log_dir,
            "sim-api",
        )
        metrics_url = f"http://127.0.0.1:{port}/metrics"

        async def cycling() -> bool:
            return await _calls_served(metrics_url) >= 4 * fleet.count

        await _wait_until(cycling, timeout=120, every=0.2)
        csms_before, api_before = csms.usage(), api_proc.usage()
        result = await fixed_rate(
            api=base, token=token, paths=paths, rate=sizes.api_rate, duration=sizes.api_s
        )
        csms_after, api_after = csms.usage(), api_proc.usage()
        await sim.stop()
        summary = await sim.result(timeout=120)
    finally:
        await api_proc.stop()
        await csms.stop()
    lat = result.latencies_ms
    p99 = percentile(lat, 99)
    achieved = result.sent / result.seconds if result.seconds else 0.0
    answered = len(lat) / result.total_seconds if result.total_seconds else 0.0
    errors = sum(result.errors.values())
    return {
        "status": "ok",
        "figures": {
            "rate_target_per_s": sizes.api_rate,
            "requests_sent": result.sent,
            "requests_ok": result.ok,
            "achieved_rate_per_s": round(achieved, 1),
            "answered_per_s": round(answered, 1),
            "late_starts": result.late_starts,
            "errors": result.errors,
            "latency_ms": {
                "p50": round(percentile(lat, 50), 2),
                "p90": round(percentile(lat, 90), 2),
                "p99": round(p99, 2),
                "max": round(max(lat), 2) if lat else 0.0,
            },
            "paths": paths,
            "api_cpu_percent": round(between(api_before, api_after).cpu_percent, 1),
            "csms_cpu_percent": round(between(csms_before, csms_after).cpu_percent, 1),
            "ingest_calls_per_s_meanwhile": summary["calls_per_s"],
            "ingest_latency_ms_meanwhile": summary["latency_ms"],
        },
        "targets": [
            _target("REST read latency p99 at 500 req/s", "< 25 ms", round(p99, 2), p99 < 25.0),
            _target("errors", "0", errors, errors == 0),
        ],
    }


# --- command ----------------------------------------------------------------------------------

#: The route as the OpenAPI document names it (one path per action).
_COMMAND_PATH = "/stations/{station_id}/commands/remote-start"


async def _command_route(http: aiohttp.ClientSession, base: str) -> bool:
    async with http.get(f"{base}/api/v1/openapi.json") as resp:
        if resp.status != 200:
            return False
        doc = await resp.json()
    return any(path.endswith(_COMMAND_PATH) for path in doc.get("paths", {}))


async def command(ctx: Context) -> dict[str, Any]:
    """Remote start round trips REST -> charger -> REST against connected simulated chargers.

    The launcher (csms and API in one process) is used, so the round trip does not depend on
    how commands are routed between nodes.
    """
    sizes = ctx.sizes
    rounds = sizes.command_rounds
    fleet = Fleet("CMD-", max(1, rounds // 2), 2, 1)
    station_ids = await register(ctx.database_url, fleet)
    port = free_port()
    system, base_token = await _start_api(ctx, "launcher", "launcher-command", CSMS_PORT=str(port))
    base, token = base_token.split("|", 1)
    headers = {"Authorization": f"Bearer {token}"}
    sim: Simulator | None = None
    try:
        async with aiohttp.ClientSession(headers=headers) as http:
            if not await _command_route(http, base):
                return {
                    "status": "unavailable",
                    "reason": "POST /api/v1/stations/{id}/commands/remote-start is not served"
                    " by this build (not in its OpenAPI document)",
                    "figures": {},
                    "targets": [_target("remote start round trip p99", "< 50 ms", None, None)],
                }
            sim = await Simulator.start(
                SimRun(
                    url=_ws_url(port),
                    count=fleet.count,
                    scenario="idle",
                    duration=3600,
                    prefix=fleet.prefix,
                    connectors=2,
                    tags=1,
                    processes=1,
                    ramp=max(1.0, fleet.count / 1000),
                ),
                ctx.log_dir,
                "sim-command",
            )
            if not await _wait_until(
                lambda: _booted_all(ctx.database_url, fleet), timeout=60, every=0.25
            ):
                raise RuntimeError("command: the chargers did not all boot")
            progress(f"command: {rounds} remote starts on {fleet.count} chargers")
            jobs = [(station_ids[i // 2], i % 2 + 1) for i in range(min(rounds, 2 * fleet.count))]
            latencies: list[float] = []
            outcomes: dict[str, int] = {}
            queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
            for job in jobs:
                queue.put_nowait(job)

            async def worker() -> None:
                while not queue.empty():
                    station_id, connector = queue.get_nowait()
                    body = {"id_tag": fleet.id_tag(1), "connector_number": connector}
                    started = time.perf_counter()
                    async with http.post(
                        f"{base}/api/v1/stations/{station_id}/commands/remote-start?wait=10",
                        json=body,
                    ) as resp:
                        doc = await resp.json(content_type=None)
                        elapsed = (time.perf_counter() - started) * 1000
                    key = f"{resp.status}:{doc.get('status') if isinstance(doc, dict) else ''}"
                    outcomes[key] = outcomes.get(key, 0) + 1
                    if resp.status == 200:
                        latencies.append(elapsed)

            await asyncio.gather(*(worker() for _ in range(4)))
    finally:
        if sim is not None:
            await sim.stop()
            await sim.result(timeout=60)
        await system.stop()
    p99 = percentile(latencies, 99)
    answered = len(latencies)
    return {
        "status": "ok",
        "figures": {
            "round_trips": len(jobs),
            "answered_200": answered,
            "concurrency": 4,
            "outcomes": outcomes,
            "latency_ms": {
                "p50": round(percentile(latencies, 50), 2),
                "p90": round(percentile(latencies, 90), 2),
                "p99": round(p99, 2),
                "max": round(max(latencies), 2) if latencies else 0.0,
            },
        },
        "targets": [
            _target(
                "remote start round trip p99",
                "< 50 ms",
                round(p99, 2),
                answered == len(jobs) and p99 < 50.0,
            )
        ],
    }


SCENARIOS: dict[str, Callable[[Context], Awaitable[dict[str, Any]]]] = {
    "baseline": baseline,
    "ingest": ingest,
    "api": api,
    "command": command,
    "storm": storm,
    "capacity": capacity,
}
