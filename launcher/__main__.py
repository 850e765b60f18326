"""``python -m launcher``: csms (ws :9000) and management_api (http :8080) in one process."""

from __future__ import annotations

from config.settings import Settings
from core.process import run_main, wait_for_shutdown
from core.runtime import open_resources
from csms.app import serve_csms
from management_api.app import serve_api


async def main(settings: Settings) -> None:
    """Open shared resources once; both servers use the same in-process buses."""
    async with open_resources(settings) as resources, serve_csms(resources), serve_api(resources):
        await wait_for_shutdown()


if __name__ == "__main__":
    run_main("launcher", main)
