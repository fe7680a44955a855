"""The procedure's services on SQLite and PostgreSQL, on a case filed by the real pipeline from a
Maildir: each action writes its letter (threaded, numbered 1001, 1002, ...) and its audit rows, a
refused or stale action changes nothing, two writers at once never overwrite each other silently,
handlers and scopes are checked, the preview is the letter sent, a draft blocks closing, a case
without address changes without a letter, the send job sends a letter once, and letters do not
count against the acknowledgement limits."""

from __future__ import annotations

import email
import email.policy
import mailbox
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from conftest import sessions_for, settings_for, write_config
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from triage.domain import CaseStatus
from triage.mailboxes import open_mailbox
from triage.outbox import PickupTransport
from triage.procedure import Action, No
from triage.services import cases
from triage.services.cases import Actor, NotFound, ProcedureRefused, Request
from triage.services.deps import Deps, build, fixed
from triage.services.poll import run_once
from triage.services.send import send_once
from triage.store import acks
from triage.store.models import Acknowledgement, AuditLog, Case, Membership, User
from triage.store.scope import Scope

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # Friday 20 November 2026
RECEIVED = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)  # Monday 2 November 2026
DUE = date(2026, 12, 14)  # six weeks on
OPENING = "<klacht.4711@mail.example.nl>"
COMPLAINANT = "jan.devries@example.nl"
DEBRUG = Scope(frozenset({"debrug"}))
ANNA = Actor("anna", "staff", DEBRUG)


@dataclass
class Filed:
    deps: Deps
    sessions: sessionmaker[Session]
    case_id: int
    reference: str


def _mail() -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = f"Jan de Vries <{COMPLAINANT}>", "klachten@debrug.example"
    msg["Subject"], msg["Message-ID"] = "Klacht over de balie", OPENING
    msg["Date"] = "Mon, 02 Nov 2026 10:30:00 +0100"
    msg.set_content("Geachte heer/mevrouw,\n\nDe medewerker aan de balie was onvriendelijk. Ik dien hierbij "
                    "een formele klacht in.\n\nMet vriendelijke groet,\nJan de Vries\n")
    return msg.as_bytes()


def file_case(tmp_path: Path, db_url: str, ack: str = "") -> Filed:
    """A formal complaint filed by the pipeline (no model: it arrives for review, acknowledged), then
    classified the way a reviewer does, with the dates of a complaint received on 2 November."""
    extra = f'\n[organisations.debrug.acknowledge]\nfrom = "Klachten De Brug <klachten@debrug.example>"\n{ack}\n'
    settings = settings_for(write_config(tmp_path, db_url, 'type = "maildir"\npath = "mail"\n', extra))
    sessions = sessions_for(settings)
    deps = build(settings, sessions, classifier=fixed(None), clock=lambda: NOW)
    mailbox.Maildir(tmp_path / "mail", create=True).add(_mail())
    org = settings.organisations["debrug"]
    with open_mailbox(org) as opened:
        run_once(deps, org, opened)
    with sessions.begin() as s:
        case = s.scalars(select(Case)).one()
        case.status, case.kind, case.topic, case.formality = "new", "complaint", "staff", "formal"
        case.received_at, case.due_date, case.term = RECEIVED, DUE, "6 weeks"
        for name, organisation, active in (("anna", "debrug", True), ("piet", "debrug", True),
                                           ("karel", "lindendal", True), ("oud", "debrug", False)):
            s.add(User(name=name, password_hash="-", role="staff", active=active, failed_logins=0, created_at=NOW,
                       all_organisations=False, memberships=[Membership(organisation=organisation)]))
        return Filed(deps, sessions, case.id, case.reference)


def state(filed: Filed) -> dict[str, Any]:
    """Everything an action may change: the case's columns, its outbox rows and its audit rows."""
    with filed.sessions() as s:
        case = s.get(Case, filed.case_id)
        assert case is not None
        columns = {c.key: getattr(case, c.key) for c in Case.__mapper__.column_attrs}
        outbox = [(r.kind, r.nonce, r.status) for r in s.scalars(select(Acknowledgement).order_by(Acknowledgement.id))]
        audit = [(a.action, a.actor) for a in s.scalars(select(AuditLog).order_by(AuditLog.id))]
        return {"case": columns, "outbox": outbox, "audit": audit}


def letters(filed: Filed) -> list[Acknowledgement]:
    with filed.sessions() as s:
        return list(s.scalars(select(Acknowledgement).where(Acknowledgement.kind != "ack")
                              .order_by(Acknowledgement.nonce)))


def audit_after(filed: Filed, first: int) -> list[tuple[str, str, dict[str, Any]]]:
    with filed.sessions() as s:
        return [(a.action, a.actor, a.detail) for a in s.scalars(
            select(AuditLog).where(AuditLog.id > first, AuditLog.case_id == filed.case_id).order_by(AuditLog.id))]


def last_audit_id(filed: Filed) -> int:
    with filed.sessions() as s:
        return int(s.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)) or 0)


def plain(raw: bytes | None) -> str:
    assert raw is not None
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    part = msg.get_body(("plain",))
    assert part is not None
    return part.get_content().replace("\r\n", "\n")


def refusal_code(call: Any) -> No:
    with pytest.raises(ProcedureRefused) as refused:
        call()
    return refused.value.refusal.code


# The database matters where rows are written, locked and raced: those tests run on SQLite and
# PostgreSQL; the rules' own checks run on SQLite.
def test_a_formal_complaint_goes_from_assignment_through_hearing_and_extension_to_its_answer(
        tmp_path: Path, db_url: str) -> None:
    filed = file_case(tmp_path, db_url)
    first = last_audit_id(filed)
    done = cases.perform(filed.deps, filed.reference, ANNA, Request(Action.ASSIGN, handler="piet"))
    assert (done.status, done.letter, done.no_address) == ("in_progress", "", False)
    cases.perform(filed.deps, filed.case_id, ANNA, Request(Action.HOLD_HEARING, text="Klager gehoord."))
    extended = cases.perform(filed.deps, filed.case_id, ANNA, Request(Action.EXTEND, note="Advies nodig."))
    assert (extended.letter, extended.due) == ("extension", date(2027, 1, 11))
    answered = cases.perform(filed.deps, filed.case_id, ANNA,
                             Request(Action.ANSWER, text="Wij hebben het onderzocht.", judgement="founded"))
    assert (answered.status, answered.letter) == ("answered", "answer")

    rows = letters(filed)
    assert [(r.kind, r.nonce, r.status, r.recipient, r.template) for r in rows] == [
        ("extension", 1001, "pending", COMPLAINANT, "nl/extension"),
        ("answer", 1002, "pending", COMPLAINANT, "nl/answer")]
    assert rows[0].due_date == date(2027, 1, 11)
    assert [r.message_id for r in rows] == [f"<ack.{filed.reference}.{n}@debrug.example>" for n in (1001, 1002)]
    for row in rows:
        msg = email.message_from_bytes(row.raw or b"", policy=email.policy.default)
        assert msg["In-Reply-To"] == OPENING and filed.reference in msg["Subject"]
    assert "nu uiterlijk maandag 11 januari 2027" in plain(rows[0].raw)
    assert "wij vinden uw klacht gegrond" in plain(rows[1].raw) and "de Nationale ombudsman" in plain(rows[1].raw)

    trail = audit_after(filed, first)
    assert [(action, actor) for action, actor, _ in trail] == [
        ("case.assigned", "anna"), ("case.hearing_held", "anna"), ("letter.pending", "anna"), ("case.extended", "anna"),
        ("letter.pending", "anna"), ("case.answered", "anna")]
    assert trail[0][2]["handler"] == "piet" and trail[0][2]["status"] == "in_progress"
    assert trail[3][2]["from"] == "2026-12-14" and trail[3][2]["to"] == "2027-01-11"
    assert trail[5][2]["judgement"] == "founded" and trail[5][2]["on_time"] is True
    with filed.sessions() as s:
        case = s.get(Case, filed.case_id)
        assert case is not None
        assert (case.status, case.handler, case.hearing, case.extensions, case.due_before_extension) == (
            "answered", "piet", "held", 1, DUE)
        assert (case.judgement, case.answered_on, case.on_time, case.due_date) == (
            "founded", date(2026, 11, 20), True, date(2027, 1, 11))


def test_a_refused_action_changes_nothing(tmp_path: Path, db_url: str) -> None:
    filed = file_case(tmp_path, db_url)
    cases.perform(filed.deps, filed.case_id, ANNA, Request(Action.ASSIGN, handler="anna"))
    before = state(filed)
    with pytest.raises(ProcedureRefused) as refused:
        cases.perform(filed.deps, filed.case_id, ANNA, Request(Action.ANSWER, text="Antwoord.", judgement="founded"))
    assert refused.value.refusal.code == No.NOT_HEARD and "nog niet gehoord" in str(refused.value)
    assert refusal_code(lambda: cases.perform(filed.deps, filed.case_id, ANNA, Request(
        Action.CLOSE, ending=CaseStatus.ANSWERED))) == No.ANSWER_BY_LETTER
    assert refusal_code(lambda: cases.perform(filed.deps, filed.case_id, ANNA, Request(Action.REOPEN, note="x"))) \
        == No.ROLE
    assert state(filed) == before


def test_an_answer_the_organisations_template_cannot_write_is_refused_and_changes_nothing(
        tmp_path: Path, sqlite_url: str) -> None:
    templates = tmp_path / "templates"
    (templates / "nl").mkdir(parents=True)
    (templates / "nl" / "answer.txt").write_text(
        '{% extends "nl/letter.txt" %}{% block content %}{{ text }}\n{% endblock %}', encoding="utf-8")
    filed = file_case(tmp_path, sqlite_url, f'templates = "{templates}"')
    cases.perform(filed.deps, filed.case_id, ANNA, Request(Action.SKIP_HEARING, ground="waived"))
    before = state(filed)
    answer = Request(Action.ANSWER, text="Wij betreuren het.", judgement="founded")
    for call in (cases.perform, cases.preview):
        with pytest.raises(ProcedureRefused) as refused:
            call(filed.deps, filed.case_id, ANNA, answer)
        assert refused.value.refusal.code == No.LETTER
        assert "de Nationale ombudsman ontbreekt in het sjabloon" in str(refused.value)
    assert state(filed) == before


def test_a_stale_form_is_refused_as_changed(tmp_path: Path, db_url: str) -> None:
    filed = file_case(tmp_path, db_url)
    with filed.sessions() as s:
        version = s.get(Case, filed.case_id).version  # type: ignore[union-attr]
    cases.perform(filed.deps, filed.case_id, ANNA, Request(Action.ASSIGN, handler="anna"), version=version)
    before = state(filed)
    assert refusal_code(lambda: cases.perform(filed.deps, filed.case_id, ANNA, Request(Action.EXTEND),
                                              version=version)) == No.CHANGED
    assert refusal_code(lambda: cases.save_draft(filed.deps, filed.case_id, ANNA, "Concept", "", version)) \
        == No.CHANGED
    assert state(filed) == before
    assert before["case"]["version"] == version + 1


def test_two_writers_at_once_never_overwrite_each_other(tmp_path: Path, db_url: str) -> None:
    """The first to write wins; the other is refused. On SQLite (no row lock) the competitor writes
    while the first is about to, and the first's write finds the row changed (the StaleDataError
    path); on PostgreSQL the row lock makes the competitor wait, and it then finds a newer version."""
    filed = file_case(tmp_path, db_url)
    sqlite = db_url.startswith("sqlite")
    with filed.sessions() as s:
        version = s.get(Case, filed.case_id).version  # type: ignore[union-attr]
    outcome: dict[str, Any] = {}

    def competitor() -> None:
        try:
            outcome["piet"] = cases.perform(filed.deps, filed.case_id, Actor("piet", "staff", DEBRUG),
                                            Request(Action.ASSIGN, handler="piet"), version=version)
        except ProcedureRefused as exc:
            outcome["piet"] = exc.refusal.code

    thread = threading.Thread(target=competitor)

    def meanwhile(session: Session, *_: object) -> None:
        if not thread.is_alive() and thread.ident is None:  # only the first flush: anna's
            thread.start()
            if sqlite:
                thread.join()

    event.listen(filed.sessions, "before_flush", meanwhile)
    try:
        try:
            outcome["anna"] = cases.perform(filed.deps, filed.case_id, ANNA, Request(Action.EXTEND), version=version)
        except ProcedureRefused as exc:
            outcome["anna"] = exc.refusal.code
        thread.join()
    finally:
        event.remove(filed.sessions, "before_flush", meanwhile)

    winner, loser = ("piet", "anna") if sqlite else ("anna", "piet")
    assert outcome[loser] == No.CHANGED and isinstance(outcome[winner], cases.Done)
    with filed.sessions() as s:
        case = s.get(Case, filed.case_id)
        assert case is not None and case.version == version + 1
        assert (case.handler, case.extensions) == (("piet", 0) if sqlite else (None, 1))
    assert [r.kind for r in letters(filed)] == ([] if sqlite else ["extension"])
    trail = [action for action, _, _ in audit_after(filed, 0) if action.startswith(("case.", "letter."))]
    assert trail == (["case.assigned"] if sqlite else ["letter.pending", "case.extended"])


def test_an_older_session_writing_after_a_change_fails_instead_of_overwriting(tmp_path: Path, db_url: str) -> None:
    filed = file_case(tmp_path, db_url)
    with filed.sessions() as older:
        case = older.get(Case, filed.case_id)
        assert case is not None
        cases.perform(filed.deps, filed.case_id, ANNA, Request(Action.ASSIGN, handler="piet"))
        case.handler = "anna"
        with pytest.raises(StaleDataError):
            older.commit()
    with filed.sessions() as s:
        assert s.get(Case, filed.case_id).handler == "piet"  # type: ignore[union-attr]


@pytest.mark.parametrize("handler", ["niemand", "oud", "karel"])
def test_assigning_to_an_unknown_inactive_or_foreign_user_is_refused(tmp_path: Path, sqlite_url: str,
                                                                   handler: str) -> None:
    filed = file_case(tmp_path, sqlite_url)
    before = state(filed)
    with pytest.raises(ProcedureRefused) as refused:
        cases.perform(filed.deps, filed.case_id, ANNA, Request(Action.ASSIGN, handler=handler))
    assert refused.value.refusal.code == No.HANDLER_UNKNOWN
    assert str(refused.value) == f"{handler} is geen actieve gebruiker van deze organisatie."
    assert state(filed) == before


def test_a_case_outside_the_actors_organisations_is_not_found(tmp_path: Path, sqlite_url: str) -> None:
    filed = file_case(tmp_path, sqlite_url)
    before = state(filed)
    stranger = Actor("karel", "admin", Scope(frozenset({"lindendal"})))
    with pytest.raises(NotFound):
        cases.perform(filed.deps, filed.reference, stranger, Request(Action.ASSIGN, handler="karel"))
    with pytest.raises(NotFound):
        cases.preview(filed.deps, filed.case_id, stranger, Request(Action.EXTEND))
    with pytest.raises(NotFound):
        cases.save_draft(filed.deps, filed.case_id, stranger, "Concept", "", None)
    with pytest.raises(NotFound):
        cases.perform(filed.deps, "KL-2026-999999", ANNA, Request(Action.ASSIGN, handler="anna"))
    assert state(filed) == before


@pytest.mark.parametrize(("setup", "request_"), [
    ([], Request(Action.EXTEND, note="Wij wachten op advies van de afdeling.")),
    ([Request(Action.SKIP_HEARING, ground="waived")],
     Request(Action.ANSWER, text="Wij hebben <het> onderzocht.\n\nExcuses.", judgement="partly_founded")),
    ([], Request(Action.CLOSE, ending=CaseStatus.NOT_HANDLED, ground="over_a_year", note="Zie ook onze brief.")),
    ([], Request(Action.CLOSE, ending=CaseStatus.FORWARDED, to="Gemeente Lindendal")),
    ([Request(Action.EXTEND)], Request(Action.EXTEND_WITH_CONSENT, consent=date(2026, 11, 19),
                                       until=date(2027, 2, 1))),
], ids=["extension", "answer", "not_handled", "forwarded", "consent"])
def test_the_preview_is_exactly_the_letter_then_sent(tmp_path: Path, sqlite_url: str, setup: list[Request],
                                                     request_: Request) -> None:
    filed = file_case(tmp_path, sqlite_url)
    for step in setup:
        cases.perform(filed.deps, filed.case_id, ANNA, step)
    before = state(filed)
    shown = cases.preview(filed.deps, filed.case_id, ANNA, request_)
    assert state(filed) == before  # a preview writes nothing
    done = cases.perform(filed.deps, filed.case_id, ANNA, request_)
    sent = letters(filed)[-1]
    assert sent.kind == done.letter and shown == plain(sent.raw)
    assert shown.count("\n") > 10 and filed.reference in shown


def test_a_saved_draft_blocks_closing_until_it_is_discarded(tmp_path: Path, sqlite_url: str) -> None:
    filed = file_case(tmp_path, sqlite_url)
    close = Request(Action.CLOSE, ending=CaseStatus.RESOLVED, note="Telefonisch opgelost.")
    version = cases.save_draft(filed.deps, filed.case_id, ANNA, "Beste heer De Vries, ...", "founded", None)
    assert refusal_code(lambda: cases.perform(filed.deps, filed.case_id, ANNA, close)) == No.DRAFT_PENDING
    cases.save_draft(filed.deps, filed.case_id, ANNA, "  ", "", version)
    assert cases.perform(filed.deps, filed.case_id, ANNA, close).status == "resolved"
    actions = [a for a, _, _ in audit_after(filed, 0) if a.startswith("case.")]
    assert actions == ["case.draft_saved", "case.draft_discarded", "case.closed"]


def test_sending_the_answer_clears_the_draft(tmp_path: Path, sqlite_url: str) -> None:
    filed = file_case(tmp_path, sqlite_url)
    cases.perform(filed.deps, filed.case_id, ANNA, Request(Action.SKIP_HEARING, ground="unfounded"))
    cases.save_draft(filed.deps, filed.case_id, ANNA, "Concept", "unfounded", None)
    cases.perform(filed.deps, filed.case_id, ANNA, Request(Action.ANSWER, text="Antwoord.", judgement="unfounded"))
    with filed.sessions() as s:
        case = s.get(Case, filed.case_id)
        assert case is not None and not (case.draft or {}).get("text") and case.handler == "anna"


@pytest.mark.parametrize("address", [None, "jan@example.nl\r\nbcc:x@y.nl"])
def test_a_case_without_usable_address_changes_without_a_letter(tmp_path: Path, sqlite_url: str,
                                                                address: str | None) -> None:
    filed = file_case(tmp_path, sqlite_url)
    with filed.sessions.begin() as s:
        s.get(Case, filed.case_id).complainant = address  # type: ignore[union-attr]
    done = cases.perform(filed.deps, filed.case_id, ANNA, Request(Action.EXTEND))
    assert (done.letter, done.no_address, done.due) == ("", True, date(2027, 1, 11))
    assert letters(filed) == []
    with filed.sessions() as s:
        assert s.get(Case, filed.case_id).extensions == 1  # type: ignore[union-attr]


def test_the_send_job_sends_a_letter_exactly_once(tmp_path: Path, db_url: str) -> None:
    filed = file_case(tmp_path, db_url)
    cases.perform(filed.deps, filed.case_id, ANNA, Request(Action.EXTEND))
    pickup = tmp_path / "out"
    first = send_once(filed.deps, PickupTransport(pickup))
    second = send_once(filed.deps, PickupTransport(pickup))
    assert (first.sent, second.sent) == (2, 0)  # the acknowledgement and the extension notice
    files = {p.name for p in pickup.glob("*.eml")}
    assert f"ack.{filed.reference}.1001_debrug.example.eml" in files and len(files) == 2
    [row] = letters(filed)
    assert row.status == "sent" and row.sent_at is not None
    sent = [(a, d.get("kind")) for a, _, d in audit_after(filed, 0) if a == "letter.sent"]
    assert len(sent) == 1


def test_letters_do_not_count_against_the_acknowledgement_limits(tmp_path: Path, db_url: str) -> None:
    filed = file_case(tmp_path, db_url)
    with filed.sessions() as s:
        daily, hourly = acks.recent_counts(s, {COMPLAINANT}, NOW), acks.hour_count(s, "debrug", NOW)
    cases.perform(filed.deps, filed.case_id, ANNA, Request(Action.EXTEND))
    cases.perform(filed.deps, filed.case_id, ANNA, Request(Action.CLOSE, ending=CaseStatus.FORWARDED, to="Waterschap"))
    assert len(letters(filed)) == 2
    with filed.sessions() as s:
        assert acks.recent_counts(s, {COMPLAINANT}, NOW + timedelta(minutes=1)) == daily
        assert acks.hour_count(s, "debrug", NOW + timedelta(minutes=1)) == hourly


def _second_mail(subject: str, message_id: str, in_reply_to: str = "") -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = f"Jan de Vries <{COMPLAINANT}>", "klachten@debrug.example"
    msg["Subject"], msg["Message-ID"] = subject, message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    msg["Date"] = "Fri, 20 Nov 2026 12:30:00 +0100"
    msg.set_content("Geachte heer/mevrouw,\n\nIk wil nog iets toevoegen over de balie: ook de week erna was het "
                    "weer raak.\n\nMet vriendelijke groet,\nJan de Vries\n")
    return msg.as_bytes()


def test_a_reply_to_a_merged_case_is_news_on_the_case_it_joined(tmp_path: Path, db_url: str) -> None:
    """Jan writes twice; the later case joins the earlier. His reply to the later one's acknowledgement
    marks the earlier case unread (where the handler works), and changes neither case's version."""
    filed = file_case(tmp_path, db_url)
    org = filed.deps.settings.organisations["debrug"]
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    box.add(_second_mail("Nog een klacht over de balie", "<klacht.4712@mail.example.nl>"))
    with open_mailbox(org) as opened:
        run_once(filed.deps, org, opened)
    with filed.sessions.begin() as s:
        later = s.scalars(select(Case).where(Case.id != filed.case_id)).one()
        later.status, later.kind, later.topic, later.formality = "new", "complaint", "staff", "formal"
        later_reference = later.reference
        ack_id = s.scalars(select(Acknowledgement.message_id).where(Acknowledgement.case_id == later.id)).one()
    cases.perform(filed.deps, later_reference, ANNA, Request(Action.MERGE, into=filed.reference))
    with filed.sessions() as s:
        versions = {c.reference: c.version for c in s.scalars(select(Case))}
    box.add(_second_mail(f"Re: Ontvangstbevestiging [{later_reference}]", "<klacht.4713@mail.example.nl>", ack_id))
    with open_mailbox(org) as opened:
        run_once(filed.deps, org, opened)
    with filed.sessions() as s:
        found = {c.reference: c for c in s.scalars(select(Case))}
        assert found[later_reference].status == "merged"
        assert found[filed.reference].unread_since is not None and found[later_reference].unread_since is not None
        assert {r: c.version for r, c in found.items()} == versions
