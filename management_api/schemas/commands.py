"""Remote commands: the stored record, the query of a send, and the list filters.

The request bodies are the version-independent payload models of ``core.services.commands``
(``COMMAND_PAYLOADS``): the contract is written once, so what the OpenAPI document shows for
``remote-start`` is exactly what the service validates and csms maps to OCPP.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from core.domain.enums import CommandAction, CommandStatus
from core.services.commands import MAX_WAIT_SECONDS
from management_api.schemas.common import ListParams, QueryParams, ResponseModel


class CommandOut(ResponseModel):
    """A remote command as stored: what was asked, by whom, and what became of it.

    ``status`` is ``pending`` until the charger answers (``accepted`` / ``rejected``), the
    command fails (``failed``, e.g. the station went offline or answered with a CALLERROR,
    whose code and description are in ``error``) or nobody answered in time (``timed_out``).
    ``response`` is the charger's answer, normalised across OCPP versions.
    """

    id: uuid.UUID
    station_id: uuid.UUID
    action: CommandAction
    payload: dict[str, Any]
    requested_by: str | None = Field(description="client_id of the caller who sent it.")
    status: CommandStatus
    queued: bool = Field(description="Sent with queue=true: waits for the station to connect.")
    response: dict[str, Any] | None
    error: str | None
    requested_at: datetime
    sent_at: datetime | None = Field(description="When it was handed to the charger.")
    answered_at: datetime | None = Field(description="When the final status was recorded.")


class CommandParams(QueryParams):
    """How long to wait for the charger, and what to do when it is offline."""

    wait: float | None = Field(
        default=None,
        ge=0,
        le=MAX_WAIT_SECONDS,
        description="Seconds to wait for the charger's answer before answering 202 "
        "(default COMMAND_WAIT_SECONDS).",
    )
    timeout: float | None = Field(
        default=None,
        gt=0,
        description="Seconds the charger has to answer before the command is timed_out "
        "(default and maximum COMMAND_TIMEOUT_SECONDS).",
    )
    queue: bool = Field(
        default=False,
        description="When the station is offline, keep the command and send it when the "
        "station next connects (202) instead of answering 409.",
    )


class CommandListParams(ListParams):
    """Command history filters."""

    status: CommandStatus | None = Field(default=None, description="Only commands in this state.")
