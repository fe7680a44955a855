"""Accounts of the review UI: argon2 password hashes, roles, the organisations each may see,
blocking an account and setting its password (both end its sessions), and checking a password in
constant work for unknown names. Refusals are `AccountError`s with a `Problem` code."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from triage.errors import Invalid
from triage.store import repo, web_sessions
from triage.store.models import Membership, User
from triage.store.scope import EVERYTHING, Scope

ROLES = ("staff", "coordinator", "admin")
MIN_PASSWORD = 10
_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash("not a password anyone has")


class Problem(enum.StrEnum):
    """Why an account change was refused (the web UI words each in Dutch)."""

    BAD_NAME = "bad_name"
    BAD_ROLE = "bad_role"
    SHORT_PASSWORD = "short_password"  # minimum
    NAME_TAKEN = "name_taken"  # name
    UNKNOWN_USER = "unknown_user"  # name
    UNKNOWN_ORGANISATION = "unknown_organisation"  # organisation
    OWN_ACCOUNT = "own_account"


class AccountError(Invalid):
    """An account change that was refused: an English line (for the CLI) and its `problem` code."""

    def __init__(self, problem: Problem, message: str, **params: object) -> None:
        super().__init__(message)
        self.problem, self.params = problem, params


def add(session: Session, name: str, password: str, role: str, organisations: Iterable[str] = (),
        all_organisations: bool = False, actor: str = "cli") -> User:
    """A new account that sees `organisations` (or all of them); admins always see all."""
    name = name.strip()
    if not name or len(name) > 100 or not name.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise AccountError(Problem.BAD_NAME, f"user name {name!r}: use 1-100 letters, digits, '.', '-' or '_'")
    _check_role(role)
    _check_password(password)
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise AccountError(Problem.NAME_TAKEN, f"user {name} exists already", name=name)
    user = User(name=name, password_hash=_HASHER.hash(password), role=role, active=True, failed_logins=0,
                created_at=repo.now(), all_organisations=all_organisations,
                memberships=[Membership(organisation=org) for org in sorted(set(organisations))])
    session.add(user)
    session.flush()
    repo.audit(session, "user.added", repo.now(), actor=actor, user=name, role=role,
               organisations="*" if all_organisations else sorted(set(organisations)))
    return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(Problem.SHORT_PASSWORD, f"the password is too short: use at least {MIN_PASSWORD} "
                           "characters", minimum=MIN_PASSWORD)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(Problem.BAD_ROLE, f"role {role!r}: choose one of {', '.join(ROLES)}")


def named(session: Session, name: str) -> User:
    """The account with this name; an unknown name raises AccountError."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise AccountError(Problem.UNKNOWN_USER, f"no user {name}: `triage user list` shows who there is", name=name)
    return user


def scope_of(user: User) -> Scope:
    """What this account may see: every organisation for admins and `all_organisations`, else its
    memberships."""
    if user.role == "admin" or user.all_organisations:
        return EVERYTHING
    return Scope(frozenset(m.organisation for m in user.memberships))


def set_organisations(session: Session, name: str, organisations: Iterable[str], all_organisations: bool,
                      actor: str) -> User:
    user = named(session, name)
    wanted = sorted(set(organisations))
    user.all_organisations = all_organisations
    user.memberships = [Membership(organisation=org) for org in wanted]
    repo.audit(session, "user.organisations", repo.now(), actor=actor, user=name,
               organisations="*" if all_organisations else wanted)
    return user


def set_role(session: Session, name: str, role: str, actor: str) -> User:
    _check_role(role)
    user = named(session, name)
    user.role = role
    repo.audit(session, "user.role", repo.now(), actor=actor, user=name, role=role)
    return user


def enable(session: Session, name: str, actor: str) -> User:
    user = named(session, name)
    user.active, user.failed_logins = True, 0
    repo.audit(session, "user.enabled", repo.now(), actor=actor, user=name)
    return user


def disable(session: Session, name: str, actor: str = "cli", now: datetime | None = None) -> User:
    """Block an account: it cannot log in, and its open sessions end at once."""
    now = now or repo.now()
    user = named(session, name)
    user.active = False
    ended = web_sessions.revoke_all(session, user.id, now)
    repo.audit(session, "user.disabled", now, actor=actor, user=name, sessions_ended=ended)
    return user


def set_password(session: Session, name: str, password: str, actor: str = "cli", now: datetime | None = None) -> User:
    """A new password for an account: every session made with the old one ends, and the failure
    count starts again."""
    _check_password(password)
    now = now or repo.now()
    user = named(session, name)
    user.password_hash, user.failed_logins = _HASHER.hash(password), 0
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
