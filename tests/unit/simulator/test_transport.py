"""Reconnect back-off and the HTTP Basic header of security profile 1."""

from __future__ import annotations

import base64
import random

import pytest

from simulator.transport import backoff_delay, basic_auth


def test_backoff_doubles_from_the_minimum_up_to_the_maximum() -> None:
    class Top(random.Random):
        def uniform(self, a: float, b: float) -> float:
            return b

    delays = [backoff_delay(n, minimum=1.0, maximum=60.0, rng=Top()) for n in range(9)]

    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]


@pytest.mark.parametrize("attempt", [0, 1, 3, 6, 50, 10_000])
def test_backoff_jitter_stays_in_the_upper_half_of_the_window(attempt: int) -> None:
    rng = random.Random(attempt)
    window = min(30.0, 0.5 * 2.0 ** min(attempt, 30))

    delays = [backoff_delay(attempt, minimum=0.5, maximum=30.0, rng=rng) for _ in range(500)]

    assert all(window / 2 <= delay <= window for delay in delays)
    assert len({round(delay, 6) for delay in delays}) > 400  # spread out, not synchronised


def test_basic_auth_is_charge_point_id_and_password() -> None:
    header = basic_auth("CP-1", "pa:ss")

    scheme, token = header.split(" ")
    assert scheme == "Basic"
    assert base64.b64decode(token) == b"CP-1:pa:ss"
