"""Meter history of a station: raw samples, per-bucket aggregates (computed in SQL), latest values.

Windows and answer sizes are bounded by ``core.services.history``; this module only maps the
query string onto it and its records onto the response models.
"""

from __future__ import annotations

import uuid

from aiohttp import web

from core.errors import ValidationFailedError
from core.services import history
from management_api.endpoints import ANY_ROLE, operation, resources_of, scope_of, uow_of
from management_api.schemas.history import (
    LatestMetricOut,
    LatestMetricsOut,
    LatestMetricsParams,
    MeterAggregates,
    MeterBucketOut,
    MeterSampleOut,
    MeterSamplesPage,
    MeterValuesOut,
    MeterValuesParams,
)


def _measurands(raw: str | None) -> list[str] | None:
    """``a,b`` -> ``["a", "b"]``: a query parameter may not repeat, so lists are comma-separated."""
    if raw is None:
        return None
    names = [name.strip() for name in raw.split(",") if name.strip()]
    return names or None


@operation(tag="meter-values", roles=ANY_ROLE, query=MeterValuesParams, response=MeterValuesOut)
async def list_meter_values(
    request: web.Request, station_id: uuid.UUID, query: MeterValuesParams
) -> MeterValuesOut:
    """Read a station's meter values: raw samples, or aggregates per time bucket.

    Without `bucket`: the samples of `[from, to)` ordered by time, paged with `limit` and
    `cursor` (window at most 31 days). With `bucket` (e.g. `15m`): per bucket and series
    (measurand, connector_number, phase, unit) the `avg`, `min`, `max`, `last` value and the
    sample `count`, computed by PostgreSQL; buckets are aligned to UTC, the first and last may
    be partial, empty ones are absent (window at most 366 days and 10,000 buckets). Units are
    as the charger sent them. `from` defaults to `to` minus one day, `to` to now.
    """
    clock = resources_of(request).clock
    # The window is resolved once here, so the answer can name it (defaults included).
    start, end = history.resolve_window(
        from_=query.from_,
        to=query.to,
        now=clock.now(),
        max_window=history.MAX_AGGREGATE_WINDOW if query.bucket else history.MAX_RAW_WINDOW,
    )
    if query.bucket is None:
        page = await history.list_meter_values(
            uow=uow_of(request),
            clock=clock,
            station_id=station_id,
            partner_id=scope_of(request),
            from_=start,
            to=end,
            measurand=_measurands(query.measurand),
            connector_number=query.connector_number,
            cursor=query.cursor,
            limit=query.limit,
        )
        return MeterValuesOut(
            MeterSamplesPage(
                from_=start,
                to=end,
                items=[MeterSampleOut.model_validate(item) for item in page.items],
                next_cursor=page.next_cursor,
            )
        )
    paging = {"cursor", "limit"} & query.model_fields_set
    if paging:
        raise ValidationFailedError(
            "aggregates are not paged",
            [
                {"field": name, "message": "only for raw samples (without bucket)"}
                for name in sorted(paging)
            ],
        )
    buckets = await history.aggregate_meter_values(
        uow=uow_of(request),
        clock=clock,
        station_id=station_id,
        partner_id=scope_of(request),
        bucket=query.bucket,
        from_=start,
        to=end,
        measurand=_measurands(query.measurand),
        connector_number=query.connector_number,
    )
    return MeterValuesOut(
        MeterAggregates(
            from_=start,
            to=end,
            bucket=query.bucket,
            items=[MeterBucketOut.model_validate(item) for item in buckets],
        )
    )


@operation(tag="meter-values", roles=ANY_ROLE, query=LatestMetricsParams, response=LatestMetricsOut)
async def latest_metrics(
    request: web.Request, station_id: uuid.UUID, query: LatestMetricsParams
) -> LatestMetricsOut:
    """Read the latest value, unit and time of each measurand of a station.

    One entry per (measurand, connector_number, phase) that reported within the last 7 days.
    """
    metrics = await history.latest_metrics(
        uow=uow_of(request),
        clock=resources_of(request).clock,
        station_id=station_id,
        partner_id=scope_of(request),
        measurand=_measurands(query.measurand),
        connector_number=query.connector_number,
    )
    return LatestMetricsOut(items=[LatestMetricOut.model_validate(item) for item in metrics])
