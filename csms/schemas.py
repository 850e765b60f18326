"""Compiled validators for the official OCPP JSON schemas shipped with the ``ocpp`` package.

The ``jsonschema`` path costs ~300 us for a 4-sample MeterValues; fastjsonschema compiles each
schema to Python once and validates the same payload in ~10 us. Validators are compiled on
first use (``warm`` compiles the ones a server will need at start-up) and kept for the process.
Defaults declared in the schemas are not injected: payloads are validated, never rewritten.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import fastjsonschema
import ocpp
import orjson

from csms.framing import CallFault, Fault

Validator = Callable[[Any], Any]

_ROOT = Path(ocpp.__file__).resolve().parent

# JSON schema keywords by the OCPP error they stand for.
_TYPE_RULES = frozenset({"type"})
_OCCURRENCE_RULES = frozenset(
    {
        "required",
        "additionalProperties",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "dependencies",
    }
)


def fault_for_rule(rule: str | None) -> Fault:
    """Type -> TypeConstraint, presence and counts -> OccurrenceConstraint, values -> Property."""
    if rule in _TYPE_RULES:
        return Fault.TYPE
    if rule in _OCCURRENCE_RULES:
        return Fault.OCCURRENCE
    return Fault.PROPERTY


class SchemaSet:
    """The request and response schemas of one OCPP version."""

    def __init__(self, version_dir: str, request_suffix: str) -> None:
        self._dir = _ROOT / version_dir / "schemas"
        self._request_suffix = request_suffix
        self._validators: dict[str, Validator] = {}
        suffix = "Response.json"
        self.known_actions: frozenset[str] = frozenset(
            path.name[: -len(suffix)] for path in self._dir.glob(f"*{suffix}")
        )

    def _validator(self, name: str) -> Validator:
        validator = self._validators.get(name)
        if validator is None:
            # 2.0.1 schema files start with a byte order mark.
            schema = orjson.loads((self._dir / f"{name}.json").read_text(encoding="utf-8-sig"))
            validator = fastjsonschema.compile(schema, use_default=False)
            self._validators[name] = validator
        return validator

    def warm(self, actions: Iterable[str]) -> None:
        """Compile the request and response validators of ``actions`` now."""
        for action in actions:
            self._validator(action + self._request_suffix)
            self._validator(action + "Response")

    def check_request(self, action: str, payload: dict[str, Any]) -> None:
        """Raise ``CallFault`` when ``payload`` is not a valid ``action`` request."""
        self._check(action + self._request_suffix, payload)

    def check_response(self, action: str, payload: dict[str, Any]) -> None:
        """Raise ``CallFault`` when ``payload`` is not a valid ``action`` response."""
        self._check(action + "Response", payload)

    def _check(self, name: str, payload: dict[str, Any]) -> None:
        try:
            self._validator(name)(payload)
        except fastjsonschema.JsonSchemaValueException as exc:
            raise CallFault(fault_for_rule(exc.rule), _describe(exc)) from None


def _describe(exc: Any) -> str:
    # "data.meterValue[0].timestamp must be date-time": the path and the rule, not the value.
    message = str(exc.message)
    return "payload" + message[4:] if message.startswith("data") else message
