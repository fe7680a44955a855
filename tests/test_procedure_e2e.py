"""The procedure end to end (Dovecot, aiosmtpd, SQLite and PostgreSQL): a formal complaint is polled
and acknowledged, assigned, heard, extended (the notice names the new date, moved off Christmas)
and answered (threaded, with the ombudsman); the complainant's reply joins the case and marks it
unread; an SMTP outage delays the answer, never doubles it."""

from __future__ import annotations

import email.utils
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import deps_for
from servers import Dovecot, SmtpServer
from sqlalchemy import select
from test_ack_e2e import Run

from triage.errors import ServerError
from triage.procedure import Action
from triage.services.cases import Actor, Done, Request, perform
from triage.services.deps import Deps
from triage.services.poll import poll_all
from triage.services.send import send_once
from triage.store import users
from triage.store.models import Acknowledgement, Case, Message
from triage.store.scope import Scope

AMS = ZoneInfo("Europe/Amsterdam")
RECEIVED = datetime(2026, 10, 16, 9, 40, tzinfo=AMS)  # a Friday
COMPLAINANT = "Hendrik Mulder <h.mulder@example.nl>"
COMPLAINT_ID = "<klacht-wmo-2026-10-16@example.nl>"
APPEAL = 'appeal_name = "de Nationale ombudsman"\nappeal_url = "https://www.nationaleombudsman.nl"'
COORDINATOR = Actor("coordinator", "coordinator", Scope(frozenset({"lindendal"})))
HANDLER = Actor("m.devries", "staff", Scope(frozenset({"lindendal"})))

DAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")
CHRISTMAS = {date(2026, 12, 25), date(2026, 12, 26)}  # Eerste en Tweede Kerstdag


def dutch(day: date) -> str:
    return f"{DAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def first_working_day(day: date) -> date:
    while day.weekday() >= 5 or day in CHRISTMAS:
        day += timedelta(days=1)
    return day


def complaint() -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = COMPLAINANT, "klachten@lindendal.example"
    msg["Subject"] = "Formele klacht: Wmo-aanvraag na vijf maanden nog niet behandeld"
    msg["Message-ID"] = COMPLAINT_ID
    msg["Date"] = email.utils.format_datetime(RECEIVED)
    msg.set_content(
        "Geachte heer, mevrouw,\n\n"
        "Hierbij dien ik een formele klacht in over de behandeling van mijn aanvraag voor een scootmobiel op "
        "grond van de Wmo. Ik heb de aanvraag op 12 mei ingediend. De wettelijke termijn is al maanden "
        "verstreken en ik heb nog steeds geen beslissing ontvangen. Op mijn brief van 1 september heb ik nooit "
        "antwoord gekregen.\n\n"
        "Ik verzoek u mijn klacht formeel te behandelen en mij schriftelijk te laten weten wat u eraan gaat "
        "doen. Ik ben graag bereid mijn klacht toe te lichten in een gesprek.\n\n"
        "Hoogachtend,\n\nH. Mulder\nBerkenlaan 14\n1234 AB Lindendal\n")
    return msg.as_bytes()


def reply_to(answer: EmailMessage) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = COMPLAINANT, "klachten@lindendal.example"
    msg["Subject"] = f"Re: {answer['Subject']}"
    msg["Message-ID"] = "<reactie-op-antwoord@example.nl>"
    msg["In-Reply-To"] = answer["Message-ID"]
    msg["References"] = f"{COMPLAINT_ID} {answer['Message-ID']}"
    msg["Date"] = email.utils.format_datetime(datetime(2026, 12, 21, 19, 5, tzinfo=AMS))
    msg.set_content("Geachte mevrouw De Vries,\n\nDank voor uw antwoord. Ik ben het niet eens met uw oordeel over "
                    "de vertraging; ik wil dat graag nog toelichten.\n\nMet vriendelijke groet,\nH. Mulder\n")
    return msg.as_bytes()


class Procedure(Run):
    """The demo organisation with the ombudsman configured, a handler account and a clock to set."""

    def deps(self, at: datetime) -> Deps:
        deps: Deps = replace(deps_for(self.settings, self.sessions, self.classifier), clock=lambda: at.astimezone(UTC))
        return deps

    def poll_at(self, at: datetime) -> None:
        poll_all(self.deps(at))

    def send_at(self, at: datetime) -> int:
        return send_once(self.deps(at)).sent

    def act(self, actor: Actor, at: datetime, request: Request) -> Done:
        return perform(self.deps(at), self.reference(), actor, request)

    def reference(self) -> str:
        with self.sessions() as s:
            reference: str = s.scalars(select(Case.reference)).one()
            return reference

    def case(self) -> Case:
        with self.sessions() as s:
            case: Case = s.scalars(select(Case)).one()
            s.expunge_all()
            return case

    def letters(self) -> list[tuple[str, str, int]]:
        with self.sessions() as s:
            rows = s.scalars(select(Acknowledgement).order_by(Acknowledgement.id))
            return [(r.kind, r.status, r.attempts) for r in rows]

    def received_and_acknowledged(self) -> EmailMessage:
        """The complaint arrives on RECEIVED, is polled minutes later and acknowledged; a handler exists."""
        with self.dovecot.client(self.user) as client:
            client.append("INBOX", complaint(), msg_time=RECEIVED)
        self.poll_at(RECEIVED + timedelta(minutes=5))
        assert self.send_at(RECEIVED + timedelta(minutes=6)) == 1
        with self.sessions.begin() as s:
            users.add(s, HANDLER.name, "handler-wachtwoord-1", "staff", organisations=["lindendal"])
        [ack] = self.smtp.sink.messages()
        return ack


@pytest.fixture
def run(tmp_path: Path, db_url: str, dovecot: Dovecot, smtp_server: SmtpServer) -> Procedure:
    return Procedure(tmp_path, db_url, dovecot, smtp_server, f"proc-{tmp_path.name[-12:]}", ack=APPEAL)


def text(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return " ".join(part.get_content().split())


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=AMS)


def test_a_formal_complaint_is_acknowledged_heard_extended_answered_and_the_reply_joins(run: Procedure) -> None:
    ack = run.received_and_acknowledged()
    case = run.case()
    assert (case.status, case.kind, case.formality) == ("new", "complaint", "formal"), case.review_reasons
    due = first_working_day(RECEIVED.date() + timedelta(weeks=6))
    assert case.due_date == due and ack["In-Reply-To"] == COMPLAINT_ID
    reference = case.reference

    run.act(COORDINATOR, at(date(2026, 10, 19)), Request(Action.ASSIGN, handler=HANDLER.name))
    run.act(HANDLER, at(date(2026, 10, 20)), Request(Action.PLAN_HEARING, on=date(2026, 11, 3)))
    run.act(HANDLER, at(date(2026, 11, 3), 15), Request(
        Action.HOLD_HEARING, text="Gesprek met de heer Mulder en de Wmo-consulent; de aanvraag krijgt voorrang."))
    extended = first_working_day(RECEIVED.date() + timedelta(weeks=10))
    assert RECEIVED.date() + timedelta(weeks=10) in CHRISTMAS and extended == date(2026, 12, 28)
    done = run.act(HANDLER, at(date(2026, 11, 20)), Request(Action.EXTEND, note="wij wachten op het verslag"))
    assert (done.letter, done.due) == ("extension", extended)
    assert run.send_at(at(date(2026, 11, 20), 11)) == 1
    notice = run.smtp.sink.messages()[-1]
    assert f"U krijgt onze reactie nu uiterlijk {dutch(extended)}." in text(notice)
    assert f"uiterlijk {dutch(due)} een schriftelijke reactie" in text(notice)

    done = run.act(HANDLER, at(date(2026, 12, 18)), Request(
        Action.ANSWER, judgement="partly_founded",
        text="Uw aanvraag had binnen acht weken beslist moeten zijn. Uw aanvraag is inmiddels toegekend."))
    assert (done.status, done.letter) == ("answered", "answer")
    assert run.send_at(at(date(2026, 12, 18), 11)) == 1
    answer = run.smtp.sink.messages()[-1]
    assert answer["In-Reply-To"] == COMPLAINT_ID and f"[{reference}]" in answer["Subject"]
    assert answer["Auto-Submitted"] is None
    assert email.utils.parseaddr(answer["To"])[1] == "h.mulder@example.nl"
    assert "de Nationale ombudsman (https://www.nationaleombudsman.nl)" in text(answer)
    assert "Uw aanvraag is inmiddels toegekend." in text(answer)

    with run.dovecot.client(run.user) as client:
        client.append("INBOX", reply_to(answer), msg_time=datetime(2026, 12, 21, 19, 5, tzinfo=AMS))
    run.poll_at(datetime(2026, 12, 22, 8, 0, tzinfo=AMS))
    assert run.send_at(datetime(2026, 12, 22, 8, 1, tzinfo=AMS)) == 0
    assert len(run.smtp.sink.received) == 3  # acknowledgement, extension, answer: no new acknowledgement
    with run.sessions() as s:
        joined = s.scalars(select(Message).where(Message.message_id == "<reactie-op-antwoord@example.nl>")).one()
        assert joined.disposition == "joined" and joined.case is not None and joined.case.reference == reference
        assert s.scalars(select(Case)).one().unread_since is not None
    assert [kind for kind, _status, _attempts in run.letters()] == ["ack", "extension", "answer"]


def test_an_answer_waits_in_the_outbox_while_smtp_is_down_and_goes_out_once(run: Procedure) -> None:
    run.received_and_acknowledged()
    run.act(COORDINATOR, at(date(2026, 10, 19)), Request(Action.ASSIGN, handler=HANDLER.name))
    run.act(HANDLER, at(date(2026, 10, 20)), Request(Action.SKIP_HEARING, ground="waived"))
    run.smtp.stop()
    run.act(HANDLER, at(date(2026, 10, 21)), Request(Action.ANSWER, judgement="founded", text="U heeft gelijk."))
    for hour in (11, 12, 13):
        with pytest.raises(ServerError, match="cannot reach SMTP server"):
            run.send_at(at(date(2026, 10, 21), hour))
    assert run.letters()[-1] == ("answer", "pending", 0)  # an outage is not the letter's fault: no attempt spent
    run.smtp.start()
    assert run.send_at(at(date(2026, 10, 21), 14)) == 1
    assert run.send_at(at(date(2026, 10, 21), 15)) == 0
    assert run.letters()[-1][:2] == ("answer", "sent")
    answers = [m for m in run.smtp.sink.messages() if "U heeft gelijk." in text(m)]
    assert len(answers) == 1 and answers[0]["In-Reply-To"] == COMPLAINT_ID
