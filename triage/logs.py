"""Structured log lines: `key=value` text (default) or one JSON object per line."""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("apscheduler", "imapclient", "alembic", "inscriptis", "mailparser_reply"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    # mail-parser warns about every MIME type it does not turn into text (images, reports, ...).
    logging.getLogger("mailparser").setLevel(logging.ERROR)


class Outage:
    """A lost server is logged once when it goes and once when it is back, never per retry (the
    error text changes while a server restarts; that alone is not a new outage)."""

    def __init__(self, log: logging.Logger, event: str, context: str = "") -> None:
        self.log, self.event, self.context = log, event, context
        self.since: float | None = None

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException, consequence: str) -> None:
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if self.since is None:
            self.since = time.monotonic()
            self.log.error("event=%s_failed %serror=%r (%s)", self.event, self.context, message, consequence)
        else:
            self.log.debug("event=%s_still_failing %serror=%r", self.event, self.context, message)

    def ok(self) -> None:
        if self.since is not None:
            self.log.info("event=%s_recovered %safter=%.0fs", self.event, self.context,
                          time.monotonic() - self.since)
            self.since = None
