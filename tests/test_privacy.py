"""Access requests and erasure (issue 15) on SQLite and PostgreSQL: mail filed by the real pipeline
from a Maildir (two cases and an auto-reply of Joke, a case of Piet), exported to a ZIP and erased.
Every trace of the address leaves the tables (and on SQLite the database file), the anonymous
record stays; the commands' prompts and exit codes; the access log as the review UI writes it and
as only an administrator sees it; and an address with 1 000 cases, exported in a few queries."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import mailbox
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import deps_for, sessions_for, settings_for, write_config
from flask.testing import FlaskClient
from mails import plain
from sqlalchemy import event, insert, select, update
from test_web import _login, _token

from triage.cli import main
from triage.services import accounts, privacy
from triage.services.deps import Deps
from triage.services.poll import poll_all
from triage.store.models import AccessLog, Acknowledgement, AuditLog, Case, Message, RawBlob
from triage.web import create_app

JOKE, PIET = "Joke Jansen <Joke.Jansen@example.net>", "Piet Pieters <piet@example.net>"
ADDRESS, SUBJECT = "joke.jansen@example.net", "Lekkage in de badkamer van Joke"
ADMIN, STAFF = ("beheerder", "beheer-wachtwoord-1"), ("medewerker", "medewerker-wachtwoord-1")


def _with_file(n: int, sender: str, subject: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "klachten@debrug.example", subject
    msg["Date"] = "Mon, 02 Nov 2026 10:00:00 +0000"
    msg["Message-ID"] = f"<bijlage-{n}@example.net>"
    msg.set_content("Hierbij de foto van de lekkage. De kraan lekt al weken en niemand komt kijken.\n")
    msg.add_attachment(b"%PDF-1.4 foto\n", maintype="application", subtype="pdf", filename="foto.pdf")
    return msg.as_bytes()


def _auto_reply(sender: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "klachten@debrug.example", "Afwezig: uw bericht"
    msg["Auto-Submitted"] = "auto-replied"
    msg["Message-ID"] = "<afwezig-1@example.net>"
    msg.set_content("Ik ben afwezig tot maandag.\n")
    return msg.as_bytes()


@dataclass
class Office:
    config: Path
    deps: Deps
    url: str

    def run(self, *args: str, input: str | None = None) -> Result:  # noqa: A002 (click's name)
        return CliRunner().invoke(main, [*args, "--config", str(self.config)], input=input)

    def case(self, reference: str) -> Case:
        with self.deps.sessions() as s:
            found = s.scalars(select(Case).where(Case.reference == reference)).one()
            s.expunge(found)
            return found

    def close(self, reference: str) -> None:
        with self.deps.sessions.begin() as s:
            s.execute(update(Case).where(Case.reference == reference)
                      .values(status="answered", ended_on=date(2026, 11, 20), answered_on=date(2026, 11, 20)))


@pytest.fixture
def office(tmp_path: Path, db_url: str) -> Office:
    """KL-2026-000001 (with the attachment, and Joke's reply) and -000002 of Joke, -000003 of Piet,
    and Joke's auto-reply filed as ignored mail; acknowledgements waiting in the outbox."""
    path = write_config(tmp_path, db_url, f'type = "maildir"\npath = "{tmp_path / "mail"}"\n')
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    box.add(_with_file(1, JOKE, SUBJECT))
    box.add(plain(2, sender=JOKE, subject="Nog een klacht over de portiek"))
    box.add(plain(3, sender=PIET, subject="Klacht van Piet over het trappenhuis"))
    box.add(_auto_reply(JOKE))
    settings = settings_for(path)
    deps = deps_for(settings, sessions_for(settings))
    poll_all(deps)
    box.add(plain(4, sender=JOKE, subject=f"RE: KL-2026-000001 {SUBJECT}", body="Er is nog steeds niemand geweest."))
    poll_all(deps)
    accounts.add(deps, ADMIN[0], ADMIN[1], "admin")
    accounts.add(deps, STAFF[0], STAFF[1], "staff", ["debrug"])
    return Office(path, deps, db_url)


def _raws(office: Office) -> tuple[dict[str, bytes], list[bytes]]:
    """Joke's stored messages (sha256 -> bytes) and her letters' bytes."""
    with office.deps.sessions() as s:
        shas = s.scalars(select(Message.sha256).where(Message.sender.ilike(ADDRESS))).all()
        blobs = {b.sha256: b.data for b in s.scalars(select(RawBlob).where(RawBlob.sha256.in_(shas)))}
        letters = s.scalars(select(Acknowledgement.raw).where(Acknowledgement.recipient.ilike(ADDRESS))).all()
        return blobs, [r for r in letters if r]


def test_the_export_holds_every_case_message_and_letter_with_an_index(office: Office, tmp_path: Path) -> None:
    blobs, letters = _raws(office)
    assert len(blobs) == 4 and len(letters) == 2  # two cases, a reply and the auto-reply; two acknowledgements
    made = privacy.access_export(office.deps, ADDRESS.upper(), "beheerder", out=tmp_path / "joke.zip")
    assert (made.cases, made.messages, made.letters) == (2, 4, 2)
    with zipfile.ZipFile(tmp_path / "joke.zip") as archive:
        names = archive.namelist()
        index, text = archive.read("index.html").decode(), archive.read("index.txt").decode()
        emls = {hashlib.sha256(archive.read(n)).hexdigest(): archive.read(n) for n in names if n.endswith(".eml")
                and "/messages/" in n}
        sent = sorted(archive.read(n) for n in names if "/letters/" in n)
        first = json.loads(archive.read("cases/KL-2026-000001/case.json"))
        everything = b"".join(archive.read(n) for n in names)
    for ref in ("KL-2026-000001", "KL-2026-000002"):
        assert ref in index and ref in text and f"cases/{ref}/case.txt" in names
    assert emls == blobs and sent == sorted(letters)  # the bytes as stored, every one
    assert first["subject"] == SUBJECT and len(first["messages"]) == 2 and first["history"]
    assert "LEESMIJ.txt" in names and any(n.startswith("other/messages/") for n in names)
    assert b"Piet" not in everything and b"KL-2026-000003" not in everything
    assert "<script" not in index.replace("<style>", "")
    with office.deps.sessions() as s:
        logged = s.scalars(select(AccessLog).where(AccessLog.what == "export")).all()
        assert {r.case_id for r in logged if r.case_id} == {office.case("KL-2026-000001").id,
                                                             office.case("KL-2026-000002").id}
        assert {r.user for r in logged} == {"beheerder"}


def test_an_unknown_address_is_nothing_found_and_writes_nothing(office: Office, tmp_path: Path) -> None:
    made = privacy.access_export(office.deps, "niemand@example.org", "cli", out=tmp_path / "x.zip")
    assert made.path is None and not (tmp_path / "x.zip").exists()
    assert not list(tmp_path.glob(".privacy-*"))
    assert privacy.erase(office.deps, "niemand@example.org", "verzoek", "cli").done is False
    result = office.run("privacy", "erase", "niemand@example.org", "--reason", "verzoek", "--yes")
    assert result.exit_code == 0 and result.stdout == "nothing found about niemand@example.org: nothing erased\n"
    result = office.run("privacy", "export", "niemand@example.org", "--out", str(tmp_path / "x.zip"))
    assert result.exit_code == 0 and "nothing found about niemand@example.org: nothing exported" in result.stdout


def test_an_erasure_refuses_open_cases_unless_forced(office: Office) -> None:
    with pytest.raises(privacy.OpenCases) as refused:
        privacy.erase(office.deps, ADDRESS, "verzoek van de klager", "beheerder")
    assert [c.reference for c in refused.value.cases] == ["KL-2026-000001", "KL-2026-000002"]
    assert office.case("KL-2026-000001").complainant == ADDRESS  # nothing changed
    with pytest.raises(privacy.NoReason):
        privacy.erase(office.deps, ADDRESS, "  ", "beheerder", force=True)
    office.close("KL-2026-000002")
    assert [c.reference for c in privacy.plan(office.deps, ADDRESS).open_cases] == ["KL-2026-000001"]
    done = privacy.erase(office.deps, ADDRESS, "verzoek", "beheerder", force=True)
    assert done.done and done.cases == 2 and done.forced
    forced = office.case("KL-2026-000001")  # nobody can handle it any more: it ends as withdrawn, today
    assert (forced.status, forced.ended_on, forced.complainant) == ("withdrawn", office.deps.clock().date(), None)
    assert office.case("KL-2026-000002").status != "withdrawn"  # closed before: its ending stays


def _columns(s: Any) -> list[str]:
    """Every text of the tables that hold personal data, as one lower-case list."""
    out: list[str] = []
    for c in s.scalars(select(Case)):
        out += [str(v) for v in (c.complainant, c.complainant_name, c.subject, c.hearing_note, c.draft,
                                 c.review_reason)]
    for m in s.scalars(select(Message)):
        out += [str(v) for v in (m.sender, m.complainant, m.subject, m.text, m.details, m.reason, m.message_id)]
    for a in s.scalars(select(Acknowledgement)):
        out += [str(v) for v in (a.recipient, a.subject, a.reason, (a.raw or b"").decode("utf-8", "replace"))]
    for e in s.scalars(select(AuditLog)):
        out.append(json.dumps(e.detail))
    out += [b.data.decode("utf-8", "replace") for b in s.scalars(select(RawBlob))]
    return [v.lower() for v in out]


def test_an_erasure_removes_every_trace_and_keeps_the_anonymous_record(office: Office) -> None:
    office.close("KL-2026-000001")
    office.close("KL-2026-000002")
    with office.deps.sessions.begin() as s:  # a coordinator's digest that quoted the case
        s.add(Acknowledgement(organisation="debrug", kind="digest", status="sent",
                              recipient="coordinator@debrug.example", message_id="<digest-1@debrug.example>",
                              created_at=datetime(2026, 11, 3, tzinfo=UTC),
                              raw=f"Subject: Overzicht\r\n\r\nKL-2026-000001 {SUBJECT}\r\n".encode()))
    with office.deps.sessions() as s:
        assert any(ADDRESS in v for v in _columns(s)) and any("lekkage" in v for v in _columns(s))
    done = privacy.erase(office.deps, ADDRESS, f"Verzoek van {ADDRESS.upper()} per brief", "beheerder")
    assert (done.cases, done.messages, done.letters, done.forced) == (2, 4, 2, False)
    with office.deps.sessions() as s:
        texts = _columns(s)
        assert not [v for v in texts if ADDRESS in v or "lekkage" in v or "joke" in v]
        assert any("piet@example.net" in v for v in texts)  # another person's case stays whole
        kept = s.scalars(select(Case).where(Case.reference == "KL-2026-000001")).one()
        assert kept.anonymised_by == "erasure" and kept.status == "answered" and kept.ended_on == date(2026, 11, 20)
        assert kept.received_at is not None and kept.term and kept.subject == "" and kept.complainant is None
        row = s.scalars(select(AuditLog).where(AuditLog.action == "privacy.erased")).one()
        assert row.actor == "beheerder" and row.detail["forced"] is False and row.detail["cases"] == 2
        assert row.detail["reason"] == "Verzoek van [adres] per brief"
    assert privacy.plan(office.deps, ADDRESS).empty  # a second erasure finds nothing


def test_on_sqlite_the_address_is_gone_from_the_database_file(tmp_path: Path, sqlite_url: str) -> None:
    office = _sqlite_office(tmp_path, sqlite_url)
    db = Path(sqlite_url.removeprefix("sqlite:///"))
    with office.deps.sessions() as s:
        assert s.connection().exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"

    def file_bytes() -> bytes:
        return b"".join(p.read_bytes() for p in (db, db.with_name(db.name + "-wal")) if p.exists())

    assert ADDRESS.encode() in file_bytes().lower() and SUBJECT.encode() in file_bytes()
    office.close("KL-2026-000001")
    done = privacy.erase(office.deps, ADDRESS, "verzoek", "cli", force=True)
    assert done.compacted
    after = file_bytes()
    assert ADDRESS.encode() not in after.lower() and SUBJECT.encode() not in after and b"Lekkage" not in after
    assert b"piet@example.net" in after


def _sqlite_office(tmp_path: Path, url: str) -> Office:
    path = write_config(tmp_path, url, f'type = "maildir"\npath = "{tmp_path / "mail"}"\n')
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    box.add(_with_file(1, JOKE, SUBJECT))
    box.add(plain(3, sender=PIET, subject="Klacht van Piet over het trappenhuis"))
    settings = settings_for(path)
    deps = deps_for(settings, sessions_for(settings))
    poll_all(deps)
    return Office(path, deps, url)


def test_the_erase_command_asks_refuses_and_erases(office: Office) -> None:
    result = office.run("privacy", "erase", ADDRESS)
    assert result.exit_code == 2 and "--reason" in result.stderr and len(result.stderr.splitlines()) == 1
    result = office.run("privacy", "erase", "geen-adres", "--reason", "x")
    assert result.exit_code == 2 and "not an e-mail address" in result.stderr
    result = office.run("privacy", "erase", ADDRESS, "--reason", "verzoek")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "KL-2026-000001" in result.stderr and "KL-2026-000002" in result.stderr
    result = office.run("privacy", "erase", ADDRESS, "--reason", "verzoek", "--force", input="n\n")
    assert result.exit_code == 1 and "KL-2026-000001" in result.stdout and "erase all of this" in result.stdout
    assert office.case("KL-2026-000001").complainant == ADDRESS  # "no" changed nothing
    result = office.run("privacy", "erase", ADDRESS, "--reason", "verzoek", "--force", input="y\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (f"erased {ADDRESS}: 2 cases anonymised, 4 messages and 2 letters "
                                              "removed (2 of them open, forced)")
    assert office.case("KL-2026-000001").complainant is None


def test_the_export_command_and_its_bad_input(office: Office, tmp_path: Path) -> None:
    result = office.run("privacy", "export", ADDRESS, "--out", str(tmp_path / "joke.zip"))
    assert result.exit_code == 0 and result.stdout == f"wrote {tmp_path / 'joke.zip'}: 2 cases, 4 messages, 2 letters\n"
    for out in (tmp_path / "nergens" / "joke.zip", tmp_path):
        result = office.run("privacy", "export", ADDRESS, "--out", str(out))
        assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1, result.output
    result = office.run("privacy", "export", ADDRESS, "--out", str(tmp_path / "y.zip"), "--organisation", "elders")
    assert result.exit_code == 2 and "no organisation 'elders'" in result.stderr
    result = office.run("privacy", "erase", "--yes", ADDRESS, "--reason", "verzoek", "--force")
    assert result.exit_code == 0 and "about joke.jansen@example.net:" in result.stdout  # --yes shows the plan too


@pytest.fixture
def web(office: Office) -> Iterator[tuple[FlaskClient, FlaskClient]]:
    app = create_app(office.deps.settings, office.deps.sessions, testing=True)
    yield _login(app.test_client(), ADMIN), _login(app.test_client(), STAFF)


def test_opening_a_case_and_downloading_an_attachment_is_logged_and_only_admins_see_it(
        office: Office, web: tuple[FlaskClient, FlaskClient]) -> None:
    admin, staff = web
    case = office.case("KL-2026-000001")
    with office.deps.sessions() as s:
        msg_id = s.scalars(select(Message.id).where(Message.case_id == case.id).order_by(Message.id)).first()
    assert staff.get(f"/case/{case.id}").status_code == 200
    download = staff.get(f"/message/{msg_id}/attachment/2")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 foto\n"
    with office.deps.sessions() as s:
        rows = s.scalars(select(AccessLog).order_by(AccessLog.id)).all()
        assert [(r.user, r.what, r.case_id, r.part) for r in rows] == [
            ("medewerker", "case", case.id, ""), ("medewerker", "attachment", case.id, "2")]
    page = admin.get(f"/case/{case.id}").get_data(as_text=True)
    log = page[page.index('id="access-log"'):]
    assert "Inzage-log (3)" in log and "medewerker" in log and "bijlage gedownload" in log
    assert 'id="access-log"' not in staff.get(f"/case/{case.id}").get_data(as_text=True)


def test_the_privacy_page_looks_up_exports_and_erases_after_confirmation(
        office: Office, web: tuple[FlaskClient, FlaskClient]) -> None:
    admin, staff = web
    assert staff.get("/admin/privacy").status_code == 403
    token = _token(admin, "/admin/privacy")
    page = admin.post("/admin/privacy", data={"csrf_token": token, "address": ADDRESS}).get_data(as_text=True)
    assert "KL-2026-000001" in page and "KL-2026-000002" in page and "KL-2026-000003" not in page
    download = admin.post("/admin/privacy/export", data={"csrf_token": token, "address": ADDRESS})
    assert download.status_code == 200 and download.mimetype == "application/zip" and download.data[:2] == b"PK"
    assert admin.post("/admin/privacy/export", data={"address": ADDRESS}).status_code == 400  # no CSRF token
    confirm = admin.post("/admin/privacy/erase/confirm", data={"csrf_token": token, "address": ADDRESS})
    page = confirm.get_data(as_text=True)
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', page)
    assert fingerprint and 'id="open-cases"' in page and "Definitief wissen" in page
    form = {"csrf_token": token, "address": ADDRESS, "fingerprint": fingerprint.group(1), "reason": "verzoek"}
    refused = admin.post("/admin/privacy/erase", data=form)  # open cases, not ticked
    assert refused.status_code == 400 and "Nog in behandeling" in refused.get_data(as_text=True)
    assert admin.post("/admin/privacy/erase", data={**form, "reason": "", "force": "1"}).status_code == 400
    done = admin.post("/admin/privacy/erase", data={**form, "force": "1"}, follow_redirects=True)
    assert "Gewist: 2 zaken" in done.get_data(as_text=True)
    assert office.case("KL-2026-000001").anonymised_by == "erasure"


def test_an_address_with_1000_cases_is_exported_whole_in_a_few_queries(office: Office, tmp_path: Path) -> None:
    many = "veel@example.org"
    _bulk(office, many, 1000)
    statements: list[str] = []
    engine = office.deps.sessions.kw["bind"]

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        made = privacy.access_export(office.deps, many, "cli", out=tmp_path / "veel.zip")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert (made.cases, made.messages, made.letters) == (1000, 1000, 1000)
    assert len(statements) < 40, len(statements)  # batches, not one query per case
    with zipfile.ZipFile(tmp_path / "veel.zip") as archive:
        names = set(archive.namelist())
        index = archive.read("index.txt").decode()
    for n in range(1, 1001):
        ref = f"BULK-2025-{n:06d}"
        assert ref in index and f"cases/{ref}/case.json" in names and f"cases/{ref}/letters/01-ack.eml" in names
    assert sum(1 for name in names if name.endswith(".eml") and "/messages/" in name) == 1000


def _bulk(office: Office, address: str, count: int) -> None:
    """`count` closed cases of `address`, each with its message and acknowledgement, in four INSERTs."""
    at = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    raws = [(f"From: Veel <{address}>\r\nTo: klachten@debrug.example\r\nSubject: Melding {n}\r\n"
             f"Message-ID: <veel-{n}@example.org>\r\n\r\nDe kraan lekt, melding {n}.\r\n").encode()
            for n in range(count)]
    shas = [hashlib.sha256(r).hexdigest() for r in raws]
    with office.deps.sessions.begin() as s:
        s.execute(insert(RawBlob), [{"sha256": h, "size": len(r), "data": r} for h, r in zip(shas, raws, strict=True)])
        s.execute(insert(Case), [{
            "organisation": "debrug", "reference": f"BULK-2025-{n + 1:06d}", "year": 2025, "seq": n + 1,
            "status": "answered", "complainant": address, "subject": f"Melding {n}", "kind": "complaint",
            "topic": "service", "formality": "informal", "received_at": at + timedelta(minutes=n),
            "created_at": at, "ended_on": date(2025, 4, 1), "version": 1} for n in range(count)])
        ids = {str(r): int(i) for r, i in s.execute(select(Case.reference, Case.id).where(Case.complainant == address))}
        s.execute(insert(Message), [{
            "organisation": "debrug", "mailbox": "bulk", "uidvalidity": 1, "uid": str(n), "sha256": shas[n],
            "size": len(raws[n]), "subject": f"Melding {n}", "sender": address, "complainant": address,
            "received_at": at + timedelta(minutes=n), "fetched_at": at, "disposition": "filed",
            "case_id": ids[f"BULK-2025-{n + 1:06d}"]} for n in range(count)])
        s.execute(insert(Acknowledgement), [{
            "organisation": "debrug", "case_id": ids[f"BULK-2025-{n + 1:06d}"], "kind": "ack", "status": "sent",
            "recipient": address, "message_id": f"<bulk-ack-{n}@debrug.example>", "created_at": at,
            "raw": b"Subject: ontvangen\r\n\r\nok"} for n in range(count)])


def _maildir_files(folder: Path) -> list[bytes]:
    return [p.read_bytes() for p in folder.rglob("*") if p.is_file() and p.parent.name in ("cur", "new")]


def test_where_config_allows_it_the_mailbox_copies_go_first_and_an_unreachable_mailbox_refuses(
        tmp_path: Path, sqlite_url: str) -> None:
    extra = "\n[organisations.debrug.retention]\ndelete_from_mailbox = true\n"
    path = write_config(tmp_path, sqlite_url, f'type = "maildir"\npath = "{tmp_path / "mail"}"\n', extra)
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    box.add(_with_file(1, JOKE, SUBJECT))
    box.add(plain(3, sender=PIET, subject="Klacht van Piet over het trappenhuis"))
    settings = settings_for(path)
    deps = deps_for(settings, sessions_for(settings))
    poll_all(deps)
    assert any(SUBJECT.encode() in raw for raw in _maildir_files(tmp_path / "mail"))

    def unreachable(org: Any) -> Any:
        raise privacy.ServerError("imap.example: connection refused")

    broken = dataclasses.replace(deps, mailbox=unreachable)
    with pytest.raises(privacy.ServerError, match="nothing was erased"):
        privacy.erase(broken, ADDRESS, "verzoek", "cli", force=True)
    with deps.sessions() as s:
        assert s.scalars(select(Case).where(Case.reference == "KL-2026-000001")).one().complainant == ADDRESS
    done = privacy.erase(deps, ADDRESS, "verzoek", "cli", force=True)
    assert done.from_mailbox == 1
    left = _maildir_files(tmp_path / "mail")
    assert not any(SUBJECT.encode() in raw for raw in left) and any(b"Piet" in raw for raw in left)
