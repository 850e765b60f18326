"""OCPP 2.0.1 messages from the charging station: map the payload in, call one service, map back.

evseId is our connector_number (we model one connector per EVSE; the connectorId inside an EVSE
is not stored). A TransactionEvent is one transaction message of the internal model: Started
carries the start, Updated may carry an id token learned later, Ended carries the stop, and
any of them samples.
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
    TransactionReport,
    TransactionStart,
    TransactionStop,
)
from core.domain.enums import ConnectorStatus
from csms.convert import connector_number, format_time, parse_time, sample_value
from csms.dialect import ChargerSession, Handler

log = get_logger("csms")

#: An id token of this type stands for "no authorization needed", not for a tag to look up.
NO_AUTHORIZATION = "NoAuthorization"


def id_token_info(info: IdTokenInfo) -> dict[str, Any]:
    """IdTokenInfoType of 2.0.1."""
    out: dict[str, Any] = {"status": info.status.value}
    if info.expires_at is not None:
        out["cacheExpiryDateTime"] = format_time(info.expires_at)
    if info.parent_id_tag:
        out["groupIdToken"] = {"idToken": info.parent_id_tag, "type": "Central"}
    return out


def samples(meter_values: list[dict[str, Any]]) -> tuple[MeterSample, ...]:
    """Every sampledValue with the 2.0.1 defaults; the unit multiplier is applied to the value."""
    out: list[MeterSample] = []
    for meter_value in meter_values:
        time = parse_time(meter_value["timestamp"])
        for sampled in meter_value["sampledValue"]:
            unit = sampled.get("unitOfMeasure") or {}
            value = _scaled(sampled["value"], unit.get("multiplier", 0))
            if value is None:
                log.info("samples_skipped", count=1, reason="value out of range")
                continue
            out.append(
                MeterSample.reported(
                    time=time,
                    value=value,
                    measurand=sampled.get("measurand"),
                    unit=unit.get("unit"),
                    phase=sampled.get("phase"),
                    context=sampled.get("context"),
                    location=sampled.get("location"),
                )
            )
    return tuple(out)


def _scaled(value: float, multiplier: int) -> float | None:
    try:
        return sample_value(value * 10.0**multiplier if multiplier else value)
    except OverflowError:
        return None


def _id_tag(token: Mapping[str, Any] | None) -> str | None:
    if token is None or token["type"] == NO_AUTHORIZATION:
        return None
    value: str = token["idToken"]
    return value


async def on_boot_notification(session: ChargerSession, payload: dict[str, Any]) -> dict[str, Any]:
    """BootNotificationRequest: record the identity, answer registration, time and interval."""
    station = payload["chargingStation"]
    report = BootReport(
        vendor=station["vendorName"],
        model=station["model"],
        serial_number=station.get("serialNumber"),
        firmware_version=station.get("firmwareVersion"),
    )
    outcome = await session.service.register_boot(session.station, report)
    session.station = outcome.station
    return {
        "currentTime": format_time(outcome.current_time),
        "interval": outcome.interval,
        "status": outcome.status.value,
    }


async def on_heartbeat(session: ChargerSession, payload: dict[str, Any]) -> dict[str, Any]:
    """HeartbeatRequest: the server time."""
    now = await session.service.record_heartbeat(session.station)
    return {"currentTime": format_time(now)}


async def on_status_notification(
    session: ChargerSession, payload: dict[str, Any]
) -> dict[str, Any]:
    """StatusNotificationRequest: the EVSE's connector status."""
    report = StatusReport(
        connector_number=connector_number(payload["evseId"], field="evseId"),
        status=ConnectorStatus(payload["connectorStatus"]),
        error_code=None,
        timestamp=parse_time(payload["timestamp"]),
    )
    await session.service.record_status(session.station, report)
    return {}


async def on_meter_values(session: ChargerSession, payload: dict[str, Any]) -> dict[str, Any]:
    """MeterValuesRequest: samples outside a transaction (evseId 0 = the main meter)."""
    report = MeterReport(
        connector_number=connector_number(payload["evseId"], field="evseId"),
        transaction_id=None,
        samples=samples(payload["meterValue"]),
    )
    await session.service.record_meter_values(session.station, report)
    return {}


async def on_authorize(session: ChargerSession, payload: dict[str, Any]) -> dict[str, Any]:
    """AuthorizeRequest: the verdict on the id token."""
    info = await session.service.authorize(session.station, payload["idToken"]["idToken"])
    return {"idTokenInfo": id_token_info(info)}


async def on_transaction_event(session: ChargerSession, payload: dict[str, Any]) -> dict[str, Any]:
    """TransactionEventRequest (Started / Updated / Ended), with its meter values."""
    event_type = payload["eventType"]
    info = payload["transactionInfo"]
    transaction_id: str = info["transactionId"]
    timestamp = parse_time(payload["timestamp"])
    evse = payload.get("evse")
    connector = connector_number(evse["id"], field="evse.id") if evse else None
    id_tag = _id_tag(payload.get("idToken"))
    sampled = samples(payload.get("meterValue", []))
    report = TransactionReport(
        start=TransactionStart(
            connector_number=connector or 0,
            id_tag=id_tag,
            started_at=timestamp,
            meter_start_wh=None,
            transaction_id=transaction_id,
        )
        if event_type == "Started"
        else None,
        stop=TransactionStop(
            transaction_id=transaction_id,
            stopped_at=timestamp,
            meter_stop_wh=None,
            reason=info.get("stoppedReason") or DEFAULT_STOP_REASON,
            id_tag=id_tag,
        )
        if event_type == "Ended"
        else None,
        meter=MeterReport(connector, transaction_id, sampled) if sampled else None,
        transaction_id=transaction_id,
        id_tag=id_tag,
    )
    outcome = await session.service.record_transaction(session.station, report)
    if id_tag is not None and outcome.id_token_info is not None:
        return {"idTokenInfo": id_token_info(outcome.id_token_info)}
    return {}


async def on_data_transfer(session: ChargerSession, payload: dict[str, Any]) -> dict[str, Any]:
    """DataTransferRequest: no vendor extension is implemented."""
    status = session.service.answer_data_transfer(
        session.station, vendor_id=payload["vendorId"], message_id=payload.get("messageId")
    )
    return {"status": status.value}


def _notice(
    session: ChargerSession, kind: NoticeKind, status: str | None, **details: Any
) -> dict[str, Any]:
    session.service.record_notice(session.station, StationNotice(kind, status, details))
    return {}


async def on_firmware_status_notification(
    session: ChargerSession, payload: dict[str, Any]
) -> dict[str, Any]:
    """FirmwareStatusNotificationRequest: logged."""
    return _notice(
        session, NoticeKind.FIRMWARE_STATUS, payload["status"], request_id=payload.get("requestId")
    )


async def on_log_status_notification(
    session: ChargerSession, payload: dict[str, Any]
) -> dict[str, Any]:
    """LogStatusNotificationRequest: logged."""
    return _notice(
        session, NoticeKind.LOG_STATUS, payload["status"], request_id=payload.get("requestId")
    )


async def on_security_event_notification(
    session: ChargerSession, payload: dict[str, Any]
) -> dict[str, Any]:
    """SecurityEventNotificationRequest: logged as a warning."""
    return _notice(
        session,
        NoticeKind.SECURITY_EVENT,
        payload["type"],
        occurred_at=payload["timestamp"],
        tech_info=payload.get("techInfo"),
    )


async def on_notify_event(session: ChargerSession, payload: dict[str, Any]) -> dict[str, Any]:
    """NotifyEventRequest: which component/variable pairs reported (values stay out of logs)."""
    events = payload["eventData"]
    return _notice(
        session,
        NoticeKind.DEVICE_EVENT,
        None,
        seq_no=payload["seqNo"],
        events=len(events),
        variables=sorted({f"{e['component']['name']}.{e['variable']['name']}" for e in events}),
    )


async def on_notify_report(session: ChargerSession, payload: dict[str, Any]) -> dict[str, Any]:
    """NotifyReportRequest: one part of a device model report, logged by size."""
    return _notice(
        session,
        NoticeKind.DEVICE_REPORT,
        None,
        request_id=payload["requestId"],
        seq_no=payload["seqNo"],
        items=len(payload.get("reportData", [])),
        more_to_come=bool(payload.get("tbc", False)),
    )


HANDLERS: Mapping[str, Handler] = {
    "BootNotification": on_boot_notification,
    "Heartbeat": on_heartbeat,
    "StatusNotification": on_status_notification,
    "MeterValues": on_meter_values,
    "TransactionEvent": on_transaction_event,
    "Authorize": on_authorize,
    "NotifyReport": on_notify_report,
    "NotifyEvent": on_notify_event,
    "SecurityEventNotification": on_security_event_notification,
    "FirmwareStatusNotification": on_firmware_status_notification,
    "LogStatusNotification": on_log_status_notification,
    "DataTransfer": on_data_transfer,
}
