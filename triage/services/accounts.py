"""Accounts of the review UI as the shells use them: logging in (with its audit row and the
slow-down after failures), the logged-in user by id with the organisations they may see, and
managing accounts (add, block, re-enable, reset a password, change role or organisations)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from triage.services.deps import Deps
from triage.store import repo, users
from triage.store.models import User
from triage.store.scope import Scope
from triage.store.users import AccountError, Problem

__all__ = ["AccountError", "Problem"]  # refusals, with a code the web UI words in Dutch


@dataclass(frozen=True)
class CurrentUser:
    id: int
    name: str
    role: str  # staff, admin
    scope: Scope = Scope()  # the organisations whose cases and messages they may see and handle


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
    organisations: tuple[str, ...] = ()  # their memberships
    all_organisations: bool = False  # sees every organisation, also later ones (admins always do)


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
        return Login(_current(user), stamp=_stamp(user))


def current_user(deps: Deps, user_id: int, stamp: str) -> CurrentUser | None:
    """The user of a browser session, while the account is active and its password unchanged."""
    with deps.sessions() as session:
        user = users.by_id(session, user_id)
        if user is None or not user.active or stamp != _stamp(user):
            return None
        return _current(user)


def _current(user: User) -> CurrentUser:
    return CurrentUser(user.id, user.name, user.role, users.scope_of(user))


def _account(u: User) -> Account:
    return Account(u.name, u.role, u.active, u.last_login_at, u.failed_logins,
                   tuple(m.organisation for m in u.memberships), u.all_organisations)


def organisations(deps: Deps) -> dict[str, str]:
    """The configured organisations an account may be given: id -> name."""
    return {org.id: org.name for org in deps.settings.organisations.values()}


def all_accounts(deps: Deps) -> list[Account]:
    with deps.sessions() as session:
        return [_account(u) for u in users.all_users(session)]


def account(deps: Deps, name: str) -> Account | None:
    with deps.sessions() as session:
        try:
            return _account(users.named(session, name))
        except AccountError:
            return None


def disable(deps: Deps, name: str, actor: str) -> None:
    """Stop an account from logging in (its corrections stay). Nobody disables their own account
    (AccountError); an unknown name too."""
    if name == actor:
        raise AccountError(Problem.OWN_ACCOUNT, "you cannot disable your own account")
    with deps.sessions.begin() as session:
        users.disable(session, name, actor=actor)


def _configured(deps: Deps, organisations: Iterable[str]) -> list[str]:
    """The organisation ids, each one configured (else AccountError)."""
    wanted = sorted(set(organisations))
    unknown = [org for org in wanted if org not in deps.settings.organisations]
    if unknown:
        known = ", ".join(deps.settings.organisations) or "none"
        raise AccountError(Problem.UNKNOWN_ORGANISATION, f"unknown organisation {unknown[0]!r}: configured are "
                           f"{known}", organisation=unknown[0])
    return wanted


def add(deps: Deps, name: str, password: str, role: str, organisations: Iterable[str] = (),
        all_organisations: bool = False, actor: str = "cli") -> None:
    """A new account that sees `organisations` (configured ids) or all of them; a bad name, a short
    password, a name in use or an unknown organisation raises AccountError."""
    wanted = _configured(deps, organisations)
    with deps.sessions.begin() as session:
        users.add(session, name, password, role, wanted, all_organisations, actor=actor)


def set_organisations(deps: Deps, name: str, organisations: Iterable[str], all_organisations: bool,
                      actor: str) -> None:
    """Which organisations an account sees from its next page on (admins see all whatever this says)."""
    wanted = _configured(deps, organisations)
    with deps.sessions.begin() as session:
        users.set_organisations(session, name, wanted, all_organisations, actor)


def set_role(deps: Deps, name: str, role: str, actor: str) -> None:
    """Make an account staff or admin; nobody changes their own role (AccountError)."""
    if name == actor:
        raise AccountError(Problem.OWN_ACCOUNT, "you cannot change your own role")
    with deps.sessions.begin() as session:
        users.set_role(session, name, role, actor)


def reset_password(deps: Deps, name: str, password: str, actor: str) -> None:
    """Give an account a new password; its browser sessions end. A short one raises AccountError."""
    with deps.sessions.begin() as session:
        users.set_password(session, name, password, actor)


def enable(deps: Deps, name: str, actor: str) -> None:
    """Let a blocked account log in again."""
    with deps.sessions.begin() as session:
        users.enable(session, name, actor)
