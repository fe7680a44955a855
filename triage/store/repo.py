"""The queries the pipeline and the shells need; every function takes an open Session."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, create_engine, event, select, update
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from triage.domain import Disposition
from triage.errors import ConfigError, ServerError
from triage.store.models import AuditLog, Case, MailboxState, Message, RawBlob, ReferenceCounter

# Who claims leases and outbox rows: this process, unique across machines and restarts.
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
log = logging.getLogger(__name__)


def now() -> datetime:
    return datetime.now(UTC)


def open_engine(url: str) -> Engine:
    """An engine for `url`, checked to connect; errors are one line naming the database."""
    # A network cut must not hang a worker: give up connecting after 10 s (and retry at the next run).
    connect_args = {"connect_timeout": 10} if url.startswith("postgresql") and "connect_timeout" not in url else {}
    try:
        engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise ConfigError(f"database.url {url!r} is not usable: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ServerError(
            f"database {engine.url.render_as_string(hide_password=True)} is unreachable: {reason}"
        ) from None
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA secure_delete=ON")  # deleted and overwritten personal data is zeroed, not left in free pages
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def save_blob(session: Session, sha: str, raw: bytes) -> None:
    blob = session.get(RawBlob, sha)
    if blob is None:
        session.add(RawBlob(sha256=sha, size=len(raw), data=raw))
        session.flush()
    elif blob.size == 0 and raw:  # purged (triage.store.anonymise) and now received again
        blob.data, blob.size = raw, len(raw)


def next_reference(session: Session, organisation: str, prefix: str, year: int) -> tuple[str, int]:
    """Hand out the next case number for (organisation, year); safe with concurrent workers."""
    stmt = (
        update(ReferenceCounter)
        .where(ReferenceCounter.organisation == organisation, ReferenceCounter.year == year)
        .values(value=ReferenceCounter.value + 1)
        .returning(ReferenceCounter.value)
    )
    value = session.execute(stmt).scalar_one_or_none()
    if value is None:
        try:
            with session.begin_nested():
                session.add(ReferenceCounter(organisation=organisation, year=year, value=1))
            value = 1
        except IntegrityError:  # another worker created the row first
            value = session.execute(stmt).scalar_one()
    return f"{prefix}-{year}-{value:06d}", value


def known_uids(session: Session, mailbox: str, uidvalidity: int, uids: Iterable[str]) -> dict[str, Message]:
    uids = list(uids)
    found: dict[str, Message] = {}
    for i in range(0, len(uids), 500):
        rows = session.scalars(
            select(Message).where(
                Message.mailbox == mailbox, Message.uidvalidity == uidvalidity, Message.uid.in_(uids[i : i + 500])
            )
        )
        found.update((m.uid, m) for m in rows)
    return found


def known_shas(session: Session, organisation: str, shas: Iterable[str]) -> set[str]:
    """Which of these contents the organisation has a message of already (the same rows as
    `first_by_sha` finds: a purged message's content is no longer known)."""
    return set(session.scalars(select(Message.sha256).where(
        Message.organisation == organisation, Message.sha256.in_(set(shas)), Message.duplicate_of.is_(None),
        Message.purged_at.is_(None))))


def first_by_sha(session: Session, organisation: str, sha: str) -> Message | None:
    return session.scalars(
        select(Message)
        .where(Message.organisation == organisation, Message.sha256 == sha, Message.duplicate_of.is_(None),
               Message.purged_at.is_(None))  # mail sent again after an erasure is new mail
        .order_by(Message.id)
        .limit(1)
    ).first()


def case_by_reference(session: Session, organisation: str, reference: str) -> Case | None:
    return session.scalars(
        select(Case).where(Case.organisation == organisation, Case.reference == reference)
    ).first()


def case_by_id(session: Session, case_id: int) -> Case | None:
    return session.get(Case, case_id)


def message_by_id(session: Session, message_id: int) -> Message | None:
    return session.get(Message, message_id)


def retryable(session: Session, organisation: str, max_attempts: int) -> list[int]:
    return list(
        session.scalars(
            select(Message.id)
            .where(
                Message.organisation == organisation,
                Message.disposition == Disposition.QUARANTINED,
                Message.attempts < max_attempts,
            )
            .order_by(Message.id)
        )
    )


def confirm_moves(session: Session, organisation: str, mailbox: str, uidvalidity: int,
                  present: set[str], at: datetime) -> list[Message]:
    """Records whose move was never recorded although their message has left the folder: the
    server moved it, the worker stopped before committing that. Marked moved now, with an audit row."""
    unmoved = select(Message).where(  # an index seek (organisation, disposition, moved_at), not a scan
        Message.organisation == organisation, Message.disposition.in_([d.value for d in Disposition]),
        Message.moved_at.is_(None), Message.mailbox == mailbox, Message.uidvalidity == uidvalidity)
    gone = [m for m in session.scalars(unmoved) if m.uid not in present]
    for m in gone:
        m.moved_at = at
        audit(session, "message.move_confirmed", at, organisation=m.organisation, message_id=m.id, uid=m.uid,
              folder=m.folder)
    return gone


def mark_moved(session: Session, ids: Iterable[int], at: datetime) -> None:
    ids = list(ids)
    if ids:
        session.execute(update(Message).where(Message.id.in_(ids)).values(moved_at=at))


def claim_lease(session: Session, mailbox: str, organisation: str, owner: str, seconds: float,
                moment: datetime) -> str | None:
    """Take (or renew) the lease on a mailbox for `owner`. Returns None when taken, else who holds
    it. The row is locked with SKIP LOCKED, so two workers never wait on each other."""
    stmt = select(MailboxState).where(MailboxState.mailbox == mailbox).with_for_update(skip_locked=True)
    state = session.scalar(stmt)
    if state is None:
        if session.get(MailboxState, mailbox) is not None:  # there, but locked by a worker claiming it now
            return "another worker"
        try:
            with session.begin_nested():
                session.add(MailboxState(mailbox=mailbox, organisation=organisation, uidvalidity=0, last_uid="",
                                         lease_owner=owner, lease_until=moment + timedelta(seconds=seconds)))
        except IntegrityError:
            return "another worker"
        return None
    until = state.lease_until
    if state.lease_owner not in (None, owner) and until is not None and until > moment:
        return state.lease_owner
    state.lease_owner, state.lease_until = owner, moment + timedelta(seconds=seconds)
    return None


def release_lease(session: Session, mailbox: str, owner: str) -> None:
    session.execute(update(MailboxState).where(MailboxState.mailbox == mailbox, MailboxState.lease_owner == owner)
                    .values(lease_owner=None, lease_until=None))


def record_poll(session: Session, mailbox: str, organisation: str, uidvalidity: int, last_uid: str,
                at: datetime) -> int | None:
    """Store the mailbox state; return the previous UIDVALIDITY when it changed."""
    state = session.get(MailboxState, mailbox)
    if state is None:
        session.add(MailboxState(mailbox=mailbox, organisation=organisation, uidvalidity=uidvalidity,
                                 last_uid=last_uid, last_poll_at=at))
        return None
    previous = state.uidvalidity if state.uidvalidity not in (uidvalidity, 0) else None  # 0: made by a lease
    state.uidvalidity = uidvalidity
    if last_uid:
        state.last_uid = last_uid
    state.last_poll_at = at
    return previous


def audit(session: Session, action: str, at: datetime, *, actor: str = "worker", organisation: str | None = None,
          case_id: int | None = None, message_id: int | None = None, **detail: Any) -> None:
    session.add(AuditLog(at=at, actor=actor, action=action, organisation=organisation, case_id=case_id,
                         message_id=message_id, detail=detail))
