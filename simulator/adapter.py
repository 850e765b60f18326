"""What the 1.6 and 2.0.1 mappings spell the same way, written once.

``v16`` and ``v201`` subclass :class:`VersionAdapter` and state only what differs: the
configuration table and the key holding the connector count, the error code of a missing
field, the actions they recognise without supporting, and their handler table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from simulator.model import BootResult, CommandTarget, Fields, Outcome, PayloadError, Request
from simulator.station import ConfigStore, ConfigTable
from simulator.transport import Answer


def status_answer(outcome: Outcome, followup: Any = None) -> Answer:
    """The ``{"status": ...}`` answer most commands get, with what the charger does next."""
    return Answer(payload={"status": outcome.value}, followup=followup)


class VersionAdapter:
    """The version-independent half of an :class:`simulator.model.Adapter`."""

    config_table: ClassVar[ConfigTable]
    #: The read-only configuration key that tells how many connectors (EVSEs) there are.
    connector_count_key: ClassVar[str]
    #: The RPC error code of a missing required field (1.6 spells it differently).
    missing_code: ClassVar[str]
    #: Actions a real charger may lack: recognised, answered NotSupported (not NotImplemented).
    known_unsupported: ClassVar[frozenset[str]]
    measurands_key: str

    def __init__(self, handlers: dict[str, Callable[[CommandTarget, Fields], Answer]]) -> None:
        """``handlers``: this version's actions; ClearCache and DataTransfer are added here."""
        self._handlers = {
            **handlers,
            "ClearCache": self.on_clear_cache,
            "DataTransfer": self.on_data_transfer,
        }

    def new_config(self, connectors: int, measurands: str | None) -> ConfigStore:
        """This version's configuration of a charger with ``connectors`` connectors."""
        store = ConfigStore(self.config_table)
        store.put(self.connector_count_key, str(connectors))
        if measurands:
            store.put(self.measurands_key, measurands)
        return store

    # the charger's CALLs ---------------------------------------------------------------------

    def parse_boot(self, payload: dict[str, Any]) -> BootResult:
        """Status and heartbeat interval."""
        interval = payload.get("interval")
        return BootResult(
            status=str(payload.get("status")),
            interval=float(interval) if isinstance(interval, int | float) else 0.0,
        )

    def heartbeat(self) -> Request:
        """Heartbeat."""
        return Request("Heartbeat", {})

    # the central system's CALLs ----------------------------------------------------------------

    def handle(self, target: CommandTarget, action: str, payload: Any) -> Answer:
        """Dispatch to ``on_<action>``; unknown actions get NotImplemented."""
        handler = self._handlers.get(action)
        if handler is None:
            if action in self.known_unsupported:
                return Answer.error("NotSupported", f"{action} is not supported by this charger")
            return Answer.error("NotImplemented", f"{action} is not a known action")
        try:
            return handler(target, Fields(payload, missing_code=self.missing_code))
        except PayloadError as exc:
            return Answer.error(exc.code, exc.description)

    def on_clear_cache(self, target: CommandTarget, fields: Fields) -> Answer:
        """The simulated charger keeps no authorization cache: nothing to refuse."""
        return status_answer(Outcome.ACCEPTED)

    def on_data_transfer(self, target: CommandTarget, fields: Fields) -> Answer:
        """No vendor extensions are known."""
        fields.text("vendorId", max_length=255)
        return Answer(payload={"status": "UnknownVendorId"})
