"""The error hierarchy of klachten-triage.

    TriageError                 base; its message is one line a person can act on
    ├── ConfigError             the config file is wrong (key, type, missing secret)
    ├── ServerError             a server (IMAP, SMTP, database) cannot be reached or refuses us
    └── StageError              one message could not be handled by a stage; it is quarantined

Shells (CLI, worker) turn ConfigError and ServerError into one line on stderr and exit code 2;
a StageError never leaves the pipeline: the message is quarantined and the batch goes on.
"""


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
