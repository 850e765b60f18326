"""Group commit: the messages of many chargers share one PostgreSQL transaction.

One INSERT per row tops out near 3k rows/s; a commit per message costs a WAL flush each. The
writer queues operations from every connection, takes up to ``max_batch`` of them (waiting at
most ``max_delay`` for company), applies them together with set-based statements in one
transaction and only then resolves each submitter's future, so a charger's CALLRESULT always
follows the commit that holds its data.

Batches run one after another on a single task. That keeps ordering simple (a charger has one
CALL in flight, so its operations never share a batch out of order) and leaves the connection
pool to the rest of the process. If a batch fails, its operations are retried one by one so
that one poisonous message cannot fail its neighbours; the operations must therefore be
idempotent, which also makes a commit whose outcome was lost safe to replay.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from config.logging import get_logger

log = get_logger("group_commit")

OpT = TypeVar("OpT")
ResT = TypeVar("ResT")
OpT_contra = TypeVar("OpT_contra", contravariant=True)
ResT_co = TypeVar("ResT_co", covariant=True)


class BatchApplier(Protocol[OpT_contra, ResT_co]):
    """Applies a batch inside an open transaction; returns one result per operation, in order."""

    async def __call__(self, connection: Any, ops: Sequence[OpT_contra]) -> Sequence[ResT_co]:
        """Write (and read) everything the operations need; never commit."""
        ...


class FlushObserver(Protocol):
    """Told about every flush (metrics): its size, duration and whether it failed."""

    def __call__(self, size: int, seconds: float, failed: bool) -> None:
        """Record one flush."""
        ...


class WriterClosedError(RuntimeError):
    """The writer no longer accepts operations (the process is shutting down)."""


@contextlib.asynccontextmanager
async def driver_transaction(engine: AsyncEngine) -> AsyncIterator[Any]:
    """One transaction on a pooled asyncpg connection, committed when the block succeeds.

    The batch statements go straight to the driver: SQLAlchemy's statement layer costs more
    CPU per statement than the statements themselves on this path.
    """
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None, "a checked-out connection always has its driver connection"
        async with driver.transaction():
            yield driver


@dataclass(slots=True)
class _Item(Generic[OpT, ResT]):
    op: OpT
    future: asyncio.Future[ResT]


_STOP = object()


class GroupCommitWriter(Generic[OpT, ResT]):
    """Batches operations from many tasks into shared transactions."""

    def __init__(
        self,
        *,
        open_transaction: Callable[[], AbstractAsyncContextManager[Any]],
        apply: BatchApplier[OpT, ResT],
        max_batch: int,
        max_delay: float,
        observer: FlushObserver | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._open_transaction = open_transaction
        self._apply = apply
        self._max_batch = max_batch
        self._max_delay = max(0.0, max_delay)
        self._observer = observer
        self._queue: asyncio.Queue[_Item[OpT, ResT] | object] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self) -> None:
        """Start the flushing task."""
        if self._task is None:
            self._closed = False
            self._task = asyncio.create_task(self._run(), name="group-commit-writer")

    async def close(self) -> None:
        """Flush what is queued, then stop; later submissions raise ``WriterClosedError``."""
        if self._closed:
            return
        self._closed = True
        task, self._task = self._task, None
        if task is None:
            return
        self._queue.put_nowait(_STOP)
        try:
            await task
        except Exception as exc:  # the loop guards itself; this is a last resort
            log.error("group_commit_writer_crashed", error=repr(exc))

    async def submit(self, op: OpT) -> ResT:
        """Queue ``op`` and return its result once the transaction holding it committed."""
        if self._closed or self._task is None:
            raise WriterClosedError("the group-commit writer is not running")
        future: asyncio.Future[ResT] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Item(op, future))
        return await future

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is _STOP:
                break
            batch: list[_Item[OpT, ResT]] = [first]  # type: ignore[list-item]
            stopping = await self._fill(batch)
            try:
                await self._flush(batch)
            except Exception as exc:  # never let the loop die: every waiter must hear back
                log.error("group_commit_flush_crashed", size=len(batch), error=repr(exc))
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(exc)

    async def _fill(self, batch: list[_Item[OpT, ResT]]) -> bool:
        """Top the batch up from the queue, lingering once for latecomers; True on stop."""
        lingered = self._max_delay == 0
        while len(batch) < self._max_batch:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                if lingered:
                    return False
                lingered = True
                await asyncio.sleep(self._max_delay)
                continue
            if item is _STOP:
                return True
            batch.append(item)  # type: ignore[arg-type]
        return False

    async def _flush(self, batch: list[_Item[OpT, ResT]]) -> None:
        started = time.perf_counter()
        try:
            async with self._open_transaction() as connection:
                results = await self._apply(connection, [item.op for item in batch])
        except Exception as exc:
            self._observe(len(batch), started, failed=True)
            if len(batch) == 1:
                item = batch[0]
                if not item.future.done():
                    item.future.set_exception(exc)
                return
            log.warning("group_commit_batch_failed", size=len(batch), error=repr(exc))
            for item in batch:
                await self._flush([item])
            return
        self._observe(len(batch), started, failed=False)
        for item, result in zip(batch, results, strict=True):
            if not item.future.done():
                item.future.set_result(result)

    def _observe(self, size: int, started: float, *, failed: bool) -> None:
        if self._observer is not None:
            self._observer(size, time.perf_counter() - started, failed)
