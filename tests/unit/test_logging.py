"""Log lines: the console format of SPEC section 7, JSON lines, stdlib loggers routed through."""

from __future__ import annotations

import io
import logging
import re

import orjson
import structlog

from config.logging import configure_logging, get_logger
from config.settings import LogFormat, Settings

LINE = re.compile(
    r"^\[(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z) \[(?P<level>[A-Z]+)\] "
    r"\[(?P<context>[^\]]*)\]\]: (?P<message>.*)$"
)


def _configure(fmt: LogFormat) -> io.StringIO:
    stream = io.StringIO()
    configure_logging(Settings(log_format=fmt, log_level="DEBUG"), stream=stream)
    return stream


def teardown_function() -> None:
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()


def test_console_line_has_time_level_context_and_message() -> None:
    stream = _configure(LogFormat.CONSOLE)
    structlog.contextvars.bind_contextvars(charge_point_id="CP-1", request_id="r-42")
    get_logger("csms").info("boot_accepted", vendor="ACME", model="Fast 50")
    line = stream.getvalue().strip()
    match = LINE.match(line)
    assert match, line
    assert match["level"] == "INFO"
    assert match["context"] == "csms charge_point_id=CP-1 request_id=r-42"
    assert match["message"] == 'boot_accepted vendor=ACME model="Fast 50"'


def test_each_component_and_stdlib_loggers_share_the_format() -> None:
    stream = _configure(LogFormat.CONSOLE)
    get_logger("management_api").warning("slow_request", ms=12)
    get_logger("simulator").info("started")
    logging.getLogger("aiohttp.access").info("GET /health %s", 200)
    logging.getLogger("sqlalchemy.engine").warning("pool exhausted")
    logging.getLogger("ocpp").error("bad frame")
    lines = stream.getvalue().strip().splitlines()
    assert len(lines) == 5
    contexts = [LINE.match(line)["context"] for line in lines]  # type: ignore[index]
    assert contexts == [
        "management_api",
        "simulator",
        "aiohttp.access",
        "sqlalchemy.engine",
        "ocpp",
    ]
    assert LINE.match(lines[2])["message"] == "GET /health 200"  # type: ignore[index]


def test_exceptions_are_rendered_after_the_line() -> None:
    stream = _configure(LogFormat.CONSOLE)
    try:
        raise ValueError("boom")
    except ValueError:
        get_logger("csms").exception("handler_failed")
    text = stream.getvalue()
    assert LINE.match(text.splitlines()[0])
    assert "ValueError: boom" in text


def test_json_format_gives_one_object_per_line() -> None:
    stream = _configure(LogFormat.JSON)
    structlog.contextvars.bind_contextvars(client_id="partner-app")
    get_logger("management_api").info("token_issued", expires_in=120)
    logging.getLogger("aiohttp.access").info("GET / 200")
    lines = stream.getvalue().strip().splitlines()
    assert len(lines) == 2
    first, second = (orjson.loads(line) for line in lines)
    assert first["event"] == "token_issued"
    assert first["level"] == "INFO"
    assert first["component"] == "management_api"
    assert first["client_id"] == "partner-app"
    assert first["expires_in"] == 120
    assert first["timestamp"].endswith("Z")
    assert second["component"] == "aiohttp.access"


def test_debug_lines_are_filtered_at_info() -> None:
    stream = io.StringIO()
    configure_logging(Settings(log_level="INFO"), stream=stream)
    get_logger("csms").debug("noise")
    get_logger("csms").info("signal")
    assert "noise" not in stream.getvalue()
    assert "signal" in stream.getvalue()
