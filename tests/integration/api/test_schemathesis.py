"""Property-based contract test: schemathesis drives every operation of the served document.

The document is fetched from a real server (port 0, its own event loop in a thread), so the
endpoints other modules add later are covered without touching this file. Cases run as the admin
(with a fresh token around the auth endpoints, whose refresh and revoke kill the token they are
called with) and must get no 5xx
and no answer that contradicts the document: status, content type, headers and body schema.
Websocket endpoints are left out: schemathesis speaks plain HTTP.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, assume, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.settings import Settings
from core.runtime import open_resources
from management_api.app import create_app
from tests.conftest import reset_tables
from tests.integration.api.conftest import ADMIN_ID, ADMIN_SECRET, API

#: Examples per operation and generation mode: keeps the whole run well under a minute.
MAX_EXAMPLES = 10
#: Paths served over a websocket upgrade (not plain HTTP).
WEBSOCKET_PATHS = frozenset({f"{API}/events"})
#: aiohttp's default limit on the request line (``max_line_size``).
MAX_REQUEST_LINE = 8190
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


class _ServerThread:
    """The API on a real socket, served by an event loop of its own."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="api-under-test", daemon=True)
        self.base_url = ""
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to the test through self.error
            self.error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with open_resources(self._settings, migrate=False) as resources:
            await reset_tables(resources)
            runner = web.AppRunner(create_app(resources), handle_signals=False)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = next(a[1] for a in runner.addresses if isinstance(a, tuple))
            self.base_url = f"http://127.0.0.1:{port}"
            self._ready.set()
            try:
                await self._stop.wait()
            finally:
                await runner.cleanup()

    def __enter__(self) -> _ServerThread:
        self._thread.start()
        if not self._ready.wait(timeout=60) or self.error is not None:
            raise RuntimeError(f"the API did not start: {self.error!r}")
        return self

    def __exit__(self, *_: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)


@pytest.fixture
def server(settings: Settings) -> Iterator[_ServerThread]:
    """A served API whose rate limits never get in the way of the generated traffic."""
    generous = settings.model_copy(
        update={"rate_limit_per_second": 1_000_000.0, "rate_limit_burst": 1_000_000}
    )
    with _ServerThread(generous) as running:
        yield running


def _token(session: requests.Session, base_url: str) -> str:
    response = session.post(
        f"{base_url}{API}/auth/token",
        json={"client_id": ADMIN_ID, "client_secret": ADMIN_SECRET},
        timeout=10,
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def _request_line_fits(case: schemathesis.Case[Any], base_url: str) -> bool:
    """Whether aiohttp's HTTP parser reads the request line at all.

    Strings of many multi-byte characters in the path and query can exceed its limit once
    percent-encoded; the parser then answers a bare 400 before any application code runs, which
    is transport behaviour, not the API's contract.
    """
    kwargs = case.as_transport_kwargs(base_url=base_url)
    prepared = requests.Request(
        kwargs["method"], kwargs["url"], params=kwargs.get("params")
    ).prepare()
    return len(prepared.path_url) + len(kwargs["method"]) + len(" HTTP/1.1") < MAX_REQUEST_LINE


def _is_websocket(path: str, definition: Any) -> bool:
    responses = definition.get("responses", {}) if isinstance(definition, dict) else {}
    return path in WEBSOCKET_PATHS or "101" in responses


def test_no_server_errors_and_no_contract_violations(server: _ServerThread) -> None:
    schema = schemathesis.openapi.from_url(f"{server.base_url}{API}/openapi.json")
    session = requests.Session()
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the document has an invalid operation: {result}"
        operations.append(result.ok())
    assert len(operations) >= 40
    tested = 0
    token: list[str] = []
    for operation in operations:
        if _is_websocket(operation.path, operation.definition.raw):
            continue
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: schemathesis.Case[Any]) -> None:
                if case.path.startswith(f"{API}/auth/") or not token:
                    # Refresh and revoke kill the token they are called with.
                    token[:] = [_token(session, server.base_url)]
                headers = {"Authorization": f"Bearer {token[0]}"}
                assume(_request_line_fits(case, server.base_url))
                response = case.call(base_url=server.base_url, session=session, headers=headers)
                case.validate_response(response, checks=CHECKS)

            try:
                run()
            except Unsatisfiable:
                # Nothing to break (no parameters, no body): only positive cases exist.
                assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label
        tested += 1
    assert tested == len([op for op in operations if not _is_websocket(op.path, op.definition.raw)])
