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


FIXTURES = Path(__file__).parent / "fixtures" / "trust"


def _cases(run: Run) -> dict[str, Case]:
    """Every case, by the From address of its message."""
    with run.sessions() as s:
        found = {m.sender: m.case for m in s.scalars(select(Message)) if m.case is not None}
        s.expunge_all()
        return found


def test_a_forward_with_several_from_addresses_or_an_encoded_verdict_writes_to_nobody(run: Run) -> None:
    """`From: <colleague>, <mallory>`, two From fields (the first a listed colleague, DMARC enforced),
    and a verdict under our id hidden in an RFC 2047 encoded word: none of them is trusted."""
    run.dovecot.append(run.user, [(FIXTURES / name).read_bytes() for name in (
        "two-from-addresses.eml", "two-from-fields.eml", "encoded-authentication-results.eml")])
    run.poll()
    assert run.send() == 0
    assert run.smtp.sink.received == [], "nothing goes to the citizens the forwards name"
    cases = _cases(run)
    for sender, cause in (("j.vermeulen@lindendal.example", "from_several"),
                          ("a.degroot@lindendal.example", "from_several"),
                          ("restitutie@lindendal.example", "forward_unverified")):
        case = cases[sender]
        assert case.status == "needs_review" and case.complainant is None and case.forwarded_by is None, sender
        assert ["nobody_to_answer", {"cause": cause}] in case.review_reasons, sender
    assert "several From addresses" in cases["j.vermeulen@lindendal.example"].review_reason
    assert len(run.dovecot.uids(run.user, "Triage/Review")) == 3


# P. de Boer's address as a form can spell it: each spelling is one mailbox (UTS 46 maps them).
SPELLINGS = ["victim@example.nl", "victim@ｅxample.nl", "victim@eｘample.nl", "VICTIM@Example.NL",
             "victim@example。nl", "victim@ｅｘample.nl", "victim@examｐle.nl", "victim@exampｌe.nl"]


def _form(n: int, reply_to: str, sender: str = "Formulier <noreply@formulieren.example>") -> bytes:
    return (f"From: {sender}\nReply-To: P. de Boer <{reply_to}>\nTo: klachten@lindendal.example\n"
            f"Subject: Klacht parkeervergunning {n}\nMessage-ID: <rk{n}.{abs(hash(reply_to))}@formulieren.example>\n"
            "Date: Thu, 03 Dec 2026 10:00:00 +0100\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: 8bit\n\nGeachte heer, mevrouw,\n\nIk wil een klacht indienen over de "
            "afhandeling van mijn aanvraag voor een parkeervergunning. Ik heb drie keer gebeld en niemand heeft "
            "mij teruggebeld.\n\nMet vriendelijke groet,\nP. de Boer\n").encode()


def test_full_width_spellings_of_one_address_share_its_daily_limit_and_ours_stay_ours(run: Run) -> None:
    """Eight form messages whose Reply-To spells one address eight ways get the limit's three
    acknowledgements, not eight; mail from our own address in full-width letters is not answered."""
    ours = ("From: Klachtenloket <klachten@ｌindendal.example>\nTo: klachten@lindendal.example\n"
            "Subject: Lantaarnpaal Dorpsstraat kapot\nMessage-ID: <own.1@lindendal.example>\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
            "Beste collega's,\n\nDe lantaarnpaal voor Dorpsstraat 12 brandt al twee weken niet.\n\nGroet\n").encode()
    run.dovecot.append(run.user, [_form(n, addr) for n, addr in enumerate(SPELLINGS)] + [ours])
    run.poll()
    assert run.send() == 3
    assert [to for _f, to, _raw in run.smtp.sink.received] == [["victim@example.nl"]] * 3
    rows = run.acks()
    assert {r.recipient for r in rows if r.status != "suppressed"} == {"victim@example.nl"}
    limited = [r for r in rows if r.status == "suppressed" and r.recipient == "victim@example.nl"]
    assert len(limited) == 5 and all("already 3 acknowledgements to victim@example.nl" in r.reason for r in limited)
    assert _cases(run)["klachten@lindendal.example"].complainant is None, "our own address, however spelled"
