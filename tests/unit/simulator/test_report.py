"""What a person reads (progress line, summary) and the pure parts of --register."""

from __future__ import annotations

import pytest

from simulator.register import RegistrationError, api_base, choose_type
from simulator.report import progress_line, summary_text, window_fields
from simulator.scenarios import Charging, Idle, Mixed, Storm, make_scenario
from simulator.stats import Stats, summary


def _stats() -> Stats:
    stats = Stats()
    for _ in range(4):
        stats.connection_opened()
        stats.boot_accepted(first=True)
    return stats


def test_window_fields_are_rates_over_the_window_and_totals_so_far() -> None:
    stats = _stats()
    for _ in range(100):
        stats.call_answered("Heartbeat", 0.001)
    previous = stats.snapshot()
    for _ in range(50):
        stats.call_answered("MeterValues", 0.020)
    stats.error("timeout")
    stats.transaction_started()

    fields = window_fields(stats.snapshot(), previous, 5.0, chargers=4)

    assert fields["calls_per_s"] == 10.0
    assert fields["p50_ms"] == pytest.approx(20.0, rel=0.025)  # the window only, not the 1 ms
    assert (fields["connected"], fields["booted"], fields["chargers"]) == (4, 4, 4)
    assert (fields["errors"], fields["tx_started"]) == (1, 1)
    line = progress_line(fields)
    assert line.startswith("connected 4/4 booted 4 | 10.0 calls/s | p50 20.")
    assert "| errors 1 |" in line


def test_summary_text_names_every_error_kind() -> None:
    stats = _stats()
    stats.call_answered("BootNotification", 0.002)
    stats.error("handshake:404")
    stats.error("handshake:404")
    stats.error("callerror:InternalError")
    stats.refusal("boot:Pending")

    text = summary_text(
        summary(
            stats.snapshot(),
            started_at=0.0,
            duration_s=2.0,
            chargers=4,
            protocol="mixed",
            scenario="idle",
            processes=1,
        )
    )

    assert text.splitlines()[0] == "Simulator summary: 4 chargers (mixed, idle) for 2.0 s"
    assert "errors       3: callerror:InternalError 1, handshake:404 2" in text
    assert "refusals     boot:Pending 1" in text
    assert "calls        1 (0.5/s): BootNotification 1" in text


def test_api_base_accepts_the_server_or_the_api_root() -> None:
    assert api_base("http://127.0.0.1:8080") == "http://127.0.0.1:8080/api/v1"
    assert api_base("http://127.0.0.1:8080/") == "http://127.0.0.1:8080/api/v1"
    assert api_base("http://h:1/api/v1/") == "http://h:1/api/v1"


SEEDED = [
    {"id": "a", "name": "AC 11 kW single", "plug_count": 1, "max_power_kw": 11},
    {"id": "b", "name": "AC 22 kW dual", "plug_count": 2, "max_power_kw": 22},
    {"id": "c", "name": "DC 50 kW", "plug_count": 1, "max_power_kw": 50},
    {"id": "d", "name": "DC 150 kW dual", "plug_count": 2, "max_power_kw": 150},
    {"id": "e", "name": "DC 350 kW HPC", "plug_count": 4, "max_power_kw": 350},
]


@pytest.mark.parametrize(
    ("connectors", "chosen", "per_connector_w"),
    [
        (1, "AC 11 kW single", 11_000.0),
        (2, "AC 22 kW dual", 11_000.0),
        (3, "DC 350 kW HPC", 87_500.0),
    ],
)
def test_the_smallest_fitting_station_type_is_chosen(
    connectors: int, chosen: str, per_connector_w: float
) -> None:
    station_type = choose_type(SEEDED, connectors)

    assert station_type.name == chosen
    assert station_type.power_per_connector_w == per_connector_w


def test_no_fitting_station_type_is_a_clear_error() -> None:
    with pytest.raises(RegistrationError, match="no station type has 5 plugs"):
        choose_type(SEEDED, 5)


def test_scenarios_by_name() -> None:
    storm = make_scenario("storm", session_s=10, pause_s=5)

    assert isinstance(storm, Storm)
    assert isinstance(storm, Idle)
    assert not storm.ramp
    assert isinstance(make_scenario("mixed", session_s=10, pause_s=5), Mixed)
    charging = make_scenario("charging", session_s=10, pause_s=5)
    assert isinstance(charging, Charging)
    with pytest.raises(ValueError, match="unknown scenario"):
        make_scenario("chaos", session_s=1, pause_s=1)
