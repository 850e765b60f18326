"""Composition root of the OCPP central system.

``serve_csms`` wires the group-commit writer, the charging service, both protocol dialects,
the connection registry and the command executor around already-open ``Resources``, and serves
websockets (plus ``/health``, ``/ready`` and ``/metrics``) until the block exits. Shutdown runs
in reverse: sockets close with GOING_AWAY (1001) and their handlers record the disconnects, then
the writer flushes what is left.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator
from functools import partial

from websockets.asyncio.server import Server, serve

from config.logging import get_logger
from config.settings import Settings, UnknownStationPolicy
from core.domain.enums import OcppProtocol
from core.runtime import Resources
from core.services.charging import ChargingOp, ChargingService, apply_charging_batch
from core.services.commands import CommandRecorder, QueuedCommandDispatcher
from core.services.group_commit import GroupCommitWriter, driver_transaction
from csms import v16, v201
from csms.dialect import Dialect
from csms.executor import OcppCommandExecutor
from csms.gateway import SUBPROTOCOLS, Gateway, select_subprotocol
from csms.metrics import CsmsMetrics
from csms.registry import ConnectionRegistry

log = get_logger("csms")

#: Outbound CALLs whose schemas are compiled at start-up, per version.
OUTBOUND_ACTIONS: dict[OcppProtocol, tuple[str, ...]] = {
    OcppProtocol.OCPP16: (
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "Reset",
        "ChangeAvailability",
        "UnlockConnector",
        "TriggerMessage",
        "GetConfiguration",
        "ChangeConfiguration",
        "ClearCache",
    ),
    OcppProtocol.OCPP201: (
        "RequestStartTransaction",
        "RequestStopTransaction",
        "Reset",
        "ChangeAvailability",
        "UnlockConnector",
        "TriggerMessage",
        "GetVariables",
        "SetVariables",
        "ClearCache",
    ),
}


def build_dialects() -> dict[OcppProtocol, Dialect]:
    """Both versions, with every schema they can need compiled."""
    dialects = {OcppProtocol.OCPP16: v16.dialect(), OcppProtocol.OCPP201: v201.dialect()}
    for protocol, dialect in dialects.items():
        dialect.warm(OUTBOUND_ACTIONS[protocol])
    return dialects


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """Security profile 2: TLS 1.2+ with the configured certificate chain and key."""
    if not settings.tls_enabled:
        return None
    assert settings.tls_cert_file is not None
    assert settings.tls_key_file is not None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(settings.tls_cert_file, settings.tls_key_file)
    return context


@contextlib.asynccontextmanager
async def serve_csms(
    resources: Resources, *, recorder: CommandRecorder | None = None
) -> AsyncIterator[Server]:
    """Listen for chargers until the block exits, then close every socket with GOING_AWAY.

    Queued commands are delivered (and stale ones swept) by a dispatcher running here, through
    ``recorder``: the one the caller shares with the API in one process (the caller starts and
    closes it), else one of this server's own.
    """
    settings = resources.settings
    registry = ConnectionRegistry()
    metrics = CsmsMetrics(connected=lambda: len(registry))
    writer: GroupCommitWriter[ChargingOp, object] = GroupCommitWriter(
        open_transaction=partial(driver_transaction, resources.engine),
        apply=apply_charging_batch,
        max_batch=settings.group_commit_max_batch,
        max_delay=settings.group_commit_max_delay_ms / 1000,
        observer=metrics.flush,
    )
    service = ChargingService(
        uow=resources.uow,
        writer=writer,
        events=resources.event_bus,
        clock=resources.clock,
        heartbeat_interval=settings.heartbeat_interval,
        accept_unknown_stations=settings.unknown_stations is UnknownStationPolicy.PENDING,
    )
    if resources.redis is None:
        # Without Redis this process is the only csms: online flags left by a previous run
        # that died are stale. (With several nodes another one may hold those stations.)
        try:
            reset = await service.reset_online_flags()
        except Exception as exc:  # keep serving: /ready says the database is not there
            log.warning("stale_online_flags_not_cleared", error=repr(exc))
        else:
            if reset:
                log.info("stale_online_flags_cleared", stations=reset)
    async with contextlib.AsyncExitStack() as stack:
        await writer.start()
        stack.push_async_callback(writer.close)
        stack.push_async_callback(registry.wait_evictions)
        resources.command_bus.bind_executor(
            OcppCommandExecutor(registry, max_timeout=settings.ocpp_call_timeout, metrics=metrics)
        )
        if recorder is None:
            recorder = await stack.enter_async_context(CommandRecorder.from_resources(resources))
        # Told by the gateway about each connect (no event-bus subscription: with Redis that
        # would decode every event of the fleet here only to find the connects).
        dispatcher = await stack.enter_async_context(QueuedCommandDispatcher(recorder=recorder))
        gateway = Gateway(
            service=service,
            dialects=build_dialects(),
            registry=registry,
            metrics=metrics,
            database_ready=resources.database_ready,
            on_connected=dispatcher.station_connected,
        )
        server = await stack.enter_async_context(
            serve(
                gateway.handle,
                settings.csms_host,
                settings.csms_port,
                process_request=gateway.process_request,
                select_subprotocol=select_subprotocol,
                subprotocols=list(SUBPROTOCOLS),
                compression=None,
                ping_interval=settings.ocpp_ping_interval,
                ping_timeout=settings.ocpp_ping_timeout,
                # A peer that missed its pong will not finish a close handshake either: waiting
                # the default 10 s for it would keep a dead station "online" that much longer.
                close_timeout=settings.ocpp_ping_timeout,
                max_size=settings.ocpp_max_message_bytes,
                # A charger has one CALL in flight (plus a reply to ours): a few queued frames
                # are plenty, and the read and write buffers of 20,000 sockets add up.
                max_queue=4,
                write_limit=8192,
                # A reconnect storm: the kernel queues this many handshakes (capped by
                # net.core.somaxconn) instead of refusing them, and each may take this long.
                backlog=settings.ocpp_listen_backlog,
                open_timeout=settings.ocpp_open_timeout,
                ssl=tls_context(settings),
            )
        )
        log.info(
            "csms_listening",
            host=settings.csms_host,
            port=settings.csms_port,
            tls=settings.tls_enabled,
            unknown_stations=settings.unknown_stations.value,
        )
        yield server
