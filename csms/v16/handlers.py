"""OCPP 1.6J messages from the charge point: map the payload in, call one service, map back.

Payloads arrive validated against the official 1.6 schemas, so required fields are present and
typed; these functions only translate names, units and defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from config.logging import get_logger
from core.domain.charging import (
    DEFAULT_STOP_REASON,
    BootReport,
    IdTokenInfo,
    MeterReport,
    MeterSample,
    NoticeKind,
    StationNotice,
    StatusReport,
    TransactionStart,
    TransactionStop,
)
from core.domain.enums import ConnectorStatus
from csms.convert import connector_number, format_time, parse_time, sample_value
from csms.dialect import ChargerSession, Handler

log = get_logger("csms")

# idTagInfo.parentIdTag is at most 20 characters in 1.6 (our ids may be up to 36).
_ID_TAG_WIDTH = 20


def id_tag_info(info: IdTokenInfo) -> dict[str, Any]:
    """IdTagInfo of 1.6."""
    out: dict[str, Any] = {"status": info.status.value}
    if info.expires_at is not None:
        out["expiryDate"] = format_time(info.expires_at)
    if info.parent_id_tag and len(info.parent_id_tag) <= _ID_TAG_WIDTH:
        out["parentIdTag"] = info.parent_id_tag
    return out


def samples(meter_values: list[dict[str, Any]]) -> tuple[MeterSample, ...]:
    """Every numeric sampledValue with the 1.6 defaults; signed or non-numeric ones are skipped."""
    out: list[MeterSample] = []
    skipped = 0
    for meter_value in meter_values:
        time = parse_time(meter_value["timestamp"])
        for sampled in meter_value["sampledValue"]:
            value = (
                None if sampled.get("format") == "SignedData" else sample_value(sampled["value"])
            )
            if value is None:
                skipped += 1
                continue
            out.append(
                MeterSample.reported(
                    time=time,
                    value=value,
                    measurand=sampled.get("measurand"),
                    unit=sampled.get("unit"),
                    phase=sampled.get("phase"),
                    context=sampled.get("context"),
                    location=sampled.get("location"),
                )
            )
    if skipped:
        log.info("samples_skipped", count=skipped, reason="signed or not numeric")
    return tuple(out)


async def on_boot_notification(session: ChargerSession, payload: dict[str, Any]) -> dict[str, Any]:
    """BootNotification: record the identity, answer registration, time and interval."""
    report = BootReport(
        vendor=payload["chargePointVendor"],
        model=payload["chargePointModel"],
        serial_number=payload.get("chargePointSerialNumber")
        or payload.get("chargeBoxSerialNumber"),
        firmware_version=payload.get("firmwareVersion"),
    )
    outcome = await session.service.register_boot(session.station, report)
    session.station = outcome.station
    return {
        "status": outcome.status.value,
        "currentTime": format_time(outcome.current_time),
        "interval": outcome.interval,
    }


async def on_heartbeat(session: ChargerSession, payload: dict[str, Any]) -> dict[str, Any]:
    """Heartbeat: the server time."""
    now = await session.service.record_heartbeat(session.station)
    return {"currentTime": format_time(now)}


async def on_status_notification(
    session: ChargerSession, payload: dict[str, Any]
) -> dict[str, Any]:
    """StatusNotification: connector 0 is the charge point itself."""
    stamp = payload.get("timestamp")
    report = StatusReport(
        connector_number=connector_number(payload["connectorId"], field="connectorId"),
        status=ConnectorStatus(payload["status"]),
        error_code=payload["errorCode"],
        timestamp=parse_time(stamp) if stamp else session.service.clock.now(),
    )
    await session.service.record_status(session.station, report)
    return {}


async def on_meter_values(session: ChargerSession, payload: dict[str, Any]) -> dict[str, Any]:
    """MeterValues: every sampledValue, linked to the transaction when one is named."""
    transaction_id = payload.get("transactionId")
    report = MeterReport(
        connector_number=connector_number(payload["connectorId"], field="connectorId"),
        transaction_id=str(transaction_id) if transaction_id is not None else None,
        samples=samples(payload["meterValue"]),
    )
    await session.service.record_meter_values(session.station, report)
    return {}


async def on_authorize(session: ChargerSession, payload: dict[str, Any]) -> dict[str, Any]:
    """Authorize: the verdict on the id tag."""
    info = await session.service.authorize(session.station, payload["idTag"])
    return {"idTagInfo": id_tag_info(info)}


async def on_start_transaction(session: ChargerSession, payload: dict[str, Any]) -> dict[str, Any]:
    """StartTransaction: the central system assigns the (random) transaction id."""
    start = TransactionStart(
        connector_number=connector_number(payload["connectorId"], field="connectorId", minimum=1),
        id_tag=payload["idTag"],
        started_at=parse_time(payload["timestamp"]),
        meter_start_wh=float(payload["meterStart"]),
    )
    outcome = await session.service.start_transaction(session.station, start)
    assert outcome.transaction is not None
    assert outcome.id_token_info is not None
    return {
        "transactionId": int(outcome.transaction.transaction_id),
        "idTagInfo": id_tag_info(outcome.id_token_info),
    }


async def on_stop_transaction(session: ChargerSession, payload: dict[str, Any]) -> dict[str, Any]:
    """StopTransaction with its transactionData; unknown or repeated stops are acknowledged."""
    stop = TransactionStop(
        transaction_id=str(payload["transactionId"]),
        stopped_at=parse_time(payload["timestamp"]),
        meter_stop_wh=float(payload["meterStop"]),
        reason=payload.get("reason") or DEFAULT_STOP_REASON,
        id_tag=payload.get("idTag"),
    )
    outcome = await session.service.stop_transaction(
        session.station, stop, samples(payload.get("transactionData", []))
    )
    if stop.id_tag is not None and outcome.id_token_info is not None:
        return {"idTagInfo": id_tag_info(outcome.id_token_info)}
    return {}


async def on_data_transfer(session: ChargerSession, payload: dict[str, Any]) -> dict[str, Any]:
    """DataTransfer: no vendor extension is implemented."""
    status = session.service.answer_data_transfer(
        session.station, vendor_id=payload["vendorId"], message_id=payload.get("messageId")
    )
    return {"status": status.value}


async def on_firmware_status_notification(
    session: ChargerSession, payload: dict[str, Any]
) -> dict[str, Any]:
    """FirmwareStatusNotification: logged."""
    session.service.record_notice(
        session.station, StationNotice(NoticeKind.FIRMWARE_STATUS, payload["status"])
    )
    return {}


async def on_diagnostics_status_notification(
    session: ChargerSession, payload: dict[str, Any]
) -> dict[str, Any]:
    """DiagnosticsStatusNotification: logged."""
    session.service.record_notice(
        session.station, StationNotice(NoticeKind.DIAGNOSTICS_STATUS, payload["status"])
    )
    return {}


HANDLERS: Mapping[str, Handler] = {
    "BootNotification": on_boot_notification,
    "Heartbeat": on_heartbeat,
    "StatusNotification": on_status_notification,
    "MeterValues": on_meter_values,
    "Authorize": on_authorize,
    "StartTransaction": on_start_transaction,
    "StopTransaction": on_stop_transaction,
    "DataTransfer": on_data_transfer,
    "FirmwareStatusNotification": on_firmware_status_notification,
    "DiagnosticsStatusNotification": on_diagnostics_status_notification,
}
