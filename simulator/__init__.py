"""Charger simulator: a black box that speaks only OCPP over real websockets."""
