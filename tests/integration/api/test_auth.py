"""Token lifecycle of SPEC section 5: issue, expiry, refresh, revoke, re-issue, and the 401s."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from config.settings import Settings
from core.clock import FixedClock
from core.ratelimit import RedisRateLimiter
from core.runtime import Resources, open_resources
from core.tokens import InMemoryTokenStore, RedisTokenStore
from management_api.app import create_app
from tests.conftest import reset_tables
from tests.integration.api.conftest import (
    ADMIN_ID,
    ADMIN_SECRET,
    API,
    Caller,
    PartnerCallers,
    assert_problem,
    login,
)

JWT_SECRET = "jwt-secret-for-tests-only-0123456789"


async def assert_401(response: Any, detail_part: str | None = None) -> None:
    body = await response.json()
    assert response.status == 401, body
    assert response.content_type == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(body, 401)
    if detail_part is not None:
        assert detail_part in body["detail"]


async def test_token_response_shape_and_claims(api: TestClient[Any, Any]) -> None:
    response = await api.post(
        f"{API}/auth/token", json={"client_id": ADMIN_ID, "client_secret": ADMIN_SECRET}
    )
    body = await response.json()
    assert response.status == 200
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 120
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "HS256"
    claims = jwt.decode(
        body["access_token"], JWT_SECRET, algorithms=["HS256"], audience="evcsms-management-api"
    )
    assert claims["sub"] == ADMIN_ID
    assert claims["role"] == "admin"
    assert claims["jti"]
    assert claims["exp"] - claims["iat"] == 120


async def test_secrets_are_stored_hashed(admin: Caller, resources: Resources) -> None:
    partner = await admin.ok("POST", "/partners", 201, json={"name": "hashed-secrets"})
    created = await admin.ok(
        "POST", f"/partners/{partner['id']}/clients", 201, json={"role": "viewer"}
    )
    async with resources.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT client_id, secret_hash FROM api_client"))).all()
    hashes = {client_id: secret_hash for client_id, secret_hash in rows}
    assert hashes[created["client_id"]].startswith("$argon2")
    assert created["client_secret"] not in hashes[created["client_id"]]
    assert hashes[ADMIN_ID].startswith("$argon2")


@pytest.mark.parametrize(
    "body",
    [
        {"client_id": ADMIN_ID, "client_secret": "wrong"},
        {"client_id": "nobody", "client_secret": ADMIN_SECRET},
    ],
)
async def test_bad_credentials_are_401(api: TestClient[Any, Any], body: dict[str, str]) -> None:
    response = await api.post(f"{API}/auth/token", json=body)
    await assert_401(response, "invalid client credentials")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"client_id": ADMIN_ID}, 422),
        ({"client_id": ADMIN_ID, "client_secret": ADMIN_SECRET, "scope": "x"}, 422),
        ({"client_id": 1, "client_secret": ADMIN_SECRET}, 422),
    ],
)
async def test_token_request_validation(
    api: TestClient[Any, Any], body: dict[str, Any], status: int
) -> None:
    response = await api.post(f"{API}/auth/token", json=body)
    problem = await response.json()
    assert response.status == status
    assert_problem(problem, status)
    assert problem["errors"]


async def test_malformed_json_and_wrong_content_type(api: TestClient[Any, Any]) -> None:
    response = await api.post(
        f"{API}/auth/token", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert response.content_type == "application/problem+json"
    response = await api.post(f"{API}/auth/token", data=b"client_id=admin")
    assert response.status == 415


async def test_missing_and_malformed_authorization(api: TestClient[Any, Any]) -> None:
    response = await api.get(f"{API}/stations")
    await assert_401(response, "missing")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="evcsms"'
    response = await api.get(f"{API}/stations", headers={"Authorization": "Basic YTpi"})
    await assert_401(response)
    response = await api.get(f"{API}/stations", headers={"Authorization": "Bearer not-a-jwt"})
    await assert_401(response, "invalid token")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


async def test_forged_tokens_are_rejected(api: TestClient[Any, Any], admin: Caller) -> None:
    assert admin.token is not None
    claims = jwt.decode(admin.token, options={"verify_signature": False})
    # Same claims, other key; and the "none" algorithm.
    other_key = jwt.encode(claims, "another-secret-of-sufficient-length-123", algorithm="HS256")
    unsigned = jwt.encode(claims, "", algorithm="none")
    for token in (other_key, unsigned):
        response = await api.get(f"{API}/stations", headers={"Authorization": f"Bearer {token}"})
        await assert_401(response, "invalid token")
    # The genuine one still works.
    await admin.ok("GET", "/stations")


async def test_good_signature_but_unknown_jti_is_rejected(
    api: TestClient[Any, Any], admin: Caller
) -> None:
    assert admin.token is not None
    claims = jwt.decode(admin.token, options={"verify_signature": False})
    claims["jti"] = "never-issued"
    token = jwt.encode(claims, JWT_SECRET, algorithm="HS256")
    response = await api.get(f"{API}/stations", headers={"Authorization": f"Bearer {token}"})
    await assert_401(response, "revoked or replaced")


async def test_refresh_kills_the_presented_token(api: TestClient[Any, Any], admin: Caller) -> None:
    body = await admin.ok("POST", "/auth/refresh")
    assert body["token_type"] == "Bearer"
    assert body["access_token"] != admin.token
    await assert_401(await admin.get("/stations"), "revoked or replaced")
    await assert_401(await admin.post("/auth/refresh"))
    fresh = Caller(api, body["access_token"], ADMIN_ID)
    await fresh.ok("GET", "/stations")


async def test_revoke_kills_the_token(api: TestClient[Any, Any], admin: Caller) -> None:
    await admin.ok("POST", "/auth/revoke", 204)
    await assert_401(await admin.get("/stations"), "revoked or replaced")
    await assert_401(await admin.post("/auth/revoke"))
    again = await login(api, ADMIN_ID, ADMIN_SECRET)
    await again.ok("GET", "/stations")


async def test_new_token_kills_the_previous_one(
    api: TestClient[Any, Any], admin: Caller, acme: PartnerCallers
) -> None:
    first = acme.operator
    secret = acme.secrets[first.client_id]
    second = await login(api, first.client_id, secret)
    await assert_401(await first.get("/stations"), "revoked or replaced")
    await second.ok("GET", "/stations")
    # Other clients (even of the same partner) keep theirs.
    await acme.viewer.ok("GET", "/stations")
    await admin.ok("GET", "/stations")


async def test_disabling_a_partner_kills_its_tokens(
    api: TestClient[Any, Any], admin: Caller, acme: PartnerCallers
) -> None:
    await admin.ok("PATCH", f"/partners/{acme.id}", json={"disabled": True})
    await assert_401(await acme.operator.get("/stations"))
    await assert_401(await acme.viewer.get("/stations"))
    secret = acme.secrets[acme.operator.client_id]
    response = await api.post(
        f"{API}/auth/token",
        json={"client_id": acme.operator.client_id, "client_secret": secret},
    )
    await assert_401(response, "invalid client credentials")
    await admin.ok("PATCH", f"/partners/{acme.id}", json={"disabled": False})
    again = await login(api, acme.operator.client_id, secret)
    await again.ok("GET", "/stations")


async def test_deleting_a_client_kills_its_token(admin: Caller, acme: PartnerCallers) -> None:
    clients = await admin.ok("GET", f"/partners/{acme.id}/clients")
    viewer = next(c for c in clients["items"] if c["client_id"] == acme.viewer.client_id)
    await admin.ok("DELETE", f"/partners/{acme.id}/clients/{viewer['id']}", 204)
    await assert_401(await acme.viewer.get("/stations"))
    await acme.operator.ok("GET", "/stations")


# --- expiry, with a short TTL and a clock the test moves ------------------------------------


@pytest.fixture
async def clocked(
    aiohttp_client: Callable[..., Any], settings: Settings
) -> AsyncIterator[tuple[TestClient[Any, Any], FixedClock]]:
    """The API with TOKEN_TTL_SECONDS=2 and a clock the test advances instead of sleeping."""
    clock = FixedClock(datetime.now(UTC))
    short = settings.model_copy(update={"token_ttl_seconds": 2})
    async with open_resources(short, migrate=False, clock=clock) as res:
        await reset_tables(res)
        yield await aiohttp_client(create_app(res)), clock


async def test_token_expires_after_ttl(
    clocked: tuple[TestClient[Any, Any], FixedClock],
) -> None:
    client, clock = clocked
    response = await client.post(
        f"{API}/auth/token", json={"client_id": ADMIN_ID, "client_secret": ADMIN_SECRET}
    )
    assert (await response.json())["expires_in"] == 2
    caller = Caller(client, (await response.json())["access_token"], ADMIN_ID)
    clock.advance(1)
    await caller.ok("GET", "/station-types")
    clock.advance(1.5)
    await assert_401(await caller.get("/station-types"), "expired")
    await assert_401(await caller.post("/auth/refresh"), "expired")


async def test_in_memory_store_forgets_expired_tokens() -> None:
    now = [time.monotonic()]
    store = InMemoryTokenStore(clock=lambda: now[0])
    await store.issue("c", "jti-1", 2)
    assert await store.is_live("jti-1")
    now[0] += 2.5
    assert not await store.is_live("jti-1")


# --- Redis token store and rate limiter ------------------------------------------------------


@pytest.fixture
async def redis_api(
    aiohttp_client: Callable[..., Any], settings: Settings, redis_url: str
) -> AsyncIterator[TestClient[Any, Any]]:
    """The API with REDIS_URL set: tokens and rate-limit buckets live in Redis."""
    shared = settings.model_copy(update={"redis_url": redis_url})
    async with open_resources(shared, migrate=False) as res:
        await reset_tables(res)
        # Keys private to this test: other test sessions share the Redis server.
        prefix = f"test-{uuid.uuid4().hex}:"
        res.token_store = RedisTokenStore(res.redis, prefix=prefix + "token:")
        res.rate_limiter = RedisRateLimiter(res.redis, 0.5, 5, prefix=prefix + "rl:")
        yield await aiohttp_client(create_app(res))


async def test_redis_token_store_lifecycle(redis_api: TestClient[Any, Any]) -> None:
    first = await login(redis_api, ADMIN_ID, ADMIN_SECRET)
    await first.ok("GET", "/station-types")
    second = await login(redis_api, ADMIN_ID, ADMIN_SECRET)
    await assert_401(await first.get("/station-types"), "revoked or replaced")
    refreshed = await second.ok("POST", "/auth/refresh")
    await assert_401(await second.get("/station-types"))
    third = Caller(redis_api, refreshed["access_token"], ADMIN_ID)
    await third.ok("POST", "/auth/revoke", 204)
    await assert_401(await third.get("/station-types"))


async def test_rate_limit_per_client_is_429_with_retry_after(
    redis_api: TestClient[Any, Any],
) -> None:
    caller = await login(redis_api, ADMIN_ID, ADMIN_SECRET)
    statuses = []
    for _ in range(12):
        response = await caller.get("/station-types")
        statuses.append(response.status)
        if response.status == 429:
            body = await response.json()
            assert_problem(body, 429)
            assert int(response.headers["Retry-After"]) >= 1
            break
    assert statuses[0] == 200
    assert statuses[-1] == 429
