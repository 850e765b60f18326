"""Processes of a benchmark run: start them on free ports, watch their CPU and memory, stop them.

CPU time and RSS come from ``/proc/<pid>`` of the measured process itself (not of a wrapper),
so the figures are the central system's own and not the load generator's.
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raise_open_files(wanted: int) -> int:
    """Raise this process's open-file limit (children inherit it); return the soft limit.

    As root the hard limit can be raised too; otherwise the soft limit goes up to the hard one.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(hard, wanted)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@dataclass(frozen=True, slots=True)
class Usage:
    """CPU seconds (user + system) and resident memory of one process at one moment."""

    at: float
    cpu_s: float
    rss_kib: int


def usage(pid: int) -> Usage:
    """Read ``/proc/<pid>/stat`` (utime, stime) and ``/proc/<pid>/status`` (VmRSS)."""
    at = time.monotonic()
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name may hold spaces and parentheses: fields count from the last ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    rss_kib = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss_kib = int(line.split()[1])
            break
    return Usage(at, cpu_s, rss_kib)


@dataclass(frozen=True, slots=True)
class Window:
    """What a process used between two samples."""

    seconds: float
    cpu_s: float
    rss_before_kib: int
    rss_after_kib: int

    @property
    def cpu_percent(self) -> float:
        """Average CPU over the window, in percent of one core."""
        return 100.0 * self.cpu_s / self.seconds if self.seconds > 0 else 0.0


def between(before: Usage, after: Usage) -> Window:
    """The window from ``before`` to ``after``."""
    return Window(after.at - before.at, after.cpu_s - before.cpu_s, before.rss_kib, after.rss_kib)


class Service:
    """``python -m <module>`` (or any argv) with its own environment and a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        full_env = dict(os.environ)
        full_env.update(env)
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, *argv],
            cwd=ROOT,
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        """The measured process."""
        return self.proc.pid

    def usage(self) -> Usage:
        """CPU and RSS now."""
        return usage(self.pid)

    def tail(self, lines: int = 20) -> str:
        """The end of the log, for error messages."""
        self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    async def wait_http(self, url: str, timeout: float = 60.0) -> None:
        """Poll ``url`` until it answers 200."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited early:\n{self.tail()}")
                try:
                    async with http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                        if resp.status == 200:
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.name}: {url} not ready after {timeout} s:\n{self.tail()}")

    async def stop(self, timeout: float = 20.0) -> int | None:
        """SIGINT (a clean shutdown), then SIGKILL if it hangs; return the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.to_thread(self.proc.wait, timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                await asyncio.to_thread(self.proc.wait)
        self._log.close()
        return self.proc.returncode
