"""Shared domain code: models, storage, services and the buses both apps plug into.

Nothing in here knows about websockets, OCPP frames or HTTP (checked by import-linter).
"""
