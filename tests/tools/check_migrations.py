"""`make migrations-check`: upgrade head, downgrade to base, upgrade again, then `alembic check`.

Runs on a scratch database so it never touches data; exits non-zero on any failure.
"""

from __future__ import annotations

import sys

from alembic import command

from core.db.migrate import alembic_config
from tests.tools.db import scratch_database, server_url


def main() -> int:
    """Run the round trip and the model/schema comparison."""
    with server_url() as admin_url, scratch_database(admin_url, prefix="mig") as url:
        cfg = alembic_config(url)
        for step, action in (
            ("upgrade head", lambda: command.upgrade(cfg, "head")),
            ("downgrade base", lambda: command.downgrade(cfg, "base")),
            ("upgrade head", lambda: command.upgrade(cfg, "head")),
            ("check", lambda: command.check(cfg)),
        ):
            print(f"migrations: {step}", flush=True)  # noqa: T201
            action()
    print("migrations: round trip and check passed")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
