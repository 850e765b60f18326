"""Sampling profiles of the central system under load (py-spy, when it is installed).

py-spy attaches to the running csms process from outside, so the profiled process runs the same
code as in a normal benchmark; ``--nonblocking`` keeps the sampling overhead off its CPU. The
collapsed stacks are summarised into the report: where the samples are, by function.
"""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from pathlib import Path
from typing import Any


def find_py_spy(explicit: str | None) -> str | None:
    """The py-spy executable: ``--profile PATH``, or on PATH (py-spy is not a dependency)."""
    if explicit and explicit != "auto":
        return explicit if Path(explicit).exists() else None
    return shutil.which("py-spy")


async def record(py_spy: str, pid: int, seconds: float, out: Path) -> asyncio.Task[int]:
    """Start sampling ``pid`` for ``seconds`` into collapsed stacks at ``out``."""
    proc = await asyncio.create_subprocess_exec(
        py_spy,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, int(seconds))),
        "--rate",
        "250",
        "--format",
        "raw",
        "--nonblocking",
        "--output",
        str(out),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return asyncio.create_task(proc.wait())


def _frame_name(frame: str) -> str:
    # py-spy raw frames: "function (path/to/module.py:123)"
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


def summarise(folded: Path, top: int = 25) -> dict[str, Any]:
    """Share of samples per function: inclusive (anywhere on the stack) and self (on top)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in folded.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";") if f]
        if not frames:
            continue
        total += count
        for name in set(frames):
            inclusive[name] += count
        own[frames[-1]] += count

    def shares(counter: Counter[str]) -> list[dict[str, Any]]:
        return [
            {"function": name, "percent": round(100.0 * n / total, 1)}
            for name, n in counter.most_common(top)
        ]

    return {"samples": total, "inclusive": shares(inclusive), "self": shares(own)}
