"""The error hierarchy of klachten-triage.

    TriageError                 base; its message is one line a person can act on
    ├── ConfigError             the config file is wrong (key, type, missing secret)
    ├── ServerError             a server (IMAP, SMTP, database) cannot be reached or refuses us
    ├── Refused                 the SMTP server rejected one message (permanent: 5xx)
    ├── ModelError              a model version is missing, damaged or made for other versions
    ├── CorpusError             the labelled corpus is malformed (labels.csv, a message file)
    ├── Invalid                 a person's input (a form, an argument) is not acceptable
    └── StageError              one message could not be handled by a stage; it is quarantined

Shells turn every TriageError into one line (stderr and exit code 2, or a Dutch flash message);
a StageError never leaves the pipeline: the message is quarantined and the batch goes on. A
Refused never leaves the send service: the row is retried or marked failed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from triage.reasons import Reason


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


class Refused(TriageError):
    """The server refused this one message (`reason`: its code when we refused it ourselves)."""

    def __init__(self, message: str, permanent: bool, reason: Reason | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.reason = reason


class ModelError(TriageError):
    """A model version cannot be used; the message says which and why."""


class CorpusError(TriageError):
    """The corpus folder is not valid; the message names the file and line."""


class Invalid(TriageError):
    """A person's input is not acceptable; the message says what to change."""
