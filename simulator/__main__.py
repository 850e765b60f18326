"""``python -m simulator``: thousands of simulated chargers against an OCPP central system.

Reads only its command line (it speaks OCPP and HTTP, and imports nothing of the central
system), sets up logging, runs until Ctrl-C or ``--duration`` and prints a summary.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from typing import Any

from simulator.logs import Console, setup_logging
from simulator.options import PROTOCOL_CHOICES, SCENARIOS, Options
from simulator.runner import run, run_event_loop

_EPILOG = """\
scenarios:
  idle      chargers boot and heartbeat; remote starts run until a remote stop
  charging  drivers arrive at random, authorize, charge (meter values), leave
  mixed     charging with per-phase currents and occasional faults; 1 in 4 idle
  storm     idle, but every charger connects at once (no ramp)
  ingest    closed loop of Authorize, start, status, 3 x meter values, stop,
            status, Heartbeat as fast as the central system answers

examples:
  python -m simulator --register --client-id admin --client-secret ...
  python -m simulator --count 2000 --protocol mixed --scenario idle --duration 60 --json out.json
"""

#: Where the command line takes its defaults from (a frozen value, safe to share).
_DEFAULTS = Options()


def _defaulted(
    group: argparse._ArgumentGroup, flag: str, help_text: str = "", **kwargs: Any
) -> None:
    """An option whose default is the ``Options`` field of the same name, shown in its help, so
    the command line and a programmatic ``Options()`` cannot drift apart."""
    default = getattr(_DEFAULTS, flag.removeprefix("--").replace("-", "_"))
    help_text = f"{help_text} (%(default)s)" if help_text else "(%(default)s)"
    group.add_argument(flag, default=default, help=help_text, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The command line; every option has a default that makes a sensible demo."""
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="Simulate OCPP 1.6J / 2.0.1 charging stations over real websockets.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fleet = parser.add_argument_group("fleet")
    _defaulted(fleet, "--url", "central system endpoint")
    _defaulted(fleet, "--count", "chargers", type=int)
    _defaulted(fleet, "--protocol", "OCPP version; mixed = half each", choices=PROTOCOL_CHOICES)
    _defaulted(fleet, "--connectors", "per charger", type=int)
    _defaulted(fleet, "--id-prefix", "identities <prefix>00001...")
    fleet.add_argument("--password", help="HTTP Basic password (OCPP security profile 1)")
    fleet.add_argument(
        "--power-kw",
        type=float,
        help="connector power (default: from the registered station type, else 11)",
    )
    fleet.add_argument(
        "--tags", type=int, help="id tags the drivers share (default: one per charger, max 100)"
    )

    behaviour = parser.add_argument_group("behaviour")
    _defaulted(behaviour, "--scenario", choices=SCENARIOS)
    behaviour.add_argument(
        "--heartbeat",
        type=float,
        help="heartbeat interval in s (default: what the boot answer says)",
    )
    _defaulted(
        behaviour,
        "--meter-interval",
        "seconds between meter values during a transaction",
        type=float,
    )
    _defaulted(behaviour, "--session", "mean session length in s", type=float)
    _defaulted(behaviour, "--pause", "mean time between sessions in s", type=float)
    behaviour.add_argument(
        "--duration", type=float, help="stop after this many seconds (default: run until Ctrl-C)"
    )
    behaviour.add_argument(
        "--ramp", type=float, help="spread connects over this many seconds (default: count/500)"
    )
    behaviour.add_argument("--seed", type=int, help="random seed for reproducible runs")

    scale = parser.add_argument_group("scale and timing")
    _defaulted(scale, "--processes", "worker processes", type=int)
    _defaulted(scale, "--call-timeout", "s", type=float)
    _defaulted(scale, "--connect-timeout", "s", type=float)
    _defaulted(scale, "--backoff-min", "first reconnect delay in s", type=float)
    _defaulted(scale, "--backoff-max", "longest reconnect delay in s", type=float)
    _defaulted(scale, "--reboot-delay", "s a Reset takes", type=float)

    api = parser.add_argument_group("registration through the REST API")
    api.add_argument("--register", action="store_true", help="create stations and id tags first")
    _defaulted(api, "--api", "REST API base URL")
    api.add_argument("--client-id", help="API client id (an admin, or an operator of a partner)")
    api.add_argument("--client-secret", help="API client secret")

    output = parser.add_argument_group("output")
    output.add_argument(
        "--json", dest="json_path", metavar="FILE", help="write the summary as JSON"
    )
    _defaulted(
        output,
        "--report-interval",
        "seconds between progress lines when not on a terminal",
        type=float,
    )
    _defaulted(output, "--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    return parser


def parse_args(argv: Sequence[str] | None = None) -> Options:
    """Options from the command line; exits with status 2 and a message when they are wrong."""
    parser = build_parser()
    args = parser.parse_args(argv)
    options = Options(**vars(args))
    problems = options.problems()
    if problems:
        parser.error("; ".join(problems))
    return options


def raise_open_files_limit(chargers: int) -> None:
    """Lift the soft limit on open files towards the hard one: one socket per charger.

    Many systems start processes with a soft limit of 1024, which would cap a run near a
    thousand chargers with "Too many open files" although the hard limit allows far more.
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = chargers + 256  # sockets plus the interpreter's own files and pipes
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator; Ctrl-C ends it with a summary, not a traceback."""
    options = parse_args(argv)
    console = Console()
    setup_logging(console.line, options.log_level)
    raise_open_files_limit(options.count)
    try:
        return int(run_event_loop(run(options, console)))
    except KeyboardInterrupt:  # a second Ctrl-C while shutting down
        return 130


if __name__ == "__main__":
    sys.exit(main())
