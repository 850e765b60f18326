"""Command bus: the only path from the management API to a charger's websocket.

The API submits a ``CommandRequest``; whichever csms node holds the charger's socket executes it
and the ``CommandReply`` comes back through the bus. The in-process bus calls the local executor
directly; a Redis bus routes by charger presence across nodes with the same interface.
"""

from __future__ import annotations

import asyncio
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.domain.enums import CommandAction, CommandStatus


class StationNotConnectedError(Exception):
    """No csms node holds a websocket for this charger right now."""


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """A version-independent command for one charger."""

    command_id: uuid.UUID
    station_id: uuid.UUID
    charge_point_id: str
    action: CommandAction
    payload: dict[str, Any] = field(default_factory=dict)
    timeout: float = 30.0


@dataclass(frozen=True, slots=True)
class CommandReply:
    """What became of a command: the charger's answer mapped back, or why there is none."""

    command_id: uuid.UUID
    status: CommandStatus
    response: dict[str, Any] | None = None
    error: str | None = None


class CommandExecutor(Protocol):
    """Implemented by csms: knows the local sockets and speaks each OCPP version."""

    def holds(self, charge_point_id: str) -> bool:
        """True when this node has a live websocket for the charger."""
        ...

    async def execute(self, request: CommandRequest) -> CommandReply:
        """Send the command, wait for the answer (bounded by ``request.timeout``)."""
        ...


class CommandBus(ABC):
    """Submit commands from anywhere; executors register where the sockets are."""

    @abstractmethod
    def bind_executor(self, executor: CommandExecutor) -> None:
        """Called by csms at start-up."""

    @abstractmethod
    async def is_connected(self, charge_point_id: str) -> bool:
        """True when some node holds the charger."""

    @abstractmethod
    async def submit(self, request: CommandRequest) -> asyncio.Future[CommandReply]:
        """Start the command; the future resolves with the reply.

        Raises ``StationNotConnectedError`` at once when no node holds the charger.
        """

    async def start(self) -> None:
        """Open connections / listeners (no-op in process)."""

    async def close(self) -> None:
        """Cancel what is in flight and release resources."""


class InProcessCommandBus(CommandBus):
    """Executor and submitters share the process (the embedded deployment)."""

    def __init__(self) -> None:
        self._executor: CommandExecutor | None = None
        self._tasks: set[asyncio.Task[CommandReply]] = set()

    def bind_executor(self, executor: CommandExecutor) -> None:
        """Remember the local executor."""
        self._executor = executor

    async def is_connected(self, charge_point_id: str) -> bool:
        """Ask the local executor."""
        return self._executor is not None and self._executor.holds(charge_point_id)

    async def submit(self, request: CommandRequest) -> asyncio.Future[CommandReply]:
        """Run the command in a task this bus holds, so it outlives an impatient caller."""
        executor = self._executor
        if executor is None or not executor.holds(request.charge_point_id):
            raise StationNotConnectedError(request.charge_point_id)
        task = asyncio.create_task(executor.execute(request), name=f"command-{request.command_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        """Cancel commands still waiting for chargers."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
