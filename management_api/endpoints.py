"""How a view becomes an endpoint: its contract, and the request pipeline in front of it.

A view is an async function decorated with ``@operation(...)``, which records its contract: the
roles allowed (None = public), the pydantic models of its query string, body and response, its
success status and the error statuses it can answer. ``routes.py`` pairs operations with URLs;
``build_handler`` turns one into an aiohttp handler that runs, in this order:

1. authenticate the bearer token (401), take a rate-limit token for the client (429), check the
   role (403);
2. parse path ids (``{..._id}`` segments only match UUIDs), the query string (422 on an unknown
   parameter or a bad value) and the JSON body (415, 400 malformed, 422 invalid);
3. call the view with ``request`` and keyword arguments (path ids, ``query=``, ``body=``);
4. render what it returns: a model -> JSON with the declared status, None -> 204, a ``Reply`` ->
   its status and headers, a ``web.StreamResponse`` -> as is (websockets, files).

The OpenAPI document is generated from the same ``Operation`` objects, so the documented
contract and the enforced one cannot drift apart.
"""

from __future__ import annotations

import inspect
import math
import re
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiohttp import web
from pydantic import BaseModel, ValidationError

from core.domain.enums import ApiRole
from core.errors import PermissionDeniedError, ValidationFailedError
from core.runtime import Resources
from core.services.auth import AuthenticationError, Principal
from core.uow import UnitOfWork
from management_api.keys import PRINCIPAL, RESOURCES, TOKENS
from management_api.problems import HttpProblem, validation_errors

ViewFunc = Callable[..., Awaitable[Any]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Everyone with a token.
ANY_ROLE: frozenset[ApiRole] = frozenset(ApiRole)
#: Roles that may change their partner's resources.
WRITERS: frozenset[ApiRole] = frozenset({ApiRole.ADMIN, ApiRole.OPERATOR})
#: The platform operator only.
ADMIN_ONLY: frozenset[ApiRole] = frozenset({ApiRole.ADMIN})

UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_ID_SEGMENT = re.compile(r"\{(\w*id)\}")
_JSON_TYPES = ("application/json", "application/problem+json")


@dataclass(frozen=True)
class Operation:
    """A view and its HTTP contract."""

    func: ViewFunc
    tag: str
    roles: frozenset[ApiRole] | None
    summary: str
    description: str
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    errors: frozenset[int] = frozenset()
    #: Other success answers, e.g. ``{202: CommandOut}`` for a command still pending.
    other_responses: Mapping[int, type[BaseModel] | None] = field(default_factory=dict)
    #: Media type of a non-JSON success body (``/metrics``); None = JSON.
    media_type: str | None = None
    #: Schemas of non-id path parameters, e.g. ``{"action": {"type": "string", "enum": [...]}}``.
    path_schemas: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    in_schema: bool = True

    @property
    def operation_id(self) -> str:
        """Stable OpenAPI operationId: the view's name."""
        return self.func.__name__


def operation(
    *,
    tag: str,
    roles: frozenset[ApiRole] | None,
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    errors: Collection[int] = (),
    other_responses: Mapping[int, type[BaseModel] | None] | None = None,
    media_type: str | None = None,
    path_schemas: Mapping[str, Mapping[str, Any]] | None = None,
    in_schema: bool = True,
) -> Callable[[ViewFunc], Operation]:
    """Declare a view's contract; the docstring's first paragraph is its summary."""

    def wrap(func: ViewFunc) -> Operation:
        doc = inspect.getdoc(func) or func.__name__
        summary, _, description = doc.partition("\n\n")
        return Operation(
            func=func,
            tag=tag,
            roles=roles,
            summary=" ".join(summary.split()),
            description=description.strip(),
            query=query,
            body=body,
            response=response,
            status=status,
            errors=frozenset(errors),
            other_responses=dict(other_responses or {}),
            media_type=media_type,
            path_schemas=dict(path_schemas or {}),
            in_schema=in_schema,
        )

    return wrap


@dataclass(frozen=True)
class Route:
    """One URL of the API: method, path (``{x_id}`` segments are UUIDs) and operation."""

    method: str
    path: str
    op: Operation

    @property
    def router_path(self) -> str:
        """The aiohttp path, with id segments restricted to UUIDs (anything else is a 404)."""
        return _ID_SEGMENT.sub(lambda m: "{" + m.group(1) + ":" + UUID_PATTERN + "}", self.path)


@dataclass(frozen=True)
class Reply:
    """A view's answer when the declared status is not the right one (e.g. 202 + Location)."""

    model: BaseModel | None
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)


# --- what views read from the request --------------------------------------------------------


def resources_of(request: web.Request) -> Resources:
    """The process' shared resources."""
    return request.app[RESOURCES]


def uow_of(request: web.Request) -> Callable[[], UnitOfWork]:
    """The unit-of-work factory services take."""
    return request.app[RESOURCES].uow


def principal_of(request: web.Request) -> Principal:
    """The authenticated caller (only on operations that declare roles)."""
    return request[PRINCIPAL]


def scope_of(request: web.Request) -> uuid.UUID | None:
    """The caller's partner, None for an admin: the ``partner_id`` every service takes."""
    return request[PRINCIPAL].scope


# --- the pipeline ----------------------------------------------------------------------------


def _bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise AuthenticationError("missing bearer token")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("invalid authorization header; expected 'Bearer <token>'")
    return token.strip()


async def authenticate(request: web.Request) -> Principal:
    """Check the bearer token, rate-limit its client, and remember the principal."""
    principal = await request.app[TOKENS].authenticate(_bearer(request))
    request[PRINCIPAL] = principal
    structlog.contextvars.bind_contextvars(client_id=principal.client_id)
    wait = await request.app[RESOURCES].rate_limiter.acquire(f"client:{principal.client_id}")
    if wait > 0:
        raise HttpProblem(
            429,
            "too many requests for this client; retry later",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    return principal


def _path_args(request: web.Request) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for name, raw in request.match_info.items():
        args[name] = uuid.UUID(raw) if _ID_SEGMENT.fullmatch("{" + name + "}") else raw
    return args


def parse_query(request: web.Request, model: type[BaseModel]) -> BaseModel:
    """Validate the query string; repeated or unknown parameters are 422 like bad values."""
    data: dict[str, str] = {}
    for key in request.query:
        values = request.query.getall(key)
        if len(values) > 1:
            raise ValidationFailedError(
                "invalid query", [{"field": key, "message": "given more than once"}]
            )
        data[key] = values[0]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = validation_errors(exc.errors(), where="query")
        raise ValidationFailedError("invalid query parameters", errors) from exc


async def parse_body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    """Validate a JSON body: 415 if it is not JSON, 400 if malformed, 422 if invalid."""
    if request.content_type not in _JSON_TYPES:
        raise HttpProblem(415, "the body must be JSON (Content-Type: application/json)")
    raw = await request.read()
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors()
        if any(error.get("type") == "json_invalid" for error in errors):
            raise HttpProblem(400, "malformed JSON body") from exc
        raise ValidationFailedError(
            "invalid request body", validation_errors(errors, where="body")
        ) from exc


def _json(model: BaseModel, status: int, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=model.model_dump_json(),
        content_type="application/json",
        headers=headers,
    )


def build_handler(op: Operation) -> Handler:
    """The aiohttp handler running ``op`` behind authentication, rate limit, role and input
    checks (see the module docstring for the order)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        if op.roles is not None:
            principal = await authenticate(request)
            if principal.role not in op.roles:
                allowed = ", ".join(sorted(role.value for role in op.roles))
                raise PermissionDeniedError(f"this operation needs one of the roles: {allowed}")
        kwargs = _path_args(request)
        if op.query is not None:
            kwargs["query"] = parse_query(request, op.query)
        if op.body is not None:
            kwargs["body"] = await parse_body(request, op.body)
        result = await op.func(request, **kwargs)
        if result is None:
            return web.Response(status=204)
        if isinstance(result, web.StreamResponse):
            return result
        if isinstance(result, Reply):
            if result.model is None:
                return web.Response(status=result.status, headers=result.headers)
            return _json(result.model, result.status, result.headers)
        if isinstance(result, BaseModel):
            return _json(result, op.status)
        raise TypeError(f"{op.operation_id} returned {type(result).__name__}")

    handler.__name__ = op.operation_id
    handler.__doc__ = op.summary
    return handler
