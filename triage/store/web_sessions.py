"""Server-side sessions of the review UI: a random token goes into the browser's cookie, only its
sha256 into the database, with the user, when it was made and last used, when it ends at the
latest, and whether it was revoked (logout, a new password, a blocked account)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from triage.store.models import User, WebSession

KEEP_ENDED = timedelta(days=1)  # ended sessions are deleted this long after their end


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def start(session: Session, user_id: int, now: datetime, lifetime: timedelta) -> str:
    """A new session for this user, ending at `now + lifetime` at the latest; returns its token.
    Sessions that ended more than a day ago are deleted on the way."""
    session.execute(delete(WebSession).where(WebSession.expires_at < now - KEEP_ENDED))
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=token_hash(token), user_id=user_id, created_at=now, last_seen_at=now,
                           expires_at=now + lifetime))
    return token


def user_of(session: Session, token: str, now: datetime, idle: timedelta) -> User | None:
    """The active user of a live session (not revoked, not past its end, used within `idle`), its
    last use moved to `now` (written at most once per tenth of `idle`, so not on every request)."""
    row = session.scalar(select(WebSession).where(WebSession.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None or now >= row.expires_at or now >= row.last_seen_at + idle:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if now - row.last_seen_at >= min(idle / 10, timedelta(minutes=1)):
        row.last_seen_at = now
    return user


def revoke(session: Session, token: str, now: datetime) -> None:
    session.execute(update(WebSession).where(WebSession.token_hash == token_hash(token),
                                             WebSession.revoked_at.is_(None)).values(revoked_at=now))


def revoke_all(session: Session, user_id: int, now: datetime) -> int:
    """End every session of this user; returns how many were live."""
    result = session.execute(update(WebSession).where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None),
                                                      WebSession.expires_at > now).values(revoked_at=now))
    return int(result.rowcount)  # type: ignore[attr-defined]
