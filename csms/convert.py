"""Conversions both OCPP adapters share: wire timestamps, connector numbers, sample values.

A value that passed the JSON schema can still be unusable (a year the database cannot hold, a
connector id beyond int32); these helpers turn that into a PropertyConstraintViolation for the
one message instead of a failed batch for everyone.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from csms.framing import CallFault, Fault

_MAX_INT32 = 2**31 - 1


def parse_time(value: str) -> datetime:
    """An RFC 3339 timestamp as an aware UTC datetime."""
    try:
        parsed = datetime.fromisoformat(value.upper())
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise CallFault(Fault.PROPERTY, "timestamp is not a usable date-time") from None


def format_time(moment: datetime) -> str:
    """UTC with millisecond precision and a ``Z``: the form every charger parses."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def connector_number(value: int, *, field: str, minimum: int = 0) -> int:
    """A connector / EVSE number within what the database holds."""
    if not minimum <= value <= _MAX_INT32:
        raise CallFault(Fault.PROPERTY, f"{field} must be between {minimum} and {_MAX_INT32}")
    return value


def sample_value(raw: str | float) -> float | None:
    """A finite numeric reading, or None for anything else (signed data, text)."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
