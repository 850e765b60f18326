"""Bucket parsing and window rules of the meter history (no database involved)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.errors import ValidationFailedError
from core.services.history import DEFAULT_WINDOW, parse_bucket, resolve_window

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "width"),
    [
        ("30s", timedelta(seconds=30)),
        ("1m", timedelta(minutes=1)),
        ("5m", timedelta(minutes=5)),
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        (" 6h ", timedelta(hours=6)),
        ("1d", timedelta(days=1)),
        ("1w", timedelta(weeks=1)),
    ],
)
def test_bucket_widths(text: str, width: timedelta) -> None:
    assert parse_bucket(text) == width


@pytest.mark.parametrize("text", ["", "m", "0m", "-5m", "1.5h", "1y", "1 hour", "1000000m"])
def test_bad_bucket_widths(text: str) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        parse_bucket(text)
    assert caught.value.errors[0]["field"] == "bucket"


def test_window_defaults_to_the_last_day() -> None:
    assert resolve_window(from_=None, to=None, now=NOW, max_window=timedelta(days=31)) == (
        NOW - DEFAULT_WINDOW,
        NOW,
    )


def test_window_is_normalised_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    start, end = resolve_window(
        from_=datetime(2026, 11, 23, 10, 0, tzinfo=plus_two),
        to=datetime(2026, 11, 23, 14, 0, tzinfo=plus_two),
        now=NOW,
        max_window=timedelta(days=1),
    )
    assert (start, end) == (datetime(2026, 11, 23, 8, 0, tzinfo=UTC), NOW)
    assert start.tzinfo is UTC


def test_window_may_span_exactly_the_maximum() -> None:
    start, end = resolve_window(
        from_=NOW - timedelta(days=31), to=NOW, now=NOW, max_window=timedelta(days=31)
    )
    assert end - start == timedelta(days=31)


@pytest.mark.parametrize(
    ("from_", "to", "field"),
    [
        (NOW, NOW, "from"),
        (NOW + timedelta(seconds=1), NOW, "from"),
        (NOW - timedelta(days=31, microseconds=1), NOW, "from"),
        (datetime(2026, 11, 23), NOW, "from"),
        (NOW - timedelta(hours=1), datetime(2026, 11, 23, 12), "to"),
    ],
)
def test_bad_windows(from_: datetime, to: datetime, field: str) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        resolve_window(from_=from_, to=to, now=NOW, max_window=timedelta(days=31))
    assert caught.value.errors[0]["field"] == field
