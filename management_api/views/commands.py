"""Remote commands: send one to a station, read a station's command history, read one command.

Every action is its own operation (``send_remote_start``, ...) with its own body model, so the
OpenAPI document states each payload exactly. The view never touches a websocket: it records
the command and hands it to the command bus through ``issue_command``, which is what lets the
API and the charger's csms node be different processes.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from aiohttp import web
from pydantic import BaseModel

from core.domain.enums import CommandAction, CommandStatus
from core.repositories.commands import CommandRecord
from core.services import commands
from core.services.commands import COMMAND_PAYLOADS, CommandStationOfflineError
from management_api.endpoints import (
    ANY_ROLE,
    WRITERS,
    Operation,
    Reply,
    operation,
    principal_of,
    scope_of,
    uow_of,
)
from management_api.keys import COMMAND_RECORDER
from management_api.problems import HttpProblem
from management_api.schemas.commands import CommandListParams, CommandOut, CommandParams
from management_api.schemas.common import Page, page_of

#: Where a command can be read back (the ``Location`` of 202, 409 and 504 answers).
COMMAND_PATH = "/api/v1/commands/{id}"

_ANSWERS = (
    "Answers 200 with the record when the charger answered within `wait` seconds, 202 with "
    "`Location: /api/v1/commands/{id}` when it has not yet (or the command is queued), 409 "
    "when the station is offline and `queue` is false (the failed attempt is recorded; "
    "`Location` points at it) and 504 when the charger did not answer within `timeout`. "
    "A charger's rejection or CALLERROR is a 200 whose record says `rejected` or `failed`."
)

#: Summary and body description of each action, in the order of SPEC section 5.
_ACTIONS: dict[CommandAction, tuple[str, str]] = {
    CommandAction.REMOTE_START: (
        "Start a charging session remotely",
        "RemoteStartTransaction (1.6) / RequestStartTransaction (2.0.1) for `id_tag`, on "
        "`connector_number` or a connector the charger picks when it is null.",
    ),
    CommandAction.REMOTE_STOP: (
        "Stop a charging session remotely",
        "RemoteStopTransaction / RequestStopTransaction of the OCPP `transaction_id` (as shown "
        "under /transactions; a JSON integer is accepted for 1.6).",
    ),
    CommandAction.RESET: ("Reboot the charger", "Reset, `Soft` (graceful) or `Hard`."),
    CommandAction.CHANGE_AVAILABILITY: (
        "Switch a connector or the whole station on or off",
        "ChangeAvailability: `operative` true = Operative, false = Inoperative; a null "
        "`connector_number` addresses the whole station.",
    ),
    CommandAction.UNLOCK_CONNECTOR: (
        "Release a connector's cable lock",
        "UnlockConnector of `connector_number`.",
    ),
    CommandAction.TRIGGER_MESSAGE: (
        "Ask the charger to send one of its messages now",
        "TriggerMessage of `message` (optionally for one connector).",
    ),
    CommandAction.GET_CONFIGURATION: (
        "Read configuration keys",
        "GetConfiguration (1.6) / GetVariables (2.0.1, keys as `Component.Variable`); null "
        "`keys` reads everything (1.6) or a well-known list (2.0.1).",
    ),
    CommandAction.CHANGE_CONFIGURATION: (
        "Change one configuration key",
        "ChangeConfiguration (1.6) / SetVariables (2.0.1, key as `Component.Variable`).",
    ),
    CommandAction.CLEAR_CACHE: (
        "Clear the charger's authorization cache",
        "ClearCache; the body may be empty or `{}`.",
    ),
}

#: Actions whose body may be left out entirely (they take nothing).
_BODILESS = frozenset({CommandAction.CLEAR_CACHE})


def command_location(command_id: uuid.UUID) -> str:
    """The URL a command record is read from."""
    return COMMAND_PATH.format(id=command_id)


def _out(record: CommandRecord) -> CommandOut:
    return CommandOut.model_validate(record)


async def _empty_body(request: web.Request, action: CommandAction) -> dict[str, Any]:
    """The body of an action that takes nothing: absent, or an object the payload accepts."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise HttpProblem(400, "malformed JSON body") from exc
    return commands.validate_command_payload(action, doc)


async def _send(
    request: web.Request,
    action: CommandAction,
    station_id: uuid.UUID,
    query: CommandParams,
    body: BaseModel | None,
) -> Reply:
    payload = (
        body.model_dump(mode="json") if body is not None else await _empty_body(request, action)
    )
    try:
        outcome = await commands.issue_command(
            recorder=request.app[COMMAND_RECORDER],
            station_id=station_id,
            partner_id=scope_of(request),
            action=action,
            payload=payload,
            requested_by=principal_of(request).client_id,
            wait=query.wait,
            queue=query.queue,
            timeout=query.timeout,
        )
    except CommandStationOfflineError as exc:
        raise HttpProblem(
            409,
            f"{exc.detail}; command {exc.record.id} recorded as failed. Send it with "
            "queue=true to deliver it when the station connects.",
            headers={"Location": command_location(exc.record.id)},
        ) from exc
    record = outcome.record
    location = {"Location": command_location(record.id)}
    if not outcome.completed:
        return Reply(_out(record), 202, location)
    if record.status is CommandStatus.TIMED_OUT:
        raise HttpProblem(
            504,
            f"the charger did not answer command {record.id} in time ({record.error})",
            headers=location,
        )
    return Reply(_out(record), 200, location)


def _send_operation(action: CommandAction) -> Operation:
    """The operation sending ``action``: one per action, each with its own body schema."""
    summary, detail = _ACTIONS[action]
    body_model = None if action in _BODILESS else COMMAND_PAYLOADS[action]

    async def view(
        request: web.Request,
        station_id: uuid.UUID,
        query: CommandParams,
        body: BaseModel | None = None,
    ) -> Reply:
        return await _send(request, action, station_id, query, body)

    view.__name__ = view.__qualname__ = "send_" + action.value.replace("-", "_")
    view.__doc__ = f"{summary}.\n\n{detail}\n\n{_ANSWERS}"
    return operation(
        tag="commands",
        roles=WRITERS,
        query=CommandParams,
        body=body_model,
        response=CommandOut,
        other_responses={202: CommandOut},
        errors=(400, 409, 422, 504),
    )(view)


#: The send operation of every action, for routes.py.
SEND: dict[CommandAction, Operation] = {action: _send_operation(action) for action in _ACTIONS}


@operation(tag="commands", roles=ANY_ROLE, query=CommandListParams, response=Page[CommandOut])
async def list_station_commands(
    request: web.Request, station_id: uuid.UUID, query: CommandListParams
) -> Page[CommandOut]:
    """List a station's commands, newest first.

    Every attempt is kept, including those that failed because the station was offline.
    """
    page = await commands.list_commands(
        uow=uow_of(request),
        station_id=station_id,
        partner_id=scope_of(request),
        status=CommandStatus(query.status) if query.status is not None else None,
        cursor=query.cursor,
        limit=query.limit,
    )
    return page_of(CommandOut, page)


@operation(tag="commands", roles=ANY_ROLE, response=CommandOut)
async def get_command(request: web.Request, command_id: uuid.UUID) -> CommandOut:
    """Get a command: poll it after a 202 until its status is final."""
    record = await commands.get_command(
        uow=uow_of(request), command_id=command_id, partner_id=scope_of(request)
    )
    return _out(record)
