"""Station types: the seeded hardware classes (everyone reads, admins write)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from core.domain.enums import CurrentType
from management_api.schemas.common import (
    ListParams,
    Omittable,
    PatchBody,
    RequestBody,
    ResponseModel,
)


def _two_decimals(value: float) -> float:
    # The columns are NUMERIC(p, 2): round here so a value that rounds to 0 is a 422, not a
    # CHECK violation.
    rounded = round(value, 2)
    if rounded <= 0:
        raise ValueError("must be at least 0.01")
    return rounded


Efficiency = Annotated[
    float, Field(gt=0, le=100, description="Percent, 0 < e <= 100."), AfterValidator(_two_decimals)
]
MaxPower = Annotated[
    float, Field(gt=0, le=100_000, description="Kilowatts."), AfterValidator(_two_decimals)
]


class StationTypeCreate(RequestBody):
    """A station type; PUT takes the same body and replaces every field."""

    name: str = Field(min_length=1, max_length=100)
    plug_count: int = Field(ge=1, le=16)
    efficiency: Efficiency
    current_type: CurrentType
    max_power_kw: MaxPower


class StationTypePatch(PatchBody):
    """The station type fields to change."""

    name: Omittable[str] = Field(default=None, min_length=1, max_length=100)
    plug_count: Omittable[int] = Field(default=None, ge=1, le=16)
    efficiency: Omittable[Efficiency] = Field(default=None)
    current_type: Omittable[CurrentType] = Field(default=None)
    max_power_kw: Omittable[MaxPower] = Field(default=None)


class StationTypeOut(ResponseModel):
    """A station type."""

    id: uuid.UUID
    name: str
    plug_count: int
    efficiency: float
    current_type: CurrentType
    max_power_kw: float
    created_at: datetime


class StationTypeListParams(ListParams):
    """Station type list parameters."""

    current_type: CurrentType | None = None
    sort: (
        Literal[
            "created_at",
            "-created_at",
            "name",
            "-name",
            "plug_count",
            "-plug_count",
            "max_power_kw",
            "-max_power_kw",
        ]
        | None
    ) = Field(default=None, description="Sort key, '-' for descending (default created_at).")
