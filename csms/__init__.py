"""OCPP central system: websocket server, per-version adapters, command executor."""
