"""``python -m bench [--quick] [--scenario NAME ...]``: run, print the table, write the report."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from bench.database import DEFAULT_DATABASE_URL, scratch_database
from bench.profile import find_py_spy
from bench.report import add_ratios, machine, new_report, table
from bench.scenarios import SCENARIOS, Context, Sizes, progress
from bench.system import ROOT, raise_open_files

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
#: Order of a full run: the ingest pair first (the headline), the big fleets last.
ORDER = ("baseline", "ingest", "api", "command", "storm", "capacity")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="The benchmark of SPEC section 9."
    )
    parser.add_argument("--quick", action="store_true", help="reduced run (< 2 minutes)")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=ORDER,
        help="run only this scenario (repeatable; default: all)",
    )
    parser.add_argument(
        "--output", type=Path, default=ROOT / "bench" / "report.json", help="report path"
    )
    parser.add_argument(
        "--sim-processes",
        type=int,
        default=max(1, min(4, (os.cpu_count() or 2))),
        help="simulator worker processes per load (default: cores, at most 4)",
    )
    parser.add_argument(
        "--profile",
        nargs="?",
        const="auto",
        default=None,
        metavar="PY_SPY",
        help="sample the csms with py-spy during ingest (path to py-spy, default: on PATH)",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep process logs")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every selected scenario against one scratch database."""
    server_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    sizes = Sizes.quick(args.sim_processes) if args.quick else Sizes.full(args.sim_processes)
    wanted = [name for name in ORDER if not args.scenario or name in args.scenario]
    needed_files = 2 * max(sizes.capacity_chargers, sizes.storm_chargers) + 4096
    limit = raise_open_files(needed_files)
    progress(f"open files limit {limit}; scenarios: {', '.join(wanted)}")
    report = new_report("quick" if args.quick else "full", await machine(server_url, redis_url))
    report["sizes"] = {k: getattr(sizes, k) for k in sizes.__dataclass_fields__}
    log_root = ROOT / "bench" / "results" if args.keep_logs else Path(tempfile.mkdtemp())
    log_dir = log_root / time.strftime("%Y%m%d-%H%M%S")
    log_dir.mkdir(parents=True, exist_ok=True)
    async with scratch_database(server_url) as database_url:
        progress("scratch database created and migrated")
        py_spy = find_py_spy(args.profile) if args.profile else None
        if args.profile and py_spy is None:
            progress("py-spy not found: running without a profile")
        ctx = Context(database_url, redis_url, log_dir, sizes, args.quick, py_spy, limit)
        for name in wanted:
            started = time.monotonic()
            try:
                section = await SCENARIOS[name](ctx)
            except Exception as exc:
                traceback.print_exc()
                section = {"status": "failed", "error": repr(exc), "targets": []}
            section["wall_s"] = round(time.monotonic() - started, 1)
            report["scenarios"][name] = section
            progress(f"{name}: {section['status']} in {section['wall_s']} s")
    add_ratios(report)
    report["logs"] = str(log_dir)
    return report


def main(argv: list[str] | None = None) -> int:
    """Run, print, write; exit 1 when a scenario failed to run (not when a target is missed)."""
    args = parse_args(argv)
    started = time.monotonic()
    report = asyncio.run(run(args))
    report["wall_s"] = round(time.monotonic() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(table(report))
    print(f"\nReport: {args.output} ({report['wall_s']} s)")
    failed = [n for n, s in report["scenarios"].items() if s.get("status") == "failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
