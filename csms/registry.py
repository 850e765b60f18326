"""The live websockets of this node, by charge point id.

A charger that reconnects while its old socket still looks open (a NAT timeout, a reboot the
server did not notice) replaces it at once: the new connection is registered, the old one is
marked evicted and closed in the background. An evicted connection does not mark the station
offline when it finally closes, since the station is online through its new socket.
"""

from __future__ import annotations

import asyncio

from config.logging import get_logger
from csms.connection import ChargerConnection

log = get_logger("csms")

#: Close code and reason sent to a socket replaced by a newer one of the same station.
REPLACED_CODE = 1000
REPLACED_REASON = "replaced by a new connection"


class ConnectionRegistry:
    """charge_point_id -> the connection that currently speaks for it."""

    def __init__(self) -> None:
        self._by_id: dict[str, ChargerConnection] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, charge_point_id: str) -> ChargerConnection | None:
        """The live connection of a charger, if this node holds one."""
        return self._by_id.get(charge_point_id)

    def add(self, connection: ChargerConnection) -> ChargerConnection | None:
        """Register ``connection``; evict and return the one it replaces, if any."""
        charge_point_id = connection.charge_point_id
        previous = self._by_id.get(charge_point_id)
        self._by_id[charge_point_id] = connection
        if previous is not None and previous is not connection:
            previous.evicted = True
            task = asyncio.create_task(
                previous.close(REPLACED_CODE, REPLACED_REASON), name=f"evict-{charge_point_id}"
            )
            self._closing.add(task)
            task.add_done_callback(self._closed)
            log.info("connection_replaced", charge_point_id=charge_point_id)
            return previous
        return None

    def remove(self, connection: ChargerConnection) -> bool:
        """Forget ``connection``; False when a newer one has taken its place already."""
        charge_point_id = connection.charge_point_id
        if self._by_id.get(charge_point_id) is connection:
            del self._by_id[charge_point_id]
            return True
        return False

    def connections(self) -> list[ChargerConnection]:
        """A snapshot of every live connection."""
        return list(self._by_id.values())

    def _closed(self, task: asyncio.Task[None]) -> None:
        self._closing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("evicted_close_failed", error=repr(task.exception()))

    async def wait_evictions(self) -> None:
        """Wait for background closes of evicted sockets (shutdown)."""
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
