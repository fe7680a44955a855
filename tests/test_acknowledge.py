"""The acknowledgement mail: content per class and language, headers (no injection, threading,
Auto-Submitted, deterministic Message-ID), template overrides, and when none may be sent."""

from __future__ import annotations

import email
import email.header
import email.policy
import re
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from triage.addresses import OwnAddresses
from triage.config import Acknowledge, Organisation
from triage.domain import Address, Prediction
from triage.reasons import english
from triage.stages.acknowledge import Letter, compose, plan, suppressed

RECEIVED = datetime(2026, 3, 24, 9, 12, tzinfo=UTC)  # Tuesday 24 March 2026, 10:12 in Amsterdam
CREATED = RECEIVED + timedelta(seconds=5)


def organisation(**ack: object) -> Organisation:
    return Organisation.model_validate({
        "id": "lindendal", "name": "Gemeente Lindendal", "addresses": ["klachten@lindendal.example"],
        "domains": ["lindendal.example"], "mailbox": {"type": "maildir", "path": "/tmp/x"},
        "acknowledge": {"from": "Klachtenloket Lindendal <klachten@lindendal.example>",
                        "contact_name": "Anouk Verbeek", "contact_phone": "14 0599", **ack},
    })


def _prediction(kind: str, formality: str, language: str = "nl", unsure: tuple[str, ...] = ()) -> Prediction:
    return Prediction(kind=kind, topic="staff", formality=formality, language=language, unsure=unsure,
                      sure=not unsure)


def _letter(subject: str = "Klacht over de afhandeling van mijn aanvraag", name: str = "Jan de Vries",
            **kw: object) -> Letter:
    values: dict[str, object] = {"reference": "KL-2026-000042", "recipient": Address("jan@example.nl", name),
                                 "subject": subject, "received": RECEIVED,
                                 "original_message_id": "<abc.123@mail.example.nl>",
                                 "original_references": ("<older@mail.example.nl>",)}
    values.update(kw)
    return Letter(**values)  # type: ignore[arg-type]


def _render(prediction: Prediction | None, org: Organisation | None = None, **kw: object) -> EmailMessage:
    org = org or organisation()
    msg = compose(org, _letter(**kw), plan(org, prediction, RECEIVED), CREATED)
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _bodies(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def test_formal_complaint_in_dutch_states_term_date_and_next_steps() -> None:
    msg = _render(_prediction("complaint", "formal"))
    text, html = _bodies(msg)
    assert msg["Subject"] == "Ontvangstbevestiging: Klacht over de afhandeling van mijn aanvraag [KL-2026-000042]"
    for body in (text, html):
        assert "KL-2026-000042" in body
        assert "dinsdag 24 maart 2026" in body  # received
        assert "woensdag 6 mei 2026" in body  # due: 5 May is a holiday
        assert "dinsdag 2 juni 2026" in body  # after the one extension of 4 weeks
        assert "6 weken" in body and "4 weken" in body
        assert "Nationale ombudsman" in body
        assert "Anouk Verbeek" in body
        assert "uiterlijk" in body
    assert "Jan de Vries" in text


@pytest.mark.parametrize(("prediction", "due"), [
    (_prediction("complaint", "informal"), "donderdag 9 april 2026"),
    (_prediction("question", "informal"), "dinsdag 31 maart 2026"),
    (_prediction("complaint", "informal", unsure=("formality",)), "woensdag 6 mei 2026"),
    (None, "woensdag 6 mei 2026"),
])
def test_each_class_states_its_own_due_date(prediction: Prediction | None, due: str) -> None:
    text, html = _bodies(_render(prediction))
    assert due in text and due in html
    if prediction is None or prediction.unsure:
        assert "uiterlijk" in text


def test_english_mail_gets_an_english_acknowledgement() -> None:
    msg = _render(_prediction("complaint", "formal", language="en"), subject="Complaint about my carer")
    text, html = _bodies(msg)
    assert msg["Subject"] == "Acknowledgement of receipt: Complaint about my carer [KL-2026-000042]"
    assert msg["Content-Language"] == "en"
    assert "Wednesday, 6 May 2026" in text and "Wednesday, 6 May 2026" in html
    assert "National Ombudsman" in text
    assert "woensdag" not in text


def test_headers_thread_and_mark_the_mail_as_automatic() -> None:
    msg = _render(_prediction("question", "informal"))
    assert msg["Message-ID"] == "<ack.KL-2026-000042.0@lindendal.example>"
    assert msg["In-Reply-To"] == "<abc.123@mail.example.nl>"
    assert msg["References"] == "<older@mail.example.nl> <abc.123@mail.example.nl>"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["From"] == "Klachtenloket Lindendal <klachten@lindendal.example>"
    assert msg["To"] == "Jan de Vries <jan@example.nl>"
    assert msg.get_content_type() == "multipart/alternative"


def test_the_same_case_renders_the_same_message_id() -> None:
    assert _render(None)["Message-ID"] == _render(None)["Message-ID"]


def test_crlf_in_the_subject_cannot_inject_a_header() -> None:
    raw = compose(organisation(), _letter(subject="Klacht\r\nBcc: victim@example.com\r\n\r\nbody"),
                  plan(organisation(), None, RECEIVED), CREATED).as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in head and b"\nBcc:" not in head
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None
    assert "Bcc: …" in parsed["Subject"]  # the address itself is not quoted (issue 12: no links in our mail)


def test_long_non_ascii_subject_and_name_are_encoded_and_folded() -> None:
    subject = "Klacht over de behandeling door uw medewerker bij de balie — één keer en nooit weer " * 3
    name = "Ğülşen Çelik-van Ommeren-Özdemir Büyükşehirlioğlu-Kılıçdaroğlu"  # a name has five words at most
    raw = compose(organisation(), _letter(subject=subject, name=name), plan(organisation(), None, RECEIVED),
                  CREATED).as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b"\n" not in head.replace(b"\r\n", b"")
    assert all(len(line) <= 78 for line in head.split(b"\r\n") if not line.startswith(b"Content-Type"))
    assert all(len(word) <= 75 for word in re.findall(rb"=\?utf-8\?[bq]\?[^?]*\?=", head, re.I))  # RFC 2047
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert "één keer" in parsed["Subject"] and "KL-2026-000042" in parsed["Subject"]
    assert parsed["To"].addresses[0].addr_spec == "jan@example.nl"
    # RFC 2047 decoding (the stdlib's address parser adds a blank between encoded words: its own quirk)
    to = re.search(rb"\r\nTo: (.*?)\r\n(?! )", head, re.S).group(1).decode()  # type: ignore[union-attr]
    assert str(email.header.make_header(email.header.decode_header(to.replace("\r\n", "")))) == \
        f"{name} <jan@example.nl>"
    assert email.message_from_bytes(raw, policy=email.policy.default).get_body(("plain",)).get_content().count(
        "Ğülşen") == 1


def test_hostile_names_and_subjects_are_escaped_in_html() -> None:
    _text, html = _bodies(_render(None, subject="<script>alert(1)</script>", name="<img src=x onerror=alert(1)>"))
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html or "&lt;img" in html


def test_an_organisation_can_override_a_template(tmp_path: Path) -> None:
    (tmp_path / "nl").mkdir()
    (tmp_path / "nl" / "question.txt").write_text(
        "{% extends 'nl/base.txt' %}{% block content %}Eigen tekst {{ reference }} tot {{ due }}.\n"
        "{% endblock %}", encoding="utf-8")
    text, html = _bodies(_render(_prediction("question", "informal"), organisation(templates=str(tmp_path))))
    assert "Eigen tekst KL-2026-000042 tot dinsdag 31 maart 2026." in text
    assert "Eigen tekst" not in html  # the HTML version is still ours


NOW = datetime(2026, 3, 24, 12, 0, tzinfo=UTC)
OWN = OwnAddresses(frozenset({"klachten@lindendal.example"}), frozenset({"lindendal.example"}))


@pytest.mark.parametrize(("recipient", "received", "today", "why"), [
    (Address("jan@example.nl"), RECEIVED, 0, ""),
    (None, RECEIVED, 0, "nobody to answer"),
    (Address("klachten@lindendal.example"), RECEIVED, 0, "our own"),
    (Address("medewerker@lindendal.example"), RECEIVED, 0, "our own"),
    (Address("noreply@webshop.example"), RECEIVED, 0, "no-reply"),
    (Address("MAILER-DAEMON@mx.example.nl"), RECEIVED, 0, "no-reply"),
    (Address("jan@example.nl"), RECEIVED - timedelta(days=8), 0, "backlog"),
    (Address("jan@example.nl"), RECEIVED, 3, "in 24 hours"),
    (Address("jan@example.nl\r\nbcc: x@y.nl"), RECEIVED, 0, "not an address we can deliver to"),
    (Address("x" * 250 + "@example.nl"), RECEIVED, 0, "not an address we can deliver to"),
    (Address("jan@localhost"), RECEIVED, 0, "not an address we can deliver to"),
])
def test_suppression(recipient: Address | None, received: datetime, today: int, why: str) -> None:
    why_not = suppressed(recipient, OWN, received, NOW, Acknowledge(max_age_days=7, per_recipient_per_day=3), today)
    reason = english(why_not) if why_not else ""
    assert (why in reason) if why else reason == ""


def test_dates_are_written_out_with_babel() -> None:
    from triage.stages.acknowledge import long_date

    assert long_date(date(2026, 5, 6), "nl") == "woensdag 6 mei 2026"
    assert long_date(date(2026, 5, 6), "en") == "Wednesday, 6 May 2026"


def test_long_message_ids_stay_on_one_line_each_as_they_are() -> None:
    """The `email` package would write a long In-Reply-To or References as encoded words."""
    long_id = "<AM0PR07MB1234567890ABCDEF0123456789ABCDEF0123@AM0PR07MB1234.eurprd07.prod.outlook.com>"
    org = organisation(**{"from": "Klachtenloket <klachten@" + "zeer-lange-naam." * 5 + "lindendal.example>"})
    older = long_id.replace("<AM0", "<DB9")
    raw = compose(org, _letter(original_message_id=long_id, original_references=(older,)),
                  plan(org, None, RECEIVED), CREATED).as_bytes()
    lines = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    message_id = "<ack.KL-2026-000042.0@" + "zeer-lange-naam." * 5 + "lindendal.example>"
    assert f"Message-ID: {message_id}".encode() in lines
    assert f"In-Reply-To: {long_id}".encode() in lines
    assert f"References: {older} {long_id}".encode() in lines


@pytest.mark.parametrize("field", ["subject", "name"])
def test_an_encoded_word_in_the_subject_or_name_cannot_inject_a_header(field: str) -> None:
    """The `email` package decodes an encoded word it is given, CR/LF included (a literal one comes
    from a subject or name that was encoded twice)."""
    for value in ("=?utf-8?q?Klacht=0D=0ABcc:_victim@example.com?=", "Zoë =?utf-8?q?x=0D=0ABcc:_victim@example.com?="):
        raw = compose(organisation(), _letter(**{field: value}), plan(organisation(), None, RECEIVED),
                      CREATED).as_bytes()
        head = raw.split(b"\r\n\r\n", 1)[0]
        assert b"\nBcc:" not in head
        assert email.message_from_bytes(raw, policy=email.policy.default)["Bcc"] is None


FORGED_NAME = "Uw restitutie van 450 euro staat klaar"
FORGED_SUBJECT = ("Uw restitutie van 450 euro staat klaar - bel 0900-1234567 of 06-12345678, "
                  "of kijk op https://terugbetaling.example/claim?id=88 en www.geld-terug.example")


@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_forged_name_and_subject_carry_no_link_no_phone_number_and_no_greeting(language: str) -> None:
    msg = _render(_prediction("complaint", "informal", language=language), subject=FORGED_SUBJECT,
                  name=FORGED_NAME)
    text, html = _bodies(msg)
    greeting = "Geachte heer/mevrouw," if language == "nl" else "Dear Sir or Madam,"
    for part in (text, html, msg["Subject"], msg["To"]):
        for bait in ("0900", "12345678", "terugbetaling", "geld-terug", "http", "www", "Geachte Uw", "Dear Uw"):
            assert bait not in part, (bait, part[:300])
    assert greeting in text and greeting in html
    assert msg["To"] == "jan@example.nl"
    assert "Uw restitutie van 450 euro staat klaar - bel …" in text  # what is left: words only
    assert "<a " not in html.split("<body", 1)[1].split(">", 1)[1].split("mailto:")[0]  # no link before the contact


@pytest.mark.parametrize(("subject", "quoted"), [
    ("Kliko niet geleegd, zie kliko-lindendal.nl/melding/123", "Kliko niet geleegd, zie …"),
    ("Bel mij terug op +31 6 1234 5678 of 020 - 123 45 67", "Bel mij terug op … of …"),
    ("Reactie op KLIKO.NL en mijn mail aan info@lindendal.example", "Reactie op … en mijn mail aan …"),
    ("Klacht van 12-03-2026 14:30 over rekening 123456789", "Klacht van 12-03-2026 14:30 over rekening …"),
    ("Re: Ontvangstbevestiging: Stoep los [KL-2026-000042]", "Re: Ontvangstbevestiging: Stoep los [KL-2026-000042]"),
    ("https://evil.example", ""),
    ("Lange klacht " + "over de stoep in de Kastanjelaan " * 6,
     "Lange klacht over de stoep in de Kastanjelaan over de stoep in de Kastanjelaan…"),
])
def test_the_quoted_subject_is_short_and_has_no_links_or_phone_numbers(subject: str, quoted: str) -> None:
    from triage.stages.quoting import quoted_subject

    assert quoted_subject(subject) == quoted


@pytest.mark.parametrize(("name", "used"), [
    ("Jan de Vries", True), ("J.P. van der Berg", True), ("Vries, Jan de", True), ("Anne-Marie O'Neill", True),
    ("Zoë Çelik-van Ommeren", True), ("Ğülşen Yılmaz", True), ("Dr. Jansen", True),
    ("Uw restitutie van 450 euro", False), ("jan@example.nl", False), ("evil.example", False),
    ("Bel www.x.nl", False), ("Kijk op https://x", False), ("Jan2", False), ("<img src=x>", False),
    ("Lees dit " * 12, False), ("J", False),
])
def test_a_display_name_is_used_only_when_it_looks_like_a_name(name: str, used: bool) -> None:
    from triage.stages.quoting import greeting_name

    assert greeting_name(name) == (name.strip() if used else "")


def test_the_subject_kept_for_the_case_page_reads_as_the_complainant_reads_it() -> None:
    from triage.domain import AckPlan
    from triage.stages.acknowledge import render

    org = organisation()
    p = plan(org, _prediction("complaint", "formal"), RECEIVED)
    letter = _letter(subject="Paspoortafspraak wéér geannuleerd – vergunning PV-2026-18834")
    ack = AckPlan(template="nl/formal_complaint", due=p.due, recipient=letter.recipient, suppressed=None, plan=p,
                  letter=letter)
    rendered = render(org, ack, "KL-2026-000042", CREATED)
    assert rendered.raw is not None and b"=?utf-8?" in rendered.raw  # the header itself is encoded
    assert rendered.subject == "Ontvangstbevestiging: Paspoortafspraak wéér geannuleerd - vergunning PV-… " \
                               "[KL-2026-000042]"
