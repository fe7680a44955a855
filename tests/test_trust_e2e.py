"""No backscatter, end to end (Dovecot, aiosmtpd, SQLite and PostgreSQL): a forward forged in our
domain's name, or a Reply-To set by anyone, cannot make the daemon write to a third party. A
forward our mail server verified still reaches the citizen it names."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage
from pathlib import Path

import pytest
from servers import Dovecot, SmtpServer
from sqlalchemy import select
from test_ack_e2e import Run

from triage.store.models import Case, Message

VICTIM = "m.jansen@example.nl"
CITIZEN_TEXT = (
    "Geachte heer, mevrouw,\n\nOp 3 november heb ik een klacht ingediend over de behandeling van mijn aanvraag "
    "voor een gehandicaptenparkeerkaart. Ik heb nog steeds geen ontvangstbevestiging gekregen en niemand "
    "neemt de telefoon op. Ik wil dat mijn klacht formeel wordt behandeld.\n\nHoogachtend,\nM. Jansen\n")


@pytest.fixture
def run(tmp_path: Path, db_url: str, dovecot: Dovecot, smtp_server: SmtpServer) -> Run:
    """The organisation configured as the demo's: its server's authserv-id, DMARC enforced, two colleagues."""
    return Run(tmp_path, db_url, dovecot, smtp_server, f"trust-{tmp_path.name[-12:]}")


def _forward(sender: str, results: tuple[str, ...], subject: str) -> bytes:
    """A forward of M. Jansen's complaint, as our server delivers it: its verdicts on top."""
    msg = EmailMessage()
    for value in results:
        msg["Authentication-Results"] = value
    msg["From"], msg["To"], msg["Subject"] = sender, "klachten@lindendal.example", subject
    msg["Message-ID"] = email.utils.make_msgid(domain="lindendal.example")
    msg["Date"] = email.utils.formatdate(localtime=True)
    msg.set_content(
        "Ter info, kunnen jullie dit oppakken?\n\n-----Oorspronkelijk bericht-----\n"
        f"Van: M. Jansen <{VICTIM}>\nVerzonden: dinsdag 10 november 2026 09:12\n"
        "Aan: Burgerzaken <burgerzaken@lindendal.example>\nOnderwerp: Klacht behandeling parkeerkaart\n\n"
        + CITIZEN_TEXT)
    return msg.as_bytes()


FORGED = _forward(
    "Gemeente Lindendal <restitutie@lindendal.example>",
    ("mx.lindendal.example; spf=fail smtp.mailfrom=lindendal.example; "
     "dmarc=fail (p=none dis=none) header.from=lindendal.example",),
    "Uw restitutie van 450 euro staat klaar - bel 0900-1234567")
GENUINE = _forward(
    "Karin Smits <k.smits@lindendal.example>",
    ("mx.lindendal.example; dkim=pass (2048-bit key) header.d=lindendal.example header.s=sel2026; "
     "dmarc=pass (p=reject dis=none) header.from=lindendal.example",),
    "FW: Klacht behandeling parkeerkaart")


def _case(run: Run, sender: str) -> Case:
    with run.sessions() as s:
        message = s.scalars(select(Message).where(Message.sender == sender)).one()
        case = message.case
        assert case is not None
        s.expunge_all()
        return case


def test_a_forged_staff_forward_writes_to_nobody_and_waits_in_review(run: Run) -> None:
    run.dovecot.append(run.user, [FORGED])
    run.poll()
    assert run.send() == 0
    assert run.smtp.sink.received == [], "nothing goes to the person the forged forward names"
    case = _case(run, "restitutie@lindendal.example")
    assert case.status == "needs_review" and case.complainant is None
    assert ["nobody_to_answer", {"cause": "forward_unverified"}] in case.review_reasons
    assert "forwarded, sender not verified" in case.review_reason
    assert len(run.dovecot.uids(run.user, "Triage/Review")) == 1


def test_the_same_forward_verified_by_our_server_is_acknowledged_to_the_citizen(run: Run) -> None:
    run.dovecot.append(run.user, [GENUINE])
    run.poll()
    assert run.send() == 1
    [(_sender, recipients, _raw)] = run.smtp.sink.received
    assert recipients == [VICTIM]
    case = _case(run, "k.smits@lindendal.example")
    assert case.complainant == VICTIM and case.forwarded_by == "k.smits@lindendal.example"


def _complaint(sender: str, reply_to: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Reply-To"] = sender, "klachten@lindendal.example", reply_to
    msg["Subject"] = "Lift Esdoornflat staat weer stil"
    msg["Message-ID"] = email.utils.make_msgid(domain="kpnmail.example")
    msg["Date"] = email.utils.formatdate(localtime=True)
    msg.set_content("Beste mensen,\n\nDe lift in de Esdoornflat staat sinds vrijdag stil. Mijn moeder van 84 kan "
                    "de deur niet meer uit. Dit is de derde keer dit jaar.\n\nGroet,\nHans Ouwehand\n")
    return msg.as_bytes()


def test_an_outsiders_reply_to_is_not_followed_and_several_wait_for_a_person(run: Run) -> None:
    run.dovecot.append(run.user, [
        _complaint("Hans Ouwehand <h.ouwehand@kpnmail.example>", f"Iemand Anders <{VICTIM}>"),
        _complaint("Petra Wouters <p.wouters@ziggo.example>", f"Petra <p.wouters@ziggo.example>, {VICTIM}"),
    ])
    run.poll()
    assert run.send() == 1
    assert [to for _f, to, _raw in run.smtp.sink.received] == [["h.ouwehand@kpnmail.example"]]
    several = _case(run, "p.wouters@ziggo.example")
    assert several.status == "needs_review" and several.complainant is None
    assert ["nobody_to_answer", {"cause": "reply_to_several"}] in several.review_reasons
