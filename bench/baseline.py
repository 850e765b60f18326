"""The baseline: a minimal central system made only of the ``ocpp`` package's ChargePoint.

It answers the ingest mix of OCPP 1.6 (and boot, heartbeat) the way the library's README does,
validating with the library's own (``jsonschema``) validation, and persists nothing. The ingest
load against it gives the yardstick: our calls/s and CPU per call are reported as a ratio to it.

Run as ``python -m bench.baseline --port N``; ``/health`` answers plain HTTP for readiness.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, TypeVar, cast

from ocpp.routing import on as _on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

_TRANSACTION_IDS = itertools.count(1)
#: CALLs answered so far (``GET /calls``), read by the benchmark at the edges of its window.
_CALLS = [0]
F = TypeVar("F", bound=Callable[..., Any])


def on(action: str) -> Callable[[F], F]:
    """The library's routing decorator, typed."""
    return cast(Callable[[F], F], _on(action))


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class BaselineChargePoint(ChargePoint):  # type: ignore[misc]
    """Handlers of the ingest mix that only build the answer."""

    async def route_message(self, raw_msg: str) -> None:
        """Count every frame (only chargers' CALLs arrive here in the benchmark)."""
        _CALLS[0] += 1
        await super().route_message(raw_msg)

    @on(Action.boot_notification)
    async def on_boot_notification(self, **_: Any) -> Any:
        return call_result.BootNotification(
            current_time=_now(), interval=300, status=RegistrationStatus.accepted
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self, **_: Any) -> Any:
        return call_result.Heartbeat(current_time=_now())

    @on(Action.status_notification)
    async def on_status_notification(self, **_: Any) -> Any:
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, **_: Any) -> Any:
        return call_result.Authorize(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.start_transaction)
    async def on_start_transaction(self, **_: Any) -> Any:
        return call_result.StartTransaction(
            transaction_id=next(_TRANSACTION_IDS),
            id_tag_info={"status": AuthorizationStatus.accepted},
        )

    @on(Action.meter_values)
    async def on_meter_values(self, **_: Any) -> Any:
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    async def on_stop_transaction(self, **_: Any) -> Any:
        return call_result.StopTransaction()


async def _handler(ws: ServerConnection) -> None:
    path = ws.request.path if ws.request is not None else "/unknown"
    charge_point = BaselineChargePoint(path.rstrip("/").rsplit("/", 1)[-1], ws)
    try:
        await charge_point.start()
    except Exception:  # a closed socket ends the charger, never the server
        return


def _health(connection: ServerConnection, request: Request) -> Response | None:
    if request.path == "/health":
        return connection.respond(HTTPStatus.OK, "ok\n")
    if request.path == "/calls":
        return connection.respond(HTTPStatus.OK, f"{_CALLS[0]}\n")
    return None


async def main(port: int) -> None:
    """Serve until cancelled (SIGINT)."""
    async with serve(
        _handler,
        "127.0.0.1",
        port,
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        process_request=_health,
        compression=None,
        ping_interval=60,
    ):
        await asyncio.Future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    try:
        import uvloop

        uvloop.run(main(args.port))
    except KeyboardInterrupt:
        pass
