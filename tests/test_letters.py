"""The procedure's letters: each kind in Dutch and English with its dates written out, threaded to
the message that opened the case (not for a staff forward), the reference in the subject, personal
mail without Auto-Submitted, a Message-ID a reply is recognised by; hostile subjects and names
inject no header and are escaped in HTML; an organisation's template that drops the ombudsman
paragraph is refused; the digest says it is generated."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from triage.config import Organisation
from triage.domain import Address
from triage.stages.letters import DigestLine, LetterProblem, Paper, body, digest, write
from triage.stages.thread import _ACK_ID

REF = "KL-2026-000042"
RECEIVED = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)  # Monday 2 November 2026
CREATED = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
OPENING = "<CAF=12ab.opening@mail.example.nl>"


def organisation(**ack: object) -> Organisation:
    return Organisation.model_validate({
        "id": "lindendal", "name": "Gemeente Lindendal", "addresses": ["klachten@lindendal.example"],
        "domains": ["lindendal.example"], "mailbox": {"type": "maildir", "path": "/tmp/x"},
        "acknowledge": {"from": "Klachtenloket Lindendal <klachten@lindendal.example>",
                        "contact_name": "Anouk Verbeek", "contact_phone": "14 0599", **ack},
    })


def paper(kind: str, language: str, values: dict[str, Any], **kw: Any) -> Paper:
    fields: dict[str, Any] = {
        "kind": kind, "language": language, "reference": REF, "recipient": Address("jan@example.nl", "Jan de Vries"),
        "subject": "Klacht over de balie", "received": RECEIVED, "due": date(2026, 12, 14), "formal": True,
        "values": values, "original_message_id": OPENING, "original_references": ("<older@mail.example.nl>",),
        "signed_by": "Marie Jansen"}
    fields.update(kw)
    return Paper(**fields)


def parsed(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def parts(msg: EmailMessage) -> tuple[str, str]:
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content().replace("\r\n", "\n"), html.get_content()


# kind, language, values, extra Paper fields, the subject's title, phrases the text must hold
LETTERS: list[tuple[str, str, dict[str, Any], dict[str, Any], str, list[str]]] = [
    ("extension", "nl", {"old_due": date(2026, 12, 14), "new_due": date(2027, 1, 11), "extension": "4 weken",
                         "note": "Wij wachten op advies."},
     {}, "Verlenging van de behandeltermijn",
     ["Op maandag 2 november 2026 hebben wij uw klacht ontvangen", "uiterlijk maandag 14 december 2026",
      "met 4 weken", "nu uiterlijk maandag 11 januari 2027", "De reden: Wij wachten op advies."]),
    ("extension", "en", {"old_due": date(2026, 12, 14), "new_due": date(2027, 1, 11), "extension": "4 weeks",
                         "note": ""},
     {}, "Extension of the handling period",
     ["on Monday, 2 November 2026", "by Monday, 14 December 2026", "by 4 weeks",
      "by Monday, 11 January 2027 at the latest"]),
    ("consent", "nl", {"consent": date(2026, 11, 19), "new_due": date(2027, 1, 15)}, {},
     "Bevestiging nieuwe reactiedatum", ["U heeft op donderdag 19 november 2026 ingestemd",
                                         "uiterlijk vrijdag 15 januari 2027"]),
    ("consent", "en", {"consent": date(2026, 11, 19), "new_due": date(2027, 1, 15)}, {},
     "Confirmation of the new reply date", ["On Thursday, 19 November 2026 you agreed",
                                            "reply by Friday, 15 January 2027"]),
    ("answer", "nl", {"text": "Wij hebben met de medewerker gesproken.", "judgement_words": "gegrond"}, {},
     "Reactie op uw klacht", ["Op maandag 2 november 2026 ontvingen wij uw klacht",
                              "Wij hebben met de medewerker gesproken.", "wij vinden uw klacht gegrond",
                              "de Nationale ombudsman", "binnen een jaar na deze brief", "Marie Jansen"]),
    ("answer", "en", {"text": "We spoke to the member of staff.", "judgement_words": "partly well-founded"}, {},
     "Reply to your complaint", ["We received your complaint on Monday, 2 November 2026",
                                 "we consider your complaint partly well-founded", "the National Ombudsman",
                                 "within one year of this letter"]),
    ("answer", "nl", {"text": "De vuilnis wordt op dinsdag opgehaald.", "judgement_words": ""},
     {"question": True, "formal": False}, "Antwoord op uw vraag",
     ["Op maandag 2 november 2026 ontvingen wij uw vraag", "De vuilnis wordt op dinsdag opgehaald."]),
    ("answer", "en", {"text": "Waste is collected on Tuesdays.", "judgement_words": ""},
     {"question": True, "formal": False}, "Answer to your question",
     ["We received your question on Monday, 2 November 2026", "Waste is collected on Tuesdays."]),
    ("not_handled", "nl", {"ground_words": "de gedraging langer dan een jaar voor uw klacht plaatsvond",
                           "note": ""}, {},
     "Uw klacht wordt niet in behandeling genomen",
     ["artikel 9:8", "omdat\nde gedraging langer dan een jaar voor uw klacht plaatsvond.", "de Nationale ombudsman"]),
    ("not_handled", "en", {"ground_words": "the conduct is or was before a court", "note": ""}, {},
     "Your complaint will not be dealt with",
     ["article 9:8", "because the conduct is or was before a court.", "the National Ombudsman"]),
    ("forwarded", "nl", {"to": "Waterschap Rijn en IJssel", "note": ""}, {}, "Uw klacht is doorgestuurd",
     ["maar Waterschap Rijn en IJssel verantwoordelijk is", "aan Waterschap Rijn en IJssel doorgestuurd"]),
    ("forwarded", "en", {"to": "Waterschap Rijn en IJssel", "note": ""}, {}, "Your complaint has been passed on",
     ["not we but Waterschap Rijn en IJssel is", "passed your complaint on to Waterschap Rijn en IJssel"]),
]


@pytest.mark.parametrize(("kind", "language", "values", "extra", "title", "phrases"), LETTERS,
                         ids=[f"{k}-{lang}-{i}" for i, (k, lang, *_rest) in enumerate(LETTERS)])
def test_each_letter_says_its_dates_in_its_language_and_is_personal_mail_threaded_to_the_case(
        kind: str, language: str, values: dict[str, Any], extra: dict[str, Any], title: str,
        phrases: list[str]) -> None:
    written = write(organisation(), paper(kind, language, values, **extra), CREATED, 1001)
    msg = parsed(written.raw)
    text, html = parts(msg)
    for phrase in phrases:
        assert phrase in text, phrase
    assert text == written.text == body(organisation(), paper(kind, language, values, **extra))
    assert ("de Nationale ombudsman" in text or "the National Ombudsman" in text) == (
        kind == "not_handled" or (kind == "answer" and not extra))
    assert msg["Subject"] == f"{title}: Klacht over de balie [{REF}]" == written.subject
    assert msg["In-Reply-To"] == OPENING
    assert msg["References"].split() == ["<older@mail.example.nl>", OPENING]
    assert msg["Auto-Submitted"] is None and msg["X-Auto-Response-Suppress"] is None
    assert msg["Message-ID"] == f"<ack.{REF}.1001@lindendal.example>" == written.message_id
    assert _ACK_ID.findall(msg["Message-ID"]) == [REF]
    assert msg["To"].addresses[0].addr_spec == "jan@example.nl" and msg["Content-Language"] == language
    assert "Gemeente Lindendal" in html and REF in html


def test_each_letter_of_a_case_has_its_own_message_id_by_its_nonce() -> None:
    values = {"to": "Waterschap", "note": ""}
    first, second = (write(organisation(), paper("forwarded", "nl", values), CREATED, n) for n in (1001, 1002))
    assert first.message_id != second.message_id
    assert [_ACK_ID.findall(w.message_id) for w in (first, second)] == [[REF], [REF]]


def test_a_letter_on_a_staff_forward_is_not_threaded() -> None:
    msg = parsed(write(organisation(), paper("forwarded", "nl", {"to": "X", "note": ""}, original_message_id="",
                                             original_references=()), CREATED, 1001).raw)
    assert msg["In-Reply-To"] is None and msg["References"] is None and REF in msg["Subject"]


def test_a_malformed_opening_message_id_is_left_out_rather_than_copied() -> None:
    raw = write(organisation(), paper("forwarded", "nl", {"to": "X", "note": ""},
                                      original_message_id="<a@b>\r\nBcc: victim@example.com",
                                      original_references=("not an id",)), CREATED, 1001).raw
    msg = parsed(raw)
    assert msg["In-Reply-To"] is None and msg["References"] is None and msg["Bcc"] is None


def test_crlf_in_the_subject_and_name_injects_no_header() -> None:
    hostile = paper("answer", "nl", {"text": "Antwoord.", "judgement_words": ""}, formal=False,
                    subject="Klacht\r\nBcc: victim@example.com\r\n\r\nbody",
                    recipient=Address("jan@example.nl", "Jan\r\nBcc: victim@example.com"))
    raw = write(organisation(), hostile, CREATED, 1001).raw
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in head
    msg = parsed(raw)
    assert msg["Bcc"] is None and len(msg["To"].addresses) == 1
    assert msg["To"].addresses[0].addr_spec == "jan@example.nl"
    assert "\n" not in msg["Subject"] and REF in msg["Subject"]


def test_an_unusable_recipient_address_is_a_letter_problem() -> None:
    with pytest.raises(LetterProblem) as problem:
        write(organisation(), paper("forwarded", "nl", {"to": "X", "note": ""},
                                    recipient=Address("jan@example.nl\r\nBcc: x@y.nl", "")), CREATED, 1001)
    assert problem.value.code == "header"


def test_hostile_text_and_subject_are_escaped_in_the_html_part_and_kept_in_the_text() -> None:
    hostile = paper("answer", "nl", {"text": "Zie <script>alert('x')</script> & <b>dit</b>", "judgement_words": ""},
                    subject="<script>alert(1)</script>", recipient=Address("jan@example.nl", "<img src=x>"),
                    formal=False, signed_by="<i>Marie</i>")
    text, html = parts(parsed(write(organisation(), hostile, CREATED, 1001).raw))
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;dit&lt;/b&gt;" in html
    assert "<script>alert('x')</script>" in text  # the text part is plain text: the mail client shows it as is


def _override(tmp_path: Path, template: str) -> Organisation:
    (tmp_path / "nl").mkdir()
    (tmp_path / "nl" / "answer.txt").write_text(template, encoding="utf-8")
    return organisation(templates=str(tmp_path))


def test_an_organisation_template_without_the_ombudsman_paragraph_is_refused_for_a_formal_complaint(
        tmp_path: Path) -> None:
    org = _override(tmp_path, '{% extends "nl/letter.txt" %}{% block content %}Eigen antwoord: {{ text }}\n'
                              '{% endblock %}')
    answer = {"text": "Wij betreuren het.", "judgement_words": "gegrond"}
    with pytest.raises(LetterProblem) as problem:
        body(org, paper("answer", "nl", answer))
    assert problem.value.code == "missing_appeal" and problem.value.detail == "de Nationale ombudsman"
    with pytest.raises(LetterProblem):
        write(org, paper("answer", "nl", answer), CREATED, 1001)
    # the same template serves an informal complaint and a question, and English is still ours
    assert "Eigen antwoord: Wij betreuren het." in body(org, paper("answer", "nl", answer, formal=False))
    assert "the National Ombudsman" in body(org, paper("answer", "en", answer))


def test_an_organisation_template_naming_the_ombudsman_is_used(tmp_path: Path) -> None:
    org = _override(tmp_path, '{% extends "nl/letter.txt" %}{% block content %}Eigen antwoord: {{ text }}\n\n'
                              'Niet eens? Wend u tot {{ appeal_name }}.\n{% endblock %}')
    text = body(org, paper("answer", "nl", {"text": "Wij betreuren het.", "judgement_words": ""}))
    assert "Eigen antwoord: Wij betreuren het." in text and "Wend u tot de Nationale ombudsman." in text


def test_an_ombudsman_named_with_odd_blanks_is_still_found_and_an_empty_one_is_refused() -> None:
    answer = {"text": "Wij betreuren het.", "judgement_words": ""}
    text = body(organisation(appeal_name="de  Ombudsman\nMetropool"), paper("answer", "nl", answer))
    assert "de  Ombudsman\nMetropool" in text
    with pytest.raises(LetterProblem) as problem:
        body(organisation(appeal_name=""), paper("answer", "nl", answer))
    assert problem.value.code == "missing_appeal"


def test_a_broken_organisation_template_is_a_letter_problem(tmp_path: Path) -> None:
    org = _override(tmp_path, "{% extends 'nl/letter.txt' %}{% block content %}{{ nonsense }}{% endblock %}")
    with pytest.raises(LetterProblem) as problem:
        body(org, paper("answer", "nl", {"text": "x", "judgement_words": ""}))
    assert problem.value.code == "template" and "nonsense" in problem.value.detail


def test_the_digest_is_generated_mail_to_staff_listing_its_cases() -> None:
    sections = {
        "overdue": [DigestLine("KL-2026-000010", "Klacht over de balie", date(2026, 12, 14), "overdue")],
        "notice_98": [DigestLine("KL-2026-000011", "Lekkage", date(2026, 12, 20), "notice_98",
                                 day=date(2026, 11, 30), url="https://klachten.example/zaken/11")],
    }
    written = digest(organisation(), "marie@lindendal.example", "Marie", date(2026, 12, 15), sections, CREATED)
    msg = parsed(written.raw)
    assert msg["Auto-Submitted"] == "auto-generated" and msg["X-Auto-Response-Suppress"] == "All"
    assert msg["In-Reply-To"] is None and msg["To"].addresses[0].addr_spec == "marie@lindendal.example"
    assert msg["Subject"] == "Klachten: 2 zaken vragen aandacht (dinsdag 15 december 2026)"
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Goedemorgen Marie," in text and "uiterlijk maandag 14 december 2026: te laat" in text
    assert "9:8-bericht uiterlijk maandag 30 november 2026" in text and "https://klachten.example/zaken/11" in text
    assert not _ACK_ID.findall(msg["Message-ID"])  # a reply to the digest is no reply to a case
