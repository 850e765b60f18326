"""The websocket gateway: HTTP endpoints, the handshake, and one handler task per charger.

Before the upgrade (``process_request``) the path is routed: ``/health``, ``/ready`` and
``/metrics`` are answered as plain HTTP; ``/ocpp/{id}`` and ``/{id}`` must name a registered,
not deleted station (else 404, unless unknown stations are admitted as Pending) and carry the
station's HTTP Basic credentials when it has a password (else 401). Subprotocol negotiation
then picks the first OCPP version the charger offers that we speak; offering none means 1.6,
offering only unknown ones fails the handshake (400).
"""

from __future__ import annotations

import asyncio
import hmac
import re
import uuid
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from http import HTTPStatus
from urllib.parse import unquote, urlsplit

import structlog
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import InvalidHeader, NegotiationError
from websockets.headers import parse_authorization_basic
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from config.logging import get_logger
from core.domain.charging import StationAdmission
from core.domain.enums import OcppProtocol
from core.security import verify_secret
from core.services.charging import ChargingService
from csms.connection import ChargerConnection
from csms.dialect import ChargerSession, Dialect
from csms.metrics import PROMETHEUS_CONTENT_TYPE, CsmsMetrics
from csms.registry import ConnectionRegistry

log = get_logger("csms")

#: Subprotocols we speak, in the order we prefer them when a charger offers several.
SUBPROTOCOLS: tuple[Subprotocol, ...] = (
    Subprotocol(OcppProtocol.OCPP201.value),
    Subprotocol(OcppProtocol.OCPP16.value),
)

_CHARGE_POINT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,48}$")
_RESERVED = frozenset({"health", "ready", "metrics"})


def charge_point_id_from_path(path: str) -> str | None:
    """``/ocpp/{id}`` or ``/{id}`` -> id (percent-decoded, checked), else None."""
    parts = [part for part in urlsplit(path).path.split("/") if part]
    if len(parts) == 2 and parts[0] == "ocpp":
        candidate = unquote(parts[1])
    elif len(parts) == 1 and parts[0] not in _RESERVED:
        candidate = unquote(parts[0])
    else:
        return None
    return candidate if _CHARGE_POINT_ID.match(candidate) else None


def select_subprotocol(
    _connection: ServerConnection, offered: Sequence[Subprotocol]
) -> Subprotocol | None:
    """The charger's first supported choice; none offered = OCPP 1.6 (no header echoed)."""
    if not offered:
        return None
    for candidate in offered:
        if candidate in SUBPROTOCOLS:
            return candidate
    raise NegotiationError("none of the offered subprotocols is supported")


def _credentials_match(admission: StationAdmission, request: Request) -> bool:
    header = request.headers.get("Authorization")
    if header is None:
        return False
    try:
        username, password = parse_authorization_basic(header)
    except InvalidHeader:
        return False
    expected = admission.station.charge_point_id
    same_user = hmac.compare_digest(username.encode(), expected.encode())
    # Always verify (argon2 is constant-time and costly) so a wrong user name takes as long.
    return verify_secret(admission.password_hash, password) and same_user


class Gateway:
    """Handshake and per-connection handler of the OCPP websocket server."""

    def __init__(
        self,
        *,
        service: ChargingService,
        dialects: Mapping[OcppProtocol, Dialect],
        registry: ConnectionRegistry,
        metrics: CsmsMetrics,
        database_ready: Callable[[], Awaitable[bool]],
        on_connected: Callable[[uuid.UUID], None] | None = None,
    ) -> None:
        self._service = service
        # Told each station id once its connect is recorded (the queued-command dispatcher).
        self._on_connected = on_connected
        self._dialects = dialects
        self._registry = registry
        self._metrics = metrics
        self._database_ready = database_ready
        self._admitted: weakref.WeakKeyDictionary[ServerConnection, StationAdmission] = (
            weakref.WeakKeyDictionary()
        )

    async def process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        """Answer plain HTTP endpoints; admit or refuse a charger before the upgrade."""
        path = urlsplit(request.path).path
        if path == "/health":
            return connection.respond(HTTPStatus.OK, "ok\n")
        if path == "/ready":
            if await self._database_ready():
                return connection.respond(HTTPStatus.OK, "ready\n")
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "database unavailable\n")
        if path == "/metrics":
            response = connection.respond(HTTPStatus.OK, "")
            response.body = self._metrics.render()
            del response.headers["Content-Type"]
            del response.headers["Content-Length"]
            response.headers["Content-Type"] = PROMETHEUS_CONTENT_TYPE
            response.headers["Content-Length"] = str(len(response.body))
            return response
        charge_point_id = charge_point_id_from_path(path)
        if charge_point_id is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        try:
            admission = await self._service.admit(charge_point_id)
        except Exception as exc:
            log.error("admission_failed", charge_point_id=charge_point_id, error=repr(exc))
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "try again later\n")
        if admission is None:
            log.info("handshake_refused", charge_point_id=charge_point_id, reason="unknown")
            return connection.respond(HTTPStatus.NOT_FOUND, "unknown charge point\n")
        if admission.password_hash is not None:
            # argon2 costs milliseconds of CPU: keep it off the event loop.
            matched = await asyncio.to_thread(_credentials_match, admission, request)
            if not matched:
                log.info("handshake_refused", charge_point_id=charge_point_id, reason="credentials")
                response = connection.respond(HTTPStatus.UNAUTHORIZED, "unauthorized\n")
                response.headers["WWW-Authenticate"] = 'Basic realm="OCPP", charset="UTF-8"'
                return response
        self._admitted[connection] = admission
        return None

    async def handle(self, ws: ServerConnection) -> None:
        """Serve one charger from the completed handshake until its socket closes."""
        admission = self._admitted.pop(ws, None)
        if admission is None:  # cannot happen after process_request; never serve anonymously
            await ws.close(1011, "not admitted")
            return
        protocol = OcppProtocol(ws.subprotocol) if ws.subprotocol else OcppProtocol.OCPP16
        station = admission.station
        structlog.contextvars.bind_contextvars(
            charge_point_id=station.charge_point_id, ocpp_version=protocol.value
        )
        session = ChargerSession(station, self._service, protocol)
        connection = ChargerConnection(ws, session, self._dialects[protocol], self._metrics)
        replaced = self._registry.add(connection) is not None
        reason = "connection lost"
        try:
            await self._service.station_connected(
                station, protocol=protocol, ip_address=_peer_ip(ws), replaced=replaced
            )
            log.info("station_connected", replaced=replaced)
            if self._on_connected is not None:
                self._on_connected(station.id)
            reason = await connection.serve()
        except Exception as exc:
            log.error("connection_failed", error=repr(exc))
            reason = "internal error"
            await ws.close(1011, "internal error")
        finally:
            if self._registry.remove(connection):
                try:
                    await self._service.station_disconnected(session.station, reason=reason)
                except Exception as exc:
                    log.error("disconnect_not_recorded", error=repr(exc))
                log.info("station_disconnected", reason=reason)
            else:
                log.info("replaced_connection_closed", reason=reason)


def _peer_ip(ws: ServerConnection) -> str | None:
    address = ws.remote_address
    if not address:
        return None
    host = str(address[0])
    return host.split("%", 1)[0]  # an IPv6 zone id is not part of an inet value
