"""Domain errors raised by services; each edge maps them to its wire form."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a use case reports on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFoundError(DomainError):
    """The resource does not exist, or the caller may not know that it does."""


class ConflictError(DomainError):
    """The write would break a rule of the model (uniqueness, plug count, state)."""


class ValidationFailedError(DomainError):
    """Input is well-formed but not acceptable; ``errors`` lists field-level messages."""

    def __init__(self, detail: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []


class PermissionDeniedError(DomainError):
    """The caller is known but its role does not allow this."""


class StationOfflineError(DomainError):
    """The charger has no live websocket, so a command cannot reach it now."""
