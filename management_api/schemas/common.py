"""Shared pieces of the HTTP contract: request bases, problem details, pages, list parameters.

Bodies are validated in pydantic's strict JSON mode (no ``"1"`` for 1, no ``1`` for true), with
unknown fields rejected and NUL characters refused (PostgreSQL cannot store them, so letting one
through would turn a client mistake into a server error). Query strings are text by nature, so
list parameters are validated in lax mode (``limit=50``, ``online=true``) but are just as closed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.pagination import Page as CorePage

T = TypeVar("T")

if TYPE_CHECKING:
    Omittable = Annotated[T | None, "omittable"]
else:
    # A field the client may leave out but never set to null: pydantic validates only what was
    # sent against ``T`` (so null is a 422), the None default stands for "not sent", and the
    # type checker is told about that None.
    Omittable = Annotated[T, "omittable"]


def _reject_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _nullable(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "null":
        return True
    return any(_nullable(option) for option in schema.get("anyOf", ()))


def _drop_null_defaults(schema: dict[str, Any], _model: type[Any] | None = None) -> None:
    """An optional but non-nullable field defaults to "unchanged", not to null: say nothing."""
    for prop in schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None and not _nullable(prop):
            del prop["default"]


class RequestBody(BaseModel):
    """Base of JSON request bodies."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        allow_inf_nan=False,
        use_enum_values=True,
        json_schema_extra=_drop_null_defaults,
    )

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return _reject_nul(value)


class PatchBody(RequestBody):
    """Base of PATCH bodies: omitted fields stay as they are; null only clears nullable ones."""

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, and only those."""
        return self.model_dump(exclude_unset=True)


class QueryParams(BaseModel):
    """Base of query-string parameters: unknown ones are refused, values parsed from text."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, use_enum_values=True
    )

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return _reject_nul(value)


class ListParams(QueryParams):
    """Keyset pagination parameters every list takes."""

    limit: int = Field(default=50, ge=1, le=500, description="Page size (default 50, max 500).")
    # Cursors are base64url text: the pattern keeps a query string within the request line
    # limit of the HTTP parser (1000 multi-byte characters would not fit once percent-encoded).
    cursor: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        pattern=r"^[A-Za-z0-9_=-]+$",
        description="Opaque cursor from the previous page's next_cursor.",
    )


class ResponseModel(BaseModel):
    """Base of response bodies, built from the services' records."""

    model_config = ConfigDict(from_attributes=True)


class FieldError(BaseModel):
    """One rejected field: its dotted path in the body or its query parameter name."""

    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, the body of every error response."""

    type: str = Field(description="URI reference naming the kind of problem.")
    title: str = Field(description="Short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str | None = Field(default=None, description="What went wrong this time.")
    instance: str | None = Field(default=None, description="The request path.")
    request_id: str | None = Field(
        default=None, description="The X-Request-ID of the request, to quote when reporting."
    )
    errors: list[FieldError] | None = Field(
        default=None, description="Validation failures, one per field."
    )


ItemT = TypeVar("ItemT", bound=BaseModel)


class Page(BaseModel, Generic[ItemT]):
    """One page of a list; ``next_cursor`` is null on the last page."""

    items: list[ItemT]
    next_cursor: str | None


def page_of(model: type[ItemT], page: CorePage[Any]) -> Page[ItemT]:
    """A service's page of records as the response model of a list."""
    return Page[model](  # type: ignore[valid-type]
        items=[model.model_validate(item) for item in page.items], next_cursor=page.next_cursor
    )
