"""The command executor bound to the command bus: sends a command, maps the charger's answer.

It does not write the command table (the API side records replies); it only turns a
version-independent ``CommandRequest`` into the right CALL for the charger's OCPP version,
waits at most the request's timeout (capped by ``OCPP_CALL_TIMEOUT``) and reports what became
of it as a ``CommandReply``.
"""

from __future__ import annotations

from config.logging import get_logger
from core.bus.commands import CommandReply, CommandRequest, PresenceListener
from core.domain.enums import CommandStatus
from csms.connection import ChargerCallError, ChargerGoneError
from csms.dialect import ACCEPTING_STATUSES, CommandPayloadError
from csms.framing import CallFault
from csms.metrics import CsmsMetrics
from csms.registry import ConnectionRegistry

log = get_logger("csms")


class OcppCommandExecutor:
    """``core.bus.commands.PresenceReportingExecutor`` over this node's websockets."""

    def __init__(
        self, registry: ConnectionRegistry, *, max_timeout: float, metrics: CsmsMetrics
    ) -> None:
        self._registry = registry
        self._max_timeout = max_timeout
        self._metrics = metrics

    def holds(self, charge_point_id: str) -> bool:
        """True when this node has a live websocket for the charger."""
        return self._registry.get(charge_point_id) is not None

    def held(self) -> list[str]:
        """Every charger with a live websocket on this node."""
        return self._registry.charge_point_ids()

    def watch(self, listener: PresenceListener | None) -> None:
        """Let the bus follow connects and disconnects (it publishes presence across nodes)."""
        self._registry.watch(listener)

    async def execute(self, request: CommandRequest) -> CommandReply:
        """Send the command and map the answer; never raises for a charger-side problem."""
        reply = await self._execute(request)
        self._metrics.command(request.action.value, reply.status.value)
        log.info(
            "command_finished",
            charge_point_id=request.charge_point_id,
            command_id=str(request.command_id),
            action=request.action.value,
            status=reply.status.value,
            error=reply.error,
        )
        return reply

    async def _execute(self, request: CommandRequest) -> CommandReply:
        def failed(error: str) -> CommandReply:
            return CommandReply(request.command_id, CommandStatus.FAILED, error=error)

        connection = self._registry.get(request.charge_point_id)
        if connection is None:
            return failed("the station is not connected to this node")
        commands = connection.dialect.commands
        try:
            action, payload = commands.request(request.action, request.payload)
        except CommandPayloadError as exc:
            return failed(f"InvalidPayload: {exc}")
        timeout = min(request.timeout, self._max_timeout)
        try:
            answer = await connection.call(action, payload, timeout)
        except TimeoutError:
            return CommandReply(
                request.command_id,
                CommandStatus.TIMED_OUT,
                error=f"no answer from the charger within {timeout:g} s",
            )
        except ChargerGoneError:
            return failed("the connection closed before the charger answered")
        except ChargerCallError as exc:
            return failed(f"{exc.code}: {exc.description}")
        except CallFault as exc:
            return failed(f"{connection.dialect.error_code(exc.fault)}: {exc.description}")
        try:
            response = commands.response(request.action, answer)
        except (KeyError, TypeError, IndexError) as exc:
            return failed(f"unexpected answer: {exc!r}")
        status = (
            CommandStatus.ACCEPTED
            if response["status"] in ACCEPTING_STATUSES
            else CommandStatus.REJECTED
        )
        return CommandReply(request.command_id, status, response=response)
