"""Accounts of the review UI: argon2 password hashes, roles, blocking an account and setting its
password (both end its sessions), and checking a password in constant work for unknown names."""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from triage.errors import ConfigError
from triage.store import repo, web_sessions
from triage.store.models import User

ROLES = ("staff", "admin")
MIN_PASSWORD = 10
_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash("not a password anyone has")


def add(session: Session, name: str, password: str, role: str) -> User:
    name = name.strip()
    if not name or len(name) > 100 or not name.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"user name {name!r}: use 1-100 letters, digits, '.', '-' or '_'")
    if role not in ROLES:
        raise ConfigError(f"role {role!r}: choose one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise ConfigError(f"user {name} exists already")
    user = User(name=name, password_hash=_HASHER.hash(password), role=role, active=True, failed_logins=0,
                created_at=repo.now())
    session.add(user)
    session.flush()
    repo.audit(session, "user.added", repo.now(), actor="cli", user=name, role=role)
    return user


def _named(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise ConfigError(f"no user {name}: `triage user list` shows who there is")
    return user


def disable(session: Session, name: str, actor: str = "cli", now: datetime | None = None) -> User:
    """Block an account: it cannot log in, and its open sessions end at once."""
    now = now or repo.now()
    user = _named(session, name)
    user.active = False
    ended = web_sessions.revoke_all(session, user.id, now)
    repo.audit(session, "user.disabled", now, actor=actor, user=name, sessions_ended=ended)
    return user


def set_password(session: Session, name: str, password: str, actor: str = "cli", now: datetime | None = None) -> User:
    """A new password for an account; every session made with the old one ends."""
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    now = now or repo.now()
    user = _named(session, name)
    user.password_hash = _HASHER.hash(password)
    ended = web_sessions.revoke_all(session, user.id, now)
    repo.audit(session, "user.password_set", now, actor=actor, user=name, sessions_ended=ended)
    return user


def by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def active_named(session: Session, name: str) -> User | None:
    """The active account of this name, if there is one."""
    return session.scalar(select(User).where(User.name == name.strip(), User.active.is_(True)))


def password_matches(password_hash: str | None, password: str) -> bool:
    """Check a password against a hash; without one (an unknown or blocked name) a dummy hash is
    checked instead, so the answer takes as long as for a real account."""
    try:
        return _HASHER.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def record_failure(session: Session, user_id: int, now: datetime) -> int:
    """Count a wrong password for an account (shown to admins; the throttle counts per address)."""
    failures = session.scalar(update(User).where(User.id == user_id).values(
        failed_logins=User.failed_logins + 1, last_failed_at=now).returning(User.failed_logins))
    return int(failures or 0)


def record_login(session: Session, user: User, password: str, now: datetime) -> None:
    """A successful login: the failure count starts again; an outdated hash is renewed."""
    user.failed_logins, user.last_login_at = 0, now
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
