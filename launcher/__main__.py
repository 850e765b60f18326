"""``python -m launcher``: csms (ws :9000) and management_api (http :8080) in one process."""

from __future__ import annotations

from config.settings import Settings
from core.process import run_main, wait_for_shutdown
from core.runtime import open_resources
from core.services.commands import CommandRecorder
from csms.app import serve_csms
from management_api.app import serve_api


async def main(settings: Settings) -> None:
    """Open shared resources once; both servers use the same buses and command recorder."""
    async with (
        open_resources(settings) as resources,
        CommandRecorder.from_resources(resources) as recorder,
        serve_csms(resources, recorder=recorder),
        serve_api(resources, recorder=recorder),
    ):
        await wait_for_shutdown()


if __name__ == "__main__":
    run_main("launcher", main)
