"""RFC 9457 problem details: the one shape of every error response, and how errors map to it.

Services raise the domain errors of ``core.errors``; the edge raises ``HttpProblem`` for purely
HTTP matters (rate limits, content types). ``problem_for`` turns any of them, aiohttp's own HTTP
exceptions (404/405 from the router, 413 from the body reader) and constraint violations into a
``Problem``; anything else is a 500 that names the request id and nothing of the internals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from core.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    StationOfflineError,
    ValidationFailedError,
)
from core.services.auth import AuthenticationError
from core.services.catalog import conflict_message
from management_api.schemas.common import FieldError, Problem

PROBLEM_CONTENT_TYPE = "application/problem+json"

_SLUGS: dict[int, str] = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "rate-limited",
    500: "internal-error",
    503: "service-unavailable",
    504: "gateway-timeout",
}

#: Response headers of an HTTP exception worth keeping on its problem response.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Location")

#: RFC 6750 challenge sent with every 401.
BEARER_CHALLENGE = 'Bearer realm="evcsms"'


def problem_type(status: int) -> str:
    """The ``type`` URI of a status: a stable URN per kind, ``about:blank`` for the rest."""
    slug = _SLUGS.get(status)
    return f"urn:evcsms:problem:{slug}" if slug else "about:blank"


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


@dataclass
class HttpProblem(Exception):
    """An error that only exists at the HTTP edge, raised by views and the request pipeline."""

    status: int
    detail: str
    headers: Mapping[str, str] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.status}: {self.detail}"


@dataclass(frozen=True)
class Mapped:
    """A problem and the headers that go with it."""

    problem: Problem
    headers: Mapping[str, str]


def _problem(
    status: int,
    detail: str | None,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Mapped:
    return Mapped(
        Problem(
            type=problem_type(status),
            title=_title(status),
            status=status,
            detail=detail,
            errors=[FieldError(**e) for e in errors] if errors else None,
        ),
        dict(headers or {}),
    )


def _from_http_exception(exc: web.HTTPException) -> Mapped:
    headers = {name: exc.headers[name] for name in _KEPT_HEADERS if name in exc.headers}
    status = exc.status
    detail: str | None
    if status == 404:
        detail = "no resource at this path"
    elif status == 405:
        allowed = exc.headers.get("Allow", "")
        detail = f"method not allowed here; allowed: {allowed}" if allowed else None
    elif status == 413:
        detail = "request body too large"
    else:
        text = (exc.text or "").strip()
        detail = text if text and not text.startswith(f"{status}:") else None
    return _problem(status, detail, headers=headers)


def problem_for(exc: BaseException) -> Mapped | None:
    """The problem an exception stands for; None for an unexpected one (a 500)."""
    if isinstance(exc, HttpProblem):
        return _problem(exc.status, exc.detail, errors=exc.errors, headers=exc.headers)
    if isinstance(exc, web.HTTPException):
        return _from_http_exception(exc)
    if isinstance(exc, AuthenticationError):
        challenge = f'{BEARER_CHALLENGE}, error="invalid_token"'
        if exc.detail.startswith("missing"):
            challenge = BEARER_CHALLENGE
        return _problem(401, exc.detail, headers={"WWW-Authenticate": challenge})
    if isinstance(exc, ValidationFailedError):
        return _problem(422, exc.detail, errors=exc.errors)
    if isinstance(exc, NotFoundError):
        return _problem(404, exc.detail)
    if isinstance(exc, PermissionDeniedError):
        return _problem(403, exc.detail)
    if isinstance(exc, ConflictError | StationOfflineError):
        return _problem(409, exc.detail)
    if isinstance(exc, IntegrityError):
        return _problem(409, conflict_message(exc))
    if isinstance(exc, DomainError):
        return _problem(400, exc.detail)
    return None


def internal_error() -> Mapped:
    """The answer to an unexpected exception: a status and the request id, no internals."""
    return _problem(500, "internal error; quote the request_id when reporting it")


def render(mapped: Mapped, *, request_id: str | None, instance: str | None) -> web.Response:
    """The ``application/problem+json`` response of a problem."""
    problem = mapped.problem.model_copy(update={"request_id": request_id, "instance": instance})
    response = web.Response(
        status=problem.status,
        body=problem.model_dump_json(exclude_none=True),
        content_type=PROBLEM_CONTENT_TYPE,
    )
    for name, value in mapped.headers.items():
        response.headers[name] = value
    return response


def validation_errors(errors: Sequence[Mapping[str, Any]], *, where: str) -> list[dict[str, str]]:
    """pydantic's errors as ``[{field, message}]``; ``where`` names a whole-body/query error."""
    result: list[dict[str, str]] = []
    for error in errors:
        loc = ".".join(str(part) for part in error.get("loc", ()))
        message = str(error.get("msg", "invalid"))
        message = message.removeprefix("Value error, ")
        result.append({"field": loc or where, "message": message})
    return result
