"""Typed keys of what the application and each request carry; the one place they are declared."""

from __future__ import annotations

from aiohttp import web

from core.runtime import Resources
from core.services.auth import Principal, TokenService
from core.services.commands import CommandRecorder
from management_api.metrics import ApiMetrics

#: The process' shared resources (database, buses, token store, rate limiter, clock).
RESOURCES = web.AppKey("resources", Resources)
#: Issues and checks access tokens.
TOKENS = web.AppKey("tokens", TokenService)
#: Prometheus collectors of this application.
METRICS = web.AppKey("metrics", ApiMetrics)
#: Sends remote commands and records their answers (started with the application).
COMMAND_RECORDER = web.AppKey("command_recorder", CommandRecorder)
#: Open /events websockets, closed with GOING_AWAY on shutdown.
EVENT_SOCKETS = web.AppKey("event_sockets", set[web.WebSocketResponse])
#: The OpenAPI document, rendered once at start-up.
OPENAPI = web.AppKey("openapi", bytes)

#: The request's correlation id (sent in X-Request-ID or generated).
REQUEST_ID = web.RequestKey("request_id", str)
#: The authenticated caller, set before an authenticated view runs.
PRINCIPAL = web.RequestKey("principal", Principal)
