"""International addresses (RFC 6530-6532) end to end: Dovecot in, aiosmtpd out. A Unicode local
part goes out with SMTPUTF8 when the server offers it and fails with a reason when it does not; a
Unicode domain with an ASCII local part needs no SMTPUTF8: its domain travels as IDNA A-labels."""

from __future__ import annotations

import email.policy
import email.utils
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from conftest import unavailable
from servers import Dovecot, SmtpServer
from test_ack_e2e import Run

from triage.reasons import Code


def _complaint(sender: str, subject: str, text: str) -> bytes:
    """A complaint as an EAI client writes it: the From: address in UTF-8 (RFC 6532)."""
    msg = EmailMessage(policy=email.policy.SMTPUTF8)
    msg["From"], msg["To"], msg["Subject"] = sender, "klachten@lindendal.example", subject
    msg["Message-ID"] = email.utils.make_msgid(domain="exaemple.nl")
    msg["Date"] = email.utils.formatdate(localtime=True)
    msg.set_content(text)
    return msg.as_bytes()


JOHN = _complaint("Jöhn Müller <jöhn@exämple.nl>", "Lantaarnpaal Dorpsstraat al weken stuk",
                  "Geachte heer, mevrouw,\n\nDe lantaarnpaal voor Dorpsstraat 8 brandt al drie weken niet. Het is "
                  "'s avonds aardedonker op de stoep.\n\nMet vriendelijke groet,\nJöhn Müller\n")
SANNE = _complaint("Sanne Bakker <sanne@tuinen-weiß.nl>", "Vraag over de ophaaldag van het oud papier",
                   "Hallo,\n\nSinds de verhuizing weet ik niet meer op welke dag het oud papier wordt opgehaald "
                   "aan de Weverstraat. Kunt u dat laten weten?\n\nGroet, Sanne\n")


def _utf8_header(raw: bytes, name: str) -> Any:
    """One header of a received message read as RFC 6532 says (the `email` parser reads bytes as ASCII)."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8").replace("\r\n ", " ").split("\r\n")
    (value,) = [line.split(":", 1)[1].strip() for line in head if line.lower().startswith(name.lower() + ":")]
    return email.policy.default.header_factory(name, value)


@pytest.fixture(params=[True, False], ids=["smtputf8", "ascii-only"])
def server(request: pytest.FixtureRequest) -> Iterator[SmtpServer]:
    try:
        smtp = SmtpServer(enable_SMTPUTF8=request.param).start()
    except (ImportError, OSError, RuntimeError) as exc:
        unavailable(f"aiosmtpd cannot run here: {exc}")
        return
    yield smtp
    smtp.stop()


def _run(tmp_path: Path, sqlite_url: str, dovecot: Dovecot, smtp: SmtpServer, raw: bytes) -> Run:
    run = Run(tmp_path, sqlite_url, dovecot, smtp, f"idn-{tmp_path.name[-12:]}")
    run.dovecot.append(run.user, [raw])
    run.poll()
    run.send()
    return run


def test_a_unicode_local_part_goes_out_with_smtputf8_or_fails_with_a_reason(
        tmp_path: Path, sqlite_url: str, dovecot: Dovecot, server: SmtpServer) -> None:
    run = _run(tmp_path, sqlite_url, dovecot, server, JOHN)
    (row,) = run.acks()
    assert row.recipient == "jöhn@xn--exmple-cua.nl"  # stored in its one form; To: shows the domain as people read it
    if server.options["enable_SMTPUTF8"]:
        assert row.status == "sent"
        ((_mail_from, rcpt_to, raw),) = server.sink.received
        assert rcpt_to == ["jöhn@xn--exmple-cua.nl"]
        (to,) = _utf8_header(raw, "To").addresses
        assert (to.display_name, to.addr_spec) == ("Jöhn Müller", "jöhn@exämple.nl")
        assert "Jöhn Müller" in server.sink.messages()[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    else:
        assert (row.status, row.attempts) == ("failed", 1)
        assert row.reason == "the SMTP server does not accept international addresses (no SMTPUTF8): " \
                             "jöhn@xn--exmple-cua.nl"
        assert row.reasons[0][0] == Code.NO_SMTPUTF8
        assert server.sink.received == []
        assert run.send() == 0 and server.sink.received == []  # failed for good, not retried


def test_a_unicode_domain_with_an_ascii_local_part_travels_as_idna(
        tmp_path: Path, sqlite_url: str, dovecot: Dovecot, server: SmtpServer) -> None:
    run = _run(tmp_path, sqlite_url, dovecot, server, SANNE)
    (row,) = run.acks()
    assert row.status == "sent"
    ((_mail_from, rcpt_to, raw),) = server.sink.received
    assert rcpt_to == ["sanne@xn--tuinen-wei-f4a.nl"]  # IDNA 2008: ß stays ß (IDNA 2003 made it "ss")
    assert raw.isascii()  # the whole message: no SMTPUTF8 needed anywhere
    (msg,) = server.sink.messages()
    assert str(msg["To"]) == "Sanne Bakker <sanne@xn--tuinen-wei-f4a.nl>"


def test_a_domain_that_is_no_valid_international_name_is_not_acknowledged(
        tmp_path: Path, sqlite_url: str, dovecot: Dovecot, smtp_server: SmtpServer) -> None:
    run = _run(tmp_path, sqlite_url, dovecot, smtp_server, _complaint(
        "Piet Jansen <piet@regen☂.nl>", "Gat in de weg bij de Kerkstraat",  # ☂: printable, no IDNA 2008 name
        "Beste mensen,\n\nEr zit al maanden een diep gat in de weg voor Kerkstraat 3.\n\nPiet Jansen\n"))
    (row,) = run.acks()
    assert row.status == "suppressed" and "is not an address we can deliver to" in row.reason
    assert smtp_server.sink.received == []
