"""The dependencies every service is built on, made once by a shell and passed down frozen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from triage.config import Organisation, Settings
from triage.mailboxes import Mailbox, open_mailbox

if TYPE_CHECKING:  # scikit-learn takes 0.6 s to import: only the services that classify load it
    from triage.outbox import Transport
    from triage.training.model import Classifier


def utc_now() -> datetime:
    return datetime.now(UTC)


def no_model() -> Classifier | None:
    return None


@dataclass(frozen=True)
class Deps:
    """Settings, the session factory, the clock, this process's worker id, and factories for
    mailboxes, the outbox transport and the classifier. Tests pass their own clock or factories
    instead of monkeypatching module globals."""

    settings: Settings
    sessions: sessionmaker[Session]
    worker_id: str
    models: Path
    clock: Callable[[], datetime] = utc_now
    mailbox: Callable[[Organisation], Mailbox] = open_mailbox
    transport: Callable[[], Transport | None] = field(default=lambda: None)
    classifier: Callable[[], Classifier | None] = no_model
