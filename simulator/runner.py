"""Runs the fleet: N chargers on one event loop, or spread over worker processes.

The composition root of the simulator: it registers (optionally), builds the chargers, spreads
their connects over the ramp, shows progress, stops on Ctrl-C / SIGTERM / --duration and turns
the counters into the summary. With ``--processes P`` each worker process runs a
:class:`Fleet` of every P-th charger (so ramps interleave) and streams snapshots and log lines
to the parent, which merges them; the parent alone owns the terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import random
import signal
import time
from collections.abc import Callable, Coroutine, Sequence
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

from simulator.charger import Charger
from simulator.logs import Console, get_logger, setup_logging
from simulator.model import Adapter
from simulator.options import DEFAULT_POWER_KW, ChargerSpec, Options, build_specs
from simulator.register import Progress, RegistrationError, register
from simulator.report import progress_line, summary_text, window_fields
from simulator.scenarios import make_scenario
from simulator.stats import Snapshot, Stats, summary
from simulator.v16 import V16Adapter
from simulator.v201 import V201Adapter

log = get_logger("simulator")

#: How long chargers get to close their websockets when the run ends.
SHUTDOWN_S = 10.0
#: How often a worker sends its counters to the parent.
WORKER_REPORT_S = 0.5
#: How often the live line on a terminal is redrawn.
LIVE_REFRESH_S = 1.0


def make_adapters() -> dict[str, Adapter]:
    """One stateless adapter per OCPP version, shared by every charger of the process."""
    return {"ocpp1.6": V16Adapter(), "ocpp2.0.1": V201Adapter()}


class Fleet:
    """The chargers of one process on one event loop."""

    def __init__(
        self,
        options: Options,
        specs: Sequence[ChargerSpec],
        stats: Stats,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.options = options
        self.stats = stats
        scenario = make_scenario(options.scenario, session_s=options.session, pause_s=options.pause)
        adapters = make_adapters()
        # One generator for the whole process: per-charger ones would cost 2.5 KB each.
        shared_rng = rng or random.Random(options.seed)
        self.chargers = [
            Charger(
                spec,
                options=options,
                adapter=adapters[spec.protocol],
                stats=stats,
                scenario=scenario,
                rng=shared_rng,
            )
            for spec in specs
        ]

    async def run(self, stop: asyncio.Event) -> None:
        """Start every charger at its point of the ramp; on ``stop`` close them all."""
        ramp = self.options.ramp_seconds
        count = max(self.options.count, 1)
        tasks = [
            asyncio.create_task(self._start(charger, ramp * charger.index / count))
            for charger in self.chargers
        ]
        try:
            await stop.wait()
        finally:
            self.stats.freeze_gauges()
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=SHUTDOWN_S)

    async def _start(self, charger: Charger, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            await charger.run()
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug in one charger must not end the run of the others
            log.exception("charger_failed", charge_point_id=charger.spec.charge_point_id)


# worker processes ------------------------------------------------------------------------------


def _worker_main(options: Options, specs: list[ChargerSpec], conn: Connection, worker: int) -> None:
    """Entry point of a worker process (spawned: a fresh interpreter, nothing inherited)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when the run ends

    def send_line(line: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            conn.send(("log", line))

    setup_logging(send_line, options.log_level)
    run_event_loop(_worker(options, specs, conn, worker))


async def _worker(
    options: Options, specs: list[ChargerSpec], conn: Connection, worker: int
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def on_parent_message() -> None:
        try:
            while conn.poll():
                if conn.recv() == "stop":
                    stop.set()
        except (EOFError, OSError):  # the parent is gone: stop too
            loop.remove_reader(conn.fileno())
            stop.set()

    loop.add_reader(conn.fileno(), on_parent_message)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    stats = Stats()
    fleet = Fleet(
        options,
        specs,
        stats,
        rng=random.Random(None if options.seed is None else options.seed + worker),
    )

    async def report() -> None:
        while True:
            await asyncio.sleep(WORKER_REPORT_S)
            conn.send(("snapshot", stats.snapshot()))

    reporter = asyncio.create_task(report())
    try:
        await fleet.run(stop)
    finally:
        reporter.cancel()
        loop.remove_reader(conn.fileno())
        with contextlib.suppress(OSError, ValueError):
            conn.send(("final", stats.snapshot()))


class WorkerPool:
    """Worker processes, each driving every P-th charger, and their merged counters."""

    def __init__(self, options: Options, specs: Sequence[ChargerSpec], console: Console) -> None:
        self._console = console
        context = multiprocessing.get_context("spawn")
        count = options.processes
        self._conns: list[Connection] = []
        self._procs: list[Any] = []
        self._latest: dict[int, Snapshot] = {}
        self._final: set[int] = set()
        self._all_final = asyncio.Event()
        for worker in range(count):
            parent_end, child_end = context.Pipe(duplex=True)
            proc = context.Process(
                target=_worker_main,
                args=(options, list(specs[worker::count]), child_end, worker),
                name=f"simulator-worker-{worker}",
                daemon=True,
            )
            proc.start()
            child_end.close()
            self._conns.append(parent_end)
            self._procs.append(proc)
            self._latest[worker] = Snapshot()

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Read the workers' messages as they arrive."""
        for worker, conn in enumerate(self._conns):
            loop.add_reader(conn.fileno(), partial(self._drain, loop, worker))

    def _drain(self, loop: asyncio.AbstractEventLoop, worker: int) -> None:
        conn = self._conns[worker]
        try:
            while conn.poll():
                kind, data = conn.recv()
                if kind == "log":
                    self._console.line(data)
                elif kind == "snapshot":
                    self._latest[worker] = data
                elif kind == "final":
                    self._latest[worker] = data
                    self._finished(worker)
        except (EOFError, OSError):
            loop.remove_reader(conn.fileno())
            self._finished(worker)  # dead or done: its last snapshot is all there will be

    def _finished(self, worker: int) -> None:
        self._final.add(worker)
        if len(self._final) == len(self._conns):
            self._all_final.set()

    def snapshot(self) -> Snapshot:
        """The sum of the workers' latest counters."""
        return Snapshot.merge(self._latest.values())

    async def run(self, stop: asyncio.Event) -> None:
        """Wait for ``stop``, tell every worker, wait for their final counters."""
        await stop.wait()
        for conn in self._conns:
            with contextlib.suppress(OSError, ValueError):
                conn.send("stop")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SHUTDOWN_S + 5):
                await self._all_final.wait()

    def close(self, loop: asyncio.AbstractEventLoop) -> None:
        """Reap the worker processes."""
        for conn in self._conns:
            with contextlib.suppress(OSError, ValueError):
                loop.remove_reader(conn.fileno())
            conn.close()
        for proc in self._procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)


# the whole run ---------------------------------------------------------------------------------


def run_event_loop(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` on uvloop when available (it is a dependency except on Windows)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)
    return uvloop.run(coro)


async def _show_progress(
    done: asyncio.Future[Any],
    snapshot: Callable[[], Snapshot],
    console: Console,
    options: Options,
    chargers: int,
) -> None:
    """Redraw the live line every second on a terminal; a log line every interval otherwise."""
    loop = asyncio.get_running_loop()
    previous, previous_at = snapshot(), loop.time()
    every = LIVE_REFRESH_S if console.live else options.report_interval
    while not done.done():
        await asyncio.wait([done], timeout=every)
        if done.done():
            return
        now, current = loop.time(), snapshot()
        fields = window_fields(current, previous, now - previous_at, chargers)
        if console.live:
            console.status(progress_line(fields))
        else:
            log.info("progress", **fields)
        previous, previous_at = current, now


async def _register_with_progress(
    options: Options, specs: Sequence[ChargerSpec], console: Console, stop: asyncio.Event
) -> float | None:
    """Register; returns the per-connector power of the chosen type, None when interrupted."""
    progress = Progress()
    task = asyncio.create_task(register(options, specs, progress))
    stopper = asyncio.create_task(stop.wait())
    every = LIVE_REFRESH_S if console.live else options.report_interval
    try:
        while not task.done():
            await asyncio.wait([task, stopper], timeout=every, return_when=asyncio.FIRST_COMPLETED)
            if stop.is_set() and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                return None
            line = (
                f"registering: stations {progress.stations_done}/{progress.stations_total}, "
                f"id tags {progress.tags_done}/{progress.tags_total}"
            )
            if console.live:
                console.status(line)
            elif not task.done():
                log.info(
                    "registering",
                    stations=f"{progress.stations_done}/{progress.stations_total}",
                    id_tags=f"{progress.tags_done}/{progress.tags_total}",
                )
    finally:
        stopper.cancel()
        console.clear_status()
    return task.result().power_per_connector_w


async def run(options: Options, console: Console) -> int:
    """The whole run; returns the process exit code."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    power_w = options.power_kw * 1000.0 if options.power_kw is not None else None
    specs = build_specs(options, power_w or DEFAULT_POWER_KW * 1000.0)
    if options.register:
        try:
            registered_power = await _register_with_progress(options, specs, console, stop)
        except RegistrationError as exc:
            log.error("registration_failed", reason=str(exc))
            return 1
        if registered_power is None:
            log.info("stopped_during_registration")
            return 0
        if power_w is None and registered_power > 0:
            specs = build_specs(options, registered_power)

    log.info(
        "starting",
        chargers=options.count,
        protocol=options.protocol,
        scenario=options.scenario,
        url=options.url,
        processes=options.processes,
        ramp_s=round(options.ramp_seconds, 2),
        duration_s=options.duration or "forever",
    )
    started_at, started = time.time(), loop.time()
    if options.duration is not None:
        loop.call_later(options.duration, stop.set)
    stopped_at: list[float] = []

    async def note_stop() -> None:
        await stop.wait()
        stopped_at.append(loop.time())

    stop_watch = asyncio.create_task(note_stop())
    pool: WorkerPool | None = None
    if options.processes <= 1:
        stats = Stats()
        done: asyncio.Task[None] = asyncio.create_task(Fleet(options, specs, stats).run(stop))
        snapshot: Callable[[], Snapshot] = stats.snapshot
    else:
        pool = WorkerPool(options, specs, console)
        pool.attach(loop)
        done = asyncio.create_task(pool.run(stop))
        snapshot = pool.snapshot
    try:
        await _show_progress(done, snapshot, console, options, len(specs))
        await done
    finally:
        if pool is not None:
            pool.close(loop)
        stop_watch.cancel()
    duration = (stopped_at[0] if stopped_at else loop.time()) - started
    result = summary(
        snapshot(),
        started_at=started_at,
        duration_s=duration,
        chargers=len(specs),
        protocol=options.protocol,
        scenario=options.scenario,
        processes=options.processes,
    )
    console.clear_status()
    log.info(
        "finished",
        calls_total=result["calls_total"],
        calls_per_s=result["calls_per_s"],
        errors_total=result["errors_total"],
    )
    console.line(summary_text(result))
    if options.json_path:
        write_json(Path(options.json_path), result)
        log.info("summary_written", path=options.json_path)
    return 0


def write_json(path: Path, result: dict[str, Any]) -> None:
    """The summary for the benchmark: indented, keys in a stable order."""
    path.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
