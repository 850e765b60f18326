"""Both servers over one ``Resources``, as the launcher runs them: csms and the API on port 0.

They share one ``CommandRecorder`` and the in-process buses, so a REST command goes through
the command bus to the csms that holds the charger's websocket, and /events sees what csms
publishes. The partner and caller fixtures are the API tests' own (real tokens, real HTTP).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.runtime import Resources
from core.services.commands import CommandRecorder
from csms.app import serve_csms
from management_api.app import create_app
from tests.integration.api.conftest import acme, admin, globex, type_ids
from tests.integration.csms.support import Csms

__all__ = ["acme", "admin", "globex", "type_ids"]


@pytest.fixture
async def recorder(resources: Resources) -> AsyncIterator[CommandRecorder]:
    """The process' one recorder, shared by both servers (as in the launcher)."""
    async with CommandRecorder.from_resources(resources) as shared:
        yield shared


@pytest.fixture
async def csms(resources: Resources, recorder: CommandRecorder) -> AsyncIterator[Csms]:
    """serve_csms on a random port (with its queued-command dispatcher)."""
    events = resources.event_bus.subscribe(max_queue=10_000)
    async with serve_csms(resources, recorder=recorder) as server:
        yield Csms(resources, server, events)
    events.close()


@pytest.fixture
async def api(
    aiohttp_client: Callable[..., Any],
    resources: Resources,
    recorder: CommandRecorder,
    csms: Csms,
) -> TestClient[Any, Any]:
    """The REST API on a random port, over the same resources and recorder as ``csms``."""
    client: TestClient[Any, Any] = await aiohttp_client(create_app(resources, recorder=recorder))
    return client
