"""Mail that another procedure governs, and mail that reports danger, end to end: a real Dovecot
mailbox, a real SMTP server (aiosmtpd), SQLite and PostgreSQL. Each goes to review with a label
naming its procedure and term, is never filed automatically, and gets no complaint
acknowledgement: the one that goes out says the message was received and passed on, and states no
term. A message that reports danger is urgent and on top of the queue."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from servers import Dovecot, SmtpServer
from sqlalchemy import select
from test_ack_e2e import Run

from triage.reasons import Code, loaded
from triage.store.models import Acknowledgement, Case
from triage.store.review import Filters, queue
from triage.store.scope import Scope
from triage.web.words import reasons as dutch_reasons

SPECIAL = Path(__file__).parent / "fixtures" / "special" / "dev"
# each also a complaint, so that the model alone would have filed it with a complaint term
MESSAGES = {
    "woo": "004-woo-boos-parkeervergunning.eml",
    "avg": "019-avg-klacht-verkeerde-klant.eml",
    "bezwaar": "025-bezwaar-bijstand-bejegening.eml",
    "ingebrekestelling": "035-ingebreke-wmo-klacht.eml",
    "self_harm": "044-ggz-wachtlijst-suicidaal.eml",
    "hazard": "048-balkonhek-los.eml",
}
LABELS = {
    "woo": "Woo-verzoek (Wet open overheid): geen klacht: besluit binnen 4 weken",
    "avg": "AVG-verzoek van een betrokkene: geen klacht: antwoord binnen 1 maand",
    "bezwaar": "bezwaarschrift: geen klacht: stuur het meteen door",
    "ingebrekestelling": "ingebrekestelling: na 2 weken kan een dwangsom",
}
ORDINARY = b"""From: Petra Smit <petra.smit@ziggo.nl>
To: klachten@lindendal.example
Subject: Container al drie weken niet geleegd
Message-ID: <ordinary-1@ziggo.nl>
Content-Type: text/plain; charset=utf-8

Beste mensen, onze groene container aan de Beukenlaan is al drie weken niet geleegd. Ik heb twee
keer gebeld en er is niets gebeurd. Het stinkt en er zitten maden in. Kunnen jullie dit oplossen?

Petra Smit
"""


@pytest.fixture
def run(tmp_path: Path, db_url: str, dovecot: Dovecot, smtp_server: SmtpServer) -> Run:
    return Run(tmp_path, db_url, dovecot, smtp_server, f"special-{tmp_path.name[-12:]}")


def _plain(raw: bytes) -> str:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_special_messages_go_to_review_with_their_label_and_no_complaint_acknowledgement(run: Run) -> None:
    raws = {what: (SPECIAL / name).read_bytes() for what, name in MESSAGES.items()}
    run.dovecot.append(run.user, [*raws.values(), ORDINARY])
    run.poll()
    assert run.send() == len(MESSAGES) + 1
    sent = {m["Message-ID"]: m for m in run.smtp.sink.messages()}
    with run.sessions() as s:
        cases = {c.subject: c for c in s.scalars(select(Case))}
        acks = {a.case_id: a for a in s.scalars(select(Acknowledgement))}
        by_what = {}
        for what, raw in raws.items():
            subject = str(message_from_bytes(raw, policy=policy.default)["Subject"])
            by_what[what] = cases[subject]
        for what, case in by_what.items():
            assert case.status == "needs_review", what  # never filed automatically
            codes = [r.code for r in loaded(case.review_reasons)]
            ack = acks[case.id]
            body = _plain(sent[ack.message_id].as_bytes())
            assert "Reactie uiterlijk" not in body or what in ("self_harm", "hazard"), what
            if what in LABELS:
                assert case.other_procedure == what and Code.OTHER_PROCEDURE in codes
                assert LABELS[what] in dutch_reasons(case.review_reasons), dutch_reasons(case.review_reasons)
                assert ack.template.endswith("/passed_on")  # received and passed on
                assert "doorgezet naar de collega's die erover gaan" in body
                said = "\n".join(line for line in body.splitlines() if not line.startswith("Onderwerp:"))
                assert not any(word in said.lower() for word in ("uiterlijk", "weken", "werkdagen", "klacht")), said
                assert not case.urgent
            else:
                assert case.urgent and Code.DANGER in codes and case.other_procedure is None
                assert not ack.template.endswith(("formal_complaint", "informal_complaint"))
        assert "113" in _plain(sent[acks[by_what["self_harm"].id].message_id].as_bytes())
        assert "112" in _plain(sent[acks[by_what["hazard"].id].message_id].as_bytes())
        ordinary = cases["Container al drie weken niet geleegd"]
        assert not ordinary.urgent and ordinary.other_procedure is None
        assert "113" not in _plain(sent[acks[ordinary.id].message_id].as_bytes())
        # danger on top of the review queue, whatever the due dates say
        page = queue(s, Filters(), Scope(everything=True))
        assert {item.reference for item in page[:2]} == {by_what["self_harm"].reference, by_what["hazard"].reference}
        assert all(item.urgent for item in page[:2]) and not any(item.urgent for item in page[2:])


def test_a_reply_that_reports_danger_makes_its_case_urgent_and_gets_no_acknowledgement(run: Run) -> None:
    run.dovecot.append(run.user, [ORDINARY])
    run.poll()
    assert run.send() == 1
    (ack,) = run.smtp.sink.messages()
    reply = EmailMessage()
    reply["From"], reply["To"] = "Petra Smit <petra.smit@ziggo.nl>", "klachten@lindendal.example"
    reply["Subject"], reply["Message-ID"] = f"Re: {ack['Subject']}", "<reply-danger@ziggo.nl>"
    reply["In-Reply-To"] = reply["References"] = ack["Message-ID"]
    reply.set_content("Er is nog steeds niemand geweest. En nu ruik ik ook gas bij de meterkast in de gang.\n\nPetra")
    run.dovecot.append(run.user, [reply.as_bytes()])
    run.poll()
    assert run.send() == 0  # a reply is never acknowledged
    with run.sessions() as s:
        (case,) = s.scalars(select(Case))
        assert case.urgent and case.unread_since is not None
        joined = [m for m in case.messages if m.message_id == "<reply-danger@ziggo.nl>"]
        assert joined and Code.DANGER in [r.code for r in loaded(joined[0].reasons)]


def test_a_reply_to_address_cannot_make_another_persons_case_urgent(run: Run) -> None:
    run.dovecot.append(run.user, [ORDINARY])
    run.poll()
    assert run.send() == 1
    (ack,) = run.smtp.sink.messages()
    forged = EmailMessage()  # a no-reply sender the attacker owns, with the complainant in Reply-To
    forged["From"], forged["Reply-To"] = "noreply@attacker.example", "petra.smit@ziggo.nl"
    forged["To"], forged["Subject"] = "klachten@lindendal.example", f"Re: {ack['Subject']}"
    forged["Message-ID"] = "<forged-danger@attacker.example>"
    forged.set_content("Er is een gaslek bij de meterkast.")
    run.dovecot.append(run.user, [forged.as_bytes()])
    run.poll()
    with run.sessions() as s:
        (case,) = s.scalars(select(Case).where(Case.complainant == "petra.smit@ziggo.nl"))
        assert not case.urgent
