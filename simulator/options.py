"""What a run is asked to do: the command line as a frozen, picklable value.

Built once by ``__main__`` (or directly by tests) and passed down; worker processes receive the
same object, so every process of a run agrees on identities, id tags and timings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PROTOCOLS = ("ocpp1.6", "ocpp2.0.1")
PROTOCOL_CHOICES = (*PROTOCOLS, "mixed")
SCENARIOS = ("idle", "charging", "mixed", "storm", "ingest")

#: OCPP identities: 1..48 characters of this set (the central system enforces the same).
CHARGE_POINT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,48}$")
#: Connect rate when --ramp is not given: fast enough for a demo, gentle on a small central system.
DEFAULT_CONNECTS_PER_S = 500.0
#: Power of a connector when neither --power-kw nor a registered station type says otherwise.
DEFAULT_POWER_KW = 11.0


@dataclass(frozen=True, slots=True)
class Options:
    """Every knob of a run; defaults give a sensible demo."""

    url: str = "ws://127.0.0.1:9000/ocpp"
    count: int = 10
    protocol: str = "ocpp1.6"
    connectors: int = 2
    id_prefix: str = "SIM-"
    password: str | None = None
    heartbeat: float | None = None
    meter_interval: float = 30.0
    scenario: str = "charging"
    duration: float | None = None
    ramp: float | None = None
    processes: int = 1
    json_path: str | None = None
    register: bool = False
    api: str = "http://127.0.0.1:8080"
    client_id: str | None = None
    client_secret: str | None = None
    tags: int | None = None
    power_kw: float | None = None
    session: float = 300.0
    pause: float = 60.0
    call_timeout: float = 30.0
    connect_timeout: float = 30.0
    backoff_min: float = 1.0
    backoff_max: float = 60.0
    reboot_delay: float = 2.0
    seed: int | None = None
    report_interval: float = 10.0
    log_level: str = "INFO"

    @property
    def tag_count(self) -> int:
        """How many id tags the chargers share (one per charger up to 100 by default)."""
        return self.tags if self.tags is not None else min(self.count, 100)

    @property
    def ramp_seconds(self) -> float:
        """Over how long the connects are spread; storm means all at once."""
        if self.scenario == "storm":
            return 0.0
        if self.ramp is not None:
            return self.ramp
        return self.count / DEFAULT_CONNECTS_PER_S

    def problems(self) -> list[str]:
        """What is wrong with this combination of options, for the command line to report."""
        found: list[str] = []
        if self.count < 1:
            found.append("--count must be at least 1")
        if not 1 <= self.connectors <= 16:
            found.append("--connectors must be between 1 and 16")
        if self.protocol not in PROTOCOL_CHOICES:
            found.append(f"--protocol must be one of {', '.join(PROTOCOL_CHOICES)}")
        if self.scenario not in SCENARIOS:
            found.append(f"--scenario must be one of {', '.join(SCENARIOS)}")
        if not self.url.startswith(("ws://", "wss://")):
            found.append("--url must start with ws:// or wss://")
        if not 1 <= self.processes <= max(self.count, 1):
            found.append("--processes must be between 1 and --count")
        if self.tags is not None and self.tags < 1:
            found.append("--tags must be at least 1")
        if not CHARGE_POINT_ID.match(charge_point_id(self.id_prefix, self.count, self.count)):
            found.append("--id-prefix must leave identities of at most 48 chars of A-Za-z0-9._:-")
        if len(id_tag(self.id_prefix, self.tag_count)) > 20:
            found.append("--id-prefix is too long for OCPP 1.6 id tags (20 chars)")
        for name, value in (
            ("--meter-interval", self.meter_interval),
            ("--session", self.session),
            ("--pause", self.pause),
        ):
            if value < 0:
                found.append(f"{name} must not be negative")
        for name, positive in (
            ("--call-timeout", self.call_timeout),
            ("--connect-timeout", self.connect_timeout),
            ("--backoff-min", self.backoff_min),
            ("--report-interval", self.report_interval),
        ):
            if positive <= 0:
                found.append(f"{name} must be positive")
        if self.heartbeat is not None and self.heartbeat <= 0:
            found.append("--heartbeat must be positive")
        if self.duration is not None and self.duration <= 0:
            found.append("--duration must be positive")
        if self.backoff_max < self.backoff_min:
            found.append("--backoff-max must be at least --backoff-min")
        if self.register and not (self.client_id and self.client_secret):
            found.append("--register needs --client-id and --client-secret")
        return found


@dataclass(frozen=True, slots=True)
class ChargerSpec:
    """Who one simulated charger is: identity, version, size and the id tag its driver uses."""

    index: int
    charge_point_id: str
    protocol: str
    connectors: int
    power_w: float
    id_tag: str


def charge_point_id(prefix: str, index: int, count: int) -> str:
    """``SIM-00001``: 1-based and zero-padded to at least five digits so ids sort naturally."""
    width = max(5, len(str(count)))
    return f"{prefix}{index:0{width}d}"


def id_tag(prefix: str, number: int) -> str:
    """``SIM-TAG-0001``: the id tags --register creates and the drivers present."""
    return f"{prefix}TAG-{number:04d}"


def protocol_of(options: Options, index: int) -> str:
    """The OCPP version of charger ``index`` (``mixed`` alternates, so halves are equal)."""
    if options.protocol == "mixed":
        return PROTOCOLS[index % 2]
    return options.protocol


def build_specs(options: Options, power_w: float) -> list[ChargerSpec]:
    """Every charger of the run, in index order."""
    tags = options.tag_count
    return [
        ChargerSpec(
            index=index,
            charge_point_id=charge_point_id(options.id_prefix, index + 1, options.count),
            protocol=protocol_of(options, index),
            connectors=options.connectors,
            power_w=power_w,
            id_tag=id_tag(options.id_prefix, index % tags + 1),
        )
        for index in range(options.count)
    ]
