"""A running csms on a random port over the test database (see ``support`` for the helpers)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.runtime import Resources
from csms.app import serve_csms
from tests.integration.csms.support import Csms


@pytest.fixture
async def csms(resources: Resources) -> AsyncIterator[Csms]:
    """serve_csms on a random port; the event bus is subscribed before anything connects."""
    events = resources.event_bus.subscribe(max_queue=10_000)
    async with serve_csms(resources) as server:
        yield Csms(resources, server, events)
    events.close()
