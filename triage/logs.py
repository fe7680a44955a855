"""Structured logs with structlog: every log call is an event code with fields,
`log.info("poll", organisation="debrug", moved=3)`.

Events travel through stdlib `logging` (structlog's stdlib `LoggerFactory`), so the level of each
logger, pytest's caplog and the records of third-party libraries (apscheduler, imapclient, alembic,
waitress, ...) all meet on the root handler, where one `ProcessorFormatter` renders them alike:

- text: `2026-05-06 12:00:00,123 INFO triage.pipeline event=poll organisation=debrug moved=3`, the
  stdlib `asctime levelname name` prefix and then `key=value` tokens, event first; a value with
  spaces, quotes or control characters is written as a Python string literal (`reason='…'`), so
  every event is one line and `grep event=poll` finds it;
- json: one object per line, every field its own key:
  `{"timestamp": "…", "level": "info", "logger": "triage.pipeline", "event": "poll", "moved": 3, …}`.

structlog is imported on first use, not with this module: `triage --help` stays quick.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from structlog.stdlib import BoundLogger
    from structlog.typing import EventDict, Processor, WrappedLogger

TEXT_PREFIX = "%(asctime)s %(levelname)s %(name)s %(message)s"
NOISY = ("apscheduler", "imapclient", "alembic", "inscriptis", "mailparser_reply")
_META = ("exc_info", "stack_info", "exception", "_record", "_from_structlog")
_BARE = re.compile(r"[^\s'\"=\\]+")
_configured = False


def get_logger(name: str) -> BoundLogger:
    """A structlog logger over the stdlib logger `name` (its level and handlers apply)."""
    import structlog

    _setup()
    return structlog.stdlib.get_logger(name)


def _setup() -> None:
    """Route structlog through stdlib logging: once, before any logger is used, and independent of
    `configure` (so that tests that never call it still see events in caplog)."""
    global _configured
    if _configured:
        return
    import structlog

    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, structlog.contextvars.merge_contextvars, _to_record],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    _configured = True


class _Event(dict[str, Any]):
    """The event dict as a stdlib record's `msg`: `ProcessorFormatter` reads its fields, anything
    else that calls `record.getMessage()` (caplog, logging.lastResort) gets the `key=value` text."""

    def __str__(self) -> str:
        return render(self)


def _to_record(logger: WrappedLogger, name: str, event_dict: EventDict) -> tuple[tuple[Any, ...], dict[str, Any]]:
    # structlog's ProcessorFormatter.wrap_for_formatter, with a message that reads well as text
    return (_Event(event_dict),), {"extra": {"_logger": logger, "_name": name}}


def render(event_dict: Mapping[str, Any]) -> str:
    """`event=poll organisation=debrug moved=3`: the event first, then the fields in call order."""
    fields = [f"event={_value(event_dict.get('event'))}"]
    fields += [f"{k}={_value(v)}" for k, v in event_dict.items() if k != "event" and k not in _META]
    return " ".join(fields)


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool | int | float):
        return str(value)
    text = str(value)
    return text if text.isprintable() and _BARE.fullmatch(text) else repr(text)


def _render_text(_: WrappedLogger, __: str, event_dict: EventDict) -> str:
    line = render(event_dict)
    return f"{line}\n{event_dict['exception']}" if event_dict.get("exception") else line


def _record_fields(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """timestamp (the record's creation time, UTC), level and logger first, then the event and its fields."""
    record: logging.LogRecord = event_dict["_record"]
    head = {
        "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "event": event_dict.get("event"),
    }
    return head | {k: v for k, v in event_dict.items() if k not in head}


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """One stderr handler on the root logger, rendering structlog events and foreign records alike."""
    import structlog

    _setup()
    meta = structlog.stdlib.ProcessorFormatter.remove_processors_meta
    exc = structlog.processors.format_exc_info
    processors: list[Processor]
    if fmt == "json":
        processors, prefix = [_record_fields, meta, exc, structlog.processors.JSONRenderer(ensure_ascii=False)], None
    else:
        processors, prefix = [meta, exc, _render_text], TEXT_PREFIX
    # a record of another library: its message is the event; context bound with structlog.contextvars joins it
    formatter = structlog.stdlib.ProcessorFormatter(processors=processors, fmt=prefix,
                                                    foreign_pre_chain=[structlog.contextvars.merge_contextvars])
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    # mail-parser warns about every MIME type it does not turn into text (images, reports, ...).
    logging.getLogger("mailparser").setLevel(logging.ERROR)


class Outage:
    """A lost server is logged once when it goes and once when it is back, never per retry (the
    error text changes while a server restarts; that alone is not a new outage)."""

    def __init__(self, log: BoundLogger, event: str, **context: Any) -> None:
        self.log, self.event, self.context = log, event, context
        self.since: float | None = None

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException, consequence: str) -> None:
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if self.since is None:
            self.since = time.monotonic()
            self.log.error(f"{self.event}_failed", **self.context, error=message, note=consequence)
        else:
            self.log.debug(f"{self.event}_still_failing", **self.context, error=message)

    def ok(self) -> None:
        if self.since is not None:
            self.log.info(f"{self.event}_recovered", **self.context, after_s=round(time.monotonic() - self.since))
            self.since = None
