"""OCPP 2.0.1: thin handlers and the mapping of remote commands."""

from __future__ import annotations

from core.domain.enums import OcppProtocol
from csms.dialect import ERROR_CODES_201, Dialect
from csms.schemas import SchemaSet
from csms.v201.commands import COMMANDS
from csms.v201.handlers import HANDLERS


def dialect() -> Dialect:
    """The 2.0.1 dialect (schemas compile lazily; call ``Dialect.warm`` at start-up)."""
    return Dialect(
        protocol=OcppProtocol.OCPP201,
        schemas=SchemaSet("v201", request_suffix="Request"),
        handlers=HANDLERS,
        commands=COMMANDS,
        error_codes=ERROR_CODES_201,
    )
