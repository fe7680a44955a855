"""No loops with ticket systems, end to end (Dovecot, aiosmtpd, SQLite and PostgreSQL): a helpdesk
that answers our acknowledgements from a new address per ticket, keeping our subject or our
Message-ID and sending no Auto-Submitted, gets one acknowledgement in all, however many rounds."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage
from pathlib import Path

import pytest
from servers import Dovecot, SmtpServer
from sqlalchemy import select
from test_ack_e2e import Run, _complaint

from triage.store.models import Acknowledgement, Case, Message

VENDOR = "helpdesk.woonzorg-service.example"
OPENING = _complaint(
    "Marieke Dijkstra <m.dijkstra@woonzorg-service.example>", "Lekkage in de algemene ruimte Populierflat",
    "Geachte heer/mevrouw,\n\nNamens de bewoners van de Populierflat meld ik dat het in de algemene ruimte op "
    "de begane grond al drie weken lekt. De emmers lopen elke nacht over. Wij hebben uw aannemer twee keer "
    "gebeld maar er komt niemand.\n\nMet vriendelijke groet,\nMarieke Dijkstra\nWoonzorg Service\n")


@pytest.fixture
def run(tmp_path: Path, db_url: str, dovecot: Dovecot, smtp_server: SmtpServer) -> Run:
    return Run(tmp_path, db_url, dovecot, smtp_server, f"loop-{tmp_path.name[-12:]}")


def _ticket_answer(ack: EmailMessage, n: int) -> bytes:
    """Ticket n's automatic answer, in one of the three ways helpdesk software writes it."""
    msg = EmailMessage()
    style = n % 3
    if style == 0:  # a new sender per ticket, threaded on our acknowledgement
        msg["From"] = f"Woonzorg Service Helpdesk <ticket-{1000 + n}@{VENDOR}>"
        msg["In-Reply-To"] = msg["References"] = ack["Message-ID"]
        msg["Subject"] = f"RE: {ack['Subject']} [Ticket#{1000 + n}]"
    elif style == 1:  # a +tag per ticket, our subject kept, no threading headers at all
        msg["From"] = f"support+{n}@{VENDOR}"
        msg["Subject"] = f"[#{n}] {ack['Subject']}"
    else:  # one sender, a per-ticket Reply-To
        msg["From"] = f"Servicedesk <servicedesk@{VENDOR}>"
        msg["Reply-To"] = f"ticket-{n}-reply@{VENDOR}"
        msg["In-Reply-To"] = ack["Message-ID"]
        msg["Subject"] = f"Uw melding is geregistreerd: {ack['Subject']}"
    msg["To"] = "klachten@lindendal.example"
    msg["Message-ID"] = email.utils.make_msgid(domain=VENDOR)
    msg["Date"] = email.utils.formatdate(localtime=True)
    msg.set_content(f"Beste klant,\n\nUw bericht is bij ons geregistreerd onder ticketnummer {1000 + n}. "
                    "Wij nemen zo snel mogelijk contact met u op.\n\nMet vriendelijke groet,\nHelpdesk")
    return msg.as_bytes()


def test_a_ticket_system_answering_every_acknowledgement_gets_only_the_first(run: Run) -> None:
    run.dovecot.append(run.user, [OPENING])
    run.poll()
    assert run.send() == 1
    answered: set[str] = set()
    for n in range(1, 11):  # each round the helpdesk answers every acknowledgement it has, and the last again
        acks = run.smtp.sink.messages()
        fresh = [a for a in acks if a["Message-ID"] not in answered] or acks[-1:]
        answered |= {a["Message-ID"] for a in fresh}
        run.dovecot.append(run.user, [_ticket_answer(ack, n * 10 + i) for i, ack in enumerate(fresh)])
        run.poll()
        run.send()
    assert len(run.smtp.sink.received) == 1, [m["To"] for m in run.smtp.sink.messages()]
    with run.sessions() as s:
        first = s.scalars(select(Case).order_by(Case.id)).first()
        assert first is not None
        answers = list(s.scalars(select(Message).where(Message.sender.like(f"%@{VENDOR}"))))
        assert len(answers) >= 10
        for answer in answers:  # each a case for a person, never a new acknowledgement
            assert answer.disposition == "review" and answer.case is not None
            assert answer.case.status == "needs_review"
            assert any(r[0] == "reference_other_sender" and r[1]["reference"] == first.reference
                       for r in answer.case.review_reasons), answer.case.review_reasons
        rows = list(s.scalars(select(Acknowledgement).where(Acknowledgement.case_id != first.id)))
        assert rows and {r.status for r in rows} == {"suppressed"}
        assert {r.reasons[0][0] for r in rows} == {"reply_to_our_mail"}


def test_a_reply_naming_an_unknown_reference_of_ours_is_reviewed_not_acknowledged(run: Run) -> None:
    run.dovecot.append(run.user, [_complaint(
        "Gerrit Bosman <g.bosman@example.nl>", "Re: Ontvangstbevestiging: Kapotte lantaarnpaal [KL-2026-999999]",
        "Ik wacht nog steeds op antwoord over de lantaarnpaal in de Beukenlaan.")])
    run.poll()
    assert run.send() == 0
    (row,) = run.acks()
    assert row.status == "suppressed" and row.reasons[0] == ["reply_to_our_mail", {"reference": "KL-2026-999999"}]
    assert row.case.status == "needs_review"


ISSUES = "support-desk.example"  # answers from issue-<n>@, a local part that does not look like a machine's


def _issue_mail(n: int, in_reply_to: str = "", subject: str = "") -> bytes:
    head = (f"From: Support Desk <issue-{n}@{ISSUES}>\r\nTo: klachten@lindendal.example\r\n"
            f"Subject: {subject or f'[ISSUE-{n}] Uw bericht is ontvangen'}\r\n"
            f"Message-ID: <m{n}.{n * 7919}@{ISSUES}>\r\nDate: Thu, 03 Dec 2026 10:{n:02d}:00 +0100\r\n")
    if in_reply_to:
        head += f"In-Reply-To: {in_reply_to}\r\nReferences: {in_reply_to}\r\n"
    return (head + "Content-Type: text/plain; charset=utf-8\r\n\r\nBeste klant,\r\n\r\nWij hebben uw bericht "
            f"ontvangen en geregistreerd onder nummer ISSUE-{n}. Een medewerker neemt zo snel mogelijk contact met "
            "u op over uw klacht.\r\n\r\nMet vriendelijke groet,\r\nSupport Desk\r\n").encode()


def _first_complaint(run: Run) -> None:
    run.dovecot.append(run.user, [_issue_mail(1, subject="Klacht over de afvalinzameling in de Kastanjelaan")
                                  .replace(b"Beste klant,\r\n\r\nWij hebben uw bericht ontvangen en geregistreerd",
                                           b"Geachte heer, mevrouw,\r\n\r\nDe container in onze straat is al drie "
                                           b"weken niet geleegd en het stinkt. Ik heb het gemeld")])
    run.poll()
    assert run.send() == 1


@pytest.mark.parametrize("style", ["lower", "nobrackets", "upper-in-references"])
def test_a_helpdesk_that_rewrites_our_message_id_gets_only_the_first_acknowledgement(run: Run, style: str) -> None:
    _first_complaint(run)
    n, answered = 1, set[str]()
    for _ in range(4):  # each round it answers every acknowledgement it has not answered yet, else the last
        acks = run.smtp.sink.messages()
        fresh = [a for a in acks if a["Message-ID"] not in answered] or acks[-1:]
        answered |= {a["Message-ID"] for a in fresh}
        for ack in fresh:
            n += 1
            ours = str(ack["Message-ID"]).strip()
            irt = {"lower": ours.lower(), "nobrackets": ours.strip("<>")}.get(style, "")
            mail = _issue_mail(n, irt)
            if style == "upper-in-references":
                extra = f"References: <x{n}@{ISSUES}> {ours.upper().strip('<>')}\r\nDate:"
                mail = mail.replace(b"Date:", extra.encode())
            run.dovecot.append(run.user, [mail])
        run.poll()
        run.send()
    assert len(run.smtp.sink.received) == 1, [m["To"] for m in run.smtp.sink.messages()]


def test_a_domain_that_answered_our_mail_from_another_address_is_counted_as_one_recipient(run: Run) -> None:
    _first_complaint(run)
    (ack,) = run.smtp.sink.messages()
    run.dovecot.append(run.user, [_issue_mail(2, str(ack["Message-ID"]).lower())])
    run.poll()
    assert run.send() == 0
    # then new tickets, each from its own address and threaded on nothing: one domain, one rate limit
    run.dovecot.append(run.user, [_issue_mail(n, subject=f"[ISSUE-{n}] Nieuwe melding ontvangen") for n in range(3, 9)])
    run.poll()
    run.send()
    assert len(run.smtp.sink.received) == 3, [m["To"] for m in run.smtp.sink.messages()]  # per_recipient_per_day
    limited = [r for r in run.acks() if r.reasons and r.reasons[0][0] == "rate_limited"]
    assert len(limited) == 4
