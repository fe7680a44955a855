"""Setting up and checking an installation: the database (opened, its schema created or upgraded)
and whether the configured servers answer."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from triage.config import Settings
from triage.mailboxes import open_mailbox
from triage.outbox import SmtpTransport
from triage.store import migrate, repo


def open_sessions(settings: Settings, create: bool = True) -> tuple[sessionmaker[Session], str | None]:
    """Sessions on the configured database; with `create`, an empty database gets the schema, and
    the second value then says where (for a one-line note), else None."""
    engine = repo.open_engine(settings.database.url)
    created = create and migrate.ensure_current(engine)
    return repo.session_factory(engine), engine.url.render_as_string(hide_password=True) if created else None


def upgrade(settings: Settings) -> tuple[str | None, str]:
    """Create or upgrade the schema to the newest revision: (the revision before, the one now)."""
    engine = repo.open_engine(settings.database.url)
    before = migrate.current(engine)
    migrate.upgrade(engine)
    engine.dispose()
    return before, migrate.head()


def check_servers(settings: Settings) -> None:
    """Connect to the database, every mailbox and the SMTP server (unless acknowledgements go to a
    pickup folder); the first that does not answer raises ServerError or ConfigError."""
    repo.open_engine(settings.database.url).dispose()
    for org in settings.organisations.values():
        with open_mailbox(org) as box:
            box.uidvalidity(box.source_folder)
    if settings.smtp is not None and settings.outbox.pickup_directory is None:
        with SmtpTransport(settings.smtp):
            pass
