"""Composition root of the management API: routes, middlewares, token service, start-up.

``create_app(resources)`` builds the aiohttp application around resources the caller opened
(``core.runtime.open_resources``); ``serve_api`` serves it until its block exits. On start-up
the bootstrap admin client (``ADMIN_CLIENT_ID``/``ADMIN_CLIENT_SECRET``) is created, or its
secret brought up to date.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from importlib.metadata import PackageNotFoundError, version

import orjson
import swagger_ui_bundle
from aiohttp import web

from config.logging import get_logger
from core.runtime import Resources
from core.services.auth import TokenService, ensure_admin_client, signing_secret
from core.services.commands import CommandRecorder
from management_api.endpoints import build_handler
from management_api.keys import (
    COMMAND_RECORDER,
    EVENT_SOCKETS,
    METRICS,
    OPENAPI,
    RESOURCES,
    TOKENS,
)
from management_api.metrics import ApiMetrics
from management_api.middlewares import problem_details, request_context
from management_api.openapi import build_openapi
from management_api.routes import all_routes
from management_api.views.docs import STATIC_PATH
from management_api.views.events import close_event_sockets

log = get_logger("management_api")

API_TITLE = "EV CSMS management API"
#: Largest request body accepted (bodies are small JSON documents; more is a 413).
MAX_BODY_BYTES = 256 * 1024


def _version() -> str:
    try:
        return version("evcsms")
    except PackageNotFoundError:  # running from a checkout without installing
        return "0.0.0"


async def _bootstrap_admin(app: web.Application) -> None:
    resources = app[RESOURCES]
    settings = resources.settings
    if not settings.admin_client_id:
        log.info("admin_client_not_configured")
        return
    if settings.admin_client_secret is None:
        log.warning("admin_client_secret_missing", client_id=settings.admin_client_id)
        return
    await ensure_admin_client(
        uow=resources.uow,
        client_id=settings.admin_client_id,
        client_secret=settings.admin_client_secret.get_secret_value(),
    )


async def _own_recorder(app: web.Application) -> AsyncIterator[None]:
    recorder = app[COMMAND_RECORDER]
    await recorder.start()
    yield
    await recorder.close()


def create_app(resources: Resources, *, recorder: CommandRecorder | None = None) -> web.Application:
    """Build the aiohttp application around already-open resources.

    ``recorder`` is shared with csms when both run in one process (the launcher), and then
    started and closed by the caller; without one the application owns its own.
    """
    settings = resources.settings
    app = web.Application(
        middlewares=[request_context, problem_details], client_max_size=MAX_BODY_BYTES
    )
    app[RESOURCES] = resources
    app[METRICS] = ApiMetrics()
    secret = None if settings.jwt_secret is None else settings.jwt_secret.get_secret_value()
    app[TOKENS] = TokenService(
        secret=signing_secret(secret),
        ttl_seconds=settings.token_ttl_seconds,
        store=resources.token_store,
        clock=resources.clock,
    )
    routes = all_routes()
    for prefix, route in routes:
        path = prefix + route.router_path
        app.router.add_route(
            route.method, path, build_handler(route.op), name=route.op.operation_id
        )
    app.router.add_static(STATIC_PATH, swagger_ui_bundle.swagger_ui_path, name="swagger_static")
    app[OPENAPI] = orjson.dumps(build_openapi(routes, title=API_TITLE, version=_version()))
    app.on_startup.append(_bootstrap_admin)
    app[EVENT_SOCKETS] = set()
    app.on_shutdown.append(close_event_sockets)
    if recorder is None:
        app[COMMAND_RECORDER] = CommandRecorder.from_resources(resources)
        app.cleanup_ctx.append(_own_recorder)
    else:
        app[COMMAND_RECORDER] = recorder
    return app


@contextlib.asynccontextmanager
async def serve_api(
    resources: Resources, *, recorder: CommandRecorder | None = None
) -> AsyncIterator[web.AppRunner]:
    """Serve HTTP until the block exits (``recorder``: see ``create_app``)."""
    settings = resources.settings
    runner = web.AppRunner(
        create_app(resources, recorder=recorder), access_log=None, handle_signals=False
    )
    await runner.setup()
    site = web.TCPSite(runner, settings.api_host, settings.api_port)
    await site.start()
    ports = sorted({address[1] for address in runner.addresses if isinstance(address, tuple)})
    log.info("api_listening", host=settings.api_host, port=ports[0] if ports else settings.api_port)
    try:
        yield runner
    finally:
        await runner.cleanup()
