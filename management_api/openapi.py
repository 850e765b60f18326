"""The OpenAPI document, generated from the routes and the pydantic models that validate them.

Every schema comes from ``model_json_schema(ref_template="#/components/schemas/{model}")`` of the
operation's own query, body and response models; parameters, security and error responses are
derived from the same ``Operation`` the request pipeline enforces. pydantic speaks JSON Schema
2020-12 (OpenAPI 3.1), while the offline viewer shipped with ``swagger-ui-bundle`` renders 3.0
only, so the few keywords that differ are rewritten (null unions -> ``nullable``, numeric
exclusive bounds -> boolean ones, ``const`` -> ``enum``, ``examples`` -> ``example``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, Literal

from pydantic import BaseModel

from management_api.endpoints import ANY_ROLE, Operation, Route
from management_api.problems import PROBLEM_CONTENT_TYPE
from management_api.schemas.common import Problem

OPENAPI_VERSION = "3.0.3"
REF_TEMPLATE = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"\{(\w+)\}")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
_ID_PARAM = re.compile(r"^\w*id$")

_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_SCHEMA_LISTS = ("anyOf", "allOf", "oneOf", "prefixItems")
_SCHEMA_SINGLES = ("items", "additionalProperties", "not", "contains")

DESCRIPTION = """\
Partner-facing API of the central system: manage stations, connectors, sites and id tags, read
transactions, and (with the command endpoints) switch chargers remotely.

**Auth.** `POST /api/v1/auth/token` with `{client_id, client_secret}` returns a bearer token valid
for `expires_in` seconds. `POST /api/v1/auth/refresh` swaps it for a new one (the old one dies at
once), `POST /api/v1/auth/revoke` kills it; getting a new token kills the client's previous one.

**Roles.** `admin` manages everything and onboards partners; `operator` reads and writes its own
partner's resources; `viewer` only reads them. Another partner's resource is a 404.

**Errors** are `application/problem+json` (RFC 9457) with `type`, `title`, `status`, `detail`,
`request_id` and, for validation failures (422), `errors: [{field, message}]`.

**Lists** return `{items, next_cursor}`; pass `next_cursor` back as `cursor` for the next page
(null on the last). `limit` defaults to 50 (max 500); `sort=field` or `sort=-field`.
"""

TAGS = [
    {"name": "auth", "description": "Access tokens."},
    {"name": "partners", "description": "Partners and their API clients (admin)."},
    {"name": "station-types", "description": "Hardware classes of stations."},
    {"name": "sites", "description": "Locations grouping stations."},
    {"name": "stations", "description": "Charging stations (soft-deleted by DELETE)."},
    {"name": "connectors", "description": "Plugs of a station."},
    {"name": "id-tags", "description": "Tokens drivers authorize with."},
    {"name": "transactions", "description": "Charging sessions (read-only)."},
    {"name": "ops", "description": "Health, readiness, metrics."},
]


# --- JSON Schema 2020-12 -> OpenAPI 3.0 ------------------------------------------------------


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null" and len(schema) == 1


def to_openapi30(schema: Any) -> Any:
    """Rewrite one pydantic JSON schema (recursively) into an OpenAPI 3.0 schema object."""
    if not isinstance(schema, dict):
        return schema
    node: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            node[key] = {name: to_openapi30(sub) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            node[key] = [to_openapi30(sub) for sub in value]
        elif key in _SCHEMA_SINGLES and isinstance(value, dict):
            node[key] = to_openapi30(value)
        else:
            node[key] = value
    options = node.get("anyOf")
    if isinstance(options, list) and any(_is_null(option) for option in options):
        rest = [option for option in options if not _is_null(option)]
        siblings = {key: value for key, value in node.items() if key != "anyOf"}
        if len(rest) == 1 and "$ref" in rest[0]:
            node = {**siblings, "allOf": rest, "nullable": True}
        elif len(rest) == 1:
            node = {**rest[0], **siblings, "nullable": True}
        else:
            node = {**siblings, "anyOf": rest, "nullable": True}
    if "const" in node:
        node["enum"] = [node.pop("const")]
    for exclusive, inclusive in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        bound = node.get(exclusive)
        if isinstance(bound, int | float) and not isinstance(bound, bool):
            node[inclusive] = bound
            node[exclusive] = True
    if "examples" in node:
        examples = node.pop("examples")
        if isinstance(examples, list) and examples:
            node["example"] = examples[0]
    return node


# --- assembling the document -----------------------------------------------------------------


def component_name(model: type[BaseModel]) -> str:
    """The components/schemas key of a model (generic names like ``Page[X]`` made URL-safe)."""
    return _UNSAFE_NAME.sub("_", model.__name__)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF_TEMPLATE.format(model=component_name(model))}


class _Components:
    """Collects schemas, refusing two different schemas under one name."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def _put(self, name: str, schema: Any) -> None:
        converted = to_openapi30(schema)
        existing = self.schemas.get(name)
        if existing is not None and existing != converted:
            raise ValueError(f"two different schemas are both named {name!r}")
        self.schemas[name] = converted

    def add(
        self, model: type[BaseModel], mode: Literal["validation", "serialization"]
    ) -> dict[str, Any]:
        """Register a model (and the models it uses); return its top-level schema."""
        schema = model.model_json_schema(ref_template=REF_TEMPLATE, mode=mode)
        for name, sub in schema.pop("$defs", {}).items():
            self._put(name, sub)
        return schema

    def add_named(
        self, model: type[BaseModel], mode: Literal["validation", "serialization"]
    ) -> dict[str, str]:
        """Register a model as a component of its own; return a reference to it."""
        self._put(component_name(model), self.add(model, mode))
        return _ref(model)


def _phrase(status: int) -> str:
    return HTTPStatus(status).phrase


_REQUEST_ID_HEADER = {
    "X-Request-ID": {
        "description": "Correlation id of the request (the one sent, or a generated one).",
        "required": True,
        "schema": {"type": "string"},
    }
}


def _problem_response(status: int) -> dict[str, Any]:
    headers: dict[str, Any] = dict(_REQUEST_ID_HEADER)
    if status == 401:
        headers["WWW-Authenticate"] = {
            "description": "Bearer challenge (RFC 6750).",
            "required": True,
            "schema": {"type": "string"},
        }
    if status == 429:
        headers["Retry-After"] = {
            "description": "Seconds to wait before retrying.",
            "required": True,
            "schema": {"type": "integer"},
        }
    return {
        "description": _phrase(status),
        "headers": headers,
        "content": {PROBLEM_CONTENT_TYPE: {"schema": _ref(Problem)}},
    }


def _error_statuses(route: Route) -> set[int]:
    op = route.op
    statuses = set(op.errors) | {500}
    if op.roles is not None:
        statuses |= {401, 429}
        if op.roles != ANY_ROLE:
            statuses.add(403)
    if op.query is not None:
        statuses.add(422)
    if op.body is not None:
        statuses |= {400, 413, 415, 422}
    if _PATH_PARAM.search(route.path):
        statuses.add(404)
    return statuses


def _success(
    components: _Components, op: Operation, status: int, model: type[BaseModel] | None
) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": _phrase(status), "headers": dict(_REQUEST_ID_HEADER)}
    if op.media_type is not None and status == op.status:
        answer["content"] = {op.media_type: {"schema": {"type": "string"}}}
    elif model is not None:
        answer["content"] = {
            "application/json": {"schema": components.add_named(model, "serialization")}
        }
    return answer


def _absent_not_null(prop: Mapping[str, Any]) -> dict[str, Any]:
    """A query parameter is either absent or text: its "or null" option means "omit it"."""
    schema = dict(prop)
    options = schema.get("anyOf")
    if isinstance(options, list) and any(_is_null(option) for option in options):
        rest = [option for option in options if not _is_null(option)]
        del schema["anyOf"]
        schema = {**rest[0], **schema} if len(rest) == 1 else {**schema, "anyOf": rest}
    if schema.get("default", ...) is None:
        del schema["default"]
    return schema


def _parameters(components: _Components, route: Route) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for name in _PATH_PARAM.findall(route.path):
        if _ID_PARAM.match(name):
            schema: Mapping[str, Any] = {"type": "string", "format": "uuid"}
        else:
            schema = route.op.path_schemas.get(name, {"type": "string"})
        params.append({"name": name, "in": "path", "required": True, "schema": dict(schema)})
    if route.op.query is not None:
        query = components.add(route.op.query, "validation")
        required = set(query.get("required", ()))
        for name, prop in query.get("properties", {}).items():
            prop = _absent_not_null(prop)
            description = prop.pop("description", None)
            prop.pop("title", None)
            param: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": to_openapi30(prop),
            }
            if description:
                param["description"] = description
            params.append(param)
    return params


def _operation(components: _Components, route: Route) -> dict[str, Any]:
    op = route.op
    description = op.description
    if op.roles is not None:
        roles = ", ".join(role.value for role in sorted(op.roles))
        description = f"{description}\n\nRoles: {roles}.".strip()
    doc: dict[str, Any] = {
        "operationId": op.operation_id,
        "tags": [op.tag],
        "summary": op.summary,
        "security": [{"bearerAuth": []}] if op.roles is not None else [],
    }
    if description:
        doc["description"] = description
    params = _parameters(components, route)
    if params:
        doc["parameters"] = params
    if op.body is not None:
        doc["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": components.add_named(op.body, "validation")}
            },
        }
    responses: dict[str, Any] = {str(op.status): _success(components, op, op.status, op.response)}
    for status, model in op.other_responses.items():
        responses[str(status)] = _success(components, op, status, model)
    for status in sorted(_error_statuses(route)):
        responses.setdefault(str(status), _problem_response(status))
    doc["responses"] = dict(sorted(responses.items()))
    return doc


def build_openapi(
    routes: Iterable[tuple[str, Route]], *, title: str, version: str
) -> dict[str, Any]:
    """The OpenAPI 3.0 document of ``(prefix, route)`` pairs."""
    components = _Components()
    components.add_named(Problem, "serialization")
    paths: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for prefix, route in routes:
        if not route.op.in_schema:
            continue
        if route.op.operation_id in seen:
            raise ValueError(f"operationId {route.op.operation_id!r} is used twice")
        seen.add(route.op.operation_id)
        path = paths.setdefault(prefix + route.path, {})
        path[route.method.lower()] = _operation(components, route)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version, "description": DESCRIPTION},
        "tags": TAGS,
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.schemas.items())),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def operation_ids(document: Mapping[str, Any]) -> Sequence[str]:
    """Every operationId of a document (for tests and tooling)."""
    return [
        op["operationId"]
        for methods in document.get("paths", {}).values()
        for op in methods.values()
        if isinstance(op, dict) and "operationId" in op
    ]
