"""Fixtures: a fake central system on a free port and simulated fleets running against it."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from simulator.charger import Charger
from simulator.options import Options, build_specs
from simulator.runner import Fleet
from simulator.stats import Stats
from tests.integration.simulator.fake_csms import FakeCsms

#: Short timings so that whole sessions, reconnects and reboots fit in a test.
FAST = Options(
    count=1,
    connectors=2,
    scenario="idle",
    meter_interval=0.2,
    session=1.0,
    pause=0.2,
    ramp=0.0,
    call_timeout=3.0,
    connect_timeout=5.0,
    backoff_min=0.05,
    backoff_max=0.2,
    reboot_delay=0.05,
    seed=1,
)


@dataclass
class RunningFleet:
    """A fleet running in the test's event loop."""

    options: Options
    stats: Stats
    fleet: Fleet
    stop: asyncio.Event
    task: asyncio.Task[None]

    @property
    def chargers(self) -> list[Charger]:
        """The simulated chargers."""
        return self.fleet.chargers

    def id(self, index: int = 0) -> str:
        """The charge point id of charger ``index``."""
        return self.fleet.chargers[index].spec.charge_point_id

    async def shutdown(self) -> None:
        """Stop every charger and wait until the sockets are closed."""
        self.stop.set()
        await self.task


StartFleet = Callable[..., Awaitable[RunningFleet]]


@pytest.fixture
async def csms() -> AsyncIterator[FakeCsms]:
    """A fake central system; every frame it saw must fit the official OCPP schemas."""
    fake = FakeCsms()
    await fake.start()
    yield fake
    await fake.close()
    assert fake.errors == []


@pytest.fixture
async def start_fleet(csms: FakeCsms) -> AsyncIterator[StartFleet]:
    """``await start_fleet(protocol=..., scenario=...)``: a fleet with FAST timings."""
    running: list[RunningFleet] = []

    async def start(**overrides: Any) -> RunningFleet:
        options = dataclasses.replace(FAST, **{"url": csms.url, **overrides})
        power_w = (options.power_kw or 11.0) * 1000.0
        stats = Stats()
        fleet = Fleet(options, build_specs(options, power_w), stats, rng=random.Random(7))
        stop = asyncio.Event()
        task = asyncio.create_task(fleet.run(stop))
        result = RunningFleet(options, stats, fleet, stop, task)
        running.append(result)
        return result

    yield start
    for fleet in running:
        await fleet.shutdown()
