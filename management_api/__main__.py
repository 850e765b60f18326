"""``python -m management_api``: the REST API alone."""

from __future__ import annotations

from config.settings import Settings
from core.process import run_main, wait_for_shutdown
from core.runtime import open_resources
from management_api.app import serve_api


async def main(settings: Settings) -> None:
    """Serve HTTP until SIGINT/SIGTERM."""
    async with open_resources(settings) as resources, serve_api(resources):
        await wait_for_shutdown()


if __name__ == "__main__":
    run_main("management_api", main)
