"""Settings built once per process from the environment and passed down.

Nothing here is read at import time: each ``__main__`` calls ``Settings()`` and
hands the object to the factories, so tests can build their own ``Settings(...)``.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class LogFormat(StrEnum):
    """How log lines are rendered on stdout."""

    CONSOLE = "console"
    JSON = "json"


class UnknownStationPolicy(StrEnum):
    """What the central system does with a charger whose identity it does not know."""

    REJECT = "reject"
    PENDING = "pending"


class Settings(BaseSettings):
    """Every tunable of csms, management_api and the launcher.

    Each field maps to the upper-case environment variable of the same name and
    is documented in ``config/example.env``.
    """

    model_config = SettingsConfigDict(
        env_file=None,
        env_ignore_empty=True,
        extra="ignore",
        case_sensitive=False,
        frozen=True,
    )

    # --- storage -------------------------------------------------------------
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL; unset = embedded PostgreSQL under DATA_DIR.",
    )
    data_dir: Path = Field(default=Path(".data"), description="Embedded PostgreSQL data.")
    db_pool_size: int = Field(default=20, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    redis_url: str | None = Field(
        default=None,
        description="Redis URL; unset = in-process token store, rate limiter and buses.",
    )

    # --- logging -------------------------------------------------------------
    log_level: str = Field(default="INFO")
    log_format: LogFormat = Field(default=LogFormat.CONSOLE)

    # --- OCPP central system ---------------------------------------------------
    csms_host: str = Field(default="0.0.0.0")
    csms_port: int = Field(default=9000, ge=0, le=65535)
    heartbeat_interval: int = Field(default=300, ge=10, le=86400)
    unknown_stations: UnknownStationPolicy = Field(default=UnknownStationPolicy.REJECT)
    ocpp_ping_interval: float = Field(default=60.0, gt=0)
    ocpp_ping_timeout: float = Field(default=30.0, gt=0)
    ocpp_call_timeout: float = Field(default=30.0, gt=0)
    ocpp_max_message_bytes: int = Field(default=65536, ge=1024)
    ocpp_listen_backlog: int = Field(default=4096, ge=1, le=65535)
    ocpp_open_timeout: float = Field(default=30.0, gt=0)
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    group_commit_max_batch: int = Field(default=500, ge=1)
    group_commit_max_delay_ms: float = Field(default=2.0, ge=0)

    # --- management API ------------------------------------------------------
    api_host: str = Field(default="0.0.0.0")
    api_port: int = Field(default=8080, ge=0, le=65535)
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HS256 signing key; unset = random per process (single-node only).",
    )
    token_ttl_seconds: int = Field(default=120, ge=1, le=86400)
    admin_client_id: str | None = None
    admin_client_secret: SecretStr | None = None
    rate_limit_per_second: float = Field(default=50.0, gt=0)
    rate_limit_burst: int = Field(default=100, ge=1)
    command_wait_seconds: float = Field(default=10.0, ge=0, le=60)
    command_timeout_seconds: float = Field(default=30.0, gt=0, le=600)

    @field_validator("log_level")
    @classmethod
    def _upper_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}")
        return level

    @property
    def uses_embedded_database(self) -> bool:
        """True when the launcher must start PostgreSQL itself."""
        return not self.database_url

    @property
    def tls_enabled(self) -> bool:
        """Security profile 2 is served only when both halves of the pair are present."""
        return self.tls_cert_file is not None and self.tls_key_file is not None
