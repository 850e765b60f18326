"""A lent unit of work: services read inside the lender's transaction and cannot end it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.runtime import Resources


async def test_lent_units_share_the_lenders_session_and_cannot_commit(
    resources: Resources,
) -> None:
    async with resources.uow() as unit:
        lend = unit.lend()
        async with lend() as first:
            assert first.session is unit.session
            pid = (await first.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        # Leaving the borrowed block ended nothing: the same connection and transaction go on.
        async with lend() as second:
            again = (await second.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            with pytest.raises(RuntimeError, match="read-only"):
                await second.commit()
        assert again == pid
        assert unit.session.in_transaction()
