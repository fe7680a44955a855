"""Accounts of the review UI as the shells use them: logging in (throttled per client address and
per address and account name, counted atomically before the password is checked), the server-side
sessions a login opens and logout ends, the logged-in user with the organisations they may see, and
managing accounts (add, block, re-enable, a new password, role, organisations, e-mail address). Blocking an account
or giving it a new password ends its sessions; refusals are `AccountError`s with a `Problem` code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from triage.services.deps import Deps
from triage.store import repo, throttle, users, web_sessions
from triage.store.models import User
from triage.store.scope import Scope
from triage.store.users import AccountError, Problem

__all__ = ["AccountError", "Problem"]  # refusals, with a code the web UI words in Dutch

PAIR_FREE = 3  # attempts from one address for one name before each next one must wait (2, 4, 8 … s)
ADDRESS_FREE = 20  # attempts from one address, whatever the names, before the same


@dataclass(frozen=True)
class CurrentUser:
    id: int
    name: str
    role: str  # staff, coordinator, admin
    scope: Scope = Scope()  # the organisations whose cases and messages they may see and handle


@dataclass(frozen=True)
class Login:
    """A login's outcome: the user and the token of the session it opened (for the browser's
    cookie), or no user (a wrong name or password, or `wait` > 0: seconds before this address may
    try again; the password was not checked)."""

    user: CurrentUser | None
    wait: float = 0.0
    token: str = ""


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    active: bool
    last_login_at: datetime | None
    failed_logins: int
    organisations: tuple[str, ...] = ()  # their memberships
    all_organisations: bool = False  # sees every organisation, also later ones (admins always do)
    email: str | None = None  # where their daily digest goes


def _keys(address: str, name: str) -> tuple[tuple[str, int], tuple[str, int]]:
    """The throttle's keys: this address guessing this name, and this address overall. The
    account's owner elsewhere has other keys: nobody can keep an account locked."""
    return (throttle.key("pair", address, name.strip().casefold()), PAIR_FREE), (throttle.key("address", address),
                                                                                 ADDRESS_FREE)


def _claim(deps: Deps, address: str, name: str, now: datetime) -> float:
    """Count this attempt on both keys (committed before the password is checked), or the wait."""
    (pair, pair_free), (addr, addr_free) = _keys(address, name)
    with deps.sessions.begin() as session:
        wait = throttle.claim(session, pair, pair_free, now)
        if wait:
            return wait
        wait = throttle.claim(session, addr, addr_free, now)
        if wait:
            throttle.release(session, pair, pair_free, now)
        return wait


def _checked(deps: Deps, name: str, password: str) -> int | None:
    """The id of the active account whose password this is; the same work for any name."""
    with deps.sessions() as session:
        user = users.active_named(session, name)
        ok = users.password_matches(user.password_hash if user else None, password)
        return user.id if user is not None and ok else None


def login(deps: Deps, name: str, password: str, address: str) -> Login:
    """Check a login from a client address; a success opens a session, a failure is counted."""
    now = deps.clock()
    wait = _claim(deps, address, name, now)
    if wait:
        return Login(None, wait)
    user_id = _checked(deps, name, password)
    with deps.sessions.begin() as session:
        user = session.get(User, user_id) if user_id is not None else users.active_named(session, name)
        if user_id is None or user is None:
            # An unknown name is logged without the name (people type passwords into it).
            failures = users.record_failure(session, user.id, now) if user is not None else 0
            repo.audit(session, "user.login_failed", now, actor=user.name if user else "-", failures=failures,
                       address=address, known=user is not None)
            return Login(None)
        (pair, _), (addr, addr_free) = _keys(address, name)
        throttle.forget(session, pair)
        throttle.release(session, addr, addr_free, now)
        throttle.purge(session, now)
        users.record_login(session, user, password, now)
        token = web_sessions.start(session, user.id, now, timedelta(hours=deps.settings.web.session_hours))
        repo.audit(session, "user.login", now, actor=user.name, address=address)
        return Login(_current(user), token=token)


def current_user(deps: Deps, token: str) -> CurrentUser | None:
    """The user of a browser's session while it lives (see store.web_sessions) and the account is active."""
    if not token:
        return None
    with deps.sessions.begin() as session:
        idle = timedelta(minutes=deps.settings.web.session_idle_minutes)
        user = web_sessions.user_of(session, token, deps.clock(), idle)
        return _current(user) if user is not None else None


def logout(deps: Deps, token: str) -> None:
    """End this session: its cookie, copied or not, no longer logs anyone in."""
    if token:
        with deps.sessions.begin() as session:
            web_sessions.revoke(session, token, deps.clock())


def _current(user: User) -> CurrentUser:
    return CurrentUser(user.id, user.name, user.role, users.scope_of(user))


def _account(u: User) -> Account:
    return Account(u.name, u.role, u.active, u.last_login_at, u.failed_logins,
                   tuple(m.organisation for m in u.memberships), u.all_organisations, u.email)


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


def block_user(deps: Deps, name: str, actor: str) -> None:
    """Stop an account from logging in and end its sessions (its corrections stay). Nobody blocks
    their own account, and an unknown name is refused (AccountError)."""
    if name == actor:
        raise AccountError(Problem.OWN_ACCOUNT, "you cannot block your own account")
    with deps.sessions.begin() as session:
        users.disable(session, name, actor=actor, now=deps.clock())


def set_password(deps: Deps, name: str, password: str, actor: str) -> None:
    """Give an account a new password and end all its sessions (its failure count starts again); a
    short password or an unknown name raises AccountError."""
    with deps.sessions.begin() as session:
        users.set_password(session, name, password, actor=actor, now=deps.clock())


def _configured(deps: Deps, organisations: Iterable[str]) -> list[str]:
    """The organisation ids, each one configured (else AccountError)."""
    wanted = sorted(set(organisations))
    unknown = [org for org in wanted if org not in deps.settings.organisations]
    if unknown:
        known = ", ".join(deps.settings.organisations) or "none"
        raise AccountError(Problem.UNKNOWN_ORGANISATION, f"unknown organisation {unknown[0]!r}: configured are "
                           f"{known}", organisation=unknown[0])
    return wanted


def add(deps: Deps, name: str, password: str, role: str, organisations: Iterable[str] = (),  # noqa: PLR0913 (the form)
        all_organisations: bool = False, actor: str = "cli", email: str | None = None) -> Account:
    """A new account that sees `organisations` (configured ids) or all of them, with an optional
    e-mail address; a bad name, a short password, a name in use, an unknown organisation or an
    address that is not one mailbox raises AccountError."""
    wanted = _configured(deps, organisations)
    with deps.sessions.begin() as session:
        return _account(users.add(session, name, password, role, wanted, all_organisations, actor=actor,
                                  email=email))


def email_address(value: str | None) -> str | None:
    """An e-mail address as it would be stored (lower case, one mailbox), None for none; anything
    else raises AccountError (the CLI checks it before asking for a password)."""
    return users.mailbox_address(value)


def set_email(deps: Deps, name: str, email: str | None, actor: str) -> str | None:
    """Give an account an e-mail address for its digest (None or empty: none); returns the address
    as stored. An address that is not one mailbox, or an unknown name, raises AccountError."""
    with deps.sessions.begin() as session:
        return users.set_email(session, name, email, actor).email


def set_organisations(deps: Deps, name: str, organisations: Iterable[str], all_organisations: bool,
                      actor: str) -> None:
    """Which organisations an account sees from its next page on (admins see all whatever this says)."""
    wanted = _configured(deps, organisations)
    with deps.sessions.begin() as session:
        users.set_organisations(session, name, wanted, all_organisations, actor)


def set_role(deps: Deps, name: str, role: str, actor: str) -> None:
    """Make an account staff, coordinator or admin; nobody changes their own role (AccountError)."""
    if name == actor:
        raise AccountError(Problem.OWN_ACCOUNT, "you cannot change your own role")
    with deps.sessions.begin() as session:
        users.set_role(session, name, role, actor)


def enable(deps: Deps, name: str, actor: str) -> None:
    """Let a blocked account log in again."""
    with deps.sessions.begin() as session:
        users.enable(session, name, actor)
