"""Meter history, latest metrics and live station state, for the API's read endpoints.

Every read is scoped: ``partner_id`` is the caller's partner, ``None`` for an admin. A station the
caller may not see is a ``NotFoundError``, exactly like one that does not exist. Windows and
result sizes are bounded here, so no query string can make PostgreSQL scan without limit.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from core.clock import Clock
from core.errors import NotFoundError, ValidationFailedError
from core.pagination import Page, clamp_limit, decode_cursor, encode_cursor
from core.repositories.history import (
    LatestMetric,
    MeterBucket,
    MeterSample,
    MeterValueRepository,
    StationLiveState,
    StationRef,
    StationStateRepository,
)
from core.uow import UnitOfWork

#: Raw samples: the widest window one query may cover (page through it with the cursor).
MAX_RAW_WINDOW = timedelta(days=31)
#: Aggregates: the widest window, and the most buckets and result rows one answer may hold.
MAX_AGGREGATE_WINDOW = timedelta(days=366)
MAX_BUCKETS = 10_000
MAX_AGGREGATE_ROWS = 20_000
#: Window used when the caller gives no ``from``.
DEFAULT_WINDOW = timedelta(days=1)
#: How far back ``latest_metrics`` looks: series silent for longer are not "latest" any more.
LATEST_LOOKBACK = timedelta(days=7)
#: Buckets are aligned to UTC midnight of this day, so 1h buckets start on the hour.
BUCKET_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)

_BUCKET_RE = re.compile(r"^\s*(\d{1,6})\s*(s|m|h|d|w)\s*$")
_BUCKET_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

UowFactory = Callable[[], UnitOfWork]


def parse_bucket(text: str) -> timedelta:
    """Parse ``"30s"``, ``"1m"``, ``"15m"``, ``"1h"``, ``"1d"``, ``"1w"`` into a bucket width."""
    match = _BUCKET_RE.match(text)
    if match is None or int(match.group(1)) == 0:
        raise ValidationFailedError(
            "invalid bucket",
            [{"field": "bucket", "message": "a positive width like 1m, 15m, 1h or 1d"}],
        )
    return timedelta(seconds=int(match.group(1)) * _BUCKET_UNITS[match.group(2)])


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailedError(
            f"{field} needs a timezone",
            [{"field": field, "message": "must include a timezone offset, e.g. Z"}],
        )
    return value.astimezone(UTC)


def resolve_window(
    *,
    from_: datetime | None,
    to: datetime | None,
    now: datetime,
    max_window: timedelta,
) -> tuple[datetime, datetime]:
    """Apply defaults (``to`` = now, ``from`` = ``to`` - 1 day) and enforce from < to <= max."""
    end = _aware(to, "to") if to is not None else now
    start = _aware(from_, "from") if from_ is not None else end - DEFAULT_WINDOW
    if start >= end:
        raise ValidationFailedError(
            "empty time window", [{"field": "from", "message": "must be before 'to'"}]
        )
    if end - start > max_window:
        raise ValidationFailedError(
            "time window too wide",
            [{"field": "from", "message": f"the window may span at most {max_window.days} days"}],
        )
    return start, end


def _measurands(measurand: str | Sequence[str] | None) -> list[str] | None:
    if measurand is None:
        return None
    values = [measurand] if isinstance(measurand, str) else list(measurand)
    values = [value for value in values if value]
    return values or None


def _connector(connector_number: int | None) -> int | None:
    if connector_number is not None and connector_number < 0:
        raise ValidationFailedError(
            "invalid connector_number",
            [{"field": "connector_number", "message": "must be 0 or greater"}],
        )
    return connector_number


async def _station(uow: UnitOfWork, station_id: uuid.UUID, partner_id: uuid.UUID | None) -> None:
    ref: StationRef | None = await StationStateRepository(uow.session).get_ref(
        station_id, partner_id=partner_id
    )
    if ref is None:
        raise NotFoundError("station not found")


async def list_meter_values(
    *,
    uow: UowFactory,
    clock: Clock,
    station_id: uuid.UUID,
    partner_id: uuid.UUID | None,
    from_: datetime | None = None,
    to: datetime | None = None,
    measurand: str | Sequence[str] | None = None,
    connector_number: int | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[MeterSample]:
    """Raw samples in ``[from_, to)`` ordered by (time, id), one keyset page at a time."""
    start, end = resolve_window(from_=from_, to=to, now=clock.now(), max_window=MAX_RAW_WINDOW)
    size = clamp_limit(limit)
    after = decode_cursor(cursor, (datetime, int)) if cursor else None
    async with uow() as unit:
        await _station(unit, station_id, partner_id)
        rows = await MeterValueRepository(unit.session).list_samples(
            station_id=station_id,
            from_=start,
            to=end,
            measurands=_measurands(measurand),
            connector_number=_connector(connector_number),
            after=(after[0], after[1]) if after else None,
            limit=size + 1,
        )
    items = rows[:size]
    more = len(rows) > size
    return Page(items, encode_cursor((items[-1].time, items[-1].id)) if more else None)


async def aggregate_meter_values(
    *,
    uow: UowFactory,
    clock: Clock,
    station_id: uuid.UUID,
    partner_id: uuid.UUID | None,
    bucket: timedelta | str,
    from_: datetime | None = None,
    to: datetime | None = None,
    measurand: str | Sequence[str] | None = None,
    connector_number: int | None = None,
) -> list[MeterBucket]:
    """Per bucket and series (measurand, connector, phase, unit): avg, min, max, last, count.

    Buckets are ``date_bin`` slots aligned to ``BUCKET_ORIGIN``; the first and last may be
    partial (only samples inside the window count). Empty buckets are absent.
    """
    width = parse_bucket(bucket) if isinstance(bucket, str) else bucket
    if width <= timedelta(0):
        raise ValidationFailedError(
            "invalid bucket", [{"field": "bucket", "message": "must be positive"}]
        )
    start, end = resolve_window(
        from_=from_, to=to, now=clock.now(), max_window=MAX_AGGREGATE_WINDOW
    )
    # Slots touched by the window, counting the partial ones at both ends.
    first_slot = (start - BUCKET_ORIGIN) // width
    last_slot = math.ceil((end - BUCKET_ORIGIN) / width)
    if last_slot - first_slot > MAX_BUCKETS:
        raise ValidationFailedError(
            "too many buckets",
            [
                {
                    "field": "bucket",
                    "message": f"the window holds more than {MAX_BUCKETS} buckets; "
                    "use a wider bucket or a shorter window",
                }
            ],
        )
    async with uow() as unit:
        await _station(unit, station_id, partner_id)
        rows = await MeterValueRepository(unit.session).aggregate(
            station_id=station_id,
            from_=start,
            to=end,
            bucket=width,
            origin=BUCKET_ORIGIN,
            measurands=_measurands(measurand),
            connector_number=_connector(connector_number),
            max_rows=MAX_AGGREGATE_ROWS,
        )
    if len(rows) > MAX_AGGREGATE_ROWS:
        raise ValidationFailedError(
            "too many aggregate rows",
            [
                {
                    "field": "bucket",
                    "message": f"more than {MAX_AGGREGATE_ROWS} rows; filter by measurand or "
                    "connector_number, use a wider bucket or a shorter window",
                }
            ],
        )
    return rows


async def latest_metrics(
    *,
    uow: UowFactory,
    clock: Clock,
    station_id: uuid.UUID,
    partner_id: uuid.UUID | None,
    measurand: str | Sequence[str] | None = None,
    connector_number: int | None = None,
    lookback: timedelta = LATEST_LOOKBACK,
) -> list[LatestMetric]:
    """Newest value, unit and time per (measurand, connector, phase) within ``lookback``."""
    since = clock.now() - lookback
    async with uow() as unit:
        await _station(unit, station_id, partner_id)
        return await MeterValueRepository(unit.session).latest(
            station_id=station_id,
            since=since,
            measurands=_measurands(measurand),
            connector_number=_connector(connector_number),
        )


async def station_live_state(
    *,
    uow: UowFactory,
    station_ids: Sequence[uuid.UUID],
    partner_id: uuid.UUID | None,
) -> dict[uuid.UUID, StationLiveState]:
    """Online flag, connectors and running sessions of a batch of stations (no N+1).

    Stations the scope may not see, or that do not exist, are simply absent from the result:
    the caller has already decided which stations to show.
    """
    async with uow() as unit:
        return await StationStateRepository(unit.session).live_state(
            list(dict.fromkeys(station_ids)), partner_id=partner_id
        )


__all__ = [
    "BUCKET_ORIGIN",
    "DEFAULT_WINDOW",
    "LATEST_LOOKBACK",
    "MAX_AGGREGATE_ROWS",
    "MAX_AGGREGATE_WINDOW",
    "MAX_BUCKETS",
    "MAX_RAW_WINDOW",
    "LatestMetric",
    "MeterBucket",
    "MeterSample",
    "StationLiveState",
    "aggregate_meter_values",
    "latest_metrics",
    "list_meter_values",
    "parse_bucket",
    "resolve_window",
    "station_live_state",
]
