"""The dependencies every service is built on, made once by a shell and passed down frozen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from triage.config import Organisation, Settings
from triage.mailboxes import Mailbox, open_mailbox
from triage.outbox import Transport, transport_for
from triage.store import repo
from triage.training.paths import models_dir

if TYPE_CHECKING:  # scikit-learn takes 0.6 s to import: only the services that classify load it
    from triage.training.model import Classifier


def utc_now() -> datetime:
    return datetime.now(UTC)


def no_model() -> Classifier | None:
    return None


@dataclass(frozen=True)
class Deps:
    """Settings, the session factory, the clock, this process's worker id, and factories for
    mailboxes, the outbox transport and the classifier in use. Tests pass their own clock or
    factories instead of monkeypatching module globals."""

    settings: Settings
    sessions: sessionmaker[Session]
    worker_id: str
    models: Path
    clock: Callable[[], datetime]
    mailbox: Callable[[Organisation], Mailbox]
    transport: Callable[[], Transport | None]
    classifier: Callable[[], Classifier | None]


def build(settings: Settings, sessions: sessionmaker[Session], *, models: Path | None = None,
          classifier: Callable[[], Classifier | None] = no_model, clock: Callable[[], datetime] = utc_now,
          worker_id: str = repo.WORKER_ID) -> Deps:
    """The production wiring: mailboxes and transport from the settings."""
    return Deps(settings=settings, sessions=sessions, worker_id=worker_id,
                models=models_dir(models or settings.model.directory), clock=clock, mailbox=open_mailbox,
                transport=lambda: transport_for(settings), classifier=classifier)


def models_folder(configured: Path | None) -> Path:
    """The models folder: as configured, else ./models, else the one beside the package."""
    return models_dir(configured)


def fixed(classifier: Classifier | None) -> Callable[[], Classifier | None]:
    """A classifier factory that always gives this one (a one-off poll, a test)."""
    return lambda: classifier
