"""The letters of the procedure: the extension notice, the consent confirmation, the written
answer, the 9:8 notice, the forwarding notice, and the staff digest. Jinja2 templates per language
(an organisation's `acknowledge.templates` folder overrides them file by file, as it does the
acknowledgements); one text template per letter, shown in the browser's preview exactly as sent.

Pure: no sockets, no sessions. A letter the complainant gets is personal mail: threaded to the
message that opened the case, the reference in its subject, no `Auto-Submitted`. The digest is
generated mail to staff and says so.
"""

from __future__ import annotations

import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from email.mime.multipart import MIMEMultipart
from pathlib import Path
from typing import Any

from jinja2 import Environment

from triage.addresses import ack_message_id
from triage.config import Organisation
from triage.dates import AMSTERDAM, long_date
from triage.domain import Address
from triage.stages.acknowledge import _POLICY, _address, _header, _text_part, deliverable, sender_domain
from triage.stages.acknowledge import environment as ack_environment
from triage.stages.quoting import greeting_name, quoted_subject
from triage.stages.terms import receipt_day

KINDS = ("extension", "consent", "answer", "not_handled", "forwarded")
NONCE_BASE = 1000  # letters of a case are numbered 1001, 1002, ...; acknowledgements 0, 1, 2, ...
_MSGID = re.compile(r"^<[^<>\s]+@[^<>\s]+>$")
SUBJECTS = {
    "nl": {"extension": "Verlenging van de behandeltermijn", "consent": "Bevestiging nieuwe reactiedatum",
           "answer": "Reactie op uw klacht", "answer_question": "Antwoord op uw vraag",
           "not_handled": "Uw klacht wordt niet in behandeling genomen", "forwarded": "Uw klacht is doorgestuurd"},
    "en": {"extension": "Extension of the handling period", "consent": "Confirmation of the new reply date",
           "answer": "Reply to your complaint", "answer_question": "Answer to your question",
           "not_handled": "Your complaint will not be dealt with", "forwarded": "Your complaint has been passed on"},
}


class LetterProblem(Exception):
    """A letter that cannot be written: `code` says why (missing_appeal, template, header)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Paper:
    """What one letter to a complainant is about."""

    kind: str  # one of KINDS
    language: str  # nl, en
    reference: str
    recipient: Address
    subject: str  # the case's subject, quoted as our letters may
    received: datetime
    due: date | None
    question: bool = False  # an answer to a question, not to a complaint
    formal: bool = False  # a formal complaint: the answer names where to turn next
    values: dict[str, Any] = field(default_factory=dict)  # the letter's own: new_due, text, judgement, ...
    original_message_id: str = ""
    original_references: tuple[str, ...] = ()
    signed_by: str = ""  # the handler's name under the letter


@dataclass(frozen=True)
class Written:
    message_id: str
    sender: str
    subject: str
    text: str  # the body as the complainant reads it
    raw: bytes


def environment(override: Path | None) -> Environment:
    """The letters' templates, overridden file by file as the acknowledgements' are."""
    return ack_environment(override, "templates/letters")


def _day(value: Any, language: str) -> Any:
    return long_date(value, language) if isinstance(value, date) else value


def context(org: Organisation, paper: Paper) -> dict[str, Any]:
    ack, lang = org.acknowledge, paper.language
    values = {k: _day(v, lang) for k, v in paper.values.items()}
    return {
        "org_name": org.name, "reference": paper.reference, "subject": quoted_subject(paper.subject),
        "name": greeting_name(paper.recipient.name), "received": long_date(receipt_day(paper.received), lang),
        "due": long_date(paper.due, lang) if paper.due else "", "question": paper.question, "formal": paper.formal,
        "appeal_name": ack.appeal_name if lang == "nl" else ack.appeal_name_en, "appeal_url": ack.appeal_url,
        "appeal_term": ack.appeal_term if lang == "nl" else ack.appeal_term_en,
        "contact_name": ack.contact_name, "contact_phone": ack.contact_phone, "contact_email": ack.contact_email,
        "signed_by": paper.signed_by, **values,
    }


def body(org: Organisation, paper: Paper) -> str:
    """The letter's text. Raises LetterProblem when a template fails or drops a required part: the
    answer to a formal complaint must say where the complainant can turn next (Awb 9:12 lid 2)."""
    env = environment(org.acknowledge.templates)
    try:
        text = env.get_template(f"{paper.language}/{paper.kind}.txt").render(context(org, paper))
    except Exception as exc:  # a broken override template is the organisation's problem, said plainly
        raise LetterProblem("template", f"{type(exc).__name__}: {exc}") from None
    appeal = " ".join(str(context(org, paper)["appeal_name"]).split())  # blanks and line breaks count as one
    if paper.kind == "answer" and paper.formal and (not appeal or appeal not in " ".join(text.split())):
        raise LetterProblem("missing_appeal", appeal)
    return text


def subject_of(paper: Paper) -> str:
    words = SUBJECTS.get(paper.language, SUBJECTS["nl"])
    title = words["answer_question" if paper.kind == "answer" and paper.question else paper.kind]
    quoted = quoted_subject(paper.subject)
    return f"{title}: {quoted} [{paper.reference}]" if quoted else f"{title} [{paper.reference}]"


def message_id(org: Organisation, reference: str, nonce: int) -> str:
    return ack_message_id(reference, sender_domain(org), str(nonce))


def write(org: Organisation, paper: Paper, created: datetime, nonce: int) -> Written:
    """The letter as a multipart/alternative message (text, and the same text as simple HTML),
    threaded to the message that opened the case."""
    if not deliverable(paper.recipient.addr):  # the intake checked it; a stored or edited address may differ
        raise LetterProblem("header", f"not an address we can deliver to: {paper.recipient.addr[:80]!r}")
    text = body(org, paper)
    html = environment(org.acknowledge.templates).get_template("layout.html").render(
        org_name=org.name, reference=paper.reference, language=paper.language,
        paragraphs=[p.strip("\n") for p in re.split(r"\n\s*\n", text) if p.strip()])
    msg = MIMEMultipart("alternative", policy=_POLICY)
    subject = subject_of(paper)
    try:
        msg["Subject"] = _header(subject, "Subject")
        msg["From"] = _address(*email.utils.parseaddr(org.ack_from()), "From")
        msg["To"] = _address(greeting_name(paper.recipient.name), paper.recipient.addr, "To")
        if org.acknowledge.reply_to:
            msg["Reply-To"] = _address(*email.utils.parseaddr(org.acknowledge.reply_to), "Reply-To")
    except Exception as exc:
        raise LetterProblem("header", f"{type(exc).__name__}: {exc}") from None
    msg["Date"] = email.utils.format_datetime(created.astimezone(AMSTERDAM))
    msg["Message-ID"] = message_id(org, paper.reference, nonce)
    original = paper.original_message_id if _MSGID.match(paper.original_message_id) else ""
    if original:
        msg["In-Reply-To"] = original
        msg["References"] = " ".join([*[r for r in paper.original_references if _MSGID.match(r)][-10:], original])
    msg["Content-Language"] = paper.language
    for part, subtype in ((text, "plain"), (html, "html")):
        msg.attach(_text_part(part, subtype))
    return Written(msg["Message-ID"], org.ack_from(), subject, text, msg.as_bytes())


@dataclass(frozen=True)
class DigestLine:
    reference: str
    subject: str
    due: date | None
    what: str  # overdue, due_soon, extension_ends, notice_98, unread, unassigned
    day: date | None = None  # the date the line is about
    url: str = ""
    handler: str = ""  # the coordinator's lines name who handles the case
    organisation: str = ""  # named when the mail covers several organisations


def digest(org: Organisation, recipient: str, name: str, day: date, sections: dict[str, list[DigestLine]],
           created: datetime) -> Written:
    """The daily digest to one member of staff (or the coordinator): Dutch, plain text. `sections`:
    a handler's own (overdue, due_soon, extension_ends, notice_98, unread) and the coordinator's
    (unassigned, all_overdue); empty ones are left out. `org` sends it. Raises LetterProblem when
    an override template fails or an address cannot be written."""
    env = environment(org.acknowledge.templates)
    count = len({line.reference for lines in sections.values() for line in lines})
    names = sorted({line.organisation for lines in sections.values() for line in lines if line.organisation})
    try:
        text = env.get_template("nl/digest.txt").render(
            name=name, day=long_date(day, "nl"), sections=sections, count=count, org_name=org.name,
            organisations=names or [org.name], date=lambda d: long_date(d, "nl") if d else "")
        msg = MIMEMultipart("alternative", policy=_POLICY)
        subject = (f"Klachten: {count} {'zaak vraagt' if count == 1 else 'zaken vragen'} aandacht "
                   f"({long_date(day, 'nl')})")
        msg["Subject"] = _header(subject, "Subject")
        msg["From"] = _address(*email.utils.parseaddr(org.ack_from()), "From")
        msg["To"] = _address(name, recipient, "To")
    except Exception as exc:  # an override template, an address nobody can write to: said plainly
        raise LetterProblem("digest", f"{type(exc).__name__}: {exc}") from None
    msg["Date"] = email.utils.format_datetime(created.astimezone(AMSTERDAM))
    key = hashlib.sha256(recipient.lower().encode()).hexdigest()[:16]
    msg["Message-ID"] = f"<digest.{day.isoformat()}.{key}@{sender_domain(org)}>"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: nobody's out-of-office should answer it
    msg["X-Auto-Response-Suppress"] = "All"
    msg["Content-Language"] = "nl"
    msg.attach(_text_part(text, "plain"))
    return Written(msg["Message-ID"], org.ack_from(), subject, text, msg.as_bytes())
