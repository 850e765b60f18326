"""The command line and the fleet it describes: defaults, validation, identities, id tags."""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.__main__ import parse_args
from simulator.options import (
    DEFAULT_CONNECTS_PER_S,
    Options,
    build_specs,
    charge_point_id,
    id_tag,
    protocol_of,
)

ROOT = Path(__file__).resolve().parents[3]


def test_defaults_make_a_valid_demo() -> None:
    options = parse_args([])

    assert options == Options()
    assert options.problems() == []
    assert options.url == "ws://127.0.0.1:9000/ocpp"
    assert options.scenario == "charging"
    assert options.duration is None  # runs until Ctrl-C


def test_every_documented_option_is_parsed() -> None:
    options = parse_args(
        [
            "--url", "ws://example.test:9000/ocpp",
            "--count", "7",
            "--protocol", "ocpp2.0.1",
            "--connectors", "3",
            "--id-prefix", "LAB-",
            "--password", "s3cret",
            "--heartbeat", "15",
            "--meter-interval", "5",
            "--scenario", "storm",
            "--duration", "60",
            "--processes", "2",
            "--register",
            "--api", "http://example.test:8080",
            "--client-id", "admin",
            "--client-secret", "pw",
            "--json", "out.json",
        ]
    )  # fmt: skip

    assert (options.url, options.count, options.protocol) == (
        "ws://example.test:9000/ocpp",
        7,
        "ocpp2.0.1",
    )
    assert (options.connectors, options.id_prefix, options.password) == (3, "LAB-", "s3cret")
    assert (options.heartbeat, options.meter_interval) == (15.0, 5.0)
    assert (options.scenario, options.duration, options.processes) == ("storm", 60.0, 2)
    assert options.register
    assert (options.api, options.client_id, options.client_secret) == (
        "http://example.test:8080",
        "admin",
        "pw",
    )
    assert options.json_path == "out.json"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--count", "0"], "--count must be at least 1"),
        (["--connectors", "17"], "--connectors must be between 1 and 16"),
        (["--url", "http://127.0.0.1:9000"], "--url must start with ws://"),
        (["--count", "2", "--processes", "3"], "--processes must be between 1 and --count"),
        (["--heartbeat", "0"], "--heartbeat must be positive"),
        (["--duration", "-1"], "--duration must be positive"),
        (["--meter-interval", "-1"], "--meter-interval must not be negative"),
        (["--backoff-min", "5", "--backoff-max", "1"], "--backoff-max must be at least"),
        (["--register"], "--register needs --client-id and --client-secret"),
        (["--id-prefix", "bad prefix "], "--id-prefix must leave identities"),
        (["--id-prefix", "A-VERY-LONG-PREFIX-"], "too long for OCPP 1.6 id tags"),
    ],
)
def test_wrong_options_exit_with_a_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)

    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_unknown_choices_are_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--protocol", "ocpp2.1"])
    assert "invalid choice" in capsys.readouterr().err


def test_identities_are_padded_so_they_sort_naturally() -> None:
    assert charge_point_id("SIM-", 1, 10) == "SIM-00001"
    assert charge_point_id("SIM-", 123456, 200000) == "SIM-123456"
    assert charge_point_id("X", 42, 1_000_000) == "X0000042"
    assert id_tag("SIM-", 7) == "SIM-TAG-0007"


def test_mixed_protocol_alternates_so_halves_are_equal() -> None:
    options = Options(count=5, protocol="mixed")

    protocols = [protocol_of(options, index) for index in range(options.count)]

    assert protocols == ["ocpp1.6", "ocpp2.0.1", "ocpp1.6", "ocpp2.0.1", "ocpp1.6"]
    assert protocol_of(Options(protocol="ocpp2.0.1"), 0) == "ocpp2.0.1"


def test_specs_share_id_tags_round_robin() -> None:
    options = Options(count=5, tags=2, connectors=3, id_prefix="T-")

    specs = build_specs(options, 7400.0)

    assert [spec.charge_point_id for spec in specs] == [f"T-0000{n}" for n in range(1, 6)]
    assert [spec.id_tag for spec in specs] == [
        "T-TAG-0001",
        "T-TAG-0002",
        "T-TAG-0001",
        "T-TAG-0002",
        "T-TAG-0001",
    ]
    assert {(spec.connectors, spec.power_w) for spec in specs} == {(3, 7400.0)}
    assert [spec.index for spec in specs] == list(range(5))


def test_one_id_tag_per_charger_up_to_a_hundred() -> None:
    assert Options(count=10).tag_count == 10
    assert Options(count=5000).tag_count == 100
    assert Options(count=5000, tags=3).tag_count == 3


def test_ramp_spreads_connects_except_in_a_storm() -> None:
    assert Options(count=1000).ramp_seconds == 1000 / DEFAULT_CONNECTS_PER_S
    assert Options(count=1000, ramp=7.5).ramp_seconds == 7.5
    assert Options(count=1000, ramp=7.5, scenario="storm").ramp_seconds == 0.0


def test_options_survive_pickling_for_worker_processes() -> None:
    options = dataclasses.replace(Options(), count=3, password="pw", seed=4)

    assert pickle.loads(pickle.dumps(options)) == options  # noqa: S301 (our own bytes)


def test_the_open_files_limit_is_raised_for_big_fleets() -> None:
    script = (
        "import resource\n"
        "from simulator.__main__ import raise_open_files_limit\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))\n"
        "raise_open_files_limit(600)\n"
        "print(resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard)\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )

    soft, hard = (int(word) for word in result.stdout.split())
    assert soft == min(856, hard)  # the fleet plus headroom, within the hard limit
