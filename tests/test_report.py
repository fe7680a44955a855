"""The yearly report on a real database (SQLite and PostgreSQL): the rows of an organisation's year in
Amsterdam days, the report's HTML without personal data, the `triage report` command writing HTML and
a PDF whose text is read back, a year without cases, bad arguments, and the report page's bad input."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import deps_for, sessions_for, settings_for
from pypdf import PdfReader
from test_web import _login

from triage.cli import main
from triage.services import report
from triage.store import users
from triage.store.models import Case, Message, RawBlob
from triage.store.scope import EVERYTHING, Scope
from triage.web import create_app

CONFIG = """
[database]
url = "{db_url}"

[organisations.lindendal]
name = "Gemeente Lindendal"
reference_prefix = "KL"
addresses = ["klachten@lindendal.example"]
domains = ["lindendal.example"]

[organisations.lindendal.mailbox]
type = "maildir"
path = "mail/lindendal"

[organisations.debrug]
name = "Woonstichting De Brug"
reference_prefix = "DB"
addresses = ["klachten@debrug.example"]
domains = ["debrug.example"]

[organisations.debrug.mailbox]
type = "maildir"
path = "mail/debrug"
"""
TITLE = "Klachtenjaarverslag 2026 — Gemeente Lindendal"
PERSONAL = ("Jansen", "piet.jansen", "Wachttijd telefoon", "KL-2026", "Kerkstraat", "Bos")
STAFF, ADMIN = ("medewerker", "medewerker-wachtwoord-1"), ("beheerder", "beheer-wachtwoord-1")


def _case(s: Any, org: str, seq: int, received: datetime, text: str = "", **fields: Any) -> Case:
    values: dict[str, Any] = {
        "organisation": org, "reference": f"{'KL' if org == 'lindendal' else 'DB'}-{received.year}-{seq:06d}",
        "year": received.year, "seq": seq, "complainant": f"piet.jansen{seq}@example.nl", "status": "new",
        "received_at": received, "created_at": received,
        "kind": "complaint", "topic": "service", "formality": "formal", "subject": "Wachttijd telefoon",
        "complainant_name": "Piet Jansen", "term": "6 weeks"}
    case = Case(**{**values, **fields})
    s.add(case)
    s.flush()
    if text:
        if s.get(RawBlob, "0" * 64) is None:
            s.add(RawBlob(sha256="0" * 64, size=0, data=b""))
        s.add(Message(organisation=org, mailbox=f"{org}:INBOX", uidvalidity=1, uid=str(case.id), sha256="0" * 64,
                      size=1, subject=case.subject, sender=case.complainant, complainant=case.complainant,
                      received_at=received, fetched_at=received, text=text, new_text=text, disposition="filed",
                      case_id=case.id))
    return case


def _at(day: str, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


WAIT = "De wachttijd aan de telefoon was lang, zegt Piet Jansen, Kerkstraat 4.\nGroet, Piet Jansen, Kerkstraat 4"


def fill(deps: Any) -> None:
    """Lindendal 2026: 6 answered formal complaints (one received on 1 January 00:30 Amsterdam time),
    3 questions, 1 merged complaint; one case of 1 January 2027 (Amsterdam); De Brug: 2 cases; 2025: 2."""
    with deps.sessions.begin() as s:
        first = _case(s, "lindendal", 1, _at("2025-12-31", 23, 30), WAIT, status="answered",
                      answered_on=date(2026, 1, 20), on_time=True)
        for seq, day in enumerate(("2026-01-12", "2026-02-02", "2026-02-20", "2026-03-05", "2026-03-30"), start=2):
            _case(s, "lindendal", seq, _at(day), WAIT, status="answered", on_time=seq != 6, extensions=int(seq == 6),
                  answered_on=date.fromisoformat(day).replace(day=28))
        for seq in (7, 8, 9):
            _case(s, "lindendal", seq, _at("2026-06-10"), "Wanneer is het loket open?", kind="question",
                  topic="product", formality=None, subject="Openingstijden", term="5 working days")
        _case(s, "lindendal", 10, _at("2026-03-06"), WAIT, status="merged", merged_into=first.id)
        _case(s, "lindendal", 11, _at("2026-12-31", 23, 30), WAIT)  # 1 January 2027 in Amsterdam
        for seq in (1, 2):
            _case(s, "debrug", seq, _at("2026-04-01"), "Lekkage", subject="Lekkage", complainant="ina@bos.example",
                  complainant_name="Ina Bos")
            _case(s, "lindendal", 20 + seq, _at("2025-05-01"), WAIT)


@pytest.fixture
def deps(tmp_path: Path, db_url: str) -> Any:
    path = tmp_path / "triage.toml"
    path.write_text(CONFIG.format(db_url=db_url), encoding="utf-8")
    settings = settings_for(path)
    found = dataclasses.replace(deps_for(settings, sessions_for(settings)),
                                clock=lambda: datetime(2026, 12, 3, 9, tzinfo=UTC))
    fill(found)
    return found


def test_the_report_of_one_organisations_year(deps: Any) -> None:
    built = report.build(deps, EVERYTHING, report.Period.year(2026), "lindendal")
    f = built.figures
    assert (f.total, f.complaints, f.questions) == (9, 6, 3)  # the merged one and 1 January 2027 left out
    assert [(m.month, c, q) for m, c, q in f.by_month][:6] == [(1, 2, 0), (2, 2, 0), (3, 2, 0), (4, 0, 0),
                                                               (5, 0, 0), (6, 0, 3)]
    assert built.previous.total == 2 and f.extended == 1
    assert f.handling[0].share == "83%"  # 5 of the 6 formal complaints on time
    assert dict(f.themes["service"]) == {"lang": 6, "telefoon": 6, "wachttijd": 6}  # no name, no street
    assert built.title == TITLE and TITLE in built.html
    assert "verbetering van de dienstverlening" in built.html and "&lt; 5" in built.html
    for personal in PERSONAL:
        assert personal not in built.html


def test_every_organisation_in_scope_and_one_outside_it(deps: Any) -> None:
    both = report.build(deps, EVERYTHING, report.Period.year(2026))
    assert both.figures.total == 11 and both.organisation == "Gemeente Lindendal, Woonstichting De Brug"
    brug = Scope(frozenset({"debrug"}))
    assert report.build(deps, brug, report.Period.year(2026)).figures.total == 2
    with pytest.raises(report.Refused):
        report.build(deps, brug, report.Period.year(2026), "lindendal")
    with pytest.raises(report.Refused):
        report.build(deps, EVERYTHING, report.Period(date(2026, 3, 1), date(2026, 3, 1)))
    spring = report.build(deps, EVERYTHING, report.Period(date(2026, 2, 1), date(2026, 4, 1)), "lindendal")
    assert spring.figures.total == 4 and spring.period.previous().start == date(2025, 12, 4)  # 59 days before
    assert spring.title == "Klachtenverslag 1 februari 2026 tot en met 31 maart 2026 — Gemeente Lindendal"


def _config(tmp_path: Path, sqlite_url: str) -> Path:
    path = tmp_path / "triage.toml"
    path.write_text(CONFIG.format(db_url=sqlite_url), encoding="utf-8")
    settings = settings_for(path)
    fill(deps_for(settings, sessions_for(settings)))
    return path


def _report(path: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["report", "--config", str(path), *args])


def test_the_command_writes_html_and_a_pdf_a_reader_can_read(tmp_path: Path, sqlite_url: str) -> None:
    path = _config(tmp_path, sqlite_url)
    html, pdf = tmp_path / "verslag.html", tmp_path / "verslag.pdf"
    result = _report(path, "--year", "2026", "--organisation", "lindendal", "--out", str(html))
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {html}: 2026, Gemeente Lindendal, 9 cases\n"
    assert TITLE in html.read_text(encoding="utf-8")
    result = _report(path, "--year", "2026", "--organisation", "lindendal", "--out", str(pdf))
    assert result.exit_code == 0, result.output
    reader = PdfReader(io.BytesIO(pdf.read_bytes()))
    assert re.fullmatch(rf"wrote {re.escape(str(pdf))}: 2026, Gemeente Lindendal, 9 cases \({len(reader.pages)} "
                        r"pages?\)\n", result.output)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Klachtenjaarverslag 2026" in text and "Gemeente Lindendal" in text
    assert re.search(r"Totaal\s+9\b", text) and re.search(r"Vragen\s+< 5", text)
    assert "Pagina 1 van" in text
    for personal in PERSONAL:
        assert personal not in text


def test_a_year_without_cases_is_a_report_that_says_so(tmp_path: Path, sqlite_url: str) -> None:
    path = _config(tmp_path, sqlite_url)
    out = tmp_path / "leeg.pdf"
    result = _report(path, "--year", "2019", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"wrote {out}: 2019, Gemeente Lindendal, Woonstichting De Brug, 0 cases (1 page)")
    text = PdfReader(io.BytesIO(out.read_bytes())).pages[0].extract_text()
    assert "Geen klachten of vragen in deze periode" in text


@pytest.mark.parametrize(("args", "says"), [
    (["--organisation", "nergens", "--out", "r.pdf"], "--organisation nergens: not an organisation"),
    (["--out", "r.docx"], "write a .pdf or an .html file"),
    (["--out", "/nonexistent/folder/r.pdf"], "does not exist"),
    (["--from", "2026-01-01", "--out", "r.pdf"], "give both --from and --to"),
    (["--from", "2026-03-01", "--to", "2026-02-01", "--out", "r.pdf"], "comes before --from"),
    (["--from", "1-1-2026", "--to", "2026-02-01", "--out", "r.pdf"], "write the day as YYYY-MM-DD"),
    (["--year", "20260", "--out", "r.pdf"], "not a year"),
])
def test_bad_arguments_are_one_line_and_exit_2(tmp_path: Path, sqlite_url: str, args: list[str], says: str) -> None:
    path = tmp_path / "triage.toml"
    path.write_text(CONFIG.format(db_url=sqlite_url), encoding="utf-8")
    result = CliRunner().invoke(main, ["report", "--config", str(path), *args])
    assert result.exit_code == 2
    assert says in result.stderr and len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""


def test_the_page_refuses_bad_input_in_dutch(tmp_path: Path, sqlite_url: str) -> None:
    path = _config(tmp_path, sqlite_url)
    settings = settings_for(path)
    sessions = sessions_for(settings)
    with sessions.begin() as s:
        users.add(s, STAFF[0], STAFF[1], "staff", ["lindendal"])
        users.add(s, ADMIN[0], ADMIN[1], "admin")
    app = create_app(settings, sessions, testing=True)
    admin = _login(app.test_client(), ADMIN).get("/report?year=2026&organisation=debrug").get_data(as_text=True)
    assert '<option value="debrug" selected>Woonstichting De Brug</option>' in admin
    assert "Klachtenjaarverslag 2026 — Woonstichting De Brug" in admin
    client = _login(app.test_client(), STAFF)
    page = client.get("/report?year=2026")
    assert page.status_code == 200 and TITLE in page.get_data(as_text=True)
    assert 'name="organisation"' not in page.get_data(as_text=True)  # one organisation: no choice
    for query, says in [("year=abc", "is geen jaar"), ("from=2026-05-01&to=2026-01-01", "einddatum ligt voor"),
                        ("from=gisteren&to=2026-01-01", "is geen datum"), ("organisation=debrug", "bestaat niet")]:
        for path_ in ("/report", "/report.pdf", "/report.html"):
            response = client.get(f"{path_}?{query}")
            assert response.status_code == 400 and says in response.get_data(as_text=True), (path_, query)
    download = client.get("/report.html?from=2026-01-01&to=2026-03-31")
    assert download.headers["Content-Disposition"] == (
        'attachment; filename="klachtenverslag-2026-01-01_2026-03-31.html"')
    assert "Klachtenverslag 1 januari 2026 tot en met 31 maart 2026" in download.get_data(as_text=True)
