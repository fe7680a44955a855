"""Accounts for the review UI: argon2 password hashes, roles, the organisations each may see, and
logins slowed down after failures."""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.errors import Invalid
from triage.store import repo
from triage.store.models import Membership, User
from triage.store.scope import EVERYTHING, Scope

ROLES = ("staff", "admin")
MIN_PASSWORD = 10
FREE_FAILURES = 3  # after this many failures in a row, each next attempt must wait longer
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


def set_password(session: Session, name: str, password: str, actor: str) -> User:
    """A new password (its sessions end with the old one); the failure count starts again."""
    _check_password(password)
    user = named(session, name)
    user.password_hash, user.failed_logins = _HASHER.hash(password), 0
    repo.audit(session, "user.password_reset", repo.now(), actor=actor, user=name)
    return user


def enable(session: Session, name: str, actor: str) -> User:
    user = named(session, name)
    user.active, user.failed_logins = True, 0
    repo.audit(session, "user.enabled", repo.now(), actor=actor, user=name)
    return user


def disable(session: Session, name: str, actor: str = "cli") -> User:
    user = named(session, name)
    user.active = False
    repo.audit(session, "user.disabled", repo.now(), actor=actor, user=name)
    return user


def by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def wait_needed(user: User, now: datetime) -> float:
    """Seconds before this account may try again (0 when it may now)."""
    if user.failed_logins < FREE_FAILURES or user.last_failed_at is None:
        return 0.0
    delay = min(2.0 ** (user.failed_logins - FREE_FAILURES + 1), 300.0)
    return max(0.0, (user.last_failed_at + timedelta(seconds=delay) - now).total_seconds())


@dataclass
class Login:
    user: User | None
    wait: float = 0.0  # > 0: refused without checking, try again after this many seconds


def authenticate(session: Session, name: str, password: str) -> Login:
    """Check a login. Unknown names cost as much as known ones; failures in a row slow it down."""
    now = repo.now()
    user = session.scalar(select(User).where(User.name == name.strip()))
    if user is None or not user.active:
        with contextlib.suppress(VerificationError):
            _HASHER.verify(_DUMMY, password)
        return Login(None)
    wait = wait_needed(user, now)
    if wait > 0:
        return Login(None, wait)
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        user.last_failed_at = now
        repo.audit(session, "user.login_failed", now, actor=user.name, failures=user.failed_logins)
        return Login(None)
    user.failed_logins, user.last_login_at = 0, now
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return Login(user)
