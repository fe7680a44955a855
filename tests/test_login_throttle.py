"""Login throttling against one real database (SQLite and PostgreSQL): parallel guesses are counted
before any password is checked, per client address and per address and name; unknown names get
the same answers as known ones; and the account's owner still logs in from elsewhere."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import sessions_for, settings_for, write_config
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from triage.services import accounts
from triage.store import users
from triage.store.models import AuditLog
from triage.web import create_app

OWNER = ("j.devries", "Zomer-in-Zwolle-2026")
ATTACKER, OFFICE = "203.0.113.66", "198.51.100.20"
GUESSES = ["welkom01", "Wachtwoord1", "zomer2026", "Zwolle2026!", "devries123", "qwerty123", "Welkom2026",
           "klachten1", "jdevries", "Amsterdam1", "Voorjaar2026", "p@ssw0rd", "Geheim123", "letmein99",
           "Zomer-in-Zwolle-2025", "winter2026", "12345678", "Koffie!2026", "Fiets2026", "gemeente1",
           "Januari2026", "Herfst-2026", "wachtwoord", "Welkom!"]


@pytest.fixture
def app(tmp_path: Path, db_url: str) -> Flask:
    """The review UI on a fresh database with one account, on a clock that stands still: a wait,
    once imposed, does not run out while the test runs."""
    settings = settings_for(write_config(tmp_path, db_url, 'type = "maildir"\npath = "mail"\n'))
    sessions = sessions_for(settings)
    with sessions.begin() as s:
        users.add(s, OWNER[0], OWNER[1], "staff")
    now = datetime.now(UTC)
    return create_app(settings, sessions, testing=True, clock=lambda: now)


def _client(app: Flask, address: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert match
    return client, match.group(1)


def _attempt(app: Flask, address: str, name: str, password: str) -> int:
    client, token = _client(app, address)
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token}).status_code


def _checked_failures(app: Flask) -> int:
    deps = app.extensions["triage"]["deps"]
    with deps.sessions() as s:
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


def test_one_address_trying_many_names_is_slowed_down_too(app: Flask) -> None:
    names = [f"medewerker{i:02}" for i in range(accounts.ADDRESS_FREE + 3)]
    statuses = [_attempt(app, ATTACKER, name, "Welkom2026") for name in names]
    assert statuses == [401] * accounts.ADDRESS_FREE + [429] * 3
    assert _attempt(app, OFFICE, *OWNER) == 302
