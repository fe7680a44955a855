"""The rate limits of acknowledgements, through the real pipeline on a Maildir with SQLite and
PostgreSQL: per recipient without its +tag, per domain for machine-looking local parts, and an
hourly limit per organisation above which acknowledgements wait until a person releases them."""

from __future__ import annotations

import logging
import mailbox
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import deps_for, sessions_for, settings_for, write_config
from flask.testing import FlaskClient
from sqlalchemy import select
from test_web import _login

from triage import config
from triage.mailboxes import open_mailbox
from triage.services.poll import run_once
from triage.store import users
from triage.store.models import Acknowledgement
from triage.web import create_app


@pytest.mark.parametrize(("address", "key"), [
    ("jan.devries@example.nl", "jan.devries@example.nl"),
    ("jan.devries+klacht@example.nl", "jan.devries@example.nl"),
    ("jan.devries+klacht+2@example.nl", "jan.devries@example.nl"),
    ("Jan.DeVries+Gemeente@Example.NL", "jan.devries@example.nl"),
    ("jan1975@gmail.example", "jan1975@gmail.example"),  # a birth year is a person, not a ticket
    ("supporter.ajax@voetbal.example", "supporter.ajax@voetbal.example"),
    ("ticket-1234@vendor.example", "*@vendor.example"),
    ("ticket1234@vendor.example", "*@vendor.example"),
    ("support+1234@vendor.example", "*@vendor.example"),
    ("support@vendor.example", "*@vendor.example"),
    ("helpdesk.noord@vendor.example", "*@vendor.example"),
    ("woonzorg-servicedesk@vendor.example", "*@vendor.example"),
    ("noreply@vendor.example", "*@vendor.example"),
    ("case-20260312@vendor.example", "*@vendor.example"),
    ("8812734@vendor.example", "*@vendor.example"),
    ("+1234@vendor.example", "*@vendor.example"),
])
def test_rate_key_drops_the_tag_and_counts_machine_locals_per_domain(address: str, key: str) -> None:
    from triage.addresses import rate_key

    assert rate_key(address) == key


def _settings(tmp_path: Path, db_url: str, ack: str) -> config.Settings:
    extra = f'\n[organisations.debrug.acknowledge]\nfrom = "Klachten De Brug <klachten@debrug.example>"\n{ack}\n'
    return settings_for(write_config(tmp_path, db_url, 'type = "maildir"\npath = "mail"\nbatch_size = 20\n', extra))


def _mail(sender: str, subject: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "klachten@debrug.example", subject
    msg["Message-ID"] = f"<{abs(hash((sender, subject)))}@mail.example>"
    msg.set_content(f"Goedendag,\n\n{subject}. Kunt u hier iets aan doen?\n\nGroet")
    return msg.as_bytes()


def _poll(tmp_path: Path, settings: config.Settings, sessions, mails: list[bytes]) -> None:  # type: ignore[no-untyped-def]
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    for raw in mails:
        box.add(raw)
    org = settings.organisations["debrug"]
    with open_mailbox(org) as opened:
        run_once(deps_for(settings, sessions), org, opened)


def _statuses(sessions) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return [(r.recipient, r.status) for r in s.scalars(select(Acknowledgement).order_by(Acknowledgement.id))]


def test_tag_variants_and_a_ticket_systems_addresses_share_one_daily_limit(tmp_path: Path, db_url: str) -> None:
    settings = _settings(tmp_path, db_url, "per_recipient_per_day = 2")
    sessions = sessions_for(settings)
    _poll(tmp_path, settings, sessions, [  # first poll: the store has nothing yet, the batch counts itself
        _mail("Jan de Vries <jan.devries+gemeente@example.nl>", "Lantaarnpaal Dorpsstraat kapot"),
        _mail("ticket-501@helpdesk.vendor.example", "Uw melding 501 over de container"),
        _mail("Woonzorg Helpdesk <support+502@helpdesk.vendor.example>", "Uw melding 502 is ontvangen"),
    ])
    _poll(tmp_path, settings, sessions, [  # second poll: the store's counts, per key
        _mail("Jan de Vries <Jan.DeVries@example.nl>", "Nog een vraag over de lantaarnpaal"),
        _mail("jan.devries+nogmaals@example.nl", "Derde keer: de lantaarnpaal"),
        _mail("ticket503@helpdesk.vendor.example", "Uw melding 503 is bijgewerkt"),
        _mail("Marieke Dijkstra <marieke@helpdesk.vendor.example>", "Graag een afspraak over de Populierflat"),
    ])
    assert _statuses(sessions) == [
        ("jan.devries+gemeente@example.nl", "pending"),
        ("ticket-501@helpdesk.vendor.example", "pending"),
        ("support+502@helpdesk.vendor.example", "pending"),
        ("jan.devries@example.nl", "pending"),
        ("jan.devries+nogmaals@example.nl", "suppressed"),  # the third to jan.devries@ in 24 hours
        ("ticket503@helpdesk.vendor.example", "suppressed"),  # the third from the vendor's machines
        ("marieke@helpdesk.vendor.example", "pending"),  # a person at the same domain has her own count
    ]
    with sessions() as s:
        reasons = [r.reason for r in s.scalars(select(Acknowledgement).where(Acknowledgement.status == "suppressed"))]
    assert reasons == ["already 2 acknowledgements to jan.devries@example.nl in 24 hours",
                       "already 2 acknowledgements to *@helpdesk.vendor.example in 24 hours"]


def test_over_the_hourly_limit_acknowledgements_wait_for_a_person_who_is_warned_once(
        tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    settings = _settings(tmp_path, db_url, "per_organisation_per_hour = 3")
    sessions = sessions_for(settings)
    people = ["Anna Bakker <anna@example.nl>", "Bram Claes <bram@example.be>", "Cor Dekker <cor@example.nl>",
              "Dewi Eris <dewi@example.nl>", "Eva Fransen <eva@example.nl>", "Fleur Gerritsen <fleur@example.nl>"]
    with caplog.at_level(logging.WARNING, logger="triage.pipeline"):
        _poll(tmp_path, settings, sessions, [_mail(p, f"Klacht {n} over de stoep") for n, p in enumerate(people[:4])])
        _poll(tmp_path, settings, sessions, [_mail(p, f"Klacht {n} over de stoep") for n, p in enumerate(people[4:])])
    assert Counter(status for _, status in _statuses(sessions)) == Counter({"pending": 3, "held": 3})
    warnings = [r.getMessage() for r in caplog.records if "event=acks_held" in r.getMessage()]
    assert len(warnings) == 1 and "organisation=debrug" in warnings[0] and "limit=3" in warnings[0]
    with sessions() as s:
        held = s.scalars(select(Acknowledgement).where(Acknowledgement.status == "held")).first()
        assert held is not None and held.raw and "waits for a person" in held.reason

    with sessions.begin() as s:
        users.add(s, "coordinator", "een-lang-wachtwoord-voor-de-test", "staff", ["debrug"])
    client: FlaskClient = _login(create_app(settings, sessions, testing=True).test_client(),
                                 ("coordinator", "een-lang-wachtwoord-voor-de-test"))
    page = client.get("/queue").get_data(as_text=True)
    assert "3 ontvangstbevestigingen wachten op vrijgave" in page
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/acknowledgements/held/debrug", data={"action": "send", "csrf_token": token})
    assert response.status_code == 302
    assert Counter(status for _, status in _statuses(sessions)) == Counter({"pending": 6})
    assert "wachten op vrijgave" not in client.get("/queue").get_data(as_text=True)
