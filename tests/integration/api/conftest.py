"""Fixtures for the management API: an app on the test database, callers of each role.

``api`` is pytest-aiohttp's client on ``create_app(resources)`` (the bootstrap admin is created
on start-up); ``admin``, ``acme`` and ``globex`` are callers holding real tokens obtained
through ``POST /auth/token``, so every test goes through the same door as a partner would.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from core.runtime import Resources
from management_api.app import create_app

API = "/api/v1"
ADMIN_ID = "admin"
ADMIN_SECRET = "admin-secret-for-tests"

_seq = itertools.count(1)


def unique(prefix: str) -> str:
    """A short name unique within the test session."""
    return f"{prefix}-{next(_seq)}-{uuid.uuid4().hex[:6]}"


@dataclass
class Caller:
    """Someone holding a token: thin helpers that prefix /api/v1 and send the bearer."""

    client: TestClient[Any, Any]
    token: str | None
    client_id: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def call(self, method: str, path: str, **kwargs: Any) -> ClientResponse:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.client.request(method, API + path, headers=headers, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.call("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.call("PUT", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.call("PATCH", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.call("DELETE", path, **kwargs)

    async def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        """Call and assert the status; return the JSON body (None for 204)."""
        response = await self.call(method, path, **kwargs)
        body = await response.text()
        assert response.status == status, f"{method} {path} -> {response.status}: {body}"
        return None if status == 204 else await response.json()


@dataclass
class PartnerCallers:
    """A partner with an operator and a viewer client, both logged in."""

    id: str
    name: str
    operator: Caller
    viewer: Caller
    secrets: dict[str, str] = field(default_factory=dict)


async def login(client: TestClient[Any, Any], client_id: str, secret: str) -> Caller:
    """Get a token through the API."""
    response = await client.post(
        f"{API}/auth/token", json={"client_id": client_id, "client_secret": secret}
    )
    body = await response.json()
    assert response.status == 200, body
    return Caller(client, body["access_token"], client_id)


async def make_partner(admin: Caller, name: str | None = None) -> PartnerCallers:
    """A partner with an operator and a viewer, through the admin endpoints."""
    partner = await admin.ok("POST", "/partners", 201, json={"name": name or unique("partner")})
    callers: dict[str, Caller] = {}
    secrets: dict[str, str] = {}
    for role in ("operator", "viewer"):
        created = await admin.ok(
            "POST", f"/partners/{partner['id']}/clients", 201, json={"role": role}
        )
        secrets[created["client_id"]] = created["client_secret"]
        callers[role] = await login(admin.client, created["client_id"], created["client_secret"])
    return PartnerCallers(
        partner["id"], partner["name"], callers["operator"], callers["viewer"], secrets
    )


@pytest.fixture
async def api(aiohttp_client: Callable[..., Any], resources: Resources) -> TestClient[Any, Any]:
    """The API on the test database, bootstrap admin in place."""
    client: TestClient[Any, Any] = await aiohttp_client(create_app(resources))
    return client


@pytest.fixture
async def admin(api: TestClient[Any, Any]) -> Caller:
    """The bootstrap admin, logged in."""
    return await login(api, ADMIN_ID, ADMIN_SECRET)


@pytest.fixture
async def acme(admin: Caller) -> PartnerCallers:
    """A first partner."""
    return await make_partner(admin, unique("acme"))


@pytest.fixture
async def globex(admin: Caller) -> PartnerCallers:
    """A second partner, to prove isolation."""
    return await make_partner(admin, unique("globex"))


@pytest.fixture
async def type_ids(admin: Caller) -> dict[str, str]:
    """Ids of the five seeded station types by name."""
    page = await admin.ok("GET", "/station-types")
    return {item["name"]: item["id"] for item in page["items"]}


async def make_station(caller: Caller, type_id: str, **overrides: Any) -> dict[str, Any]:
    """Register a station through the API."""
    body: dict[str, Any] = {
        "name": unique("st")[:32],
        "charge_point_id": unique("CP"),
        "type_id": type_id,
    }
    body.update(overrides)
    result: dict[str, Any] = await caller.ok("POST", "/stations", 201, json=body)
    return result


def assert_problem(body: dict[str, Any], status: int) -> None:
    """The RFC 9457 members every error carries."""
    assert body["status"] == status
    assert body["type"]
    assert body["title"]
    assert body["request_id"]
