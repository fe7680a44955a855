"""The demo's promise after its poll: the account it prints logs in as a coordinator of Lindendal,
takes one of the demo's formal complaints to its answer through the procedure services the web UI
calls, and `triage send --once` writes the extension notice and the answer into the demo's outbox."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

from conftest import deps_for, sessions_for, settings_for
from sqlalchemy import select
from test_cli import triage

from triage.procedure import Action
from triage.services import accounts
from triage.services.cases import Actor, Request, perform
from triage.store.models import Case


def test_the_printed_demo_account_answers_a_formal_complaint_and_send_writes_the_letters(tmp_path: Path) -> None:
    result = triage("demo", "--dir", "demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    found = re.search(r"log in as (\S+) / (\S+)", result.stdout)
    assert found is not None, result.stdout
    assert "triage serve --config demo/triage.toml" in result.stdout
    assert "triage send --once --config demo/triage.toml" in result.stdout
    settings = settings_for(tmp_path / "demo" / "triage.toml")
    assert settings.organisations["lindendal"].procedure.coordinator == "klachtencoordinator@lindendal.example"
    deps = deps_for(settings, sessions_for(settings))
    login = accounts.login(deps, found[1], found[2], "127.0.0.1")
    assert login.user is not None and login.user.role == "coordinator"
    assert accounts.account(deps, found[1]) is not None
    actor = Actor(login.user.name, login.user.role, login.user.scope)
    with deps.sessions() as s:
        reference = s.scalars(select(Case.reference).where(Case.status == "new", Case.formality == "formal")
                              .order_by(Case.id)).first()
    assert reference is not None, "the demo mail holds a formal complaint that needs no review"

    perform(deps, reference, actor, Request(Action.ASSIGN, handler=actor.name))
    perform(deps, reference, actor, Request(Action.SKIP_HEARING, ground="waived"))
    extended = perform(deps, reference, actor, Request(Action.EXTEND))
    answered = perform(deps, reference, actor, Request(Action.ANSWER, judgement="founded",
                                                       text="U heeft gelijk; wij passen onze werkwijze aan."))
    assert (extended.letter, answered.letter, answered.status) == ("extension", "answer", "answered")

    outbox = tmp_path / "demo" / "outbox"
    before = set(outbox.glob("*.eml"))
    sent = triage("send", "--once", "--config", "demo/triage.toml", cwd=tmp_path)
    assert sent.returncode == 0, sent.stderr
    letters = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
               for p in sorted(set(outbox.glob("*.eml")) - before)]
    assert len(letters) == 2 and all(f"[{reference}]" in str(m["Subject"]) for m in letters)
    texts = " ".join(m.get_body(("plain",)).get_content() for m in letters)  # type: ignore[union-attr]
    assert "U krijgt onze reactie nu uiterlijk" in texts and "wij passen onze werkwijze aan" in texts


def test_the_demo_reports_purges_exports_and_erases_from_the_command_line(tmp_path: Path) -> None:
    """Issue 15's promise on the demo data, as its printed steps run it: the register to Excel, the
    yearly report as a PDF, a dry-run purge that finds nothing expired, and one complainant's
    access export and erasure (her case is open: refused, then forced with --yes)."""
    from openpyxl import load_workbook
    from pypdf import PdfReader

    result = triage("demo", "--dir", "demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "triage purge --dry-run --config demo/triage.toml" in result.stdout
    config = ("--config", "demo/triage.toml")
    register = triage("register", *config, "--search", "kliko", "--out", "register.xlsx", cwd=tmp_path)
    assert register.returncode == 0 and "wrote 1 case to register.xlsx" in register.stdout, register.stderr
    sheet = load_workbook(tmp_path / "register.xlsx").active
    assert sheet is not None and sheet.max_row == 2 and "kliko" in str([c.value for c in sheet[2]])
    report = triage("report", *config, "--year", "2026", "--out", "jaarverslag.pdf", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    text = " ".join(page.extract_text() for page in PdfReader(tmp_path / "jaarverslag.pdf").pages)
    assert "Gemeente Lindendal" in text and "Klachtenjaarverslag 2026" in text and "ruudverhoeven" not in text
    purge = triage("purge", *config, "--dry-run", cwd=tmp_path)
    assert purge.returncode == 0 and "0 cases" in purge.stdout and "nothing is changed" in purge.stdout

    address = "tinekepostma@home.nl"
    export = triage("privacy", "export", address, *config, "--out", "tineke.zip", cwd=tmp_path)
    assert export.returncode == 0 and "wrote tineke.zip: 1 case, 1 message, 1 letter" in export.stdout
    refused = triage("privacy", "erase", address, *config, "--reason", "verzoek van de klager", cwd=tmp_path)
    assert refused.returncode == 2 and "still open" in refused.stderr and "Traceback" not in refused.stderr
    erased = triage("privacy", "erase", address, *config, "--reason", "verzoek van de klager", "--force", "--yes",
                    cwd=tmp_path)
    assert erased.returncode == 0 and "1 case anonymised" in erased.stdout, erased.stderr
    assert address.encode() not in (tmp_path / "demo" / "triage.db").read_bytes()
    again = triage("privacy", "erase", address, *config, "--reason", "nogmaals", cwd=tmp_path)
    assert again.returncode == 0 and f"nothing found about {address}" in again.stdout
