"""Liveness, readiness and Prometheus metrics, at the root for probes and scrapers."""

from __future__ import annotations

from aiohttp import web

from management_api.endpoints import operation, resources_of
from management_api.keys import METRICS
from management_api.problems import HttpProblem
from management_api.schemas.ops import Health, Ready, ReadyChecks


@operation(tag="ops", roles=None, response=Health)
async def health(request: web.Request) -> Health:
    """Liveness: the process answers."""
    return Health()


@operation(tag="ops", roles=None, response=Ready, errors={503})
async def ready(request: web.Request) -> Ready:
    """Readiness: the database answers, and Redis too when it is configured (503 otherwise)."""
    resources = resources_of(request)
    database = await resources.database_ready()
    redis = await resources.redis_ready()
    checks = ReadyChecks(
        database="ok" if database else "failed",
        redis="disabled" if redis is None else ("ok" if redis else "failed"),
    )
    if not database or redis is False:
        failed = [name for name, state in checks.model_dump().items() if state == "failed"]
        raise HttpProblem(503, f"not ready: {', '.join(failed)} unreachable")
    return Ready(checks=checks)


@operation(tag="ops", roles=None, media_type="text/plain")
async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics: requests by route and status, latency histogram, process stats."""
    collectors = request.app[METRICS]
    return web.Response(body=collectors.render(), headers={"Content-Type": collectors.content_type})
