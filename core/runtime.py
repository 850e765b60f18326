"""Opening and closing the shared resources of a process, in the right order.

Every ``__main__`` builds its ``Settings``, then ``async with open_resources(settings)`` and hands
the ``Resources`` to the app factories: one place where storage, Redis and the buses are wired.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.logging import get_logger
from config.settings import Settings
from core.bus.commands import CommandBus, InProcessCommandBus, RedisCommandBus
from core.bus.events import EventBus, InProcessEventBus, RedisEventBus
from core.clock import Clock, SystemClock
from core.db.embedded import EmbeddedPostgres, start_embedded
from core.db.engine import create_engine, create_session_factory
from core.db.migrate import upgrade_to_head
from core.ratelimit import InMemoryRateLimiter, RateLimiter, RedisRateLimiter
from core.tokens import InMemoryTokenStore, RedisTokenStore, TokenStore
from core.uow import UnitOfWorkFactory

log = get_logger("core")


@dataclass
class Resources:
    """Everything long-lived a process shares between its components."""

    settings: Settings
    database_url: str
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    uow: UnitOfWorkFactory
    event_bus: EventBus
    command_bus: CommandBus
    token_store: TokenStore
    rate_limiter: RateLimiter
    clock: Clock = field(default_factory=SystemClock)
    redis: Any = None

    async def database_ready(self) -> bool:
        """True when a trivial query succeeds (for /ready)."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:  # readiness must answer, whatever the failure
            return False
        return True

    async def redis_ready(self) -> bool | None:
        """None when Redis is not configured, else whether it answers PING."""
        if self.redis is None:
            return None
        try:
            return bool(await self.redis.ping())
        except Exception:
            return False


@contextlib.asynccontextmanager
async def open_database(settings: Settings, *, migrate: bool = True) -> AsyncIterator[str]:
    """Yield the database URL, starting the embedded server when none is configured."""
    embedded: EmbeddedPostgres | None = None
    if settings.database_url:
        url = settings.database_url
    else:
        log.info("embedded_postgres_starting", data_dir=str(settings.data_dir))
        embedded, url = await start_embedded(settings.data_dir)
        log.info("embedded_postgres_started", pgdata=str(embedded.pgdata))
    try:
        if migrate:
            await upgrade_to_head(url)
            log.info("migrations_applied")
        yield url
    finally:
        if embedded is not None:
            embedded.stop()
            log.info("embedded_postgres_stopped")


@contextlib.asynccontextmanager
async def open_resources(
    settings: Settings, *, migrate: bool = True, clock: Clock | None = None
) -> AsyncIterator[Resources]:
    """Open storage, Redis and the buses; close them in reverse order on exit."""
    async with contextlib.AsyncExitStack() as stack:
        url = await stack.enter_async_context(open_database(settings, migrate=migrate))
        engine = create_engine(
            url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
        )
        stack.push_async_callback(engine.dispose)
        session_factory = create_session_factory(engine)

        redis: Any = None
        event_bus: EventBus
        command_bus: CommandBus
        token_store: TokenStore
        rate_limiter: RateLimiter
        if settings.redis_url:
            import redis.asyncio as aioredis

            redis = aioredis.from_url(settings.redis_url)
            stack.push_async_callback(redis.aclose)
            await redis.ping()
            event_bus = RedisEventBus(redis)
            # Chargers' presence and the commands themselves go through Redis, so a command
            # submitted by any process reaches the csms node holding the charger's socket.
            command_bus = RedisCommandBus(redis)
            token_store = RedisTokenStore(redis)
            rate_limiter = RedisRateLimiter(
                redis, settings.rate_limit_per_second, settings.rate_limit_burst
            )
        else:
            event_bus = InProcessEventBus()
            # One process holds every socket: commands go straight to its csms executor.
            command_bus = InProcessCommandBus()
            token_store = InMemoryTokenStore()
            rate_limiter = InMemoryRateLimiter(
                settings.rate_limit_per_second, settings.rate_limit_burst
            )
        await event_bus.start()
        stack.push_async_callback(event_bus.close)
        await command_bus.start()
        stack.push_async_callback(command_bus.close)
        stack.push_async_callback(token_store.close)
        stack.push_async_callback(rate_limiter.close)

        yield Resources(
            settings=settings,
            database_url=url,
            engine=engine,
            session_factory=session_factory,
            uow=UnitOfWorkFactory(session_factory),
            event_bus=event_bus,
            command_bus=command_bus,
            token_store=token_store,
            rate_limiter=rate_limiter,
            clock=clock or SystemClock(),
            redis=redis,
        )
