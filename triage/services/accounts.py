"""Accounts of the review UI as the shells use them: logging in (with its audit row and the
slow-down after failures), the logged-in user by id, the list of accounts, and disabling one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from triage.errors import Invalid
from triage.services.deps import Deps
from triage.store import repo, users
from triage.store.models import User


@dataclass(frozen=True)
class CurrentUser:
    id: int
    name: str
    role: str  # staff, admin


@dataclass(frozen=True)
class Login:
    """A login's outcome: the user, or none (wrong name or password, or a wait: > 0 seconds before
    the next attempt is checked at all). `stamp` ties a browser session to this password."""

    user: CurrentUser | None
    wait: float = 0.0
    stamp: str = ""


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    active: bool
    last_login_at: datetime | None
    failed_logins: int


def _stamp(user: User) -> str:
    """Changes with the password: a session made with an older one ends."""
    return user.password_hash[-16:]


def login(deps: Deps, name: str, password: str) -> Login:
    """Check a login; a failure counts towards the slow-down, a success is logged."""
    with deps.sessions.begin() as session:
        result = users.authenticate(session, name, password)
        if result.user is None:
            return Login(None, result.wait)
        user = result.user
        repo.audit(session, "user.login", deps.clock(), actor=user.name)
        return Login(CurrentUser(user.id, user.name, user.role), stamp=_stamp(user))


def current_user(deps: Deps, user_id: int, stamp: str) -> CurrentUser | None:
    """The user of a browser session, while the account is active and its password unchanged."""
    with deps.sessions() as session:
        user = users.by_id(session, user_id)
        if user is None or not user.active or stamp != _stamp(user):
            return None
        return CurrentUser(user.id, user.name, user.role)


def all_accounts(deps: Deps) -> list[Account]:
    with deps.sessions() as session:
        return [Account(u.name, u.role, u.active, u.last_login_at, u.failed_logins) for u in users.all_users(session)]


def disable(deps: Deps, name: str, actor: str) -> None:
    """Stop an account from logging in (its corrections stay). Nobody disables their own account
    (Invalid); an unknown name raises ConfigError."""
    if name == actor:
        raise Invalid("you cannot disable your own account")
    with deps.sessions.begin() as session:
        users.disable(session, name, actor=actor)


def add(deps: Deps, name: str, password: str, role: str) -> None:
    """A new account; a bad name, a short password or a name in use raises ConfigError."""
    with deps.sessions.begin() as session:
        users.add(session, name, password, role)
