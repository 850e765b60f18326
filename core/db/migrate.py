"""Run alembic programmatically (start-up of the embedded mode, tests, the migrate job)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(database_url: str) -> Config:
    """An alembic Config for this repository's migrations pointed at ``database_url``."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


async def upgrade_to_head(database_url: str) -> None:
    """``alembic upgrade head`` in a worker thread (env.py runs its own event loop)."""
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "head")
