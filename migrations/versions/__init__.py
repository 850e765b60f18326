"""Migration scripts; ``seed_station_types`` lets tests restore the seeded rows."""

from __future__ import annotations

import importlib
from typing import Any


def seed_station_types() -> list[dict[str, Any]]:
    """The five station types the initial migration inserts."""
    module = importlib.import_module("migrations.versions.20261123_initial_schema")
    return [dict(row) for row in module.SEED_STATION_TYPES]
