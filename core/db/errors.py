"""Reading PostgreSQL's verdict out of SQLAlchemy errors, so callers can map rules to answers."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError


def constraint_name(exc: DBAPIError) -> str | None:
    """Name of the constraint (or trigger-raised pseudo-constraint) that refused the write."""
    orig = getattr(exc, "orig", None)
    for candidate in (orig, getattr(orig, "__cause__", None)):
        name = getattr(candidate, "constraint_name", None)
        if name:
            return str(name)
    return None


def sqlstate(exc: DBAPIError) -> str | None:
    """The five-character SQLSTATE of the underlying PostgreSQL error."""
    orig = getattr(exc, "orig", None)
    for candidate in (orig, getattr(orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code:
            return str(code)
    return None
