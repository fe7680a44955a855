"""Organisations keep to themselves: two organisations' mail filed by the real pipeline (SQLite and
PostgreSQL), and a person of one gets a 404 on every case and message route of the other, sees
none of its cases in the queue or its counts, and changes nothing of it."""

from __future__ import annotations

import mailbox
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import deps_for, pg_database
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from triage import config, pipeline
from triage.services import queue as queues
from triage.services.poll import poll_all
from triage.store import migrate, repo, users
from triage.store.models import Acknowledgement, AuditLog, Case, Correction, Message
from triage.store.scope import Scope
from triage.training import registry
from triage.web import create_app

ROOT = Path(__file__).resolve().parent.parent
ANJA, BRAM, BEHEER = ("anja", "anja-wachtwoord-12"), ("bram", "bram-wachtwoord-12"), ("beheer", "beheer-wachtwoord-1")
STUCK_SUBJECT = "Storing in het formulier van het waterschap"
ORG_B = """
[organisations.oosterveld]
name = "Waterschap Oosterveld"
reference_prefix = "WO"
addresses = ["klachten@oosterveld.example"]
domains = ["oosterveld.example"]

[organisations.oosterveld.acknowledge]
from = "Klachten Waterschap Oosterveld <klachten@oosterveld.example>"
contact_phone = "0900 1234"

[organisations.oosterveld.mailbox]
type = "maildir"
path = "mail-b"
"""
CONFIG = """
[database]
url = "{url}"

[outbox]
pickup_directory = "outbox"

[organisations.lindendal]
name = "Gemeente Lindendal"
reference_prefix = "KL"
addresses = ["klachten@lindendal.example"]
domains = ["lindendal.example"]

[organisations.lindendal.mailbox]
type = "maildir"
path = "mail-a"
""" + ORG_B


def _mail(sender: str, to: str, subject: str, body: str, attachment: tuple[str, bytes] | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@mail.example.nl>"
    msg["Date"] = "Tue, 01 Dec 2026 09:14:00 +0100"
    msg.set_content(body)
    if attachment is not None:
        msg.add_attachment(attachment[1], maintype="application", subtype="octet-stream", filename=attachment[0])
    return msg.as_bytes()


MAIL_A = [
    _mail("Fatima el Amrani <f.elamrani@kpnmail.example>", "klachten@lindendal.example",
          "Klacht: container al drie weken niet geleegd",
          "Geachte heer/mevrouw,\n\nSinds 10 november is de groene container in de Esdoornlaan niet meer "
          "geleegd. Ik heb twee keer gebeld en er gebeurt niets. Ik dien hierbij een formele klacht in.\n\n"
          "Met vriendelijke groet,\nFatima el Amrani\n", ("foto-container.pdf", b"%PDF-1.4 container\n")),
    _mail("Joost <joost.peeters@ziggo.example>", "klachten@lindendal.example", "Parkeervergunning verlengen?",
          "Hoi, hoe kan ik mijn parkeervergunning voor de binnenstad verlengen? Groet, Joost\n"),
]
MAIL_B = [
    _mail("H. de Wit <hdewit@hetnet.example>", "klachten@oosterveld.example",
          "Gemaal maakt 's nachts veel lawaai",
          "Geacht bestuur,\n\nHet gemaal aan de Veenweg bromt al weken elke nacht tussen twee en vier uur. "
          "Wij slapen er slecht van. Ik wil hierover een klacht indienen.\n\nHoogachtend,\nH. de Wit\n",
          ("geluidsmeting.pdf", b"%PDF-1.4 geluid 58 dB\n")),
    _mail("marieke.bos@gmail.example", "klachten@oosterveld.example", "wanneer wordt de sloot geschoond",
          "goedemiddag, de sloot achter ons huis staat vol kroos. wanneer komen jullie langs? marieke\n"),
    _mail("Els Visser <els.visser@xs4all.example>", "klachten@oosterveld.example", STUCK_SUBJECT,
          "Het formulier op uw website geeft steeds een foutmelding.\n"),
    _mail("MAILER-DAEMON@mx.oosterveld.example", "klachten@oosterveld.example",
          "Undelivered Mail Returned to Sender", "This is the mail system at host mx.oosterveld.example.\n"),
]


@dataclass
class TwoOrgs:
    settings: config.Settings
    sessions: sessionmaker[Session]
    app: Flask

    def ids(self, model: type[Case] | type[Message], organisation: str) -> list[int]:
        with self.sessions() as s:
            return list(s.scalars(select(model.id).where(model.organisation == organisation).order_by(model.id)))


def _database(kind: str, folder: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'triage.db'}"
        return
    with pg_database(str(request.getfixturevalue("pg_server"))) as url:
        yield url


def _fill(folder: Path, settings: config.Settings, sessions: sessionmaker[Session],
          monkeypatch: pytest.MonkeyPatch) -> None:
    for path, raws in (("mail-a", MAIL_A), ("mail-b", MAIL_B)):
        box = mailbox.Maildir(folder / path, create=True)
        for raw in raws:
            box.add(raw)
    real_parse = pipeline.parse

    def parse(raw: bytes, **kwargs: object):  # type: ignore[no-untyped-def]
        if STUCK_SUBJECT.encode() in raw:
            raise ValueError("simulated parser bug")
        return real_parse(raw, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "parse", parse)
    models = ROOT / "models"
    for _ in range(3):  # the stuck message fails every attempt and stays in quarantine
        poll_all(deps_for(settings, sessions, registry.load(models), models))
    monkeypatch.setattr(pipeline, "parse", real_parse)
    with sessions.begin() as s:
        users.add(s, ANJA[0], ANJA[1], "staff", ["lindendal"])
        users.add(s, BRAM[0], BRAM[1], "staff", ["oosterveld"])
        users.add(s, BEHEER[0], BEHEER[1], "admin")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def orgs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoOrgs]:
    folder = tmp_path_factory.mktemp("orgs")
    for url in _database(str(request.param), folder, request):
        (folder / "triage.toml").write_text(CONFIG.format(url=url), encoding="utf-8")
        settings = config.load(folder / "triage.toml")
        engine = repo.open_engine(url)
        migrate.ensure_current(engine)
        sessions = repo.session_factory(engine)
        with pytest.MonkeyPatch.context() as monkeypatch:
            _fill(folder, settings, sessions, monkeypatch)
        yield TwoOrgs(settings, sessions, create_app(settings, sessions, testing=True))
        engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)


def _token(client: FlaskClient, path: str = "/login") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _login(app: Flask, who: tuple[str, str]) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"name": who[0], "password": who[1], "csrf_token": _token(client)})
    assert response.status_code == 302, who
    return client


def _what_b_has(orgs: TwoOrgs) -> tuple[int, list[tuple[int, str]], int, int]:
    """Corrections, acknowledgements (and their states) and log rows of Oosterveld, and its
    messages' attempts."""
    with orgs.sessions() as s:
        b_cases = select(Case.id).where(Case.organisation == "oosterveld")
        return (s.scalar(select(func.count()).select_from(Correction).where(Correction.case_id.in_(b_cases))) or 0,
                [(int(i), str(st)) for i, st in s.execute(select(Acknowledgement.id, Acknowledgement.status)
                 .where(Acknowledgement.organisation == "oosterveld").order_by(Acknowledgement.id))],
                s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.organisation == "oosterveld")) or 0,
                s.scalar(select(func.sum(Message.attempts)).where(Message.organisation == "oosterveld")) or 0)


def _urls(app: Flask, other: dict[str, list[int | str]]) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every route of the app outside /admin that takes a case id, a
    message id or an organisation, once per value of the other organisation; an attachment's part
    is "2" (the first file after the text), other arguments get 0."""
    out = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            key = next((arg for arg in other if arg in rule.arguments), None)
            if key is None or rule.rule.startswith("/admin"):
                continue
            for value in other[key]:
                values = {arg: "2" if arg == "part" else 0 for arg in rule.arguments} | {key: value}
                out += [(rule.endpoint, method, url_for(rule.endpoint, **values))
                        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})]
    return out


def test_a_person_of_one_organisation_gets_404_on_every_case_and_message_route_of_another(orgs: TwoOrgs) -> None:
    b_cases, b_messages = orgs.ids(Case, "oosterveld"), orgs.ids(Message, "oosterveld")
    assert len(b_cases) >= 2 and len(b_messages) >= 4  # two cases, the quarantined message, the bounce
    urls = _urls(orgs.app, {"case_id": list(b_cases), "message_id": list(b_messages), "organisation": ["oosterveld"]})
    endpoints = {endpoint for endpoint, _method, _url in urls}
    assert {"review.case", "review.correct", "review.corrected_ack", "review.message", "review.replay",
            "review.attachment", "review.release_held"} <= endpoints, endpoints
    before = _what_b_has(orgs)
    anja = _login(orgs.app, ANJA)
    token = _token(anja, "/queue")
    form = {"csrf_token": token, "kind": "complaint", "topic": "staff", "formality": "formal", "action": "send"}
    for endpoint, method, url in urls:
        response = anja.open(url, method=method, data=form if method == "POST" else None)
        assert response.status_code == 404, (endpoint, method, url, response.status_code)
        assert "Niet gevonden" in response.get_data(as_text=True)
    assert _what_b_has(orgs) == before  # nothing corrected, queued, logged or replayed

    bram = _login(orgs.app, BRAM)  # the same pages are there for a person of Oosterveld
    assert bram.get(f"/case/{b_cases[0]}").status_code == 200
    attachment = bram.get(f"/message/{b_messages[0]}/attachment/2")
    assert attachment.status_code == 200 and attachment.data.startswith(b"%PDF-1.4 geluid")
    assert anja.get(f"/case/{orgs.ids(Case, 'lindendal')[0]}").status_code == 200


def test_the_queue_and_its_counts_show_only_the_persons_organisations(orgs: TwoOrgs) -> None:
    with orgs.sessions() as s:
        b_refs = list(s.scalars(select(Case.reference).where(Case.organisation == "oosterveld")))
        a_refs = list(s.scalars(select(Case.reference).where(Case.organisation == "lindendal")))
    assert b_refs and a_refs
    anja = _login(orgs.app, ANJA)
    for status in ("todo", "review", "ack_failed", "quarantined", "machine", "open", "all"):
        for organisation in ("", "oosterveld"):
            page = anja.get(f"/queue?status={status}&organisation={organisation}").get_data(as_text=True)
            assert not [ref for ref in b_refs if ref in page], (status, organisation)
            assert STUCK_SUBJECT not in page and "Gemaal" not in page and "Waterschap Oosterveld" not in page
    everything = anja.get("/queue?status=all").get_data(as_text=True)
    assert all(ref in everything for ref in a_refs)

    deps = deps_for(orgs.settings, orgs.sessions)
    mine = queues.queue_page(deps, queues.Filters(status="all"), Scope(frozenset({"lindendal"})))
    assert {item.organisation for item in mine.items} == {"lindendal"}
    assert mine.total == len(a_refs) and mine.counts["status"]["all"] == len(a_refs)
    assert mine.counts["organisation"] == {"lindendal": len(a_refs)} and list(mine.organisations) == ["lindendal"]
    nothing = queues.queue_page(deps, queues.Filters(status="all"), Scope())
    assert nothing.items == [] and nothing.total == 0 and nothing.organisations == {}

    bram = _login(orgs.app, BRAM).get("/queue?status=all").get_data(as_text=True)
    assert all(ref in bram for ref in b_refs) and STUCK_SUBJECT in bram
    assert not [ref for ref in a_refs if ref in bram]
    admin = _login(orgs.app, BEHEER).get("/queue?status=all").get_data(as_text=True)
    assert all(ref in admin for ref in a_refs + b_refs)


def _post(client: FlaskClient, path: str, page: str, **form: str | list[str]) -> str:
    """POST a form with the CSRF token of `page`; the page it leads to (redirects followed)."""
    response = client.post(path, data={"csrf_token": _token(client, page), **form}, follow_redirects=True)
    return response.get_data(as_text=True)


def test_an_admin_adds_a_user_and_their_organisations_and_role_take_effect_at_once(orgs: TwoOrgs) -> None:
    a_case, b_case = orgs.ids(Case, "lindendal")[0], orgs.ids(Case, "oosterveld")[0]
    admin = _login(orgs.app, BEHEER)
    listing = admin.get("/admin/users").get_data(as_text=True)
    assert "Gemeente Lindendal" in listing and "Waterschap Oosterveld" in listing and "Alle (beheerder)" in listing
    new = {"name": "carla", "role": "staff", "organisation": ["oosterveld"], "password": "carla-wachtwoord-1"}
    differ = admin.post("/admin/users/new", data={"csrf_token": _token(admin, "/admin/users/new"), **new,
                                                  "password_again": "iets-anders-dan-dat"})
    assert differ.status_code == 400 and "niet gelijk" in differ.get_data(as_text=True)
    short = admin.post("/admin/users/new", data={"csrf_token": _token(admin, "/admin/users/new"), **new,
                                                 "password": "kort", "password_again": "kort"})
    assert short.status_code == 400 and "te kort" in short.get_data(as_text=True)
    page = _post(admin, "/admin/users/new", "/admin/users/new", **new, password_again=new["password"])
    assert "carla is toegevoegd" in page and "Waterschap Oosterveld" in page

    carla = _login(orgs.app, ("carla", "carla-wachtwoord-1"))
    assert carla.get(f"/case/{b_case}").status_code == 200 and carla.get(f"/case/{a_case}").status_code == 404
    page = _post(admin, "/admin/users/carla/organisations", "/admin/users/carla", organisation=["lindendal"])
    assert "De organisaties van carla zijn gewijzigd" in page
    assert carla.get(f"/case/{b_case}").status_code == 404 and carla.get(f"/case/{a_case}").status_code == 200
    _post(admin, "/admin/users/carla/organisations", "/admin/users/carla", all_organisations="1")
    assert carla.get(f"/case/{b_case}").status_code == 200 and carla.get(f"/case/{a_case}").status_code == 200
    _post(admin, "/admin/users/carla/organisations", "/admin/users/carla", organisation=["elders"])
    assert carla.get(f"/case/{b_case}").status_code == 200  # an unknown organisation changes nothing

    assert carla.get("/admin/users").status_code == 403
    assert "De rol van carla is gewijzigd" in _post(admin, "/admin/users/carla/role", "/admin/users/carla",
                                                    role="admin")
    assert carla.get("/admin/users").status_code == 200
    _post(admin, "/admin/users/carla/role", "/admin/users/carla", role="staff")
    assert carla.get("/admin/users").status_code == 403


def test_an_admin_blocks_after_a_confirmation_re_enables_and_resets_a_password(orgs: TwoOrgs) -> None:
    admin = _login(orgs.app, BEHEER)
    _post(admin, "/admin/users/new", "/admin/users/new", name="dirk", role="staff", organisation=["lindendal"],
          password="dirk-wachtwoord-1", password_again="dirk-wachtwoord-1")
    dirk = _login(orgs.app, ("dirk", "dirk-wachtwoord-1"))
    confirm = admin.get("/admin/users/dirk/block").get_data(as_text=True)
    assert "dirk blokkeren?" in confirm and 'id="confirm-block"' in confirm
    assert dirk.get("/queue").status_code == 200  # asking is not blocking
    assert "dirk is geblokkeerd" in _post(admin, "/admin/users/dirk/disable", "/admin/users/dirk/block")
    assert dirk.get("/queue").status_code == 302  # the session ended
    refused = orgs.app.test_client()
    assert refused.post("/login", data={"name": "dirk", "password": "dirk-wachtwoord-1",
                                        "csrf_token": _token(refused)}).status_code == 401
    assert "dirk kan weer inloggen" in _post(admin, "/admin/users/dirk/enable", "/admin/users/dirk")
    dirk = _login(orgs.app, ("dirk", "dirk-wachtwoord-1"))

    page = _post(admin, "/admin/users/dirk/password", "/admin/users/dirk", password="nieuw-wachtwoord-9",
                 password_again="nieuw-wachtwoord-9")
    assert "dirk heeft een nieuw wachtwoord" in page
    assert dirk.get("/queue").status_code == 302  # logged in with the old one: logged out
    old = orgs.app.test_client()
    assert old.post("/login", data={"name": "dirk", "password": "dirk-wachtwoord-1",
                                    "csrf_token": _token(old)}).status_code == 401
    _login(orgs.app, ("dirk", "nieuw-wachtwoord-9"))


def test_the_user_pages_refuse_in_dutch_and_are_for_admins_only(orgs: TwoOrgs) -> None:
    admin = _login(orgs.app, BEHEER)
    assert "eigen rol niet wijzigen" in _post(admin, "/admin/users/beheer/role", "/admin/users/beheer", role="staff")
    assert "eigen account niet blokkeren" in _post(admin, "/admin/users/beheer/disable", "/admin/users")
    assert admin.get("/admin/users/beheer/block").status_code == 302
    assert admin.get("/admin/users").status_code == 200  # still an admin
    assert admin.get("/admin/users/niemand").status_code == 404
    token = _token(admin, "/admin/users")
    assert admin.post("/admin/users/niemand/enable", data={"csrf_token": token}).status_code == 404
    assert admin.post("/admin/users/bram/disable").status_code == 400  # no CSRF token
    anja = _login(orgs.app, ANJA)
    token = _token(anja, "/queue")
    with orgs.app.test_request_context():
        pages = [(rule, url_for(rule.endpoint, **dict.fromkeys(rule.arguments, "bram")))
                 for rule in orgs.app.url_map.iter_rules() if rule.rule.startswith("/admin/users")]
    assert len(pages) >= 9
    for rule, url in pages:
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = anja.open(url, method=method, data={"csrf_token": token, "role": "admin",
                                                           "all_organisations": "1"})
            assert response.status_code == 403, (method, url)
    with orgs.sessions() as s:
        bram = users.named(s, "bram")
        assert bram.active and bram.role == "staff" and not bram.all_organisations
