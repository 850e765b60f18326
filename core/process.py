"""What every ``__main__`` shares: settings, logging, the event loop and clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from config.logging import configure_logging, get_logger
from config.settings import Settings

log = get_logger("core")


async def wait_for_shutdown() -> None:
    """Return on SIGINT or SIGTERM, so Ctrl-C unwinds the context managers instead of raising."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    log.info("shutdown_requested")


def load_settings(component: str) -> Settings:
    """The process's settings, once: environment first, then `.env` (or ``ENV_FILE``).

    `make run` copies config/example.env to .env, so a newcomer edits one file; the real
    environment still wins (containers, CI). A bad value is a user error: one line, exit 2.
    """
    env_file = os.environ.get("ENV_FILE", ".env") or None
    try:
        return Settings(_env_file=env_file)
    except Exception as exc:
        print(f"{component}: invalid configuration: {exc}", file=sys.stderr)  # noqa: T201
        raise SystemExit(2) from None


def run_main(component: str, main: Callable[[Settings], Coroutine[Any, Any, None]]) -> None:
    """Build settings once, configure logging, run ``main`` on uvloop when available."""
    settings = load_settings(component)
    configure_logging(settings)
    try:
        import uvloop

        runner: Callable[..., Any] = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is a dependency except on Windows
        runner = asyncio.run
    with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C during shutdown
        runner(main(settings))
    log.info("stopped", process=component)
