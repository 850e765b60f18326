"""The live websockets of this node, by charge point id.

A charger that reconnects while its old socket still looks open (a NAT timeout, a reboot the
server did not notice) replaces it at once: the new connection is registered, the old one is
marked evicted and closed in the background. An evicted connection does not mark the station
offline when it finally closes, since the station is online through its new socket.

A watcher (the command bus, through the executor) hears of every registration and removal as
it happens, so charger presence shared between nodes follows the sockets without polling.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

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
        self._watcher: Callable[[str, bool], None] | None = None

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
        self._notify(charge_point_id, True)
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
            self._notify(charge_point_id, False)
            return True
        return False

    def watch(self, watcher: Callable[[str, bool], None] | None) -> None:
        """Call ``watcher(charge_point_id, connected)`` on every add and remove (None: stop)."""
        self._watcher = watcher

    def _notify(self, charge_point_id: str, connected: bool) -> None:
        if self._watcher is None:
            return
        try:
            self._watcher(charge_point_id, connected)
        except Exception as exc:  # a watcher bug must not cost a charger its connection
            log.error("registry_watcher_failed", charge_point_id=charge_point_id, error=repr(exc))

    def charge_point_ids(self) -> list[str]:
        """A snapshot of the ids this node holds."""
        return list(self._by_id)

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
