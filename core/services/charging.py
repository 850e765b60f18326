"""Use cases a connected charger drives, whatever OCPP version it speaks.

Admission runs in its own unit of work at the handshake. Everything a charger sends afterwards
becomes one operation for the group-commit writer (``apply_charging_batch`` turns a batch of
them into a few set-based statements); the service awaits the commit, publishes the events the
committed data implies, and returns the domain answer the protocol adapter maps back.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from config.logging import get_logger
from core.bus.events import Event, EventBus, EventType
from core.clock import Clock
from core.domain.charging import (
    STATION_CONNECTOR,
    BootOutcome,
    BootReport,
    DataTransferStatus,
    IdTokenInfo,
    MeterReport,
    MeterSample,
    NoticeKind,
    StationAdmission,
    StationNotice,
    StationRef,
    StatusReport,
    StopOutcome,
    TransactionOutcome,
    TransactionRecord,
    TransactionReport,
    TransactionStart,
    TransactionStop,
    energy_register_wh,
    evaluate_id_tag,
)
from core.domain.enums import OcppProtocol, RegistrationStatus
from core.repositories.charging import (
    BootRegistration,
    BootRow,
    ChargingBatchRepository,
    ConnectRow,
    IdTagLookup,
    SampleRow,
    StartResult,
    StartRow,
    StationAdmissionRepository,
    StatusChange,
    StatusRow,
    StopRow,
    TokenRow,
)
from core.services.group_commit import GroupCommitWriter
from core.uow import UnitOfWorkFactory

log = get_logger("charging")

#: OCPP 1.6 transaction ids are positive int32; they are drawn at random, never a sequence.
MAX_TRANSACTION_ID = 2**31 - 1
_MAX_ID_ATTEMPTS = 8

T = TypeVar("T")


def new_transaction_id() -> str:
    """A random positive int32 as text: not guessable from the previous one."""
    return str(secrets.randbelow(MAX_TRANSACTION_ID) + 1)


# --- operations of the group-commit writer ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdmitOp:
    """A handshake: who may connect as this identity (a read, batched like the writes)."""

    charge_point_id: str


@dataclass(frozen=True, slots=True)
class ConnectOp:
    """The websocket was accepted."""

    station: StationRef
    protocol: OcppProtocol
    ip_address: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class DisconnectOp:
    """The websocket closed."""

    station: StationRef
    at: datetime


@dataclass(frozen=True, slots=True)
class BootOp:
    """BootNotification."""

    station: StationRef
    report: BootReport
    at: datetime


@dataclass(frozen=True, slots=True)
class HeartbeatOp:
    """Heartbeat."""

    station: StationRef
    at: datetime


@dataclass(frozen=True, slots=True)
class AuthorizeOp:
    """Authorize: a read, batched with the writes because it costs the same round trip."""

    station: StationRef
    id_tag: str
    at: datetime


@dataclass(frozen=True, slots=True)
class StatusOp:
    """StatusNotification for a connector >= 1."""

    station: StationRef
    report: StatusReport


@dataclass(frozen=True, slots=True)
class MeterOp:
    """MeterValues."""

    station: StationRef
    report: MeterReport


@dataclass(frozen=True, slots=True)
class TransactionOp:
    """Start / stop / transaction event, with its samples."""

    station: StationRef
    report: TransactionReport
    at: datetime


ChargingOp = (
    AdmitOp
    | ConnectOp
    | DisconnectOp
    | BootOp
    | HeartbeatOp
    | AuthorizeOp
    | StatusOp
    | MeterOp
    | TransactionOp
)


# --- applying a batch ----------------------------------------------------------------------


def _rounds(
    indexed: Iterable[tuple[int, T]], key: Callable[[T], Hashable]
) -> list[list[tuple[int, T]]]:
    """Split rows so that no round names the same key twice (upserts may touch a row once)."""
    rounds: list[list[tuple[int, T]]] = []
    seen: list[set[Hashable]] = []
    for ord_, item in indexed:
        k = key(item)
        for round_, keys in zip(rounds, seen, strict=True):
            if k not in keys:
                round_.append((ord_, item))
                keys.add(k)
                break
        else:
            rounds.append([(ord_, item)])
            seen.append({k})
    return rounds


def _sample_rows(ord_: int, station: StationRef, report: MeterReport) -> list[SampleRow]:
    return [
        SampleRow(
            ord=ord_,
            station_id=station.id,
            connector_number=report.connector_number,
            transaction_id=report.transaction_id,
            time=s.time,
            measurand=s.measurand,
            value=s.value,
            unit=s.unit,
            phase=s.phase,
            context=s.context,
            location=s.location,
        )
        for s in report.samples
    ]


@dataclass(slots=True)
class _TxWork:
    """Intermediate state of one transaction op while its batch is applied."""

    started: StartResult | None = None
    stopped: TransactionRecord | None = None
    stop_outcome: StopOutcome | None = None
    info: IdTokenInfo | None = None
    fresh: bool = False


@dataclass(frozen=True, slots=True)
class BootResult:
    """What a boot op found (None registration = the station row is gone)."""

    registration: BootRegistration | None


async def apply_charging_batch(connection: Any, ops: Sequence[ChargingOp]) -> list[Any]:
    """Apply a batch of charger operations in order of dependency; one result per op.

    Order: station liveness, boots, id tag verdicts, transaction starts, late id tags,
    connector statuses, samples (after the starts they may belong to), stops (after the samples
    their energy may come from).
    """
    repo = ChargingBatchRepository(connection)
    results: list[Any] = [None] * len(ops)
    indexed = list(enumerate(ops))
    await _apply_admissions(repo, indexed, results)
    await _apply_liveness(repo, indexed)
    await _apply_boots(repo, [(i, op) for i, op in indexed if isinstance(op, BootOp)], results)
    verdicts = await _apply_verdicts(repo, indexed, results)
    tx_ops = [(i, op) for i, op in indexed if isinstance(op, TransactionOp)]
    work = {i: _TxWork(info=verdicts.get(i)) for i, _ in tx_ops}
    await _apply_starts(repo, tx_ops, work)
    await _apply_late_id_tags(repo, tx_ops, work)
    await _apply_statuses(repo, [(i, op) for i, op in indexed if isinstance(op, StatusOp)], results)
    await _apply_samples(repo, indexed, work, results)
    await _apply_stops(repo, tx_ops, work)
    for i, _op in tx_ops:
        w = work[i]
        results[i] = TransactionOutcome(
            transaction=w.started.record if w.started else None,
            created=bool(w.started and w.started.created),
            stop_outcome=w.stop_outcome,
            stopped=w.stopped,
            id_token_info=w.info,
            fresh_samples=w.fresh,
        )
    return results


async def _apply_admissions(
    repo: ChargingBatchRepository, indexed: list[tuple[int, ChargingOp]], results: list[Any]
) -> None:
    # A reconnect storm is thousands of handshakes: one lookup for all of them.
    wanted = [(i, op.charge_point_id) for i, op in indexed if isinstance(op, AdmitOp)]
    if wanted:
        found = await repo.admissions({cp for _, cp in wanted})
        for i, charge_point_id in wanted:
            results[i] = found.get(charge_point_id)


async def _apply_liveness(
    repo: ChargingBatchRepository, indexed: list[tuple[int, ChargingOp]]
) -> None:
    # Disconnects first: a charger that reconnected at once has both in one batch.
    await repo.mark_disconnected(
        [(op.station.id, op.at) for _, op in indexed if isinstance(op, DisconnectOp)]
    )
    await repo.mark_connected(
        [
            ConnectRow(op.station.id, op.protocol.value, op.ip_address, op.at)
            for _, op in indexed
            if isinstance(op, ConnectOp)
        ]
    )
    await repo.touch([(op.station.id, op.at) for _, op in indexed if isinstance(op, HeartbeatOp)])


async def _apply_boots(
    repo: ChargingBatchRepository, boots: list[tuple[int, BootOp]], results: list[Any]
) -> None:
    for round_ in _rounds(boots, lambda op: op.station.id):
        found = await repo.record_boots(
            [
                BootRow(
                    i,
                    op.station.id,
                    op.report.vendor,
                    op.report.model,
                    op.report.serial_number,
                    op.report.firmware_version,
                    op.at,
                )
                for i, op in round_
            ]
        )
        for i, _op in round_:
            results[i] = BootResult(found.get(i))


async def _apply_verdicts(
    repo: ChargingBatchRepository, indexed: list[tuple[int, ChargingOp]], results: list[Any]
) -> dict[int, IdTokenInfo]:
    """Verdicts for Authorize and for the id tag of every transaction message."""
    lookups: list[IdTagLookup] = []
    moments: dict[int, datetime] = {}
    for i, op in indexed:
        id_tag: str | None = None
        if isinstance(op, AuthorizeOp):
            id_tag = op.id_tag
        elif isinstance(op, TransactionOp):
            id_tag = op.report.id_tag
        else:
            continue
        if id_tag is not None:
            lookups.append(IdTagLookup(i, op.station.id, id_tag))
            moments[i] = op.at
    records = await repo.find_id_tags(lookups)
    verdicts = {i: evaluate_id_tag(records.get(i), moments[i]) for i in moments}
    for i, op in indexed:
        if isinstance(op, AuthorizeOp):
            results[i] = verdicts[i]
    return verdicts


async def _apply_late_id_tags(
    repo: ChargingBatchRepository,
    tx_ops: list[tuple[int, TransactionOp]],
    work: dict[int, _TxWork],
) -> None:
    tokens: list[TokenRow] = []
    for i, op in tx_ops:
        report, info = op.report, work[i].info
        if report.start is None and report.id_tag and report.transaction_id and info:
            tokens.append(
                TokenRow(op.station.id, report.transaction_id, report.id_tag, info.status.value)
            )
    await repo.learn_id_tags(tokens)


async def _apply_statuses(
    repo: ChargingBatchRepository, statuses: list[tuple[int, StatusOp]], results: list[Any]
) -> None:
    for round_ in _rounds(statuses, lambda op: (op.station.id, op.report.connector_number)):
        changes = await repo.record_statuses(
            [
                StatusRow(
                    i,
                    op.station.id,
                    op.report.connector_number,
                    op.report.status.value,
                    op.report.error_code,
                    op.report.timestamp,
                )
                for i, op in round_
            ]
        )
        for i, _op in round_:
            results[i] = changes.get(i, StatusChange(None, None, False))


async def _apply_samples(
    repo: ChargingBatchRepository,
    indexed: list[tuple[int, ChargingOp]],
    work: dict[int, _TxWork],
    results: list[Any],
) -> None:
    rows: list[SampleRow] = []
    for i, op in indexed:
        if isinstance(op, MeterOp):
            rows.extend(_sample_rows(i, op.station, op.report))
        elif isinstance(op, TransactionOp) and op.report.meter is not None:
            meter = op.report.meter
            started = work[i].started
            if meter.transaction_id is None and started is not None:
                meter = MeterReport(
                    meter.connector_number, started.record.transaction_id, meter.samples
                )
            rows.extend(_sample_rows(i, op.station, meter))
    fresh = await repo.add_samples(rows)
    for i, op in indexed:
        if isinstance(op, MeterOp):
            results[i] = i in fresh
        elif isinstance(op, TransactionOp):
            work[i].fresh = i in fresh


def _start_row(
    i: int, op: TransactionOp, start: TransactionStart, tx_id: str, info: IdTokenInfo | None
) -> StartRow:
    return StartRow(
        ord=i,
        station_id=op.station.id,
        connector_number=start.connector_number,
        id_tag=start.id_tag,
        id_tag_status=info.status.value if info and start.id_tag is not None else None,
        started_at=start.started_at,
        meter_start_wh=start.meter_start_wh,
        transaction_id=tx_id,
    )


async def _apply_starts(
    repo: ChargingBatchRepository,
    tx_ops: list[tuple[int, TransactionOp]],
    work: dict[int, _TxWork],
) -> None:
    given: list[tuple[int, tuple[TransactionOp, TransactionStart, str]]] = []
    assigned: list[tuple[int, tuple[TransactionOp, TransactionStart]]] = []
    for i, op in tx_ops:
        start = op.report.start
        if start is None:
            continue
        if start.transaction_id is not None:
            given.append((i, (op, start, start.transaction_id)))
        else:
            assigned.append((i, (op, start)))

    # The charger chose the id (2.0.1): the retry key is the station and that id.
    for round_ in _rounds(given, lambda item: (item[0].station.id, item[2])):
        found = await repo.start_transactions(
            [_start_row(i, op, start, tx_id, work[i].info) for i, (op, start, tx_id) in round_],
            assigned_ids=False,
        )
        for i, _item in round_:
            work[i].started = found.get(i)

    # We assign the id (1.6): the retry key is what the charger sent; a random candidate that
    # collides with another transaction of the station is drawn again.
    def retry_key(item: tuple[TransactionOp, TransactionStart]) -> Hashable:
        op, start = item
        return (
            op.station.id,
            start.connector_number,
            start.id_tag,
            start.started_at,
            start.meter_start_wh,
        )

    for round_a in _rounds(assigned, retry_key):
        pending = round_a
        for _attempt in range(_MAX_ID_ATTEMPTS):
            found = await repo.start_transactions(
                [
                    _start_row(i, op, start, new_transaction_id(), work[i].info)
                    for i, (op, start) in pending
                ],
                assigned_ids=True,
            )
            for i, _pending in pending:
                work[i].started = found.get(i, work[i].started)
            pending = [entry for entry in pending if entry[0] not in found]
            if not pending:
                break
        else:
            raise RuntimeError(f"no free transaction id after {_MAX_ID_ATTEMPTS} attempts")


async def _apply_stops(
    repo: ChargingBatchRepository,
    tx_ops: list[tuple[int, TransactionOp]],
    work: dict[int, _TxWork],
) -> None:
    stops: list[tuple[int, StopRow]] = []
    for i, op in tx_ops:
        stop = op.report.stop
        if stop is None:
            continue
        meter_stop = stop.meter_stop_wh
        if meter_stop is None and op.report.meter is not None:
            meter_stop = energy_register_wh(op.report.meter.samples)
        row = StopRow(
            i, op.station.id, stop.transaction_id, stop.stopped_at, meter_stop, stop.reason
        )
        stops.append((i, row))
    for round_ in _rounds(stops, lambda row: (row.station_id, row.transaction_id)):
        rows = [row for _, row in round_]
        stopped = await repo.stop_transactions(rows)
        known = await repo.known_transactions(
            [(r.ord, r.station_id, r.transaction_id) for r in rows if r.ord not in stopped]
        )
        for r in rows:
            if r.ord in stopped:
                work[r.ord].stopped = stopped[r.ord]
                work[r.ord].stop_outcome = StopOutcome.STOPPED
            elif r.ord in known:
                work[r.ord].stop_outcome = StopOutcome.ALREADY_STOPPED
            else:
                work[r.ord].stop_outcome = StopOutcome.UNKNOWN


# --- the service -----------------------------------------------------------------------------


@dataclass(slots=True)
class _StationStatus:
    status: str
    error_code: str | None


class ChargingService:
    """The use cases; one instance per csms process.

    ``writer`` must be a ``GroupCommitWriter`` whose applier is ``apply_charging_batch``.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        writer: GroupCommitWriter[ChargingOp, Any],
        events: EventBus,
        clock: Clock,
        heartbeat_interval: int,
        accept_unknown_stations: bool = False,
    ) -> None:
        self.uow = uow
        self.writer = writer
        self.events = events
        self.clock = clock
        self.heartbeat_interval = heartbeat_interval
        self.accept_unknown_stations = accept_unknown_stations
        # Connector 0 (the station itself) has no row to hold its status; the last one
        # reported to this process stands in as "previous" for the change events.
        self._station_status: dict[uuid.UUID, _StationStatus] = {}

    # -- connection lifecycle ---------------------------------------------------------------

    async def admit(self, charge_point_id: str) -> StationAdmission | None:
        """The station this identity may connect as; creates a Pending one if so configured.

        The lookup shares the group-commit writer's batches (a storm of handshakes costs a
        few queries, not a session each); only an unknown identity takes its own unit of work.
        """
        found: StationAdmission | None = await self.writer.submit(AdmitOp(charge_point_id))
        if found is not None or not self.accept_unknown_stations:
            return found
        async with self.uow() as unit:
            repo = StationAdmissionRepository(unit.session)
            admission = await repo.get_by_charge_point_id(charge_point_id)
            if admission is not None:
                return admission
            created = await repo.add_pending(charge_point_id)
            if created is None:  # a concurrent handshake created it first
                return await repo.get_by_charge_point_id(charge_point_id)
            await unit.commit()
        log.info("station_registered_pending", charge_point_id=charge_point_id)
        return created

    async def reset_online_flags(self) -> int:
        """Mark every station offline (start-up of a single-node deployment)."""
        async with self.uow() as unit:
            count = await StationAdmissionRepository(unit.session).mark_all_offline()
            await unit.commit()
        return count

    async def station_connected(
        self,
        station: StationRef,
        *,
        protocol: OcppProtocol,
        ip_address: str | None,
        replaced: bool = False,
    ) -> None:
        """Online now; ``replaced`` = a previous socket of the same station was evicted."""
        now = self.clock.now()
        await self.writer.submit(ConnectOp(station, protocol, ip_address, now))
        if replaced:
            await self._publish(
                EventType.STATION_DISCONNECTED, station, {"reason": "replaced by a new connection"}
            )
        await self._publish(EventType.STATION_CONNECTED, station, {"ocpp_protocol": protocol.value})

    async def station_disconnected(self, station: StationRef, *, reason: str) -> None:
        """Offline at once."""
        await self.writer.submit(DisconnectOp(station, self.clock.now()))
        await self._publish(EventType.STATION_DISCONNECTED, station, {"reason": reason})

    # -- messages ------------------------------------------------------------------------------

    async def register_boot(self, station: StationRef, report: BootReport) -> BootOutcome:
        """Store the reported identity; answer with the registration state and interval.

        A station deleted since it connected is answered Rejected.
        """
        now = self.clock.now()
        result: BootResult = await self.writer.submit(BootOp(station, report, now))
        registration = result.registration
        if registration is None:
            status, current = RegistrationStatus.REJECTED, station
        else:
            status = registration.registration_status
            current = StationRef(station.id, station.charge_point_id, registration.partner_id)
        log.info(
            "boot_recorded",
            status=status.value,
            vendor=report.vendor,
            model=report.model,
            firmware_version=report.firmware_version,
        )
        return BootOutcome(status, self.heartbeat_interval, now, current)

    async def record_heartbeat(self, station: StationRef) -> datetime:
        """The station is alive; answer the server time."""
        now = self.clock.now()
        await self.writer.submit(HeartbeatOp(station, now))
        return now

    async def record_status(self, station: StationRef, report: StatusReport) -> None:
        """Keep the latest connector status; publish a change event when it changed."""
        if report.connector_number == STATION_CONNECTOR:
            previous = self._station_status.get(station.id)
            self._station_status[station.id] = _StationStatus(
                report.status.value, report.error_code
            )
            if previous is None or (previous.status, previous.error_code) != (
                report.status.value,
                report.error_code,
            ):
                await self._publish_status(
                    station, report, previous.status if previous is not None else None
                )
            return
        change: StatusChange = await self.writer.submit(StatusOp(station, report))
        if not change.stored:
            log.warning(
                "status_for_unknown_connector",
                connector_number=report.connector_number,
                status=report.status.value,
            )
            return
        if (change.previous_status, change.previous_error_code) != (
            report.status.value,
            report.error_code,
        ):
            await self._publish_status(station, report, change.previous_status)

    async def authorize(self, station: StationRef, id_tag: str) -> IdTokenInfo:
        """Verdict on an id tag presented at this station."""
        info: IdTokenInfo = await self.writer.submit(AuthorizeOp(station, id_tag, self.clock.now()))
        return info

    async def record_meter_values(self, station: StationRef, report: MeterReport) -> None:
        """Append the samples (a retried message adds nothing); publish them."""
        if not report.samples:
            return
        fresh: bool = await self.writer.submit(MeterOp(station, report))
        if fresh:
            await self._publish_samples(station, report)

    async def start_transaction(
        self, station: StationRef, start: TransactionStart
    ) -> TransactionOutcome:
        """Start (or, for a retry, find again) a transaction; authorize its id tag."""
        return await self.record_transaction(
            station, TransactionReport(start=start, id_tag=start.id_tag)
        )

    async def stop_transaction(
        self,
        station: StationRef,
        stop: TransactionStop,
        samples: Sequence[MeterSample] = (),
    ) -> TransactionOutcome:
        """End a transaction with its transaction data; a repeated or unknown stop is a no-op."""
        meter = MeterReport(None, stop.transaction_id, tuple(samples)) if samples else None
        return await self.record_transaction(
            station,
            TransactionReport(
                stop=stop, meter=meter, transaction_id=stop.transaction_id, id_tag=stop.id_tag
            ),
        )

    async def record_transaction(
        self, station: StationRef, report: TransactionReport
    ) -> TransactionOutcome:
        """Apply a transaction message (start, late id tag, samples, stop) atomically."""
        start = report.start
        if start is not None and start.meter_start_wh is None and report.meter is not None:
            reading = energy_register_wh(report.meter.samples)
            if reading is not None:
                start = TransactionStart(
                    start.connector_number,
                    start.id_tag,
                    start.started_at,
                    reading,
                    start.transaction_id,
                )
                report = TransactionReport(
                    start, report.stop, report.meter, report.transaction_id, report.id_tag
                )
        outcome: TransactionOutcome = await self.writer.submit(
            TransactionOp(station, report, self.clock.now())
        )
        if outcome.created and outcome.transaction is not None:
            tx = outcome.transaction
            await self._publish(
                EventType.TRANSACTION_STARTED,
                station,
                {
                    "id": str(tx.id),
                    "transaction_id": tx.transaction_id,
                    "connector_number": tx.connector_number,
                    "id_tag": tx.id_tag,
                    "meter_start_wh": tx.meter_start_wh,
                    "started_at": tx.started_at.isoformat(),
                },
            )
            self._debug("transaction_started", transaction_id=tx.transaction_id)
        if outcome.fresh_samples and report.meter is not None:
            meter = report.meter
            if meter.transaction_id is None and outcome.transaction is not None:
                meter = MeterReport(
                    meter.connector_number, outcome.transaction.transaction_id, meter.samples
                )
            await self._publish_samples(station, meter, outcome.transaction)
        if outcome.stop_outcome is StopOutcome.STOPPED and outcome.stopped is not None:
            tx = outcome.stopped
            await self._publish(
                EventType.TRANSACTION_STOPPED,
                station,
                {
                    "id": str(tx.id),
                    "transaction_id": tx.transaction_id,
                    "connector_number": tx.connector_number,
                    "meter_stop_wh": tx.meter_stop_wh,
                    "energy_wh": tx.energy_wh,
                    "stopped_at": tx.stopped_at.isoformat() if tx.stopped_at else None,
                    "stop_reason": tx.stop_reason,
                },
            )
            self._debug("transaction_stopped", transaction_id=tx.transaction_id)
        elif outcome.stop_outcome is StopOutcome.UNKNOWN and report.stop is not None:
            log.warning("stop_for_unknown_transaction", transaction_id=report.stop.transaction_id)
        elif outcome.stop_outcome is StopOutcome.ALREADY_STOPPED and report.stop is not None:
            log.info("stop_repeated", transaction_id=report.stop.transaction_id)
        return outcome

    def record_notice(self, station: StationRef, notice: StationNotice) -> None:
        """Informational messages are kept in the log stream (no table holds them)."""
        level = logging.WARNING if notice.kind is NoticeKind.SECURITY_EVENT else logging.INFO
        log.log(
            level, "station_notice", kind=notice.kind.value, status=notice.status, **notice.details
        )

    def answer_data_transfer(
        self, station: StationRef, *, vendor_id: str, message_id: str | None
    ) -> DataTransferStatus:
        """No vendor extension is implemented: every vendor id is unknown (and logged)."""
        log.info("data_transfer_unknown_vendor", vendor_id=vendor_id, message_id=message_id)
        return DataTransferStatus.UNKNOWN_VENDOR_ID

    # -- events ----------------------------------------------------------------------------------

    async def _publish_status(
        self, station: StationRef, report: StatusReport, previous: str | None
    ) -> None:
        await self._publish(
            EventType.CONNECTOR_STATUS_CHANGED,
            station,
            {
                "connector_number": report.connector_number,
                "previous": previous,
                "status": report.status.value,
                "error_code": report.error_code,
            },
        )

    async def _publish_samples(
        self,
        station: StationRef,
        report: MeterReport,
        transaction: TransactionRecord | None = None,
    ) -> None:
        connector = report.connector_number
        if connector is None:
            connector = transaction.connector_number if transaction is not None else 0
        await self._publish(
            EventType.METER_VALUES,
            station,
            {
                "connector_number": connector,
                "transaction_id": report.transaction_id,
                "samples": [s.to_dict() for s in report.samples],
            },
        )

    async def _publish(self, kind: EventType, station: StationRef, data: dict[str, Any]) -> None:
        # The data is committed already; a bus failure must not turn into an OCPP error.
        event = Event(
            type=kind,
            station_id=station.id,
            charge_point_id=station.charge_point_id,
            partner_id=station.partner_id,
            at=self.clock.now(),
            data=data,
        )
        try:
            await self.events.publish(event)
        except Exception as exc:
            log.warning("event_publish_failed", event_type=kind.value, error=repr(exc))

    @staticmethod
    def _debug(event: str, **fields: Any) -> None:
        # Hot path: skip building the log record unless someone reads DEBUG.
        if logging.getLogger("charging").isEnabledFor(logging.DEBUG):
            log.debug(event, **fields)
