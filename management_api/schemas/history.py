"""Meter history: raw samples, per-bucket aggregates and the latest value of each series."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, ConfigDict, Field, RootModel

from management_api.schemas.common import ListParams, QueryParams, ResponseModel

MEASURAND_HELP = (
    "OCPP measurand name, or several separated by commas "
    "(e.g. Energy.Active.Import.Register,Power.Active.Import)."
)
CONNECTOR_HELP = "Connector (1.6 connectorId, 2.0.1 evseId); 0 is the station's main meter."


class MeterValuesParams(ListParams):
    """Window, filters and (for aggregates) the bucket width; ``limit``/``cursor`` page raw
    samples only."""

    from_: AwareDatetime | None = Field(
        default=None,
        alias="from",
        description="Start of the window, inclusive, with a timezone (default: to - 1 day).",
    )
    to: AwareDatetime | None = Field(
        default=None, description="End of the window, exclusive, with a timezone (default: now)."
    )
    measurand: str | None = Field(
        default=None, min_length=1, max_length=1000, description=MEASURAND_HELP
    )
    connector_number: int | None = Field(default=None, ge=0, le=16, description=CONNECTOR_HELP)
    bucket: str | None = Field(
        default=None,
        pattern=r"^[1-9][0-9]{0,5}[smhdw]$",
        description="Aggregate per bucket of this width (30s, 1m, 15m, 1h, 1d, 1w) instead of "
        "listing raw samples. Windows up to 366 days and 10,000 buckets; raw windows up to "
        "31 days.",
    )


class MeterSampleOut(ResponseModel):
    """One sampled value as the charger reported it (units as sent, e.g. Wh or kWh)."""

    id: int
    time: datetime
    connector_number: int
    transaction_id: uuid.UUID | None = Field(
        description="The transaction (its id under /transactions) the sample belongs to."
    )
    measurand: str
    value: float
    unit: str | None
    phase: str | None
    context: str | None
    location: str | None


class MeterBucketOut(ResponseModel):
    """Aggregate of one series (measurand, connector, phase, unit) over one bucket."""

    bucket_start: datetime
    measurand: str
    connector_number: int
    phase: str | None
    unit: str | None
    avg: float
    min: float
    max: float
    last: float = Field(description="Value of the newest sample of the bucket.")
    last_at: datetime
    count: int


class MeterSamplesPage(ResponseModel):
    """Raw samples ordered by time, one keyset page at a time."""

    model_config = ConfigDict(serialize_by_alias=True)

    from_: datetime = Field(serialization_alias="from")
    to: datetime
    items: list[MeterSampleOut]
    next_cursor: str | None


class MeterAggregates(ResponseModel):
    """Buckets aligned to UTC (1h buckets start on the hour); empty buckets are absent."""

    model_config = ConfigDict(serialize_by_alias=True)

    from_: datetime = Field(serialization_alias="from")
    to: datetime
    bucket: str
    items: list[MeterBucketOut]


class MeterValuesOut(RootModel[MeterSamplesPage | MeterAggregates]):
    """Raw samples without ``bucket``; aggregates with it."""


class LatestMetricsParams(QueryParams):
    """Which series to report."""

    measurand: str | None = Field(
        default=None, min_length=1, max_length=1000, description=MEASURAND_HELP
    )
    connector_number: int | None = Field(default=None, ge=0, le=16, description=CONNECTOR_HELP)


class LatestMetricOut(ResponseModel):
    """Newest value of one series (measurand, connector, phase)."""

    measurand: str
    connector_number: int
    phase: str | None
    value: float
    unit: str | None
    time: datetime


class LatestMetricsOut(ResponseModel):
    """One entry per series that reported within the last 7 days."""

    items: list[LatestMetricOut]
