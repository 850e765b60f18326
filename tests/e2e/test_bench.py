"""`python -m bench --quick --scenario ingest` end to end: the harness works, whatever the speed.

Nothing here asserts a figure: the benchmark measures, tests only prove it can measure (a real
central system, the simulator as load, rows counted back from the database).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tools.db import in_ci

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def _services() -> dict[str, str]:
    env = {k: os.environ.get(k, "") for k in ("DATABASE_URL", "REDIS_URL")}
    missing = [k for k, v in env.items() if not v]
    if missing:
        if in_ci():
            pytest.fail(f"CI=true but {', '.join(missing)} not set")
        pytest.skip(f"the benchmark needs a PostgreSQL server and Redis ({missing} not set)")
    return env


def test_quick_ingest_runs_end_to_end(tmp_path: Path) -> None:
    """The report holds the machine, the figures and the database count of what was sent."""
    _services()
    output = tmp_path / "report.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--scenario",
            "ingest",
            "--sim-processes",
            "1",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(output.read_text())
    assert report["mode"] == "quick"
    assert report["machine"]["cores"] >= 1
    assert report["machine"]["git_commit"]
    assert list(report["scenarios"]) == ["ingest"]
    ingest = report["scenarios"]["ingest"]
    assert ingest["status"] == "ok"
    figures = ingest["figures"]
    assert figures["calls_in_window"] > 0
    assert figures["whole_run"]["calls_total"] >= figures["calls_in_window"]
    assert figures["csms_cpu_us_per_call"] > 0
    persisted = figures["persisted"]
    assert persisted["transactions_in_database"] >= persisted["transactions_started_acknowledged"]
    assert persisted["transactions_started_acknowledged"] > 0
    assert persisted["meter_value_rows_in_database"] >= persisted["samples_acknowledged"] > 0
    assert {t["what"] for t in ingest["targets"]} >= {"call latency p99 (worst 5 s window)"}
    assert "ingest" in done.stdout
    assert "met" in done.stdout
