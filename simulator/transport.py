"""OCPP-J over a websocket: framing, one outstanding CALL per direction, timeouts, back-off.

Thin on purpose: it moves frames and measures them, and knows nothing of what they mean. The
reader task is the only one reading the socket; the charger's own CALLs wait for their answer on
a future that the reader resolves, so the central system can send CALLs (which the reader
answers at once) while the charger is still waiting for a CALLRESULT of its own.
"""

from __future__ import annotations

import asyncio
import base64
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.typing import Subprotocol

from simulator.logs import get_logger
from simulator.stats import Stats

log = get_logger("simulator")

CALL, CALLRESULT, CALLERROR = 2, 3, 4
#: A CALL or its answer is never this big; anything larger is a broken peer.
MAX_FRAME_BYTES = 1 << 20


class CallErrorReply(Exception):
    """The central system answered one of our CALLs with a CALLERROR."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


class CallTimeout(Exception):
    """No answer within the call timeout."""


class ConnectionLost(Exception):
    """The websocket is gone; whatever was in flight is lost with it."""


class HandshakeRefused(Exception):
    """The websocket upgrade failed: ``kind`` is the HTTP status or what was wrong.

    ``detail`` says more for the log (the underlying cause and how long the attempt took),
    so that e.g. a server aborting slow handshakes can be told from one refusing them.
    """

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(kind)
        self.kind = kind
        self.detail = detail


class ConnectFailed(Exception):
    """No TCP connection (refused, unreachable, timed out)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """Our answer to a CALL of the central system, plus work to start once it is sent."""

    payload: dict[str, Any] | None = None
    error_code: str | None = None
    error_description: str = ""
    followup: Callable[[], Coroutine[Any, Any, None]] | None = None

    @classmethod
    def error(cls, code: str, description: str) -> Answer:
        """A CALLERROR answer."""
        return cls(error_code=code, error_description=description)


Handler = Callable[[str, Any], Answer]
Spawn = Callable[[Coroutine[Any, Any, None]], object]


def backoff_delay(attempt: int, *, minimum: float, maximum: float, rng: random.Random) -> float:
    """Exponential back-off with jitter: attempt 0 waits about ``minimum``, doubling to ``maximum``.

    The delay is drawn from the upper half of the window so that a fleet dropped at once
    reconnects spread out, yet never faster than half the window.
    """
    window = min(maximum, minimum * (2.0 ** min(attempt, 30)))
    return window * rng.uniform(0.5, 1.0)


def basic_auth(charge_point_id: str, password: str) -> str:
    """The ``Authorization`` header of OCPP security profile 1."""
    token = base64.b64encode(f"{charge_point_id}:{password}".encode()).decode()
    return f"Basic {token}"


async def open_websocket(
    url: str,
    charge_point_id: str,
    protocol: str,
    *,
    password: str | None,
    open_timeout: float,
) -> ClientConnection:
    """Open ``<url>/<charge_point_id>`` offering ``protocol``; no compression, no client pings.

    permessage-deflate costs ~33 KiB per idle connection on both sides and OCPP frames are
    small; the central system's pings are still answered.
    """
    uri = f"{url.rstrip('/')}/{quote(charge_point_id, safe='')}"
    headers = {"Authorization": basic_auth(charge_point_id, password)} if password else None
    started = time.monotonic()
    try:
        ws = await connect(
            uri,
            subprotocols=[Subprotocol(protocol)],
            additional_headers=headers,
            compression=None,
            proxy=None,
            open_timeout=open_timeout,
            ping_interval=None,
            ping_timeout=None,
            close_timeout=2,
            max_size=MAX_FRAME_BYTES,
            user_agent_header="evcsms-simulator",
        )
    except InvalidStatus as exc:
        raise HandshakeRefused(str(exc.response.status_code)) from None
    except InvalidURI:
        raise
    except InvalidHandshake as exc:
        cause = exc.__cause__ if exc.__cause__ is not None else exc
        detail = f"{cause!r} after {time.monotonic() - started:.1f} s"
        raise HandshakeRefused(type(exc).__name__, detail) from None
    except (OSError, TimeoutError) as exc:
        raise ConnectFailed(str(exc) or type(exc).__name__) from None
    if ws.subprotocol != protocol and not (ws.subprotocol is None and protocol == "ocpp1.6"):
        await ws.close()
        raise HandshakeRefused("subprotocol")
    return ws


class OcppConnection:
    """One charger's websocket with OCPP-J framing and request/response matching."""

    __slots__ = ("_closing", "_lock", "_next_id", "_pending", "_stats", "_timeout", "ws")

    def __init__(self, ws: ClientConnection, stats: Stats, *, call_timeout: float) -> None:
        self.ws = ws
        self._stats = stats
        self._timeout = call_timeout
        self._lock = asyncio.Lock()
        self._pending: tuple[str, asyncio.Future[Any]] | None = None
        self._next_id = 0
        self._closing = False

    @property
    def closed_by_us(self) -> bool:
        """Whether we asked for the close (reset, shutdown) rather than the peer dropping us."""
        return self._closing

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a CALL and wait for its answer; one at a time, as OCPP-J requires."""
        async with self._lock:
            if self._closing:
                raise ConnectionLost
            self._next_id += 1
            unique_id = str(self._next_id)
            future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._pending = (unique_id, future)
            started = time.perf_counter()
            try:
                await self.ws.send(orjson.dumps([CALL, unique_id, action, payload]), text=True)
                async with asyncio.timeout(self._timeout):
                    result = await future
            except TimeoutError:
                if self._stats.error("timeout"):
                    log.warning("call_timeout", action=action, timeout_s=self._timeout)
                raise CallTimeout(action) from None
            except CallErrorReply as exc:
                self._stats.call_answered(action, time.perf_counter() - started)
                if self._stats.error(f"callerror:{exc.code}"):
                    log.warning("call_error", action=action, code=exc.code, detail=exc.description)
                raise
            except ConnectionClosed:
                raise ConnectionLost from None
            finally:
                self._pending = None
            self._stats.call_answered(action, time.perf_counter() - started)
            if not isinstance(result, dict):
                if self._stats.error("protocol:bad_result"):
                    log.warning("bad_callresult", action=action)
                raise CallErrorReply("FormationViolation", "CALLRESULT payload is not an object")
            return result

    async def serve(self, handler: Handler, spawn: Spawn) -> None:
        """Read frames until the socket closes: resolve our CALLs, answer the peer's."""
        ws = self.ws
        try:
            while True:
                data = await ws.recv(decode=False)
                try:
                    frame = orjson.loads(data)
                except orjson.JSONDecodeError:
                    if self._stats.error("protocol:malformed_frame"):
                        log.warning("malformed_frame", size=len(data))
                    continue
                if not isinstance(frame, list) or len(frame) < 3:
                    if self._stats.error("protocol:malformed_frame"):
                        log.warning("malformed_frame", size=len(data))
                    continue
                kind = frame[0]
                if kind == CALL:
                    await self._answer(frame, handler, spawn)
                elif kind == CALLRESULT:
                    self._resolve(frame[1], frame[2], None)
                elif kind == CALLERROR and len(frame) >= 4:
                    description = frame[3] if len(frame) > 3 and isinstance(frame[3], str) else ""
                    self._resolve(frame[1], None, CallErrorReply(str(frame[2]), description))
                elif self._stats.error("protocol:malformed_frame"):
                    log.warning("malformed_frame", size=len(data))
        except ConnectionClosed:
            pass
        finally:
            pending = self._pending
            if pending is not None and not pending[1].done():
                pending[1].set_exception(ConnectionLost())

    def _resolve(self, unique_id: Any, result: Any, error: Exception | None) -> None:
        pending = self._pending
        if pending is None or pending[0] != unique_id or pending[1].done():
            # A late answer to a CALL that already timed out, or a peer inventing ids.
            if self._stats.error("protocol:unexpected_answer"):
                log.warning("unexpected_answer", unique_id=unique_id)
            return
        if error is not None:
            pending[1].set_exception(error)
        else:
            pending[1].set_result(result)

    async def _answer(self, frame: list[Any], handler: Handler, spawn: Spawn) -> None:
        unique_id, action = frame[1], frame[2]
        if not isinstance(unique_id, str) or not isinstance(action, str) or len(frame) < 4:
            answer = Answer.error("FormationViolation", "CALL must be [2, id, action, payload]")
            action = str(action)
        else:
            try:
                answer = handler(action, frame[3])
            except Exception:  # a bug answering one CALL must not drop the connection
                log.exception("command_handler_failed", action=action)
                answer = Answer.error("InternalError", "the charger failed to process the CALL")
        if answer.error_code is None:
            reply: list[Any] = [CALLRESULT, unique_id, answer.payload or {}]
        else:
            reply = [CALLERROR, unique_id, answer.error_code, answer.error_description, {}]
        await self.ws.send(orjson.dumps(reply), text=True)
        self._stats.command_answered(action)
        if answer.followup is not None:
            spawn(answer.followup())

    async def close(self) -> None:
        """Close with a normal close frame; the reader then ends."""
        self._closing = True
        await self.ws.close()
