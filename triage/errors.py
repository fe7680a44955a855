"""The error hierarchy of klachten-triage.

    TriageError                 base; its message is one line a person can act on
    ├── ConfigError             the config file is wrong (key, type, missing secret)
    ├── ServerError             a server (IMAP, SMTP, database) cannot be reached or refuses us
    └── StageError              one message could not be handled by a stage; it is quarantined

Shells (CLI, worker) turn ConfigError and ServerError into one line on stderr and exit code 2;
a StageError never leaves the pipeline: the message is quarantined and the batch goes on.
"""

import logging
import time


class TriageError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(TriageError):
    """The configuration is invalid; the message names the key and what to do."""


class ServerError(TriageError):
    """A server could not be reached or refused an operation; the message names the server."""


class StageError(TriageError):
    """A pipeline stage could not handle one message."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(f"{stage}: {message}")
        self.stage = stage


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
