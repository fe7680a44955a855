"""Sessions and login throttling of the review UI against one real database (SQLite and
PostgreSQL): server-side sessions that end at logout, on a new password, when an account is
blocked (also on the admin's user pages; re-enabling does not revive them), after an idle hour and
after eight hours; a session's user carries the organisations they may see; Secure cookies under
https; parallel guesses counted before any password is checked, per client address and per address
and name, with the same answers for unknown names, while the account's owner still logs in from
elsewhere."""

from __future__ import annotations

import re
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import sessions_for, settings_for, write_config
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from triage.config import Settings, Web
from triage.services import accounts
from triage.store import users
from triage.store.models import AuditLog, User
from triage.store.scope import EVERYTHING, Scope
from triage.web import create_app

OWNER, ADMIN = ("j.devries", "Zomer-in-Zwolle-2026"), ("beheer", "Beheer-Lindendal-2026")
ATTACKER, OFFICE = "203.0.113.66", "198.51.100.20"
GUESSES = ["welkom01", "Wachtwoord1", "zomer2026", "Zwolle2026!", "devries123", "qwerty123", "Welkom2026",
           "klachten1", "jdevries", "Amsterdam1", "Voorjaar2026", "p@ssw0rd", "Geheim123", "letmein99",
           "Zomer-in-Zwolle-2025", "winter2026", "12345678", "Koffie!2026", "Fiets2026", "gemeente1",
           "Januari2026", "Herfst-2026", "wachtwoord", "Welkom!"]


class Clock:
    """A clock that stands still (a wait, once imposed, does not run out during a test) until
    the test moves it."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return settings_for(write_config(tmp_path, db_url, 'type = "maildir"\npath = "mail"\n'))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(settings: Settings, clock: Clock) -> Flask:
    """The review UI on a fresh database with a staff member and an administrator."""
    sessions = sessions_for(settings)
    with sessions.begin() as s:
        users.add(s, OWNER[0], OWNER[1], "staff")
        users.add(s, ADMIN[0], ADMIN[1], "admin")
    return create_app(settings, sessions, testing=True, clock=clock)


def _client(app: Flask, address: str = OFFICE) -> tuple[FlaskClient, str]:
    """A browser at this address with the login page's CSRF token."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert match
    return client, match.group(1)


def _attempt(app: Flask, address: str, name: str, password: str) -> int:
    client, token = _client(app, address)
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token}).status_code


def _cookie(app: Flask, who: tuple[str, str]) -> str:
    """Log in from the office; the session cookie it gets."""
    client, token = _client(app)
    assert client.post("/login", data={"name": who[0], "password": who[1], "csrf_token": token}).status_code == 302
    cookie = client.get_cookie("triage_session")
    assert cookie is not None
    return cookie.value


def _with(app: Flask, cookie: str) -> FlaskClient:
    """A browser holding (a copy of) this session cookie, whatever the site answered before."""
    client = app.test_client()
    client.set_cookie("triage_session", cookie)
    return client


def _works(app: Flask, cookie: str) -> bool:
    status = _with(app, cookie).get("/queue").status_code
    assert status in (200, 302)
    return status == 200


def _sessions(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["triage"]["deps"].sessions


def test_the_session_cookie_holds_a_token_and_nothing_of_the_password(app: Flask) -> None:
    cookie = _cookie(app, OWNER)
    data = app.session_interface.get_signing_serializer(app).loads(cookie)  # type: ignore[attr-defined]
    with _sessions(app)() as s:
        stored = s.scalar(select(User.password_hash).where(User.name == OWNER[0]))
    assert stored and not any(stored[i:i + 8] in cookie + str(data) for i in range(0, len(stored) - 8, 4))
    assert set(data) <= {"sid", "csrf_token", "_permanent"} and len(data["sid"]) >= 40


def test_a_new_password_ends_every_session_of_the_account(app: Flask) -> None:
    phone, desk = _cookie(app, OWNER), _cookie(app, OWNER)
    other = _cookie(app, ADMIN)
    accounts.set_password(app.extensions["triage"]["deps"], OWNER[0], "Herfst-in-Hengelo-2026", actor="cli")
    assert not _works(app, phone) and not _works(app, desk)
    assert _works(app, other)  # nobody else's
    assert _cookie(app, (OWNER[0], "Herfst-in-Hengelo-2026"))  # the new password works


def test_blocking_an_account_ends_its_sessions_for_good(app: Flask) -> None:
    stolen = _cookie(app, OWNER)
    admin = _with(app, _cookie(app, ADMIN))
    page = admin.get("/admin/users").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token and admin.post(f"/admin/users/{OWNER[0]}/disable",
                                data={"csrf_token": token.group(1)}).status_code == 302
    assert not _works(app, stolen)
    with _sessions(app).begin() as s:  # re-enabled later: the old sessions stay ended
        s.execute(update(User).where(User.name == OWNER[0]).values(active=True))
    assert not _works(app, stolen)


def test_a_session_ends_after_an_idle_hour_and_after_eight_hours_in_any_case(app: Flask, clock: Clock) -> None:
    idle, busy = _cookie(app, OWNER), _cookie(app, OWNER)
    clock.advance(minutes=59)
    assert _works(app, idle) and _works(app, busy)
    clock.advance(minutes=30)
    assert _works(app, busy)
    clock.advance(minutes=30, seconds=1)
    assert not _works(app, idle)  # an hour and a second without a request: ended
    assert _works(app, busy)
    for _ in range(12):  # a request every half hour keeps a session alive ...
        clock.advance(minutes=30)
        assert _works(app, busy)
    clock.advance(seconds=59)  # ... for eight hours after the login at most
    assert not _works(app, busy)


@pytest.mark.parametrize(("public_url", "secure"), [("https://klachten.debrug.example", True),
                                                    ("http://192.168.1.20:8080", False)])
def test_cookies_are_secure_when_the_public_url_is_https(settings: Settings, clock: Clock, public_url: str,
                                                         secure: bool) -> None:
    with_url = settings.model_copy(update={"web": Web(public_url=public_url)})
    sessions = sessions_for(with_url)
    with sessions.begin() as s:
        users.add(s, OWNER[0], OWNER[1], "staff")
    client, token = _client(create_app(with_url, sessions, testing=True, clock=clock))
    response = client.post("/login", data={"name": OWNER[0], "password": OWNER[1], "csrf_token": token})
    assert response.status_code == 302 and ("; Secure" in response.headers["Set-Cookie"]) is secure


def _checked_failures(app: Flask) -> int:
    with _sessions(app)() as s:
        return int(s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "user.login_failed"))
                   or 0)


def test_parallel_guesses_are_counted_before_they_are_checked(app: Flask) -> None:
    clients = [_client(app, ATTACKER) for _ in GUESSES]
    start, statuses = threading.Barrier(len(GUESSES)), [0] * len(GUESSES)

    def guess(i: int) -> None:
        client, token = clients[i]
        start.wait()
        statuses[i] = client.post("/login", data={"name": OWNER[0], "password": GUESSES[i],
                                                  "csrf_token": token}).status_code

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(len(GUESSES))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(set(statuses)) == [401, 429]
    assert statuses.count(401) <= accounts.PAIR_FREE  # at most three passwords were checked
    assert _checked_failures(app) == statuses.count(401)
    assert _attempt(app, ATTACKER, *OWNER) == 429  # the guessing address waits, even with the right password
    assert _attempt(app, OFFICE, *OWNER) == 302  # the owner, elsewhere, is not locked out


def test_an_unknown_name_gets_the_same_answers_as_a_known_one(app: Flask) -> None:
    known = [_attempt(app, ATTACKER, OWNER[0], guess) for guess in GUESSES[:5]]
    unknown = [_attempt(app, "203.0.113.67", "p.jansen", guess) for guess in GUESSES[:5]]
    assert known == unknown == [401, 401, 401, 429, 429]


def test_an_unknown_name_costs_as_much_as_a_wrong_password(real_password_hashing: None, app: Flask) -> None:
    """A dummy argon2 hash is checked for unknown names: no quick 'no such user'. Interleaved,
    from fresh addresses (nothing throttled), medians compared loosely enough for a busy machine."""
    known: list[float] = []
    unknown: list[float] = []
    for i in range(5):
        for k, (name, times) in enumerate(((OWNER[0], known), ("p.jansen", unknown))):
            client, token = _client(app, f"192.0.2.{10 * i + k}")
            started = time.perf_counter()
            assert client.post("/login", data={"name": name, "password": GUESSES[i],
                                               "csrf_token": token}).status_code == 401
            times.append(time.perf_counter() - started)
    assert statistics.median(unknown) > 0.5 * statistics.median(known)


def test_one_address_trying_many_names_is_slowed_down_too(app: Flask) -> None:
    names = [f"medewerker{i:02}" for i in range(accounts.ADDRESS_FREE + 3)]
    statuses = [_attempt(app, ATTACKER, name, "Welkom2026") for name in names]
    assert statuses == [401] * accounts.ADDRESS_FREE + [429] * 3
    assert _attempt(app, OFFICE, *OWNER) == 302


def _sid(app: Flask, cookie: str) -> str:
    return str(app.session_interface.get_signing_serializer(app).loads(cookie)["sid"])  # type: ignore[attr-defined]


def test_a_session_carries_the_organisations_its_user_may_see(app: Flask) -> None:
    deps = app.extensions["triage"]["deps"]
    accounts.set_organisations(deps, OWNER[0], ["debrug"], False, actor="cli")
    staff, admin = accounts.current_user(deps, _sid(app, _cookie(app, OWNER))), \
        accounts.current_user(deps, _sid(app, _cookie(app, ADMIN)))
    assert staff is not None and staff.scope == Scope(frozenset({"debrug"}))
    assert admin is not None and admin.scope == EVERYTHING
    login = accounts.login(deps, OWNER[0], OWNER[1], OFFICE)
    assert login.user is not None and login.user.scope == staff.scope


def test_the_admin_user_pages_end_sessions_and_refuse_in_dutch(app: Flask) -> None:
    """A new password set on the user page ends the account's sessions (a refused one ends none);
    blocking there ends them too, and re-enabling does not bring them back."""
    stolen = _cookie(app, OWNER)
    admin = _with(app, _cookie(app, ADMIN))
    page = admin.get(f"/admin/users/{OWNER[0]}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token

    def post(action: str, **form: str) -> str:
        response = admin.post(f"/admin/users/{OWNER[0]}/{action}", data={"csrf_token": token.group(1), **form},
                              follow_redirects=True)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    assert "te kort" in post("password", password="kort", password_again="kort")
    assert _works(app, stolen)  # refused: nothing ended
    spring = "Lente-in-Leiden-2026"
    assert "nieuw wachtwoord" in post("password", password=spring, password_again=spring)
    assert not _works(app, stolen)
    fresh = _cookie(app, (OWNER[0], spring))
    assert "is geblokkeerd" in post("disable") and not _works(app, fresh)
    assert "kan weer inloggen" in post("enable")
    assert not _works(app, fresh) and not _works(app, stolen)
    assert _cookie(app, (OWNER[0], spring))


def test_blocking_and_new_passwords_are_refused_with_a_problem_code(app: Flask) -> None:
    deps = app.extensions["triage"]["deps"]
    refusals = [(lambda: accounts.set_password(deps, OWNER[0], "kort", actor="cli"), accounts.Problem.SHORT_PASSWORD),
                (lambda: accounts.set_password(deps, "niemand", "Lang-genoeg-2026", actor="cli"),
                 accounts.Problem.UNKNOWN_USER),
                (lambda: accounts.block_user(deps, "niemand", actor=ADMIN[0]), accounts.Problem.UNKNOWN_USER),
                (lambda: accounts.block_user(deps, ADMIN[0], actor=ADMIN[0]), accounts.Problem.OWN_ACCOUNT)]
    for refused, problem in refusals:
        with pytest.raises(accounts.AccountError) as caught:
            refused()
        assert caught.value.problem == problem
    assert _works(app, _cookie(app, OWNER)) and _works(app, _cookie(app, ADMIN))  # nothing was changed
