"""The /events websocket: live events of the caller's stations, filtered, with heartbeats.

Authentication happens before the upgrade (a bad token is a plain 401), with the bearer header
or, for browsers that cannot set headers on a websocket, the ``access_token`` query parameter.
The token is checked once, at the handshake: refreshing it for REST calls does not cut the
stream. Only the handler task reads the socket through its reader task; a client that stops
reading is dropped (close code 1013) rather than allowed to grow memory: the subscription queue
is bounded and every send has a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator

import orjson
import structlog
from aiohttp import WSCloseCode, WSMsgType, web

from config.logging import get_logger
from core.errors import ValidationFailedError
from core.services.auth import AuthenticationError, Principal
from core.services.live import DEFAULT_HEARTBEAT_SECONDS, LiveEventStream, build_event_filter
from management_api.endpoints import operation
from management_api.keys import EVENT_SOCKETS, PRINCIPAL, RESOURCES, TOKENS
from management_api.problems import HttpProblem

log = get_logger("management_api.events")

#: Query parameters the endpoint understands; anything else is a 422.
_PARAMETERS = frozenset({"station_id", "type", "access_token", "heartbeat"})
#: A send that cannot complete within this many seconds means the client stopped reading.
SEND_TIMEOUT = 10.0
#: Bounds of the heartbeat interval a client may ask for.
MIN_HEARTBEAT, MAX_HEARTBEAT = 1.0, 300.0
#: Events a client may fall behind by before it is dropped.
MAX_QUEUE = 1000
#: Seconds a closing handshake may take before the connection is simply dropped.
CLOSE_TIMEOUT = 5.0

TOO_SLOW = 1013  # "try again later": the client fell behind and should reconnect


def _token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("invalid authorization header; expected 'Bearer <token>'")
        return token.strip()
    token = request.query.get("access_token", "").strip()
    if not token:
        raise AuthenticationError("missing bearer token (header or access_token parameter)")
    return token


async def _authenticate(request: web.Request) -> Principal:
    principal = await request.app[TOKENS].authenticate(_token(request))
    request[PRINCIPAL] = principal
    structlog.contextvars.bind_contextvars(client_id=principal.client_id)
    wait = await request.app[RESOURCES].rate_limiter.acquire(f"client:{principal.client_id}")
    if wait > 0:
        raise HttpProblem(
            429,
            "too many requests for this client; retry later",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    return principal


def _heartbeat(request: web.Request) -> float:
    raw = request.query.getall("heartbeat", [])
    if not raw:
        return DEFAULT_HEARTBEAT_SECONDS
    message = f"seconds between {MIN_HEARTBEAT:g} and {MAX_HEARTBEAT:g}"
    try:
        (value,) = (float(text) for text in raw)
    except ValueError:
        raise ValidationFailedError(
            "invalid heartbeat", [{"field": "heartbeat", "message": message}]
        ) from None
    if not MIN_HEARTBEAT <= value <= MAX_HEARTBEAT:  # also refuses nan
        raise ValidationFailedError(
            "invalid heartbeat", [{"field": "heartbeat", "message": message}]
        )
    return value


async def _drain(ws: web.WebSocketResponse, stream: LiveEventStream) -> None:
    """Read (and ignore) what the client sends; its close or a broken link ends the stream."""
    try:
        async for message in ws:
            if message.type is WSMsgType.ERROR:
                break
    finally:
        stream.close()


@contextlib.asynccontextmanager
async def _registered(request: web.Request, ws: web.WebSocketResponse) -> AsyncIterator[None]:
    sockets = request.app[EVENT_SOCKETS]
    sockets.add(ws)
    try:
        yield
    finally:
        sockets.discard(ws)


async def _close(request: web.Request, ws: web.WebSocketResponse, code: int, reason: str) -> None:
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await ws.close(code=code, message=reason.encode())
    except (TimeoutError, ConnectionError):
        if request.transport is not None:  # a client that reads nothing will not close either
            request.transport.abort()


@operation(tag="events", roles=None, status=101, errors=(401, 422, 426, 429))
async def stream_events(request: web.Request) -> web.StreamResponse:
    """Stream live events of the caller's stations over a websocket.

    Open `ws://HOST:8080/api/v1/events` with `Authorization: Bearer <token>`, or with
    `?access_token=<token>` where headers cannot be set (browsers). Filters: `station_id` and
    `type`, each repeated or comma-separated (`type=connector.status_changed,meter_values`);
    `heartbeat` sets the seconds between heartbeats (default 15, 1..300).

    Every message is a JSON text frame `{type, station_id, charge_point_id, partner_id, at,
    data}`. Types: `station.connected`, `station.disconnected`, `connector.status_changed`
    (`data`: connector_number, previous, status, error_code), `transaction.started`,
    `transaction.stopped`, `meter_values`, `command.completed` (command_id, action, status),
    and `heartbeat` (`{type, at}`) after a quiet interval, so an idle client notices a dead
    link. Partners see only their own stations; admins see all.

    A client that falls more than 1000 events behind is disconnected with close code 1013 and
    should reconnect (delivery is at-most-once: read /stations to resynchronise). On shutdown
    the server closes with 1001. The token is checked when the socket opens.
    """
    principal = await _authenticate(request)
    unknown = sorted(set(request.query) - _PARAMETERS)
    if unknown:
        raise ValidationFailedError(
            "invalid query parameters",
            [{"field": name, "message": "unknown parameter"} for name in unknown],
        )
    event_filter = build_event_filter(
        partner_id=principal.scope,
        station_ids=request.query.getall("station_id", []),
        types=request.query.getall("type", []),
    )
    heartbeat = _heartbeat(request)
    ws = web.WebSocketResponse(heartbeat=max(heartbeat, 30.0), max_msg_size=4096)
    if not ws.can_prepare(request).ok:
        raise HttpProblem(
            426, "this endpoint is a websocket; send an Upgrade request", {"Upgrade": "websocket"}
        )
    stream = LiveEventStream(
        event_bus=request.app[RESOURCES].event_bus,
        event_filter=event_filter,
        clock=request.app[RESOURCES].clock,
        heartbeat_interval=heartbeat,
        max_queue=MAX_QUEUE,
    )
    # Subscribed before the handshake completes: an event right after the upgrade is seen.
    async with stream, _registered(request, ws):
        await ws.prepare(request)
        log.info("events_subscribed", role=principal.role.value)
        reader = asyncio.create_task(_drain(ws, stream), name="events-reader")
        try:
            async for item in stream:
                if ws.closed:
                    break
                try:
                    async with asyncio.timeout(SEND_TIMEOUT):
                        await ws.send_str(orjson.dumps(item.to_dict()).decode())
                except TimeoutError:
                    log.info("events_client_too_slow", reason="send timed out")
                    await _close(request, ws, TOO_SLOW, "too slow, reconnect")
                    break
                except ConnectionError:
                    break
            if stream.dropped and not ws.closed:
                log.info("events_client_too_slow", reason="fell behind")
                await _close(request, ws, TOO_SLOW, "too slow, reconnect")
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            if not ws.closed:
                await _close(request, ws, WSCloseCode.OK, "")
    return ws


async def close_event_sockets(app: web.Application) -> None:
    """On shutdown: close every event stream with GOING_AWAY so clients reconnect elsewhere."""
    sockets = app[EVENT_SOCKETS]
    await asyncio.gather(
        *[ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown") for ws in sockets],
        return_exceptions=True,
    )
