"""A small, honest fake central system for testing the simulator: raw OCPP-J over websockets.

It answers the charger's CALLs the way a central system would (with scriptable boot statuses,
delays, CALLERRORs and silence), records every frame, can send CALLs to a connected charger
while that charger waits for an answer of its own, and validates every CALL it receives and
every answer to its own CALLs against the official OCPP JSON schemas (shipped with the ``ocpp``
package): a payload the real central system would reject fails the test here first.

Also runnable on its own as the far end of a scale run (validation off, counters only):
``python -m tests.integration.simulator.fake_csms --port 9100``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import Any

import jsonschema
import ocpp
import orjson
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

SCHEMAS = Path(ocpp.__file__).parent
PROTOCOLS = ("ocpp1.6", "ocpp2.0.1")


@cache
def _validator(protocol: str, name: str) -> Any:
    folder = "v16" if protocol == "ocpp1.6" else "v201"
    schema = json.loads((SCHEMAS / folder / "schemas" / f"{name}.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def schema_errors(protocol: str, action: str, payload: Any, *, response: bool) -> list[str]:
    """Violations of the official schema of ``action`` (its request, or its response)."""
    if protocol == "ocpp1.6":
        name = f"{action}Response" if response else action
    else:
        name = f"{action}Response" if response else f"{action}Request"
    try:
        validator = _validator(protocol, name)
    except FileNotFoundError:
        return [f"no schema for {name}"]
    return [
        f"{protocol} {name}: {error.message} at {list(error.absolute_path)}"
        for error in validator.iter_errors(payload)
    ]


def now_iso() -> str:
    """The current time as OCPP payloads carry it."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Frame:
    """A CALL a charger sent."""

    charge_point_id: str
    protocol: str
    action: str
    payload: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class Link:
    """One charger's live websocket and the CALL we may be waiting on."""

    charge_point_id: str
    protocol: str
    ws: ServerConnection
    authorization: str | None
    pending: dict[str, asyncio.Future[list[Any]]] = field(default_factory=dict)


class FakeCsms:
    """An in-test central system; every knob is a plain attribute tests may change."""

    def __init__(
        self,
        *,
        interval: int = 60,
        validate: bool = True,
        known: set[str] | None = None,
        passwords: dict[str, str] | None = None,
        record: bool = True,
    ) -> None:
        self.interval = interval
        self.validate = validate
        self.known = known
        self.passwords = passwords or {}
        self.record = record
        #: Boot statuses to answer per charger, consumed in order; then Accepted.
        self.boot_script: dict[str, list[str]] = {}
        #: Seconds to wait before answering an action.
        self.delays: dict[str, float] = {}
        #: Actions never answered (the charger must time out).
        self.silent: set[str] = set()
        #: Actions answered with this CALLERROR code.
        self.call_errors: dict[str, str] = {}
        #: idTag -> status (Accepted when absent).
        self.tag_status: dict[str, str] = {}
        self.frames: list[Frame] = []
        self.errors: list[str] = []
        self.links: dict[str, Link] = {}
        self.connections: dict[str, int] = {}
        self.handshakes: list[tuple[str, str | None, str | None]] = []
        #: When each handshake arrived (monotonic), to check the chargers' back-off.
        self.handshake_times: list[float] = []
        self.counts: dict[str, int] = {}
        self._transaction_ids = itertools.count(1)
        self._call_ids = itertools.count(1)
        self._server: Server | None = None
        self.port = 0

    # lifecycle -----------------------------------------------------------------------------

    async def start(self, port: int = 0) -> int:
        """Listen on 127.0.0.1 (a free port unless given); returns the port."""
        self._server = await serve(
            self._handler,
            "127.0.0.1",
            port,
            subprotocols=list(PROTOCOLS),  # type: ignore[arg-type]
            process_request=self._check_request,
            compression=None,
            ping_interval=None,
            max_queue=4,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    @property
    def url(self) -> str:
        """What to pass as --url."""
        return f"ws://127.0.0.1:{self.port}/ocpp"

    async def close(self) -> None:
        """Stop listening and drop every charger."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        charge_point_id = request.path.rstrip("/").rsplit("/", 1)[-1]
        authorization = request.headers.get("Authorization")
        offered = request.headers.get("Sec-WebSocket-Protocol")
        self.handshakes.append((charge_point_id, authorization, offered))
        self.handshake_times.append(time.monotonic())
        if self.known is not None and charge_point_id not in self.known:
            return connection.respond(HTTPStatus.NOT_FOUND, "unknown charging station\n")
        password = self.passwords.get(charge_point_id)
        if password is not None:
            expected = (
                "Basic " + base64.b64encode(f"{charge_point_id}:{password}".encode()).decode()
            )
            if authorization != expected:
                response = connection.respond(HTTPStatus.UNAUTHORIZED, "bad credentials\n")
                response.headers["WWW-Authenticate"] = 'Basic realm="ocpp"'
                return response
        return None

    # frames --------------------------------------------------------------------------------

    async def _handler(self, ws: ServerConnection) -> None:
        charge_point_id = ws.request.path.rstrip("/").rsplit("/", 1)[-1] if ws.request else "?"
        protocol = ws.subprotocol or "ocpp1.6"
        link = Link(
            charge_point_id,
            protocol,
            ws,
            ws.request.headers.get("Authorization") if ws.request else None,
        )
        self.links[charge_point_id] = link
        self.connections[charge_point_id] = self.connections.get(charge_point_id, 0) + 1
        tasks: set[asyncio.Task[None]] = set()
        try:
            async for data in ws:
                frame = orjson.loads(data)
                if isinstance(data, bytes):
                    self.errors.append(f"{charge_point_id}: binary frame")
                if frame[0] == 2:
                    task = asyncio.create_task(self._answer(link, frame))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                elif frame[0] in (3, 4):
                    future = link.pending.pop(frame[1], None)
                    if future is None:
                        self.errors.append(f"{charge_point_id}: answer to unknown id {frame[1]}")
                    elif not future.done():
                        future.set_result(frame)
        except ConnectionClosed:
            pass
        finally:
            for task in tasks:
                task.cancel()
            if self.links.get(charge_point_id) is link:
                del self.links[charge_point_id]

    async def _answer(self, link: Link, frame: list[Any]) -> None:
        _, unique_id, action, payload = frame
        self.counts[action] = self.counts.get(action, 0) + 1
        if self.record:
            self.frames.append(Frame(link.charge_point_id, link.protocol, action, payload))
        if self.validate:
            self.errors.extend(
                f"{link.charge_point_id}: {error}"
                for error in schema_errors(link.protocol, action, payload, response=False)
            )
        if action in self.silent:
            return
        delay = self.delays.get(action)
        if delay:
            await asyncio.sleep(delay)
        code = self.call_errors.get(action)
        if code is not None:
            reply: list[Any] = [4, unique_id, code, "fake error", {}]
        else:
            reply = [3, unique_id, self._result(link, action, payload)]
        with contextlib.suppress(ConnectionClosed):
            await link.ws.send(orjson.dumps(reply).decode())

    def _result(self, link: Link, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        v16 = link.protocol == "ocpp1.6"
        if action == "BootNotification":
            script = self.boot_script.get(link.charge_point_id)
            status = script.pop(0) if script else "Accepted"
            return {"status": status, "currentTime": now_iso(), "interval": self.interval}
        if action == "Heartbeat":
            return {"currentTime": now_iso()}
        if action == "Authorize":
            tag = payload["idTag"] if v16 else payload["idToken"]["idToken"]
            status = self.tag_status.get(tag, "Accepted")
            return {"idTagInfo": {"status": status}} if v16 else {"idTokenInfo": {"status": status}}
        if action == "StartTransaction":
            status = self.tag_status.get(payload["idTag"], "Accepted")
            return {"transactionId": next(self._transaction_ids), "idTagInfo": {"status": status}}
        if action == "StopTransaction":
            return {"idTagInfo": {"status": "Accepted"}}
        if action == "TransactionEvent" and payload.get("eventType") == "Started":
            token = payload.get("idToken", {}).get("idToken", "")
            return {"idTokenInfo": {"status": self.tag_status.get(token, "Accepted")}}
        if action == "DataTransfer":
            return {"status": "UnknownVendorId"}
        return {}

    # what tests do -------------------------------------------------------------------------

    async def call(
        self, charge_point_id: str, action: str, payload: dict[str, Any], timeout: float = 10
    ) -> list[Any]:
        """Send a CALL to a connected charger; returns its CALLRESULT/CALLERROR frame."""
        link = self.links[charge_point_id]
        unique_id = f"cs-{next(self._call_ids)}"
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        link.pending[unique_id] = future
        await link.ws.send(orjson.dumps([2, unique_id, action, payload]).decode())
        async with asyncio.timeout(timeout):
            answer = await future
        if self.validate and answer[0] == 3:
            self.errors.extend(
                f"{charge_point_id}: {error}"
                for error in schema_errors(link.protocol, action, answer[2], response=True)
            )
        return answer

    async def drop(self, charge_point_id: str) -> None:
        """Close a charger's websocket from the server side (a network drop)."""
        await self.links[charge_point_id].ws.close(1011, "test drop")

    def sent(self, charge_point_id: str | None = None, action: str | None = None) -> list[Frame]:
        """Recorded CALLs, filtered."""
        return [
            frame
            for frame in self.frames
            if (charge_point_id is None or frame.charge_point_id == charge_point_id)
            and (action is None or frame.action == action)
        ]

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 15, what: str = "condition"
    ) -> Any:
        """Poll ``predicate`` until it is truthy; fails the test after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; errors={self.errors[:5]}")
            await asyncio.sleep(0.02)


async def _serve_forever(port: int, interval: int) -> None:
    csms = FakeCsms(interval=interval, validate=False, record=False)
    await csms.start(port)
    print(f"fake csms listening on ws://127.0.0.1:{port}/ocpp", flush=True)  # noqa: T201
    while True:
        await asyncio.sleep(10)
        total = sum(csms.counts.values())
        print(f"links={len(csms.links)} calls={total} {csms.counts}", flush=True)  # noqa: T201


def main() -> None:
    """Run the fake on its own, e.g. as the far end of a scale run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--interval", type=int, default=60, help="heartbeat interval to hand out")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.run(_serve_forever(args.port, args.interval))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
