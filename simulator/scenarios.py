"""What the simulated drivers do once a charger has booted.

A scenario only decides *when* things happen (an EV arrives, a fault occurs); *how* a session
runs on the wire is the charger's business. Scenarios run inside a connection and are cancelled
with it; after a reconnect they start again, while a running transaction carries on.

- ``idle``: no driver; the charger only heartbeats (and obeys commands).
- ``charging``: drivers arrive at random, authorize, charge for a while and leave.
- ``mixed``: three chargers in four charge, with per-phase currents, and connectors
  occasionally fault and recover; the fourth is idle.
- ``storm``: ``idle``, but every charger connects at once (no ramp), as after a restart.
- ``ingest``: a closed loop of the benchmark's transaction mix, as fast as answers come.
"""

from __future__ import annotations

import asyncio
import random
from typing import Protocol

from simulator.station import CURRENT, ENERGY, POWER, Station

#: OCPP 1.6 ChargePointErrorCode values a connector may fault with.
FAULT_CODES = (
    "GroundFailure",
    "HighTemperature",
    "OverCurrentFailure",
    "PowerMeterFailure",
    "ConnectorLockFailure",
    "EVCommunicationError",
)
#: How long a closed loop waits after a cycle could not run (refused id tag, busy connector).
_INGEST_RETRY_S = 1.0


class ScenarioCharger(Protocol):
    """What a scenario may ask of a charger."""

    station: Station
    rng: random.Random

    @property
    def index(self) -> int:
        """The charger's position in the fleet (0-based)."""
        ...

    async def local_session(self, number: int, duration: float) -> bool:
        """An EV plugs into ``number``, the driver authorizes and charges for ``duration`` s."""
        ...

    async def fault(self, number: int, error_code: str) -> bool:
        """Connector ``number`` faults (only when idle)."""
        ...

    async def recover(self, number: int) -> None:
        """The fault on ``number`` clears."""
        ...

    async def ingest_cycle(self, number: int) -> bool:
        """One pass of the benchmark's transaction mix on ``number``."""
        ...


class Scenario:
    """The base scenario: nobody drives; the charger heartbeats and obeys commands."""

    name = "idle"
    #: Whether connects are spread over --ramp (storm: all at once).
    ramp = True
    #: MeterValuesSampledData / TxUpdatedMeasurands to configure (None = the charger's default).
    measurands: str | None = None

    def __init__(self, *, session_s: float, pause_s: float) -> None:
        self.session_s = session_s
        self.pause_s = pause_s

    def remote_session_s(self, rng: random.Random) -> float | None:
        """How long a remotely started session lasts by itself (None: until stopped)."""
        return None

    async def run(self, charger: ScenarioCharger) -> None:
        """Drive the charger until the connection ends (cancelled then)."""
        return None


class Idle(Scenario):
    """Only heartbeats; remote starts run until a remote stop."""

    name = "idle"


class Storm(Idle):
    """Idle chargers that all connect and boot at once."""

    name = "storm"
    ramp = False


class Charging(Scenario):
    """Drivers arrive after a random pause, charge for a random while and leave."""

    name = "charging"
    fault_probability = 0.0

    def _around(self, rng: random.Random, mean: float) -> float:
        return rng.uniform(0.5, 1.5) * mean

    def remote_session_s(self, rng: random.Random) -> float | None:
        """A remotely started EV also gets full eventually."""
        return self._around(rng, self.session_s)

    async def run(self, charger: ScenarioCharger) -> None:
        """One driver loop per connector."""
        loops = [self._connector(charger, c.number) for c in charger.station.connectors]
        if len(loops) == 1:
            await loops[0]
        else:
            await asyncio.gather(*loops)

    async def _connector(self, charger: ScenarioCharger, number: int) -> None:
        rng = charger.rng
        # The first arrival comes anywhere within one pause so a fresh fleet starts charging soon.
        pause = rng.uniform(0.0, self.pause_s)
        while True:
            await asyncio.sleep(pause)
            pause = self._around(rng, self.pause_s)
            if self.fault_probability and rng.random() < self.fault_probability:
                if await charger.fault(number, rng.choice(FAULT_CODES)):
                    await asyncio.sleep(rng.uniform(0.2, 0.5) * max(self.pause_s, 1.0))
                    await charger.recover(number)
                continue
            await charger.local_session(number, self._around(rng, self.session_s))


class Mixed(Charging):
    """Charging with three-phase currents and occasional faults; every fourth charger idles."""

    name = "mixed"
    fault_probability = 0.1
    measurands = f"{ENERGY},{POWER},{CURRENT}"

    async def run(self, charger: ScenarioCharger) -> None:
        """Idle for every fourth charger, charging with faults for the others."""
        if charger.index % 4 == 3:
            return
        await super().run(charger)


class Ingest(Scenario):
    """The benchmark's closed loop on connector 1: one call in flight, no think time."""

    name = "ingest"

    async def run(self, charger: ScenarioCharger) -> None:
        """Cycle until cancelled."""
        while True:
            if not await charger.ingest_cycle(1):
                await asyncio.sleep(_INGEST_RETRY_S)


_SCENARIOS: dict[str, type[Scenario]] = {
    cls.name: cls for cls in (Idle, Charging, Mixed, Storm, Ingest)
}


def make_scenario(name: str, *, session_s: float, pause_s: float) -> Scenario:
    """The scenario called ``name`` (see ``simulator.options.SCENARIOS``)."""
    try:
        cls = _SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}") from None
    return cls(session_s=session_s, pause_s=pause_s)
