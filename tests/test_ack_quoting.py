"""What an outsider writes does not reach our acknowledgement as a link, a phone number or a
greeting, end to end: Dovecot, the poll, the send job and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

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
