"""Acknowledgements end to end: a real Dovecot mailbox, a real SMTP server (aiosmtpd), SQLite and
PostgreSQL. One poll and one send over the demo mail; replies, our own mail coming back, an
out-of-office answer and a bounce produce no new acknowledgement; an SMTP outage delays, never
doubles; refusals are retried or failed."""

from __future__ import annotations

import email.utils
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import deps_for, imap_mailbox, sessions_for, settings_for, smtp_table
from servers import Dovecot, SmtpServer
from sqlalchemy import select

from triage.demo import example_messages
from triage.errors import ServerError
from triage.services.poll import poll_all
from triage.services.send import send_once
from triage.stages.acknowledge import long_date
from triage.store.models import Acknowledgement, Case, Message
from triage.training.registry import load_for_run

MACHINE = {"13-automatisch-antwoord.eml", "25-mailer-daemon-bounce.eml", "30-afwezigheidsmelding-wijkteam.eml",
           "33-nieuwsbrief-klachtbehandeling.eml"}


# How the demo's config verifies its colleagues' forwards and its website form (see triage.demo).
TRUST = """authserv_id = "mx.lindendal.example"
dmarc_enforced = true
staff = ["j.vermeulen@lindendal.example", "a.degroot@lindendal.example"]"""


def _config(tmp_path: Path, db_url: str, dovecot: Dovecot, smtp: SmtpServer, user: str, ack: str = "") -> Path:
    path = tmp_path / "triage.toml"
    path.write_text(f"""
[database]
url = "{db_url}"

{smtp_table(smtp)}
[outbox]
backoff = 0.1

[organisations.lindendal]
name = "Gemeente Lindendal"
addresses = ["klachten@lindendal.example"]
domains = ["lindendal.example"]
{TRUST}

[organisations.lindendal.acknowledge]
from = "Klachtenloket Lindendal <klachten@lindendal.example>"
contact_name = "Anouk Verbeek"
{ack}

[organisations.lindendal.mailbox]
{imap_mailbox(dovecot, user)}
""", encoding="utf-8")
    return path


class Run:
    """A configured organisation with its mailbox, database and SMTP server."""

    def __init__(self, tmp_path: Path, db_url: str, dovecot: Dovecot, smtp: SmtpServer, user: str,
                 ack: str = "") -> None:
        self.dovecot, self.smtp, self.user = dovecot, smtp, user
        self.settings = settings_for(_config(tmp_path, db_url, dovecot, smtp, user, ack))
        self.sessions = sessions_for(self.settings)
        self.classifier = load_for_run(None)

    def poll(self) -> None:
        poll_all(deps_for(self.settings, self.sessions, self.classifier))

    def send(self) -> int:
        deps = deps_for(self.settings, self.sessions)
        assert deps.transport() is not None
        return send_once(deps).sent

    def acks(self) -> list[Acknowledgement]:
        with self.sessions() as s:
            rows = list(s.scalars(select(Acknowledgement).order_by(Acknowledgement.id)))
            for row in rows:
                _ = row.case.reference
            s.expunge_all()
            return rows


@pytest.fixture
def run(tmp_path: Path, db_url: str, dovecot: Dovecot, smtp_server: SmtpServer) -> Run:
    return Run(tmp_path, db_url, dovecot, smtp_server, f"ack-{tmp_path.name[-12:]}")


def _body(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return part.get_content()


def test_one_poll_and_one_send_acknowledge_exactly_the_right_mail(run: Run) -> None:
    demo = dict(example_messages())
    run.dovecot.append(run.user, list(demo.values()))
    run.poll()
    assert run.send() > 0
    received = run.smtp.sink.messages()
    by_id = {m["Message-ID"]: m for m in received}
    assert len(by_id) == len(received), "an acknowledgement arrived twice"
    with run.sessions() as s:
        messages = {m.subject: m for m in s.scalars(select(Message))}
        cases = list(s.scalars(select(Case)))
        rows = {r.case_id: r for r in s.scalars(select(Acknowledgement))}
        assert len(cases) == len(rows), "every new case has exactly one acknowledgement row"
        sent = [r for r in rows.values() if r.status == "sent"]
        assert {r.message_id for r in sent} == set(by_id)
        for row in sent:
            msg, case = by_id[row.message_id], row.case
            language = row.template.split("/")[0]
            assert email.utils.parseaddr(msg["To"])[1] == case.complainant
            assert f"[{case.reference}]" in msg["Subject"]
            assert msg["Content-Language"] == language
            assert msg["Auto-Submitted"] == "auto-replied"
            # the complaint's due date; mail that another procedure governs is passed on without one
            passed_on = row.template.endswith("/passed_on")
            assert case.due_date is not None and (long_date(case.due_date, language) in _body(msg)) != passed_on
            opening = case.messages[0]
            if opening.forwarded_by is None and opening.message_id:
                assert msg["In-Reply-To"] == opening.message_id
        # a staff forward is acknowledged to the citizen who wrote, never to the colleague
        forward = next(m for m in messages.values() if m.forwarded_by == "j.vermeulen@lindendal.example")
        assert forward.case is not None and forward.case.complainant == "sandrakuipers@kpnmail.nl"
        assert rows[forward.case_id].status == "sent"
        assert "j.vermeulen@lindendal.example" not in {email.utils.parseaddr(m["To"])[1] for m in received}
        # the demo's Wmo complaint is also a notice of default (Awb 4:17): to review, passed on, no term
        wmo = next(m for m in messages.values() if m.sender == "m.schouten@xs4all.nl")
        assert wmo.case is not None and wmo.case.other_procedure == "ingebrekestelling"
        assert wmo.case.status == "needs_review" and rows[wmo.case_id].template == "nl/passed_on"
        # English mail gets English
        english = next(m for m in messages.values() if m.sender == "tom.whitfield@gmail.com")
        assert rows[english.case_id].template.startswith("en/")
        # a formal letter gets the formal term: six weeks, and the extension
        formal = next(m for m in messages.values() if m.sender == "lodewijk.verschuur@gmail.com")
        assert rows[formal.case_id].template == "nl/formal_complaint"
        assert formal.case is not None and formal.case.term == "6 weeks"
        assert "4 weken" in _body(by_id[rows[formal.case_id].message_id])
        # machine mail: filed as ignored, no case, nothing sent to its sender
        machine_senders = {m.sender for m in messages.values() if m.disposition == "ignored"}
        assert len(machine_senders) >= len(MACHINE) - 1
        assert not machine_senders & {email.utils.parseaddr(m["To"])[1] for m in received}
    assert run.send() == 0  # nothing left: the next run sends nothing again


def _reply_to(ack: EmailMessage, sender: str, *, auto: bool = False, subject: str = "") -> bytes:
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = "klachten@lindendal.example"
    reply["Subject"] = subject or f"Re: {ack['Subject']}"
    reply["Message-ID"] = email.utils.make_msgid(domain="example.nl")
    reply["In-Reply-To"] = ack["Message-ID"]
    reply["References"] = ack["Message-ID"]
    if auto:
        reply["Auto-Submitted"] = "auto-replied"
    reply.set_content("Dank u voor de bevestiging. Ik heb nog een foto van de situatie, zie bijlage.\n\nJan")
    return reply.as_bytes()


def _bounce(ack_raw: bytes, recipient: str) -> bytes:
    head = ack_raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.lindendal.example>\r\n"
        "To: klachten@lindendal.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {email.utils.make_msgid(domain='mx.lindendal.example')}\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at host mx.lindendal.example.\r\n"
        f"I'm sorry to have to inform you that your message could not be delivered to {recipient}.\r\n\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.lindendal.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        f"--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n{head}\r\n\r\n--b1--\r\n"
    ).encode()


def _complaint(sender: str, subject: str, text: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "klachten@lindendal.example", subject
    msg["Message-ID"] = email.utils.make_msgid(domain="example.nl")
    msg["Date"] = email.utils.formatdate(localtime=True)
    msg.set_content(text)
    return msg.as_bytes()


COMPLAINT = _complaint(
    "Jan Hofstede <jan.hofstede@example.nl>", "Stoeptegels al maanden los",
    "Goedemiddag,\n\nIn de Kastanjelaan liggen de stoeptegels voor nummer 12 tot 20 al sinds februari los. "
    "Mijn moeder is er vorige week over gestruikeld. Ik heb het twee keer gemeld via de app en er is niets "
    "gebeurd. Dit vind ik echt onacceptabel.\n\nMet vriendelijke groet,\nJan Hofstede\n")


def test_replies_our_own_mail_out_of_office_and_bounces_never_get_an_acknowledgement(run: Run) -> None:
    run.dovecot.append(run.user, [COMPLAINT])
    run.poll()
    assert run.send() == 1
    (_from, _to, ack_raw), = run.smtp.sink.received
    ack = run.smtp.sink.messages()[0]
    reference = run.acks()[0].case.reference
    loop = [
        ack_raw,  # our own acknowledgement delivered back into the mailbox
        _reply_to(ack, "Jan Hofstede <jan.hofstede@example.nl>"),  # the complainant answers it
        _reply_to(ack, "Jan Hofstede <jan.hofstede@example.nl>", auto=True,
                  subject=f"Automatisch antwoord: {ack['Subject']}"),  # an out-of-office answer to it
        _bounce(ack_raw, "jan.hofstede@example.nl"),  # and a bounce of it
    ]
    run.dovecot.append(run.user, loop)
    run.poll()
    assert run.send() == 0
    assert len(run.smtp.sink.received) == 1
    rows = run.acks()
    assert len(rows) == 1 and rows[0].status == "bounced" and "bounced" in rows[0].reason
    with run.sessions() as s:
        dispositions = Counter(m.disposition for m in s.scalars(select(Message)))
        joined = s.scalars(select(Message).where(Message.disposition == "joined")).one()
        assert joined.case is not None and joined.case.reference == reference
    assert dispositions == Counter({"filed": 1, "ignored": 3, "joined": 1}) or \
        dispositions == Counter({"review": 1, "ignored": 3, "joined": 1})
    assert run.dovecot.uids(run.user) == []


def test_smtp_outage_delays_acknowledgements_and_sends_each_once(run: Run) -> None:
    run.smtp.stop()
    run.dovecot.append(run.user, [COMPLAINT, _complaint(
        "Fatima el Amrani <f.elamrani@example.nl>", "Vraag over de kliko",
        "Hallo, wanneer wordt de groene kliko in de Berkenstraat weer geleegd? Groetjes, Fatima")])
    run.poll()
    for _ in range(3):  # the server is down: each run gives the rows back untouched
        with pytest.raises(ServerError, match="cannot reach SMTP server"):
            run.send()
    assert [(r.status, r.attempts) for r in run.acks()] == [("pending", 0), ("pending", 0)]
    run.smtp.start()
    assert run.send() == 2
    assert run.send() == 0
    recipients = Counter(to[0] for _f, to, _raw in run.smtp.sink.received)
    assert recipients == Counter({"jan.hofstede@example.nl": 1, "f.elamrani@example.nl": 1})


def test_refusals_are_retried_with_backoff_then_failed(run: Run) -> None:
    import time

    run.smtp.sink.refuse["jan.hofstede@example.nl"] = "451 4.3.0 mailbox busy, try again later"
    run.dovecot.append(run.user, [COMPLAINT])
    run.poll()
    assert run.send() == 0
    (row,) = run.acks()
    assert (row.status, row.attempts) == ("pending", 1) and "451" in row.reason
    assert run.send() == 0 and run.acks()[0].attempts == 1  # not due yet: backoff
    time.sleep(0.25)
    run.smtp.sink.refuse["jan.hofstede@example.nl"] = "550 5.1.1 no such user"
    run.send()
    (row,) = run.acks()
    assert (row.status, row.attempts) == ("failed", 2) and "550" in row.reason
    assert run.smtp.sink.received == []


def test_an_acknowledgement_that_cannot_be_written_is_recorded_and_the_poll_goes_on(
        tmp_path: Path, dovecot: Dovecot, smtp_server: SmtpServer, sqlite_url: str) -> None:
    broken = tmp_path / "broken"
    for language in ("nl", "en"):
        (broken / language).mkdir(parents=True)
        for name in ("formal_complaint", "informal_complaint", "question", "review"):
            (broken / language / f"{name}.txt").write_text("{{ no_such_value }}", encoding="utf-8")
    run = Run(tmp_path, sqlite_url, dovecot, smtp_server, f"broken-{tmp_path.name[-12:]}",
              ack=f'templates = "{broken}"')
    run.dovecot.append(run.user, [COMPLAINT])
    run.poll()
    assert run.send() == 0
    (row,) = run.acks()
    assert row.status == "failed" and "could not write the acknowledgement" in row.reason
    assert "no_such_value" in row.reason
    assert row.case.due_date is not None  # the case itself is filed, with its due date
    assert run.dovecot.uids(run.user) == []


def test_backlog_and_rate_limit_suppress_with_a_reason(run: Run) -> None:
    from datetime import datetime, timedelta

    with run.dovecot.client(run.user) as client:  # a first run over a mailbox with old mail
        client.append("INBOX", _complaint("Oud Bericht <oud@example.nl>", "Klacht van vorige maand",
                                          "Mijn klacht van vorige maand over de stoep is nog steeds niet opgelost."),
                      msg_time=datetime.now() - timedelta(days=30))
    same = [_complaint("Boze Burger <boos@example.nl>", f"Klacht {n}: alweer geen reactie",
                       f"Dit is mijn {n}e mail over de kapotte lantaarnpaal in de Lindelaan. Waarom doet u niets?")
            for n in range(1, 5)]
    run.dovecot.append(run.user, same)
    run.poll()
    assert run.send() == 3
    rows = {r.recipient: [] for r in run.acks()}
    for row in run.acks():
        rows[row.recipient].append((row.status, row.reason))
    assert rows["oud@example.nl"] == [("suppressed", rows["oud@example.nl"][0][1])]
    assert "more than 7 days ago (backlog)" in rows["oud@example.nl"][0][1]
    statuses = Counter(status for status, _ in rows["boos@example.nl"])
    assert statuses == Counter({"sent": 3, "suppressed": 1})
    assert any("already 3 acknowledgements to boos@example.nl in 24 hours" in why for _, why in rows["boos@example.nl"])
    assert Counter(to[0] for _f, to, _raw in run.smtp.sink.received) == Counter({"boos@example.nl": 3})


def _complaint_with_a_bad_header() -> bytes:
    """A genuine complaint from a mail program that writes its X-Mailer in a codec that is no
    charset, its HTML with Word's conditional sections and an unclosed `<![`."""
    html = ("<html><head><style>p.MsoNormal { margin: 0 }</style></head><body>"
            "<![if !supportLists]><p class=MsoNormal>Geachte heer, mevrouw,</p><![endif]>"
            "<p class=MsoNormal>Sinds twee weken wordt ons afval in de Kastanjelaan niet meer opgehaald. "
            "De containers staan vol en er lopen ratten rond.</p><p>Met vriendelijke groet,<br>Els de Boer</p>"
            "<![ </body></html>")
    return ("From: Els de Boer <els.deboer@example.nl>\r\nTo: klachten@lindendal.example\r\n"
            "Subject: Afval Kastanjelaan niet opgehaald\r\nDate: Tue, 1 Dec 2026 09:00:00 +0100\r\n"
            "Message-ID: <kastanjelaan-1@example.nl>\r\nX-Mailer: =?undefined?q?Kantoor_Mail_7=FF?=\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html).encode()


def test_a_complaint_with_an_undecodable_header_is_filed_and_acknowledged(run: Run) -> None:
    run.dovecot.append(run.user, [_complaint_with_a_bad_header()])
    run.poll()
    assert run.send() == 1
    [ack] = run.smtp.sink.messages()
    assert email.utils.parseaddr(ack["To"])[1] == "els.deboer@example.nl"
    with run.sessions() as s:
        message = s.scalars(select(Message)).one()
        assert message.disposition in {"filed", "review"} and message.attempts <= 1
        assert message.case is not None and "ratten" in message.text
