"""``--register``: create the simulated stations and their id tags through the REST API first.

So a newcomer needs no manual setup: a token from the client credentials, a station type with
enough plugs, a partner named "Simulator" (when the client is an admin), then every station with
its connectors and every id tag. Anything that already exists (409) is left as it is, so running
the same command twice is fine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from simulator.logs import get_logger
from simulator.options import ChargerSpec, Options, id_tag

log = get_logger("simulator")

PARTNER_NAME = "Simulator"
#: Requests in flight at once: enough to register thousands of stations in seconds without
#: tripping a rate limiter built for partner applications.
CONCURRENCY = 16
#: Renew the token this long before it expires rather than on a 401 in the middle of a batch.
TOKEN_MARGIN_S = 15.0
_RETRIES = 6


class RegistrationError(Exception):
    """Registration cannot go on; the message says what the API answered."""


@dataclass(frozen=True, slots=True)
class StationType:
    """The station type chosen for the simulated stations."""

    id: str
    name: str
    plug_count: int
    max_power_kw: float

    @property
    def power_per_connector_w(self) -> float:
        """The power one connector delivers when all plugs share the type's maximum."""
        return self.max_power_kw * 1000.0 / max(self.plug_count, 1)


@dataclass(slots=True)
class Progress:
    """How far registration got; read by the progress display."""

    stations_total: int = 0
    stations_created: int = 0
    stations_existing: int = 0
    tags_total: int = 0
    tags_created: int = 0
    tags_existing: int = 0

    @property
    def stations_done(self) -> int:
        """Stations created or found."""
        return self.stations_created + self.stations_existing

    @property
    def tags_done(self) -> int:
        """Id tags created or found."""
        return self.tags_created + self.tags_existing


def _problem(status: int, body: Any) -> str:
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("title")
        if body.get("errors"):
            detail = f"{detail} {body['errors']}"
        if detail:
            return f"{status} {detail}"
    return str(status)


def api_base(url: str) -> str:
    """``http://host:8080`` or ``http://host:8080/api/v1`` -> the ``/api/v1`` base."""
    url = url.rstrip("/")
    return url if url.endswith("/api/v1") else f"{url}/api/v1"


class ApiClient:
    """A REST client that keeps a valid bearer token and retries what is worth retrying."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, client_id: str, client_secret: str
    ) -> None:
        self._session = session
        self._base = api_base(base_url)
        self._credentials = {"client_id": client_id, "client_secret": client_secret}
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def _send(
        self, method: str, path: str, body: Any, token: str | None
    ) -> tuple[int, Any, float | None]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            async with self._session.request(
                method, f"{self._base}{path}", json=body, headers=headers
            ) as response:
                text = await response.text()
                retry_after = response.headers.get("Retry-After")
                try:
                    payload: Any = await response.json(content_type=None) if text else None
                except ValueError:
                    payload = text
                delay = float(retry_after) if retry_after and retry_after.isdigit() else None
                return response.status, payload, delay
        except aiohttp.ClientError as exc:
            raise RegistrationError(f"cannot reach {self._base}: {exc}") from None
        except TimeoutError:
            raise RegistrationError(f"{method} {path}: no answer from {self._base}") from None

    async def token(self, *, stale: str | None = None) -> str:
        """A live token; a new one when it is about to expire or ``stale`` was refused."""
        async with self._lock:
            fresh = self._token is not None and self._token != stale
            if fresh and time.monotonic() < self._expires_at - TOKEN_MARGIN_S:
                assert self._token is not None
                return self._token
            status, body, _ = await self._send("POST", "/auth/token", self._credentials, None)
            if status != 200 or not isinstance(body, dict) or "access_token" not in body:
                raise RegistrationError(f"POST /auth/token: {_problem(status, body)}")
            self._token = str(body["access_token"])
            self._expires_at = time.monotonic() + float(body.get("expires_in") or 120)
            return self._token

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Send with the token; renew it on 401, wait on 429/503, retry a few times."""
        status, payload = 0, None
        for attempt in range(_RETRIES):
            token = await self.token()
            status, payload, retry_after = await self._send(method, path, body, token)
            if status == 401:
                # Issuing a token invalidates the client's previous one: renew once, retry.
                await self.token(stale=token)
                continue
            if status in (429, 502, 503):
                await asyncio.sleep(retry_after if retry_after is not None else 0.5 * 2**attempt)
                continue
            return status, payload
        return status, payload

    async def list_all(self, path: str) -> list[dict[str, Any]]:
        """Every item of a cursor-paginated list."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            query = "?limit=500" + (f"&cursor={cursor}" if cursor else "")
            status, body = await self.request("GET", f"{path}{query}")
            if status != 200 or not isinstance(body, dict):
                raise RegistrationError(f"GET {path}: {_problem(status, body)}")
            items.extend(body.get("items") or [])
            cursor = body.get("next_cursor")
            if not cursor:
                return items


def choose_type(types: Sequence[dict[str, Any]], connectors: int) -> StationType:
    """The smallest type with at least ``connectors`` plugs (the least powerful on a tie)."""
    fitting = [t for t in types if int(t.get("plug_count") or 0) >= connectors]
    if not fitting:
        largest = max((int(t.get("plug_count") or 0) for t in types), default=0)
        raise RegistrationError(
            f"no station type has {connectors} plugs (the largest has {largest}); "
            "use fewer --connectors or add a station type"
        )
    best = min(
        fitting,
        key=lambda t: (int(t["plug_count"]), float(t.get("max_power_kw") or 0), str(t["name"])),
    )
    return StationType(
        id=str(best["id"]),
        name=str(best["name"]),
        plug_count=int(best["plug_count"]),
        max_power_kw=float(best.get("max_power_kw") or 0),
    )


async def ensure_partner(api: ApiClient) -> str | None:
    """The id of the "Simulator" partner; None when the client is not an admin (no partners)."""
    status, body = await api.request("POST", "/partners", {"name": PARTNER_NAME})
    if status == 201 and isinstance(body, dict):
        log.info("partner_created", name=PARTNER_NAME)
        return str(body["id"])
    if status == 403:
        return None  # an operator client: its stations belong to its own partner
    if status == 409:
        for partner in await api.list_all("/partners"):
            if partner.get("name") == PARTNER_NAME:
                return str(partner["id"])
    raise RegistrationError(f"POST /partners: {_problem(status, body)}")


async def _create(
    api: ApiClient, semaphore: asyncio.Semaphore, path: str, body: dict[str, Any]
) -> bool:
    """POST one resource; True when created, False when it already existed."""
    async with semaphore:
        status, answer = await api.request("POST", path, body)
    if status == 201:
        return True
    if status == 409:
        return False
    raise RegistrationError(
        f"POST {path} {body.get('charge_point_id') or body.get('value')}: "
        f"{_problem(status, answer)}"
    )


async def register(
    options: Options, specs: Sequence[ChargerSpec], progress: Progress
) -> StationType:
    """Create every station (with connectors) and id tag of the run; returns the type used."""
    assert options.client_id is not None
    assert options.client_secret is not None
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        api = ApiClient(session, options.api, options.client_id, options.client_secret)
        station_type = choose_type(await api.list_all("/station-types"), options.connectors)
        partner_id = await ensure_partner(api)
        log.info(
            "registering",
            stations=len(specs),
            id_tags=options.tag_count,
            station_type=station_type.name,
            partner=PARTNER_NAME if partner_id else "own",
        )
        owner = {"partner_id": partner_id} if partner_id else {}
        progress.stations_total = len(specs)
        progress.tags_total = options.tag_count
        semaphore = asyncio.Semaphore(CONCURRENCY)

        async def station(spec: ChargerSpec) -> None:
            body: dict[str, Any] = {
                "name": spec.charge_point_id,
                "charge_point_id": spec.charge_point_id,
                "type_id": station_type.id,
                "connectors": [
                    {"connector_number": n, "name": f"Connector {n}"}
                    for n in range(1, spec.connectors + 1)
                ],
                **owner,
            }
            if options.password:
                body["ocpp_password"] = options.password
            if await _create(api, semaphore, "/stations", body):
                progress.stations_created += 1
            else:
                progress.stations_existing += 1

        async def tag(number: int) -> None:
            body = {"value": id_tag(options.id_prefix, number), "status": "Accepted", **owner}
            if await _create(api, semaphore, "/id-tags", body):
                progress.tags_created += 1
            else:
                progress.tags_existing += 1

        try:
            async with asyncio.TaskGroup() as group:
                for spec in specs:
                    group.create_task(station(spec))
                for number in range(1, options.tag_count + 1):
                    group.create_task(tag(number))
        except* RegistrationError as errors:
            raise errors.exceptions[0] from None
        log.info(
            "registered",
            stations_created=progress.stations_created,
            stations_existing=progress.stations_existing,
            id_tags_created=progress.tags_created,
            id_tags_existing=progress.tags_existing,
        )
        return station_type
