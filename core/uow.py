"""Unit of work: owns one session and its transaction; repositories never commit.

A service receives a ``UnitOfWork``, builds the repositories it needs on ``uow.session`` and
calls ``await uow.commit()`` once; leaving the block without committing rolls back.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class UnitOfWork:
    """One transaction against PostgreSQL, per OCPP message or per HTTP request."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        """The open session; only valid inside ``async with``."""
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside 'async with'")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self._session_factory()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            await session.rollback()
        finally:
            await session.close()

    async def commit(self) -> None:
        """Make everything done in this unit of work durable."""
        await self.session.commit()

    async def rollback(self) -> None:
        """Discard everything done since the last commit."""
        await self.session.rollback()

    def lend(self) -> Callable[[], UnitOfWork]:
        """A factory for services that read inside this open unit instead of opening their own.

        Several service calls of one request then share one pool checkout, pre-ping and
        BEGIN/ROLLBACK. The borrowed units neither end nor commit this one.
        """
        return lambda: _BorrowedUnitOfWork(self)


class _BorrowedUnitOfWork(UnitOfWork):
    """Another block's open unit of work, lent read-only to a service."""

    def __init__(self, lender: UnitOfWork) -> None:
        super().__init__(lender._session_factory)
        self._lender = lender

    @property
    def session(self) -> AsyncSession:
        """The lender's session."""
        return self._lender.session

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def commit(self) -> None:
        """Refused: the lender owns the transaction."""
        raise RuntimeError("a lent unit of work is read-only")


class UnitOfWorkFactory:
    """Hands out fresh units of work; what services and handlers are given."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)
