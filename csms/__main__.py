"""``python -m csms``: the OCPP central system alone."""

from __future__ import annotations

from config.settings import Settings
from core.process import run_main, wait_for_shutdown
from core.runtime import open_resources
from csms.app import serve_csms


async def main(settings: Settings) -> None:
    """Serve chargers until SIGINT/SIGTERM."""
    async with open_resources(settings) as resources, serve_csms(resources):
        await wait_for_shutdown()


if __name__ == "__main__":
    run_main("csms", main)
