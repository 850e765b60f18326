"""Command records: the durable state machine behind every remote command.

State changes are single conditional UPDATEs (``WHERE status = 'pending'``), so whoever settles a
command first wins (the reply, the sweeper, an offline verdict) and nobody overwrites a final
state. "Claiming" a command sets ``sent_at`` in the same statement that checks it is unsent,
which is what keeps two dispatchers (or a dispatcher and an API request) from sending it twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import Command, Station
from core.domain.enums import CommandAction, CommandStatus
from core.repositories.history import StationRef


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """One remote command as stored: what was asked, by whom, and what became of it."""

    id: uuid.UUID
    station_id: uuid.UUID
    action: CommandAction
    payload: dict[str, Any]
    requested_by: str | None
    status: CommandStatus
    queued: bool
    response: dict[str, Any] | None
    error: str | None
    requested_at: datetime
    sent_at: datetime | None
    answered_at: datetime | None

    @property
    def finished(self) -> bool:
        """True once the status is final (anything but pending)."""
        return self.status is not CommandStatus.PENDING

    @classmethod
    def from_row(cls, row: Command) -> CommandRecord:
        """Map an ORM row."""
        return cls(
            id=row.id,
            station_id=row.station_id,
            action=CommandAction(row.action),
            payload=dict(row.payload or {}),
            requested_by=row.requested_by,
            status=CommandStatus(row.status),
            queued=row.queued,
            response=row.response,
            error=row.error,
            requested_at=row.requested_at,
            sent_at=row.sent_at,
            answered_at=row.answered_at,
        )


_PENDING = CommandStatus.PENDING.value
_FRESH = {"populate_existing": True}


class CommandRepository:
    """Reads and conditional writes of ``command`` rows; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # populate_existing: an UPDATE ... RETURNING must show the new row, even if the session
    # already holds the object from an earlier read.
    async def _one(self, stmt: Any) -> CommandRecord | None:
        result = await self._session.execute(stmt, execution_options=_FRESH)
        row = result.scalar_one_or_none()
        return None if row is None else CommandRecord.from_row(row)

    async def _many(self, stmt: Any) -> list[CommandRecord]:
        result = await self._session.execute(stmt, execution_options=_FRESH)
        return [CommandRecord.from_row(row) for row in result.scalars()]

    async def add(
        self,
        *,
        station_id: uuid.UUID,
        action: CommandAction,
        payload: dict[str, Any],
        requested_by: str | None,
        queued: bool,
        requested_at: datetime,
    ) -> CommandRecord:
        """Insert a pending command."""
        row = Command(
            station_id=station_id,
            action=action.value,
            payload=payload,
            requested_by=requested_by,
            status=_PENDING,
            queued=queued,
            requested_at=requested_at,
        )
        self._session.add(row)
        await self._session.flush()
        return CommandRecord.from_row(row)

    async def get(self, command_id: uuid.UUID) -> CommandRecord | None:
        """A command by id, whoever owns it (for internal callers that already checked scope)."""
        return await self._one(select(Command).where(Command.id == command_id))

    async def get_scoped(
        self, command_id: uuid.UUID, *, partner_id: uuid.UUID | None
    ) -> CommandRecord | None:
        """A command of a station the scope may see (``partner_id`` None = admin)."""
        stmt = (
            select(Command)
            .join(Station, Station.id == Command.station_id)
            .where(Command.id == command_id, Station.deleted_at.is_(None))
        )
        if partner_id is not None:
            stmt = stmt.where(Station.partner_id == partner_id)
        return await self._one(stmt)

    async def list_for_station(
        self,
        station_id: uuid.UUID,
        *,
        status: CommandStatus | None,
        before: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[CommandRecord]:
        """Newest first by (requested_at, id), strictly older than ``before``."""
        stmt: Select[Command] = select(Command).where(Command.station_id == station_id)
        if status is not None:
            stmt = stmt.where(Command.status == status.value)
        if before is not None:
            stmt = stmt.where(
                Command.requested_at <= before[0],
                tuple_(Command.requested_at, Command.id) < tuple_(before[0], before[1]),
            )
        stmt = stmt.order_by(Command.requested_at.desc(), Command.id.desc()).limit(limit)
        return await self._many(stmt)

    async def claim(self, command_id: uuid.UUID, *, at: datetime) -> CommandRecord | None:
        """Mark a pending, unsent command as sent; None when someone else got there first."""
        return await self._one(
            update(Command)
            .where(Command.id == command_id, Command.status == _PENDING, Command.sent_at.is_(None))
            .values(sent_at=at)
            .returning(Command)
        )

    async def claim_next_queued(
        self, station_id: uuid.UUID, *, at: datetime, only: uuid.UUID | None = None
    ) -> CommandRecord | None:
        """Claim the oldest queued, unsent command of a station, keeping the queue in order.

        Nothing is claimed while another queued command of the station is in flight (sent,
        unanswered), so the charger sees the queue one command at a time, oldest first, even
        with several dispatchers. With ``only``, claim only if that command is next in line.
        The station's advisory lock (held until commit) makes check-and-claim atomic.
        """
        await self._session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(str(station_id), 0)))
        )
        queued = (
            Command.station_id == station_id,
            Command.status == _PENDING,
            Command.queued.is_(True),
        )
        in_flight = select(Command.id).where(*queued, Command.sent_at.is_not(None)).exists()
        oldest = (
            select(Command.id)
            .where(*queued, Command.sent_at.is_(None), ~in_flight)
            .order_by(Command.requested_at, Command.id)
            .limit(1)
            .scalar_subquery()
        )
        stmt = update(Command).where(Command.id == oldest, Command.sent_at.is_(None))
        if only is not None:
            stmt = stmt.where(Command.id == only)
        return await self._one(stmt.values(sent_at=at).returning(Command))

    async def release(self, command_id: uuid.UUID) -> CommandRecord | None:
        """Undo a claim whose send found the station gone, so the command stays queued."""
        return await self._one(
            update(Command)
            .where(Command.id == command_id, Command.status == _PENDING)
            .values(sent_at=None)
            .returning(Command)
        )

    async def finish(
        self,
        command_id: uuid.UUID,
        *,
        status: CommandStatus,
        response: dict[str, Any] | None,
        error: str | None,
        at: datetime,
    ) -> CommandRecord | None:
        """Settle a pending command; None when it was already final."""
        if status is CommandStatus.PENDING:
            raise ValueError("finish() needs a final status")
        return await self._one(
            update(Command)
            .where(Command.id == command_id, Command.status == _PENDING)
            .values(status=status.value, response=response, error=error, answered_at=at)
            .returning(Command)
        )

    async def expire(
        self,
        *,
        sent_before: datetime,
        unsent_before: datetime,
        at: datetime,
        limit: int,
    ) -> list[CommandRecord]:
        """Settle commands nobody will answer any more.

        Sent but unanswered before ``sent_before`` -> timed_out; never sent although not
        queued, requested before ``unsent_before`` (the process died in between) -> failed.
        """
        sent = (
            select(Command.id)
            .where(
                Command.status == _PENDING,
                Command.sent_at.is_not(None),
                Command.sent_at < sent_before,
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        timed_out = await self._many(
            update(Command)
            .where(Command.id.in_(sent), Command.status == _PENDING)
            .values(
                status=CommandStatus.TIMED_OUT.value,
                error="no answer from the charger",
                answered_at=at,
            )
            .returning(Command)
        )
        unsent = (
            select(Command.id)
            .where(
                Command.status == _PENDING,
                Command.queued.is_(False),
                Command.sent_at.is_(None),
                Command.requested_at < unsent_before,
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        failed = await self._many(
            update(Command)
            .where(Command.id.in_(unsent), Command.status == _PENDING)
            .values(
                status=CommandStatus.FAILED.value,
                error="never sent: the central system stopped before sending",
                answered_at=at,
            )
            .returning(Command)
        )
        return timed_out + failed

    async def with_queued(self, station_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
        """Those of ``station_ids`` with queued commands still unsent (``ix_command_pending``)."""
        if not station_ids:
            return []
        rows = await self._session.scalars(
            select(Command.station_id)
            .where(
                Command.station_id.in_(station_ids),
                Command.status == _PENDING,
                Command.queued.is_(True),
                Command.sent_at.is_(None),
            )
            .distinct()
        )
        return list(rows)

    async def stations_with_queued(self, *, limit: int) -> list[StationRef]:
        """Online, live stations that have queued commands still unsent."""
        waiting = select(Command.station_id).where(
            Command.status == _PENDING, Command.queued.is_(True), Command.sent_at.is_(None)
        )
        rows = (
            await self._session.execute(
                select(Station.id, Station.partner_id, Station.charge_point_id)
                .where(
                    Station.id.in_(waiting),
                    Station.online.is_(True),
                    Station.deleted_at.is_(None),
                )
                .limit(limit)
            )
        ).all()
        return [StationRef(row.id, row.partner_id, row.charge_point_id) for row in rows]

    async def station_refs(self, station_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, StationRef]:
        """Routing and scoping data of stations, deleted or not (for events about commands)."""
        if not station_ids:
            return {}
        rows = (
            await self._session.execute(
                select(Station.id, Station.partner_id, Station.charge_point_id).where(
                    Station.id.in_(station_ids)
                )
            )
        ).all()
        return {row.id: StationRef(row.id, row.partner_id, row.charge_point_id) for row in rows}
