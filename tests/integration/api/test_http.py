"""The HTTP edge: problem+json everywhere, request ids and access logs, probes, metrics, docs."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
import structlog
from aiohttp import web
from aiohttp.test_utils import TestClient

from config.logging import configure_logging
from config.settings import LogFormat, Settings
from core.runtime import Resources
from management_api.app import create_app
from management_api.openapi import operation_ids
from tests.integration.api.conftest import API, Caller, PartnerCallers, assert_problem


async def test_router_404_and_405_are_problems(api: TestClient[Any, Any], admin: Caller) -> None:
    for path in ("/nowhere", f"{API}/stations/not-a-uuid", f"{API}/nothing"):
        response = await api.get(path, headers=admin.headers)
        body = await response.json()
        assert response.status == 404, path
        assert response.content_type == "application/problem+json"
        assert_problem(body, 404)
        assert body["instance"] == path
    response = await api.patch(f"{API}/partners", headers=admin.headers, json={})
    body = await response.json()
    assert response.status == 405
    assert response.content_type == "application/problem+json"
    assert "GET" in response.headers["Allow"]
    assert_problem(body, 405)


async def test_body_too_large_is_413(admin: Caller) -> None:
    response = await admin.post(
        "/partners", data=b"x" * (300 * 1024), headers={"Content-Type": "application/json"}
    )
    assert response.status == 413
    assert_problem(await response.json(), 413)


async def test_unexpected_exception_is_a_bare_500(
    aiohttp_client: Callable[..., Any], resources: Resources
) -> None:
    app = create_app(resources)

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret internals: password=hunter2")

    app.router.add_get("/boom", boom)
    client: TestClient[Any, Any] = await aiohttp_client(app)
    response = await client.get("/boom", headers={"X-Request-ID": "trace-500"})
    text = await response.text()
    assert response.status == 500
    assert response.content_type == "application/problem+json"
    body = orjson.loads(text)
    assert_problem(body, 500)
    assert body["request_id"] == "trace-500"
    assert response.headers["X-Request-ID"] == "trace-500"
    assert "hunter2" not in text
    assert "RuntimeError" not in text
    assert "Traceback" not in text


async def test_request_id_kept_or_generated(api: TestClient[Any, Any]) -> None:
    response = await api.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    response = await api.get("/health")
    generated = response.headers["X-Request-ID"]
    assert len(generated) >= 16
    # Something that is not an id (spaces, newlines for the logs) is replaced.
    response = await api.get("/health", headers={"X-Request-ID": "a b c"})
    assert response.headers["X-Request-ID"] != "a b c"
    response = await api.get(f"{API}/stations", headers={"X-Request-ID": "err-1"})
    assert response.status == 401
    assert response.headers["X-Request-ID"] == "err-1"
    assert (await response.json())["request_id"] == "err-1"


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Logs as JSON lines into a buffer, restored afterwards."""
    stream = io.StringIO()
    configure_logging(Settings(log_format=LogFormat.JSON, log_level="INFO"), stream=stream)
    yield stream
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()


async def test_one_access_log_line_per_request_with_request_id(
    log_stream: io.StringIO, admin: Caller
) -> None:
    log_stream.truncate(0)
    log_stream.seek(0)
    await admin.ok("GET", "/stations", headers={"X-Request-ID": "log-me-1"})
    await admin.ok("POST", "/auth/refresh", headers={"X-Request-ID": "log-me-2"})
    lines = [orjson.loads(line) for line in log_stream.getvalue().splitlines() if line.strip()]
    access = [line for line in lines if line.get("event") == "http_request"]
    assert [line["request_id"] for line in access] == ["log-me-1", "log-me-2"]
    first = access[0]
    assert first["status"] == 200
    assert first["method"] == "GET"
    assert first["route"] == "/api/v1/stations"
    assert first["client_id"] == "admin"
    # Lines logged while serving a request carry its id too.
    refreshed = [line for line in lines if line.get("event") == "token_refreshed"]
    assert refreshed[0]["request_id"] == "log-me-2"
    assert "access_token" not in log_stream.getvalue()


async def test_health_ready_metrics(api: TestClient[Any, Any], admin: Caller) -> None:
    response = await api.get("/health")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}
    response = await api.get("/ready")
    assert await response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "disabled"},
    }
    await admin.ok("GET", "/stations")
    await admin.get("/stations/not-a-uuid")
    response = await api.get("/metrics")
    assert response.status == 200
    assert response.content_type.startswith("text/plain")
    metrics = await response.text()
    assert 'api_requests_total{method="GET",route="/api/v1/stations",status="200"} 1.0' in metrics
    assert 'route="unmatched",status="404"' in metrics
    assert (
        'api_request_duration_seconds_bucket{le="0.025",method="GET",route="/api/v1/stations"}'
        in metrics
    )


async def test_ready_checks_redis_when_configured(
    aiohttp_client: Callable[..., Any], settings: Settings, redis_url: str
) -> None:
    from core.runtime import open_resources

    async with open_resources(
        settings.model_copy(update={"redis_url": redis_url}), migrate=False
    ) as res:
        client: TestClient[Any, Any] = await aiohttp_client(create_app(res))
        response = await client.get("/ready")
        assert (await response.json())["checks"] == {"database": "ok", "redis": "ok"}
        redis, res.redis = res.redis, _Unreachable()  # Redis gone: not ready
        try:
            response = await client.get("/ready")
        finally:
            res.redis = redis
        assert response.status == 503
        body = await response.json()
        assert_problem(body, 503)
        assert body["detail"] == "not ready: redis unreachable"


class _Unreachable:
    async def ping(self) -> bool:
        raise ConnectionError("down")


async def test_openapi_document_and_offline_viewer(api: TestClient[Any, Any]) -> None:
    response = await api.get(f"{API}/openapi.json")
    assert response.status == 200
    document = await response.json()
    assert document["openapi"].startswith("3.")
    ids = set(operation_ids(document))
    assert {
        "issue_token",
        "refresh_token",
        "revoke_token",
        "list_stations",
        "create_station",
    } <= ids
    station_out = document["components"]["schemas"]["StationOut"]
    assert "ocpp_password" not in station_out["properties"]
    assert "active_transactions" in station_out["properties"]
    create = document["paths"]["/api/v1/stations"]["post"]
    assert {"201", "401", "403", "409", "422"} <= set(create["responses"])
    params = {p["name"] for p in document["paths"]["/api/v1/stations"]["get"]["parameters"]}
    assert {
        "limit",
        "cursor",
        "sort",
        "type_id",
        "current_type",
        "site_id",
        "status",
        "online",
        "firmware_version",
        "q",
        "partner_id",
    } <= params
    response = await api.get("/api/docs")
    page = await response.text()
    assert response.status == 200
    assert "http://" not in page
    assert "https://" not in page
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        assert f"/api/docs/static/{asset}" in page
        assert (await api.get(f"/api/docs/static/{asset}")).status == 200
    init = await api.get("/api/docs/init.js")
    assert "/api/v1/openapi.json" in await init.text()
    response = await api.get(f"{API}/docs", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/api/docs"


async def test_viewer_role_is_read_only_everywhere(
    api: TestClient[Any, Any], acme: PartnerCallers
) -> None:
    """Every write operation of the document answers 403 to a viewer (before any lookup)."""
    document = await (await api.get(f"{API}/openapi.json")).json()
    checked = 0
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            if method == "get" or not op.get("security") or path.startswith(f"{API}/auth/"):
                continue
            concrete = path
            for param in op.get("parameters", []):
                if param["in"] == "path":
                    value = (
                        "clear-cache"
                        if param["name"] == "action"
                        else "00000000-0000-4000-8000-000000000000"
                    )
                    concrete = concrete.replace("{" + param["name"] + "}", value)
            response = await acme.viewer.client.request(
                method.upper(), concrete, headers=acme.viewer.headers, json={}
            )
            assert response.status == 403, (method, path, response.status)
            checked += 1
    assert checked >= 20
