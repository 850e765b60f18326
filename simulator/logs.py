"""Log lines in the project's console format, plus the terminal's live progress line.

The simulator speaks only OCPP and must not import ``config``, so this is its own small take on
``config/logging.py``: ``[<ISO time> [<LEVEL>] [simulator charge_point_id=SIM-00001]]: event k=v``.
A :class:`Console` owns standard output so that log lines and the live progress line on a
terminal never tear each other apart.
"""

from __future__ import annotations

import logging
import shutil
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

#: Keys that say who a line is about; they go into the bracketed context, in this order.
CONTEXT_KEYS: tuple[str, ...] = ("charge_point_id", "ocpp_version", "worker")

#: Third-party loggers that should speak only when something is wrong.
FOREIGN_LOGGERS: tuple[str, ...] = ("websockets", "aiohttp", "asyncio")

_CLEAR_LINE = "\r\x1b[2K"


def _format_value(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    if not text or any(ch in text for ch in ' \t\n"='):
        return orjson.dumps(text).decode()
    return text


class Console:
    """Standard output shared by log lines and, on a terminal, one live status line."""

    def __init__(self, stream: TextIO | None = None, *, live: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self._status = ""

    def line(self, text: str) -> None:
        """Write a whole line above the status line (which is redrawn under it)."""
        if self.live and self._status:
            self.stream.write(f"{_CLEAR_LINE}{text}\n{self._status}")
        else:
            self.stream.write(f"{text}\n")
        self.stream.flush()

    def status(self, text: str) -> None:
        """Replace the live status line; a no-op when standard output is not a terminal."""
        if not self.live:
            return
        width = shutil.get_terminal_size((120, 24)).columns
        self._status = text[: max(width - 1, 20)]
        self.stream.write(f"{_CLEAR_LINE}{self._status}")
        self.stream.flush()

    def clear_status(self) -> None:
        """Remove the status line before the final summary."""
        if self.live and self._status:
            self.stream.write(_CLEAR_LINE)
            self.stream.flush()
        self._status = ""


class LineFormatter(logging.Formatter):
    """Render a record as ``[<time> [<LEVEL>] [<component> k=v]]: <event> k=v``."""

    def format(self, record: logging.LogRecord) -> str:
        timestamp = (
            datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        )
        fields: dict[str, Any] = dict(getattr(record, "fields", {}))
        component = record.name.split(".", 1)[0] if record.name.startswith("simulator") else None
        context = [component or record.name]
        for key in CONTEXT_KEYS:
            if key in fields:
                context.append(f"{key}={_format_value(fields.pop(key))}")
        event = record.getMessage()
        line = f"[{timestamp} [{record.levelname}] [{' '.join(context)}]]: {event}"
        if fields:
            line += " " + " ".join(f"{k}={_format_value(v)}" for k, v in fields.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class ConsoleHandler(logging.Handler):
    """Hand formatted lines to the console (or to any callable, e.g. a worker's pipe)."""

    def __init__(self, write: Any) -> None:
        super().__init__()
        self._write = write
        self.setFormatter(LineFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._write(self.format(record))
        except Exception:  # a broken pipe at shutdown must not raise out of logging
            self.handleError(record)


class EventLogger:
    """``log.info("boot_accepted", interval=60)``: an event name and fields, never f-strings."""

    __slots__ = ("_logger",)

    def __init__(self, name: str) -> None:
        self._logger = logging.getLogger(name)

    def enabled(self, level: int) -> bool:
        """Whether a line at ``level`` would be written (to skip building costly fields)."""
        return self._logger.isEnabledFor(level)

    def _log(
        self, level: int, event: str, fields: dict[str, Any], exc: bool | BaseException = False
    ) -> None:
        if self._logger.isEnabledFor(level):
            self._logger.log(level, event, extra={"fields": fields}, exc_info=exc)

    def debug(self, event: str, **fields: Any) -> None:
        """Per-message detail, off by default."""
        self._log(logging.DEBUG, event, fields)

    def info(self, event: str, **fields: Any) -> None:
        """What a user running the simulator wants to see."""
        self._log(logging.INFO, event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        """Something went wrong that the run survives."""
        self._log(logging.WARNING, event, fields)

    def error(self, event: str, **fields: Any) -> None:
        """Something went wrong that ends the run."""
        self._log(logging.ERROR, event, fields)

    def exception(self, event: str, *, exc: BaseException | None = None, **fields: Any) -> None:
        """An unexpected exception (the one being handled, or ``exc``), with its traceback."""
        self._log(logging.ERROR, event, fields, exc=exc if exc is not None else True)


def get_logger(name: str = "simulator") -> EventLogger:
    """A logger whose first name part is the component shown in the line's context."""
    return EventLogger(name)


def setup_logging(write: Any, level: str | int = "INFO") -> None:
    """Route every logger of the process through one handler; called once per process."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(ConsoleHandler(write))
    root.setLevel(level)
    numeric = logging.getLevelName(level) if isinstance(level, str) else level
    for name in FOREIGN_LOGGERS:
        foreign = logging.getLogger(name)
        foreign.handlers.clear()
        foreign.propagate = True
        foreign.setLevel(max(logging.WARNING, int(numeric)))
