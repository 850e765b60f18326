"""The charger's own state with a fake clock: meter growth, statuses, availability, config."""

from __future__ import annotations

import pytest

from simulator.station import (
    CURRENT,
    ENERGY,
    POWER,
    VOLTAGE,
    AvailabilityChange,
    ConfigStore,
    Connector,
    ConnectorStatus,
    SetResult,
    Station,
    format_seconds,
    iso_time,
)
from simulator.v16 import CONFIG_TABLE as V16_TABLE
from simulator.v201 import CONFIG_TABLE as V201_TABLE


class FakeClock:
    """Time that moves only when the test says so."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_station(clock: FakeClock, *, connectors: int = 2, power_w: float = 11_000.0) -> Station:
    return Station(
        "SIM-00001",
        connectors=connectors,
        power_w=power_w,
        config=ConfigStore(V16_TABLE),
        clock=clock,
    )


def status(connector: Connector) -> ConnectorStatus:
    """Read the status afresh (stops mypy narrowing it across the calls that change it)."""
    return connector.status


def _charging(station: Station, number: int = 1, power_w: float = 11_000.0) -> None:
    connector = station.connectors[number - 1]
    assert station.plug_in(connector)
    tx = station.begin_transaction(connector, "TAG-1")
    tx.start_acknowledged = True
    station.charging_started(connector, power_w)


def test_the_meter_grows_at_the_connector_power() -> None:
    clock = FakeClock()
    station = make_station(clock)
    _charging(station, power_w=11_000.0)
    connector = station.connectors[0]

    clock.advance(3600)
    assert station.read_meter(connector) == pytest.approx(11_000.0)  # 11 kW for 1 h
    clock.advance(60)
    assert station.read_meter(connector) == pytest.approx(11_000.0 + 11_000.0 / 60)


def test_a_power_change_keeps_the_energy_delivered_so_far() -> None:
    clock = FakeClock()
    station = make_station(clock)
    _charging(station, power_w=7_200.0)
    connector = station.connectors[0]

    clock.advance(1800)
    station.set_power(connector, 3_600.0)
    clock.advance(1800)

    assert station.read_meter(connector) == pytest.approx(3_600.0 + 1_800.0)


def test_an_idle_meter_does_not_move_and_survives_sessions() -> None:
    clock = FakeClock()
    station = make_station(clock)
    _charging(station)
    connector = station.connectors[0]
    clock.advance(360)
    station.end_transaction(connector)
    station.unplug(connector)
    delivered = station.read_meter(connector)

    clock.advance(10_000)

    assert delivered == pytest.approx(1_100.0)
    assert station.read_meter(connector) == pytest.approx(delivered)
    _charging(station)
    assert connector.transaction is not None
    assert connector.transaction.meter_start_wh == pytest.approx(delivered)


def test_samples_round_like_a_meter_and_split_phases() -> None:
    clock = FakeClock()
    station = make_station(clock)
    _charging(station, power_w=6_900.0)
    clock.advance(10)

    samples = station.samples(station.connectors[0], [ENERGY, POWER, CURRENT, VOLTAGE])

    assert [(s.measurand, s.value, s.unit, s.phase) for s in samples] == [
        (ENERGY, round(6_900.0 * 10 / 3600, 1), "Wh", None),
        (POWER, 6_900.0, "W", None),
        (CURRENT, 10.0, "A", "L1"),
        (CURRENT, 10.0, "A", "L2"),
        (CURRENT, 10.0, "A", "L3"),
        (VOLTAGE, 230.0, "V", "L1-N"),
        (VOLTAGE, 230.0, "V", "L2-N"),
        (VOLTAGE, 230.0, "V", "L3-N"),
    ]


def test_session_statuses_from_plug_in_to_unplug() -> None:
    station = make_station(FakeClock())
    connector = station.connectors[0]

    assert station.plug_in(connector)
    assert status(connector) is ConnectorStatus.PREPARING
    assert not station.plug_in(connector)  # taken
    tx = station.begin_transaction(connector, "TAG-1")
    with pytest.raises(ValueError, match="cannot start"):
        station.begin_transaction(connector, "TAG-2")
    tx.start_acknowledged = True
    station.charging_started(connector, 11_000.0)
    assert status(connector) is ConnectorStatus.CHARGING
    assert station.end_transaction(connector) is tx
    assert status(connector) is ConnectorStatus.FINISHING
    assert station.unplug(connector)
    assert status(connector) is ConnectorStatus.AVAILABLE


def test_a_start_the_central_system_never_acknowledged_goes_straight_back_to_idle() -> None:
    station = make_station(FakeClock())
    connector = station.connectors[0]
    station.plug_in(connector)
    station.begin_transaction(connector, "TAG-1")

    station.end_transaction(connector)

    assert status(connector) is ConnectorStatus.AVAILABLE


def test_remote_start_candidates_skip_busy_and_unavailable_connectors() -> None:
    station = make_station(FakeClock(), connectors=3)
    _charging(station, 1)
    station.change_availability(2, operative=False)

    assert station.start_candidate(None) is station.connectors[2]
    assert station.start_candidate(1) is None
    assert station.start_candidate(2) is None
    assert station.start_candidate(4) is None


def test_availability_applies_now_when_idle_and_later_behind_a_session() -> None:
    station = make_station(FakeClock())
    _charging(station, 1)

    change, changed = station.change_availability(None, operative=False)

    assert change is AvailabilityChange.SCHEDULED
    assert changed == [0, 2]  # the station itself and the idle connector, now
    assert status(station.connectors[1]) is ConnectorStatus.UNAVAILABLE
    assert status(station.connectors[0]) is ConnectorStatus.CHARGING
    station.end_transaction(station.connectors[0])
    station.unplug(station.connectors[0])
    assert status(station.connectors[0]) is ConnectorStatus.UNAVAILABLE
    assert station.station_status() is ConnectorStatus.UNAVAILABLE

    change, changed = station.change_availability(None, operative=True)
    assert (change, changed) == (AvailabilityChange.APPLIED, [0, 1, 2])
    assert station.change_availability(9, operative=True)[0] is (
        AvailabilityChange.UNKNOWN_CONNECTOR
    )


def test_faults_only_hit_idle_connectors_and_win_over_availability() -> None:
    station = make_station(FakeClock())
    _charging(station, 1)
    idle = station.connectors[1]

    assert not station.fault(station.connectors[0], "GroundFailure")
    assert station.fault(idle, "HighTemperature")
    assert status(idle) is ConnectorStatus.FAULTED
    station.change_availability(2, operative=False)
    assert status(idle) is ConnectorStatus.FAULTED
    assert station.recover(idle)
    assert status(idle) is ConnectorStatus.UNAVAILABLE
    assert not station.recover(idle)


def test_a_reboot_clears_sessions_and_faults_but_keeps_availability() -> None:
    station = make_station(FakeClock())
    _charging(station, 1)
    station.fault(station.connectors[1], "GroundFailure")
    station.change_availability(1, operative=False)
    station.connectors[0].reported = "Charging"

    station.reboot()

    assert station.connectors[0].transaction is None
    assert status(station.connectors[0]) is ConnectorStatus.UNAVAILABLE
    assert status(station.connectors[1]) is ConnectorStatus.AVAILABLE
    assert station.connectors[0].reported is None  # everything is announced again


def test_configuration_store_validates_writes() -> None:
    store = ConfigStore(V16_TABLE)

    assert store.get("heartbeatinterval") == "300"  # keys are case-insensitive
    assert store.set("HeartbeatInterval", " 60 ") is SetResult.ACCEPTED
    assert store.get("HeartbeatInterval") == "60"
    assert store.get_float("HeartbeatInterval", 1.0) == 60.0
    assert store.set("HeartbeatInterval", "often") is SetResult.REJECTED
    assert store.set("HeartbeatInterval", "-5") is SetResult.REJECTED
    assert store.set("NumberOfConnectors", "4") is SetResult.REJECTED  # read-only
    assert store.set("NoSuchKey", "1") is SetResult.UNKNOWN_KEY
    assert store.set("LocalPreAuthorize", "TRUE") is SetResult.ACCEPTED
    assert store.get("LocalPreAuthorize") == "true"
    assert store.set("MeterValuesSampledData", "Voltage, Energy.Active.Import.Register") is (
        SetResult.ACCEPTED
    )
    assert store.get("MeterValuesSampledData") == "Voltage,Energy.Active.Import.Register"
    assert store.set("MeterValuesSampledData", "Temperature") is SetResult.REJECTED
    known, unknown = store.entries(["HeartbeatInterval", "Nope"])
    assert [(key.name, value) for key, value in known] == [("HeartbeatInterval", "60")]
    assert unknown == ["Nope"]
    assert len(store.entries()[0]) == len(V16_TABLE.keys)


def test_component_variables_tell_unknown_components_from_unknown_variables() -> None:
    store = ConfigStore(V201_TABLE)

    assert store.set("OCPPCommCtrlr.HeartbeatInterval", "30") is SetResult.ACCEPTED
    assert store.set("OCPPCommCtrlr.NoSuchVariable", "1") is SetResult.UNKNOWN_KEY
    assert store.set("NoSuchCtrlr.HeartbeatInterval", "1") is SetResult.UNKNOWN_COMPONENT
    assert store.set("SecurityCtrlr.SecurityProfile", "2") is SetResult.REJECTED


def test_an_internal_put_may_write_read_only_keys() -> None:
    store = ConfigStore(V16_TABLE)

    store.put("NumberOfConnectors", "4")
    store.put("NotAKey", "x")

    assert store.get("NumberOfConnectors") == "4"
    assert store.get("NotAKey") is None


def test_time_and_interval_formats() -> None:
    assert iso_time(0.0) == "1970-01-01T00:00:00.000Z"
    assert iso_time(1.5) == "1970-01-01T00:00:01.500Z"
    assert format_seconds(30.0) == "30"
    assert format_seconds(0.5) == "0.5"
