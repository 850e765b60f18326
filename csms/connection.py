"""One charger's websocket: inbound CALLs answered in order, outbound CALLs queued one at a time.

The handler task is the only reader of the socket. Inbound CALLs are answered inline (a
charger has one CALL in flight), outbound CALLs take ``_call_lock`` (the central system has one
in flight per charger, later ones wait their turn) and their replies are matched by message id
as frames arrive. The two directions share nothing, so a charger's own CALL never waits behind a
command and the other way round.

A CALL whose message id repeats one of the last few answered on this connection gets the same
CALLRESULT again without being processed twice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from config.logging import get_logger
from csms.dialect import ChargerSession, Dialect
from csms.framing import (
    UNREADABLE_ID,
    Call,
    CallError,
    CallFault,
    CallResult,
    Fault,
    FrameError,
    call_error_frame,
    call_frame,
    call_result_frame,
    parse_frame,
)
from csms.metrics import CsmsMetrics

log = get_logger("csms")

#: Answers remembered per connection for duplicate message ids.
RECENT_ANSWERS = 4


class ChargerGoneError(Exception):
    """The websocket closed before the charger answered (or before the CALL was sent)."""


class ChargerCallError(Exception):
    """The charger answered a CALL with a CALLERROR."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


class ChargerConnection:
    """A connected charger, as the registry, the executor and the handlers see it."""

    __slots__ = (
        "_call_lock",
        "_closing",
        "_metrics",
        "_pending",
        "_recent",
        "dialect",
        "evicted",
        "session",
        "ws",
    )

    def __init__(
        self,
        ws: ServerConnection,
        session: ChargerSession,
        dialect: Dialect,
        metrics: CsmsMetrics,
    ) -> None:
        self.ws = ws
        self.session = session
        self.dialect = dialect
        self.evicted = False
        self._metrics = metrics
        # Both made on first use: most connections never get a command, and at 20,000
        # connections per process every object held by an idle one counts.
        self._call_lock: asyncio.Lock | None = None
        self._pending: tuple[str, asyncio.Future[CallResult | CallError]] | None = None
        self._recent: OrderedDict[str, tuple[str, bytes]] | None = None
        self._closing = False

    @property
    def charge_point_id(self) -> str:
        """The OCPP identity."""
        return self.session.station.charge_point_id

    # -- inbound -----------------------------------------------------------------------------

    async def serve(self) -> str:
        """Read frames until the socket closes; return why it closed."""
        try:
            async for raw in self.ws:
                await self._receive(raw)
        except ConnectionClosed:
            pass
        finally:
            self._closing = True
            self._fail_pending()
        return _close_reason(self.ws)

    async def _receive(self, raw: str | bytes) -> None:
        try:
            frame = parse_frame(raw)
        except FrameError as err:
            if err.answerable:
                await self._send_error(err.unique_id or UNREADABLE_ID, err.fault, err.description)
            else:
                log.warning("reply_dropped", reason=err.description)
            return
        if isinstance(frame, Call):
            await self._on_call(frame)
        else:
            self._on_reply(frame)

    async def _on_call(self, call: Call) -> None:
        version = self.dialect.protocol.value
        self._metrics.message(call.action, version)
        recent = self._recent
        remembered = recent.get(call.unique_id) if recent is not None else None
        if remembered is not None and remembered[0] == call.action:
            self._metrics.duplicate(version)
            await self.ws.send(remembered[1], text=True)
            return
        try:
            payload = await self._answer(call)
        except CallFault as fault:
            await self._send_error(call.unique_id, fault.fault, fault.description)
            return
        frame = call_result_frame(call.unique_id, payload)
        if recent is None:
            recent = self._recent = OrderedDict()
        recent[call.unique_id] = (call.action, frame)
        if len(recent) > RECENT_ANSWERS:
            recent.popitem(last=False)
        await self.ws.send(frame, text=True)

    async def _answer(self, call: Call) -> dict[str, Any]:
        dialect = self.dialect
        handler = dialect.handlers.get(call.action)
        if handler is None:
            if call.action in dialect.schemas.known_actions:
                raise CallFault(
                    Fault.UNSUPPORTED_ACTION,
                    f"{call.action} is not handled by this central system",
                )
            raise CallFault(Fault.UNKNOWN_ACTION, f"unknown action {call.action[:64]!r}")
        dialect.schemas.check_request(call.action, call.payload)
        try:
            payload = await handler(self.session, call.payload)
        except CallFault:
            raise
        except Exception as exc:
            log.exception("call_failed", action=call.action, error=repr(exc))
            raise CallFault(Fault.INTERNAL, "the central system could not process this") from exc
        try:
            dialect.schemas.check_response(call.action, payload)
        except CallFault as fault:
            log.error("invalid_response_built", action=call.action, reason=fault.description)
            raise CallFault(Fault.INTERNAL, "the central system built an invalid answer") from None
        return payload

    async def _send_error(self, unique_id: str, fault: Fault, description: str) -> None:
        code = self.dialect.error_code(fault)
        self._metrics.call_error(code, self.dialect.protocol.value)
        await self.ws.send(call_error_frame(unique_id, code, description), text=True)

    def _on_reply(self, frame: CallResult | CallError) -> None:
        pending = self._pending
        if pending is None or pending[0] != frame.unique_id or pending[1].done():
            log.warning("unexpected_reply", message_id=frame.unique_id[:64])
            return
        pending[1].set_result(frame)

    # -- outbound ----------------------------------------------------------------------------

    async def call(self, action: str, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send a CALL and return the validated CALLRESULT payload.

        Raises ``TimeoutError`` (no answer in ``timeout``, waiting for the queue included),
        ``ChargerGoneError``, ``ChargerCallError`` and ``CallFault`` (a request or an answer
        that breaks the schema).
        """
        self.dialect.schemas.check_request(action, payload)
        if self._call_lock is None:
            self._call_lock = asyncio.Lock()
        async with asyncio.timeout(timeout), self._call_lock:
            if self._closing:
                raise ChargerGoneError(self.charge_point_id)
            unique_id = str(uuid.uuid4())
            future: asyncio.Future[CallResult | CallError] = (
                asyncio.get_running_loop().create_future()
            )
            self._pending = (unique_id, future)
            try:
                try:
                    await self.ws.send(call_frame(unique_id, action, payload), text=True)
                except ConnectionClosed:
                    raise ChargerGoneError(self.charge_point_id) from None
                reply = await future
            finally:
                self._pending = None
        if isinstance(reply, CallError):
            raise ChargerCallError(reply.code, reply.description)
        self.dialect.schemas.check_response(action, reply.payload)
        return reply.payload

    def _fail_pending(self) -> None:
        pending = self._pending
        if pending is not None and not pending[1].done():
            pending[1].set_exception(ChargerGoneError(self.charge_point_id))

    async def close(self, code: int, reason: str) -> None:
        """Close the socket (the handler task then finishes on its own)."""
        self._closing = True
        await self.ws.close(code, reason)


def _close_reason(ws: ServerConnection) -> str:
    code = ws.close_code
    if code is None:
        return "connection lost"
    reason = ws.close_reason
    return f"closed with code {code}" + (f": {reason}" if reason else "")
