"""Request middlewares: correlation id, access log and metrics outside; problem details inside.

``request_context`` (outermost) gives every request an id (the client's ``X-Request-ID`` when it
is a sane token, else a new one), binds it into every log line of the request, echoes it in the
response, writes one access-log line and feeds the metrics. ``problem_details`` turns every
exception (the router's 404/405 included) into ``application/problem+json``; an unexpected one is
logged with its traceback and answered with a bare 500 that names the request id.
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from config.logging import get_logger
from management_api.keys import METRICS, REQUEST_ID
from management_api.metrics import UNMATCHED
from management_api.problems import internal_error, problem_for, render

log = get_logger("management_api")
access_log = get_logger("management_api.access")

#: A client-sent request id is kept when it looks like an id, not arbitrary text for the logs.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
REQUEST_ID_HEADER = "X-Request-ID"


def _route_label(request: web.Request) -> str:
    match_info = request.match_info
    resource = match_info.route.resource
    if resource is None or match_info.http_exception is not None:  # the router's 404/405
        return UNMATCHED
    return resource.canonical


def _request_id(request: web.Request) -> str:
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    return sent if _SANE_REQUEST_ID.match(sent) else uuid.uuid4().hex


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Correlation id, access log line and metrics for every request."""
    request_id = _request_id(request)
    request[REQUEST_ID] = request_id
    started = time.perf_counter()
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        try:
            response = await handler(request)
            elapsed = time.perf_counter() - started
            if not response.prepared:
                response.headers[REQUEST_ID_HEADER] = request_id
            route = _route_label(request)
            request.app[METRICS].observe(
                method=request.method, route=route, status=response.status, seconds=elapsed
            )
            # The path only: query strings may carry id tags, which are not logged at INFO.
            access_log.info(
                "http_request",
                method=request.method,
                path=request.path,
                route=route,
                status=response.status,
                duration_ms=round(elapsed * 1000, 2),
                remote=request.remote,
            )
        finally:
            # Requests of one keep-alive connection share a task: no caller leaks to the next.
            structlog.contextvars.unbind_contextvars("client_id")
    return response


@web.middleware
async def problem_details(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error as ``application/problem+json``."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:  # redirects are answers, not problems
            return web.Response(status=exc.status, headers=exc.headers)
        mapped = problem_for(exc)
    except Exception as exc:
        mapped = problem_for(exc)
        if mapped is None:
            log.exception("unhandled_error", method=request.method, path=request.path)
            mapped = internal_error()
    assert mapped is not None
    return render(mapped, request_id=request.get(REQUEST_ID), instance=request.path)
