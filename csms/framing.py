"""OCPP-J framing: the three RPC frames, parsed with orjson and built without a detour via str.

What can go wrong with a frame is named by a ``Fault`` (a version-neutral reason); each OCPP
version maps faults to its own CALLERROR codes (``csms.dialect``), because 1.6 and 2.0.1 spell
them differently (FormationViolation vs FormatViolation, no MessageTypeNotSupported in 1.6).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import orjson

CALL = 2
CALLRESULT = 3
CALLERROR = 4

#: Message id used in a CALLERROR when the offending frame's own id cannot be read.
UNREADABLE_ID = "-1"

# errorDescription is at most 255 characters in both versions.
_DESCRIPTION_WIDTH = 255


class Fault(enum.Enum):
    """Why a CALL could not be answered with a CALLRESULT."""

    MALFORMED = "malformed"  # not JSON, not an array, wrong element types
    ID_UNREADABLE = "id_unreadable"  # no message id to answer to
    BAD_MESSAGE_TYPE = "bad_message_type"  # message type id is not 2, 3 or 4
    INCOMPLETE = "incomplete"  # a CALL without its payload
    UNKNOWN_ACTION = "unknown_action"  # the version has no such action
    UNSUPPORTED_ACTION = "unsupported_action"  # a real action the central system does not take
    TYPE = "type"  # schema: wrong JSON type
    OCCURRENCE = "occurrence"  # schema: missing or extra properties, array sizes
    PROPERTY = "property"  # schema: enum, length, format, range
    SECURITY = "security"
    INTERNAL = "internal"


class FrameError(Exception):
    """A frame that cannot be processed; ``answerable`` says whether a CALLERROR is due."""

    def __init__(
        self, fault: Fault, description: str, *, unique_id: str | None, answerable: bool
    ) -> None:
        super().__init__(description)
        self.fault = fault
        self.description = description
        self.unique_id = unique_id
        self.answerable = answerable


class CallFault(Exception):
    """Raised by validation or a handler: answer this CALL with the CALLERROR for ``fault``."""

    def __init__(self, fault: Fault, description: str) -> None:
        super().__init__(description)
        self.fault = fault
        self.description = description


@dataclass(frozen=True, slots=True)
class Call:
    """``[2, id, action, payload]``."""

    unique_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallResult:
    """``[3, id, payload]``."""

    unique_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallError:
    """``[4, id, code, description, details]``."""

    unique_id: str
    code: str
    description: str
    details: dict[str, Any]


Frame = Call | CallResult | CallError


def parse_frame(raw: str | bytes) -> Frame:
    """Decode one websocket message; raise ``FrameError`` saying what is wrong with it.

    Broken CALLRESULTs and CALLERRORs are not answerable: replying to a reply could start an
    endless exchange of errors, so they are only reported to the caller for logging.
    """
    try:
        msg = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise FrameError(
            Fault.MALFORMED, "message is not valid JSON", unique_id=None, answerable=True
        ) from None
    if not isinstance(msg, list) or not msg:
        raise FrameError(
            Fault.MALFORMED,
            "message is not a non-empty JSON array",
            unique_id=None,
            answerable=True,
        )
    type_id = msg[0]
    unique_id = msg[1] if len(msg) > 1 and isinstance(msg[1], str) and msg[1] else None
    if type(type_id) is not int or type_id not in (CALL, CALLRESULT, CALLERROR):
        raise FrameError(
            Fault.BAD_MESSAGE_TYPE,
            "message type id must be 2 (CALL), 3 (CALLRESULT) or 4 (CALLERROR)",
            unique_id=unique_id,
            answerable=True,
        )
    if type_id == CALL:
        return _call(msg, unique_id)
    if unique_id is None:
        raise FrameError(
            Fault.ID_UNREADABLE, "reply without a message id", unique_id=None, answerable=False
        )
    if type_id == CALLRESULT:
        if len(msg) != 3 or not isinstance(msg[2], dict):
            raise FrameError(
                Fault.MALFORMED,
                "CALLRESULT must be [3, id, {payload}]",
                unique_id=unique_id,
                answerable=False,
            )
        return CallResult(unique_id, msg[2])
    if len(msg) < 4 or not isinstance(msg[2], str) or not isinstance(msg[3], str):
        raise FrameError(
            Fault.MALFORMED,
            "CALLERROR must be [4, id, code, description, {details}]",
            unique_id=unique_id,
            answerable=False,
        )
    details = msg[4] if len(msg) > 4 and isinstance(msg[4], dict) else {}
    return CallError(unique_id, msg[2], msg[3], details)


def _call(msg: list[Any], unique_id: str | None) -> Call:
    if unique_id is None:
        raise FrameError(
            Fault.ID_UNREADABLE,
            "CALL without a readable message id",
            unique_id=None,
            answerable=True,
        )
    if len(msg) < 4:
        raise FrameError(
            Fault.INCOMPLETE,
            "CALL must be [2, id, action, {payload}]",
            unique_id=unique_id,
            answerable=True,
        )
    if len(msg) > 4 or not isinstance(msg[2], str) or not isinstance(msg[3], dict):
        raise FrameError(
            Fault.MALFORMED,
            "CALL must be [2, id, action, {payload}]",
            unique_id=unique_id,
            answerable=True,
        )
    return Call(unique_id, msg[2], msg[3])


def call_frame(unique_id: str, action: str, payload: dict[str, Any]) -> bytes:
    """Serialize a CALL."""
    return orjson.dumps([CALL, unique_id, action, payload])


def call_result_frame(unique_id: str, payload: dict[str, Any]) -> bytes:
    """Serialize a CALLRESULT."""
    return orjson.dumps([CALLRESULT, unique_id, payload])


def call_error_frame(unique_id: str, code: str, description: str) -> bytes:
    """Serialize a CALLERROR (details stay empty: descriptions never echo payload values)."""
    return orjson.dumps([CALLERROR, unique_id, code, description[:_DESCRIPTION_WIDTH], {}])
