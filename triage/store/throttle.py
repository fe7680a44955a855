"""Login-attempt counters. One atomic statement per key (INSERT … ON CONFLICT DO UPDATE … WHERE …
RETURNING, on SQLite and PostgreSQL alike) counts an attempt *before* its password is checked and
sets until when the next attempt must wait, so parallel guesses cannot all be checked."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, delete, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from triage.store.models import LoginAttempt, UTCDateTime

MAX_WAIT = 300.0  # seconds: the longest wait between two attempts
FORGET_AFTER = timedelta(hours=1)  # a key without attempts this long starts counting afresh


def key(*parts: str) -> str:
    """The stored key of a client address, or of an address and an account name: a sha256, so no
    name a stranger typed is kept."""
    return hashlib.sha256("\0".join(parts).encode("utf-8", "replace")).hexdigest()


def delay(attempts: int, free: int) -> float:
    """Seconds the next attempt waits after `attempts` counted ones: none while fewer than `free`,
    then 2, 4, 8 … up to MAX_WAIT."""
    if attempts < free:
        return 0.0
    return min(2.0 ** (attempts - free + 1), MAX_WAIT)


def _at(moment: datetime) -> ColumnElement[datetime]:
    return literal(moment, UTCDateTime())


def _wait_until(counted: ColumnElement[int], free: int, now: datetime) -> ColumnElement[datetime]:
    """The wait after `counted` attempts as one SQL CASE (the steps are few: the wait doubles to MAX_WAIT)."""
    steps: list[tuple[ColumnElement[bool], ColumnElement[datetime]]] = [(counted < free, _at(now))]
    n = free
    while delay(n, free) < MAX_WAIT:
        steps.append((counted == n, _at(now + timedelta(seconds=delay(n, free)))))
        n += 1
    return case(*steps, else_=_at(now + timedelta(seconds=MAX_WAIT)))


def claim(session: Session, at_key: str, free: int, now: datetime) -> float:
    """Count one attempt for this key if it may be made now (returns 0), else count nothing and
    return the seconds left to wait. Commit before checking the password: the row lock (or
    SQLite's write lock) is what makes parallel attempts wait their turn."""
    t = LoginAttempt
    stale = t.last_at < now - FORGET_AFTER
    counted = case((stale, 0), else_=t.attempts) + 1
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (insert(t).values(key=at_key, attempts=1, last_at=now, wait_until=now + timedelta(seconds=delay(1, free)))
            .on_conflict_do_update(index_elements=[t.key],
                                   set_={"attempts": counted, "last_at": now,
                                         "wait_until": _wait_until(counted, free, now)},
                                   where=or_(t.attempts < free, t.wait_until <= now, stale))
            .returning(t.attempts))
    if session.execute(stmt).first() is not None:
        return 0.0
    wait_until = session.scalar(select(t.wait_until).where(t.key == at_key))
    return max(1.0, (wait_until - now).total_seconds()) if wait_until else 1.0


def release(session: Session, at_key: str, free: int, now: datetime) -> None:
    """Take back one counted attempt (it succeeded, or was not checked after all)."""
    t = LoginAttempt
    session.execute(update(t).where(t.key == at_key, t.attempts > 0).values(
        attempts=t.attempts - 1, wait_until=case((t.attempts - 1 < free, _at(now)), else_=t.wait_until)))


def forget(session: Session, at_key: str) -> None:
    session.execute(delete(LoginAttempt).where(LoginAttempt.key == at_key))


def purge(session: Session, now: datetime) -> None:
    """Drop counters nobody has used for a day."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.last_at < now - timedelta(days=1)))
