"""The load generators: the simulator's command line, and a fixed-rate REST client.

The simulator runs as its own process tree (``--processes``) and reports through its ``--json``
summary, the same document a person gets from ``python -m simulator --json``.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.system import ROOT


@dataclass(frozen=True, slots=True)
class SimRun:
    """One simulator invocation."""

    url: str
    count: int
    scenario: str
    duration: float
    prefix: str
    connectors: int = 2
    tags: int | None = None
    processes: int = 1
    ramp: float | None = None
    heartbeat: float | None = None
    protocol: str = "ocpp1.6"
    extra: tuple[str, ...] = field(default=())

    def argv(self, json_path: Path) -> list[str]:
        """The command line."""
        argv = [
            "-m",
            "simulator",
            "--url",
            self.url,
            "--count",
            str(self.count),
            "--protocol",
            self.protocol,
            "--scenario",
            self.scenario,
            "--duration",
            str(self.duration),
            "--id-prefix",
            self.prefix,
            "--connectors",
            str(self.connectors),
            "--processes",
            str(self.processes),
            "--json",
            str(json_path),
            "--report-interval",
            "5",
            "--log-level",
            "INFO",
            "--seed",
            "7",
        ]
        if self.tags is not None:
            argv += ["--tags", str(self.tags)]
        if self.ramp is not None:
            argv += ["--ramp", str(self.ramp)]
        if self.heartbeat is not None:
            argv += ["--heartbeat", str(self.heartbeat)]
        return [*argv, *self.extra]


class Simulator:
    """A running simulator; ``result()`` waits for it and returns its JSON summary."""

    def __init__(self, proc: asyncio.subprocess.Process, json_path: Path, log_path: Path) -> None:
        self._proc = proc
        self._json_path = json_path
        self._log_path = log_path
        #: (monotonic time, fields) of every progress line, for steady-state windows.
        self.windows: list[tuple[float, dict[str, float]]] = []
        self._pump = asyncio.create_task(self._forward())

    @classmethod
    async def start(cls, run: SimRun, log_dir: Path, name: str) -> Simulator:
        """Launch it; its progress lines are echoed, everything goes to ``<name>.log``."""
        json_path = log_dir / f"{name}.json"
        json_path.unlink(missing_ok=True)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *run.argv(json_path),
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        return cls(proc, json_path, log_dir / f"{name}.log")

    async def _forward(self) -> None:
        assert self._proc.stdout is not None
        with self._log_path.open("wb") as log:
            async for line in self._proc.stdout:
                log.write(line)
                text = line.decode(errors="replace").rstrip()
                if "progress" in text:
                    self.windows.append((time.monotonic(), _fields(text)))
                if "progress" in text or "ERROR" in text:
                    print(f"      sim | {_shorten(text)}", flush=True)

    def worst_p99_ms(self, start: float, end: float) -> float | None:
        """The highest windowed p99 among the progress lines printed within [start, end]."""
        values = [f["p99_ms"] for at, f in self.windows if start <= at <= end and "p99_ms" in f]
        return max(values) if values else None

    async def stop(self) -> None:
        """Ask it to finish early (SIGINT = Ctrl-C: it still writes its summary)."""
        if self._proc.returncode is None:
            self._proc.send_signal(2)

    async def result(self, timeout: float) -> dict[str, Any]:
        """Wait for the exit and read the summary."""
        try:
            await asyncio.wait_for(self._proc.wait(), timeout)
        except TimeoutError:
            self._proc.kill()
            await self._proc.wait()
        await self._pump
        if not self._json_path.exists():
            raise RuntimeError(
                f"simulator wrote no summary (exit {self._proc.returncode}), see {self._log_path}"
            )
        summary: dict[str, Any] = json.loads(self._json_path.read_text())
        return summary


def _fields(line: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for token in line.split():
        key, sep, value = token.partition("=")
        if sep:
            try:
                out[key] = float(value)
            except ValueError:
                continue
    return out


def _shorten(line: str) -> str:
    # The log prefix "[<time> [INFO] [simulator]]: " adds nothing to a progress echo.
    marker = "]]: "
    return line.split(marker, 1)[1] if marker in line else line


@dataclass(slots=True)
class ApiLoadResult:
    """What the fixed-rate client saw."""

    sent: int = 0
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    #: The sending window (first to last start): the rate the client achieved is sent / this.
    seconds: float = 0.0
    #: Sending window plus the drain after it: answers / this is the rate the server achieved.
    total_seconds: float = 0.0
    late_starts: int = 0


async def api_token(http: aiohttp.ClientSession, api: str, client_id: str, secret: str) -> str:
    """A bearer token for the bench's admin client."""
    async with http.post(
        f"{api}/api/v1/auth/token", json={"client_id": client_id, "client_secret": secret}
    ) as resp:
        body = await resp.json()
        if resp.status != 200:
            raise RuntimeError(f"token request failed: {resp.status} {body}")
        return str(body["access_token"])


async def fixed_rate(
    *,
    api: str,
    token: str,
    paths: list[str],
    rate: float,
    duration: float,
) -> ApiLoadResult:
    """Send GETs of ``paths`` (round robin) at ``rate`` per second, open loop, for ``duration``.

    Open loop: a request starts on schedule whether or not earlier ones finished, so a slow
    server shows up as latency instead of quietly lowering the rate.
    """
    result = ApiLoadResult()
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=256)
    tasks: set[asyncio.Task[None]] = set()

    async with aiohttp.ClientSession(connector=connector, headers=headers) as http:

        async def one(path: str) -> None:
            started = time.perf_counter()
            try:
                async with http.get(api + path) as resp:
                    await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                key = type(exc).__name__
                result.errors[key] = result.errors.get(key, 0) + 1
                return
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            if status == 200:
                result.ok += 1
            else:
                result.errors[str(status)] = result.errors.get(str(status), 0) + 1

        interval = 1.0 / rate
        begin = time.perf_counter()
        n = 0
        while True:
            due = begin + n * interval
            if due - begin >= duration:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -interval:
                result.late_starts += 1
            task = asyncio.create_task(one(paths[n % len(paths)]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
        result.sent = n
        result.seconds = time.perf_counter() - begin
        if tasks:
            # What has not come back 5 s after the last request is counted, not waited for.
            _, unfinished = await asyncio.wait(tasks, timeout=5)
            for task in unfinished:
                task.cancel()
            if unfinished:
                result.errors["unfinished"] = len(unfinished)
        result.total_seconds = time.perf_counter() - begin
    return result


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (0..100) of ``values``; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100.0 * len(ordered))))
    return ordered[rank - 1]
