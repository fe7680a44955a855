"""What an outsider writes does not reach our acknowledgement as a link, a phone number or a
greeting, end to end: Dovecot, the poll, the send job and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from servers import Dovecot, SmtpServer
from test_ack_e2e import Run, _complaint


@pytest.fixture
def run(tmp_path: Path, sqlite_url: str, dovecot: Dovecot, smtp_server: SmtpServer) -> Run:
    return Run(tmp_path, sqlite_url, dovecot, smtp_server, f"quote-{tmp_path.name[-12:]}")


def test_a_pitch_in_the_name_and_subject_is_not_repeated_in_the_acknowledgement(run: Run) -> None:
    run.dovecot.append(run.user, [_complaint(
        '"Uw restitutie van 450 euro staat klaar" <slachtoffer@example.nl>',
        "Terugbetaling gemeentelijke belastingen: bel 0900-1234567 of ga naar www.lindendal-restitutie.example/claim",
        "Geachte heer/mevrouw,\n\nIk heb een aanslag afvalstoffenheffing ontvangen die ik al betaald had. "
        "Graag hoor ik hoe ik mijn geld terugkrijg.\n\nMet vriendelijke groet")])
    run.poll()
    assert run.send() == 1
    (ack,) = run.smtp.sink.messages()
    text = ack.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = ack.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for part in (text, html, str(ack["Subject"]), str(ack["To"])):
        for bait in ("0900", "1234567", "restitutie.example", "www.lindendal", "/claim", "450 euro", "Geachte Uw"):
            assert bait not in part, (bait, part[:200])
    assert "Geachte heer/mevrouw," in text and "Geachte heer/mevrouw," in html
    assert "Terugbetaling gemeentelijke belastingen: bel … of ga naar …" in text
    assert str(ack["To"]) == "slachtoffer@example.nl"


# A "form service" (any no-reply sender) whose Reply-To is the victim: the pitch is in the Reply-To
# name and in a subject with an en dash in the number and a Lisu letter for the dot (issue 12, F3).
PITCH_VIA_FORM = (
    b"From: Formulier <noreply@forms-restitutie.example>\r\n"
    b"Reply-To: Uw Restitutie Staat Klaar Bel Direct Onze Klantenservice\r\n <slachtoffer@derden.example>\r\n"
    b"To: klachten@lindendal.example\r\n"
    b"Subject: Klacht parkeervergunning: restitutie 450 euro klaar, bel \r\n"
    b" =?utf-8?q?0900=E2=80=931234567?= of zie =?utf-8?q?lindendal-restitutie?=\r\n =?utf-8?q?=EA=93=B8nl?=\r\n"
    b"Message-ID: <179630458447.30224.871202@forms-restitutie.example>\r\n"
    b"Date: Thu, 03 Dec 2026 10:00:00 +0100\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nMIME-Version: 1.0\r\n\r\n"
    b"Geachte heer, mevrouw,\r\n\r\nIk wil een klacht indienen over de afhandeling van mijn aanvraag voor een "
    b"parkeervergunning. Ik heb drie keer gebeld en niemand heeft mij teruggebeld. Ik verwacht binnen twee "
    b"weken een reactie.\r\n\r\nMet vriendelijke groet,\r\nP. de Boer\r\n")


def test_a_letter_to_a_reply_to_address_repeats_neither_its_name_nor_the_subject(run: Run) -> None:
    run.dovecot.append(run.user, [PITCH_VIA_FORM])
    run.poll()
    assert run.send() == 1
    (ack,) = run.smtp.sink.messages()
    assert ack["To"].addresses[0].addr_spec == "slachtoffer@derden.example"
    text = ack.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = ack.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for part in (text, str(ack["Subject"])):  # the HTML has its colours in hex
        assert not re.search(r"\d(?:\D{0,3}\d){4}", re.sub(r"KL-2026-\d{6}|20\d\d", "", part)), part[:300]
    for part in (text, html, str(ack["Subject"]), str(ack["To"])):
        for bait in ("0900", "1234567", "restitutie", "Restitutie", "Klantenservice", "Geachte Uw", "450 euro", "ꓸnl",
                     "parkeervergunning"):
            assert bait not in part, (bait, part[:300])
    assert "Geachte heer/mevrouw," in text and "Geachte heer/mevrouw," in html
