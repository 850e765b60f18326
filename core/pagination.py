"""Opaque keyset cursors: the last row's sort key, serialized and base64url-encoded.

Keyset (``WHERE (k, id) > (:k, :id)``) instead of OFFSET keeps pages stable while rows are
inserted and keeps every page an index range scan.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import orjson

from core.errors import ValidationFailedError

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results and the cursor of the next (None at the end)."""

    items: list[T]
    next_cursor: str | None


def encode_cursor(values: Sequence[Any]) -> str:
    """Serialize the sort key of the last row returned."""
    payload: list[Any] = []
    for value in values:
        if isinstance(value, datetime):
            payload.append(value.isoformat())
        elif isinstance(value, uuid.UUID | Decimal):
            payload.append(str(value))
        else:
            payload.append(value)
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_cursor(cursor: str, kinds: Sequence[type]) -> tuple[Any, ...]:
    """Parse a cursor made by ``encode_cursor`` for a key of ``kinds``; 422 material if bad."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(raw, list) or len(raw) != len(kinds):
            raise ValueError("wrong arity")
        values: list[Any] = []
        for kind, value in zip(kinds, raw, strict=True):
            if value is None:
                values.append(None)
            elif kind is datetime:
                parsed = datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    raise ValueError("naive datetime")
                values.append(parsed)
            elif kind is uuid.UUID:
                values.append(uuid.UUID(value))
            elif kind in (int, float, str, bool):
                if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                    raise ValueError("wrong type")
                values.append(value)
            else:
                values.append(kind(value))
        return tuple(values)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise ValidationFailedError(
            "invalid cursor", [{"field": "cursor", "message": "not a cursor of this list"}]
        ) from exc


def clamp_limit(limit: int | None) -> int:
    """Apply the default and reject out-of-range limits."""
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailedError(
            "invalid limit", [{"field": "limit", "message": f"must be between 1 and {MAX_LIMIT}"}]
        )
    return limit
