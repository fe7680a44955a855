"""`triage case ...` and the users' e-mail and coordinator role as a person types them: the real
commands (click's runner) on a real SQLite database with cases filed by a poll of a Maildir and
classified through the review service. Refusals are one Dutch line, exit 2, and change nothing."""

from __future__ import annotations

import json
import mailbox
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import deps_for, sessions_for, settings_for, write_config
from mails import plain
from sqlalchemy import update

from triage.cli import main
from triage.dates import long_date
from triage.services import accounts, review
from triage.services.case_info import CLI_ACTOR
from triage.services.cases import save_draft, today
from triage.services.deps import Deps
from triage.services.poll import poll_all
from triage.store.models import Case
from triage.store.scope import EVERYTHING

JOKE, PIET = "Joke Jansen <joke@example.net>", "Piet Pieters <piet@example.net>"
FORMAL = {"kind": "complaint", "topic": "service", "formality": "formal"}
PASSWORD = "lang-genoeg-wachtwoord"


@dataclass
class Office:
    config: Path
    deps: Deps
    tmp: Path

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(main, [*args, "--config", str(self.config)])

    def show(self, ref: str) -> dict[str, Any]:
        result = self.run("case", "show", ref, "--json")
        assert result.exit_code == 0, result.stderr
        shown: dict[str, Any] = json.loads(result.stdout)
        return shown

    def refused(self, *args: str) -> str:
        """Run a command that must be refused: exit 2, one line on stderr, nothing on stdout."""
        result = self.run(*args)
        assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stdout == ""
        return result.stderr.strip()

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        return result.stdout.strip()

    def set_case(self, ref: str, **values: Any) -> None:
        with self.deps.sessions.begin() as session:
            session.execute(update(Case).where(Case.reference == ref).values(**values))


@pytest.fixture
def office(tmp_path: Path) -> Office:
    """Three formal complaints (KL-2026-000001 and -000002 from Joke, -000003 from Piet), a staff
    member sanne and a coordinator kees of the organisation."""
    path = write_config(tmp_path, f"sqlite:///{tmp_path / 'triage.db'}",
                        f'type = "maildir"\npath = "{tmp_path / "mail"}"\n')
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    for n, sender in ((1, JOKE), (2, JOKE), (3, PIET)):
        box.add(plain(n, sender=sender))
    settings = settings_for(path)
    deps = deps_for(settings, sessions_for(settings))
    poll_all(deps)
    for case_id in (1, 2, 3):
        assert review.correct(deps, case_id, "anouk", FORMAL, EVERYTHING) is not None
    accounts.add(deps, "sanne", PASSWORD, "staff", ["debrug"])
    accounts.add(deps, "kees", PASSWORD, "coordinator", ["debrug"])
    return Office(path, deps, tmp_path)


def test_show_prints_the_case_and_its_json_has_the_fields_with_iso_dates(office: Office) -> None:
    text = office.ok("case", "show", "kl-2026-000001")
    assert text.splitlines()[0] == "KL-2026-000001  nieuw (new)"
    shown = office.show("KL-2026-000001")
    due = date.fromisoformat(shown["due"])
    assert shown["days_left"] == (due - today(office.deps)).days > 0 and shown["late"] is False
    assert f"uiterlijk     {long_date(due, 'nl')} (nog {shown['days_left']} dagen)" in text
    assert (shown["reference"], shown["status"], shown["status_words"]) == ("KL-2026-000001", "new", "nieuw")
    assert (shown["kind"], shown["formality"], shown["complainant"]) == ("complaint", "formal", "joke@example.net")
    assert shown["handler"] is None and shown["hearing"] == "" and shown["extensions"] == 0
    assert shown["received"].startswith(date.today().isoformat()[:4]) and "T" in shown["received"]
    assert [letter["kind"] for letter in shown["letters"]] == ["ack"]
    assert "case.corrected" in [event["action"] for event in shown["timeline"]]
    assert "case.corrected" in text and "brieven:" in text


def test_an_unknown_case_is_one_line_and_exit_2(office: Office) -> None:
    assert "geen zaak KL-2026-000099" in office.refused("case", "show", "KL-2026-000099")
    assert "geen zaak" in office.refused("case", "assign", "KL-2026-000099", "sanne")


def test_assign_gives_and_takes_the_handler(office: Office) -> None:
    assert office.ok("case", "assign", "KL-2026-000001", "sanne") == "KL-2026-000001: behandelaar is nu sanne"
    assert (office.show("KL-2026-000001")["handler"], office.show("KL-2026-000001")["status"]) == (
        "sanne", "in_progress")
    assert "zonder behandelaar (nieuw)" in office.ok("case", "assign", "KL-2026-000001", "-")
    assert office.show("KL-2026-000001")["handler"] is None
    office.ok("case", "assign", "KL-2026-000001", "kees")
    assert "zonder behandelaar" in office.ok("case", "assign", "KL-2026-000001", "--none")
    before = office.show("KL-2026-000001")
    assert "niemand is geen actieve gebruiker" in office.refused("case", "assign", "KL-2026-000001", "niemand")
    assert office.show("KL-2026-000001") == before


def test_contact_goes_into_the_timeline(office: Office) -> None:
    assert office.ok("case", "contact", "KL-2026-000001", "--note", "Gebeld met Joke") == (
        "KL-2026-000001: contact vastgelegd")
    events = office.show("KL-2026-000001")["timeline"]
    assert events[-1]["action"] == "case.contact" and events[-1]["detail"]["note"] == "Gebeld met Joke"


def test_the_hearing_is_planned_held_or_skipped(office: Office) -> None:
    day = today(office.deps) + timedelta(days=7)
    out = office.ok("case", "hearing", "KL-2026-000001", "--planned", day.isoformat())
    assert out == f"KL-2026-000001: horen gepland op {long_date(day, 'nl')}"
    assert (office.show("KL-2026-000001")["hearing"], office.show("KL-2026-000001")["hearing_date"]) == (
        "planned", day.isoformat())
    report = office.tmp / "verslag.txt"
    report.write_text("Joke vertelde over de lekkage.\n", encoding="utf-8")
    office.ok("case", "hearing", "KL-2026-000001", "--held", "--report", str(report))
    shown = office.show("KL-2026-000001")
    assert (shown["hearing"], shown["hearing_note"]) == ("held", "Joke vertelde over de lekkage.")
    out = office.ok("case", "hearing", "KL-2026-000003", "--skipped", "waived", "--note", "Wil niet")
    assert out == "KL-2026-000003: afgezien van horen: de klager wil niet worden gehoord"
    assert office.show("KL-2026-000003")["hearing"] == "skipped"
    assert "Schrijf een kort verslag" in office.refused("case", "hearing", "KL-2026-000002", "--held")


def test_extend_once_then_a_second_extension_needs_consent(office: Office) -> None:
    out = office.ok("case", "extend", "KL-2026-000001", "--note", "Advies gevraagd")
    shown = office.show("KL-2026-000001")
    new_due = date.fromisoformat(shown["due"])
    assert out == (f"KL-2026-000001: verdaagd tot {long_date(new_due, 'nl')}; de verlengingsbrief staat in de "
                   "outbox")
    assert shown["extensions"] == 1 and date.fromisoformat(shown["due_before_extension"]) < new_due
    assert [(letter["kind"], letter["status"]) for letter in shown["letters"]][-1] == ("extension", "pending")
    refusal = office.refused("case", "extend", "KL-2026-000001")
    assert "De termijn is al een keer verdaagd" in refusal and "instemming" in refusal
    assert office.show("KL-2026-000001") == shown
    until = new_due + timedelta(days=14)
    out = office.ok("case", "extend", "KL-2026-000001", "--consent-date", today(office.deps).isoformat(),
                    "--until", until.isoformat())
    assert out.startswith(f"KL-2026-000001: met instemming van de klager uitgesteld tot {long_date(until, 'nl')}")
    shown = office.show("KL-2026-000001")
    assert shown["due"] == until.isoformat() and shown["letters"][-1]["kind"] == "consent"


def test_an_extension_after_the_term_expired_is_refused(office: Office) -> None:
    now = today(office.deps)
    office.set_case("KL-2026-000001", due_date=now - timedelta(days=3))
    before = office.show("KL-2026-000001")
    assert before["late"] is True and before["days_left"] == -3
    assert "(3 dagen te laat)" in office.ok("case", "show", "KL-2026-000001")
    assert "De termijn is al verstreken" in office.refused("case", "extend", "KL-2026-000001")
    assert office.show("KL-2026-000001") == before


def test_answering_a_formal_complaint_needs_a_judgement_and_preview_sends_nothing(office: Office) -> None:
    answer = office.tmp / "antwoord.txt"
    answer.write_text("Wij hebben de kraan laten repareren.\n", encoding="utf-8")
    office.ok("case", "hearing", "KL-2026-000001", "--skipped", "unfounded")
    before = office.show("KL-2026-000001")
    assert "Kies een oordeel" in office.refused("case", "answer", "KL-2026-000001", "--text-file", str(answer))
    assert office.show("KL-2026-000001") == before
    letter = office.ok("case", "answer", "KL-2026-000001", "--text-file", str(answer), "--judgement", "founded",
                       "--preview")
    assert "Wij hebben de kraan laten repareren." in letter and "KL-2026-000001" in letter and "gegrond" in letter
    assert office.show("KL-2026-000001") == before
    out = office.ok("case", "answer", "KL-2026-000001", "--text-file", str(answer), "--judgement", "founded")
    assert out == "KL-2026-000001: beantwoord (afgehandeld); de antwoordbrief staat in de outbox"
    shown = office.show("KL-2026-000001")
    assert (shown["status"], shown["judgement"], shown["letters"][-1]["kind"]) == ("answered", "founded", "answer")


def test_closing_with_an_unsent_draft_is_refused(office: Office) -> None:
    save_draft(office.deps, "KL-2026-000001", CLI_ACTOR, "Nog niet af", "", None)
    before = office.show("KL-2026-000001")
    assert before["draft"] is True
    refusal = office.refused("case", "close", "KL-2026-000001", "--ending", "withdrawn", "--note", "Ingetrokken")
    assert "onverzonden antwoord" in refusal
    assert office.show("KL-2026-000001") == before
    out = office.ok("case", "close", "KL-2026-000003", "--ending", "resolved", "--note", "Opgelost aan de telefoon")
    assert out == "KL-2026-000003: afgesloten als informeel opgelost"
    out = office.ok("case", "close", "KL-2026-000002", "--ending", "forwarded", "--to", "Gemeente Lindendal")
    assert out == ("KL-2026-000002: afgesloten als doorgezonden; het bericht over het doorzenden staat in de outbox")


def test_staff_cannot_reopen_a_coordinator_can(office: Office) -> None:
    office.ok("case", "close", "KL-2026-000003", "--ending", "withdrawn", "--note", "Ingetrokken per mail")
    before = office.show("KL-2026-000003")
    refusal = office.refused("case", "reopen", "KL-2026-000003", "--reason", "Toch niet", "--as", "sanne")
    assert refusal.endswith("Dat mag uw rol (staff) niet: vraag het de klachtencoördinator.")
    assert office.show("KL-2026-000003") == before
    assert "no active user niemand" in office.refused("case", "reopen", "KL-2026-000003", "--reason", "x",
                                                      "--as", "niemand")
    out = office.ok("case", "reopen", "KL-2026-000003", "--reason", "Klager belde terug", "--as", "kees")
    assert out == "KL-2026-000003: heropend (nieuw)"
    assert office.show("KL-2026-000003")["timeline"][-1]["actor"] == "kees"


def test_merge_joins_the_later_case_and_split_parts_it(office: Office) -> None:
    before = office.show("KL-2026-000002")
    assert "nieuwere" in office.refused("case", "merge", "KL-2026-000001", "--into", "KL-2026-000002")
    assert "dezelfde klager" in office.refused("case", "merge", "KL-2026-000003", "--into", "KL-2026-000001")
    assert office.show("KL-2026-000002") == before
    out = office.ok("case", "merge", "KL-2026-000002", "--into", "kl-2026-000001")
    assert out == "KL-2026-000002: samengevoegd met KL-2026-000001"
    shown = office.show("KL-2026-000002")
    assert (shown["status"], shown["merged_into"]) == ("merged", "KL-2026-000001")
    assert office.ok("case", "split", "KL-2026-000002") == "KL-2026-000002: weer een zaak op zich (nieuw)"
    assert office.show("KL-2026-000002")["merged_into"] is None


def test_user_add_with_email_and_the_coordinator_role(office: Office) -> None:
    result = CliRunner().invoke(main, ["user", "add", "marie", "--role", "coordinator", "--email",
                                       "Marie <Marie@DeBrug.example>", "--org", "debrug", "--password-stdin",
                                       "--config", str(office.config)], input=PASSWORD + "\n")
    assert result.exit_code == 0 and result.stdout.strip() == "added coordinator marie <marie@debrug.example>"
    listing = office.ok("user", "list")
    marie = next(line for line in listing.splitlines() if line.startswith("marie "))
    assert marie.split()[1] == "coordinator" and "marie@debrug.example" in marie and marie.endswith("debrug")
    assert office.ok("user", "email", "sanne", "Sanne@debrug.EXAMPLE") == "sanne gets mail at sanne@debrug.example"
    assert accounts.account(office.deps, "sanne").email == "sanne@debrug.example"  # type: ignore[union-attr]
    assert office.ok("user", "email", "sanne", "--clear") == "sanne has no e-mail address any more"
    assert accounts.account(office.deps, "sanne").email is None  # type: ignore[union-attr]


@pytest.mark.parametrize("address", ["geen-adres", "a@b.nl, c@d.nl", "piet@", "piet@localhost"])
def test_a_bad_email_address_is_one_line_and_exit_2(office: Office, address: str) -> None:
    assert "e-mail address" in office.refused("user", "email", "sanne", address)
    result = CliRunner().invoke(main, ["user", "add", "joop", "--role", "staff", "--email", address,
                                       "--password-stdin", "--config", str(office.config)], input=PASSWORD + "\n")
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert accounts.account(office.deps, "joop") is None
    assert accounts.account(office.deps, "sanne").email is None  # type: ignore[union-attr]


@pytest.mark.parametrize("command", ["show", "assign", "contact", "hearing", "extend", "answer", "close", "reopen",
                                     "merge", "split"])
def test_every_case_command_has_help_with_as_and_config(command: str) -> None:
    result = CliRunner().invoke(main, ["case", command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.stdout
    assert "--as USER" in result.stdout and "--config" in result.stdout


def test_hearing_takes_exactly_one_of_its_three_forms(office: Office) -> None:
    before = office.show("KL-2026-000001")
    result = office.run("case", "hearing", "KL-2026-000001", "--held", "--skipped", "waived")
    assert result.exit_code == 2 and "give one of --planned DATE" in result.stderr
    assert office.run("case", "hearing", "KL-2026-000001", "--planned", "10-12-2026").exit_code == 2
    assert office.show("KL-2026-000001") == before
