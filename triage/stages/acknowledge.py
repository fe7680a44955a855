"""The acknowledgement of a new case: which class and term apply, whether it may be sent at
all, and the mail itself (Jinja2 templates per language and class, text + HTML).

Pure: no sockets, no sessions. `plan` picks template and due date, `suppression` says why not
to send, `compose` renders the MIME message with its deterministic Message-ID.
"""

from __future__ import annotations

import email.policy
import email.utils
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from email import headerregistry
from email.message import EmailMessage
from functools import lru_cache
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined, select_autoescape

from triage.config import Acknowledge, Organisation
from triage.dates import AMSTERDAM, long_date
from triage.domain import AckPlan, Address, OwnAddresses, Prediction, Rendered, Resolved, ack_message_id
from triage.reasons import Code, Reason, reason
from triage.stages.parse import one_line
from triage.stages.screen import is_machine_address
from triage.stages.terms import Term, due_date, extended, receipt_day

CLASSES = ("formal_complaint", "informal_complaint", "question")
LANGUAGES = ("nl", "en")
_SUBJECT = {"nl": "Ontvangstbevestiging", "en": "Acknowledgement of receipt"}
_MSGID = re.compile(r"^<[^<>\s]+@[^<>\s]+>$")


@dataclass(frozen=True)
class Plan:
    """What the acknowledgement of one case says about its handling."""

    template: str  # one of CLASSES, or "review" when the class is not known yet
    language: str
    term: Term
    due: date
    due_is_latest: bool  # under review: the longest term that could apply
    review_kind: str = ""  # review: the kind the model leans to, if it is sure of that
    extension: Term | None = None
    due_extended: date | None = None


def class_of(kind: str | None, formality: str | None) -> str:
    """The acknowledgement class (its template) of a question or a formal or informal complaint."""
    if kind == "question":
        return "question"
    return "formal_complaint" if formality == "formal" else "informal_complaint"


def candidates(prediction: Prediction | None) -> tuple[str, ...]:
    """The classes whose term could apply, given which heads the model is sure of."""
    if prediction is None:
        return CLASSES
    unsure = set(prediction.unsure)
    if "kind" in unsure:
        return CLASSES
    if prediction.kind == "question":
        return ("question",)
    if "formality" in unsure:
        return ("formal_complaint", "informal_complaint")
    return (class_of(prediction.kind, prediction.formality),)


def plan(org: Organisation, prediction: Prediction | None, received: datetime) -> Plan:
    """The class, language and due date of a new case's acknowledgement."""
    calendar = org.terms.calendar()
    language = prediction.language if prediction and prediction.language in LANGUAGES else "nl"
    dues = {name: (org.terms.term(name), due_date(received, org.terms.term(name), calendar))
            for name in candidates(prediction)}
    name = max(dues, key=lambda n: dues[n][1])
    term, due = dues[name]
    review = len(dues) > 1
    extension = due_extended = None
    if name == "formal_complaint" and not review:
        extension = org.terms.term("formal_extension")
        due_extended = due_date(received, extended(term, extension), calendar)
    return Plan(template="review" if review else name, language=language, term=term, due=due,
                due_is_latest=review, review_kind=prediction.kind if prediction and review and "kind"
                not in prediction.unsure else "", extension=extension, due_extended=due_extended)


_DELIVERABLE = re.compile(r"[^\s@<>()\[\],;:\"\\]{1,64}@[^\s@<>()\[\],;:\"\\]+\.[^\s@<>()\[\],;:\"\\.]+")


def deliverable(addr: str) -> bool:
    """A plain local@domain.tld of at most 254 characters, nothing that could break a header."""
    return len(addr) <= 254 and addr.isprintable() and bool(_DELIVERABLE.fullmatch(addr))


def suppressed(recipient: Address | None, own: OwnAddresses, received: datetime, now: datetime,
               limits: Acknowledge, sent_to_recipient_today: int) -> Reason | None:
    """Why no acknowledgement may go to `recipient` (`limits`: the organisation's backlog age and
    per-recipient limit); None when one may."""
    if recipient is None:
        return reason(Code.NO_RECIPIENT)
    if not deliverable(recipient.addr):
        return reason(Code.UNDELIVERABLE, address=recipient.addr[:80])
    if own.is_own(recipient.addr):
        return reason(Code.OWN_ADDRESS, address=recipient.addr)
    if is_machine_address(recipient.addr):
        return reason(Code.MACHINE_ADDRESS, address=recipient.addr)
    if now - received > timedelta(days=limits.max_age_days):
        return reason(Code.BACKLOG, received=f"{received:%Y-%m-%d}", days=limits.max_age_days)
    if sent_to_recipient_today >= limits.per_recipient_per_day:
        return reason(Code.RATE_LIMITED, count=sent_to_recipient_today, address=recipient.addr)
    return None


def decide(org: Organisation, resolved: Resolved, prediction: Prediction | None, received: datetime,
           now: datetime, recent: int) -> AckPlan:
    """The acknowledgement of a new case: its plan (class, language, due date), whether it may be
    sent (`recent`: acknowledgements to the same recipient in the last 24 hours) and its letter."""
    p = plan(org, prediction, received)
    recipient = resolved.complainant
    if not org.acknowledge.enabled:
        why: Reason | None = reason(Code.ACKS_OFF)
    else:
        why = suppressed(recipient, org.own(), received, now, org.acknowledge, recent)
    letter = None
    if recipient is not None:
        forwarded = resolved.forwarded_by is not None
        letter = Letter(reference="", recipient=recipient, subject=resolved.subject, received=received,
                        original_message_id="" if forwarded else resolved.mail.message_id,
                        original_references=() if forwarded else resolved.mail.references,
                        forwarded_by_staff=forwarded)
    return AckPlan(template=f"{p.language}/{p.template}", due=p.due, recipient=recipient, suppressed=why,
                   plan=p, letter=letter)


def render(org: Organisation, ack: AckPlan, reference: str, now: datetime, nonce: int = 0) -> Rendered:
    """The acknowledgement of case `reference` as bytes for the outbox; a template or header that
    cannot be written (hostile input, a broken override template) is a reason, not an exception."""
    message_id, sender = ack_message_id(reference, sender_domain(org), str(nonce)), org.ack_from()
    if ack.letter is None or ack.suppressed is not None:
        return Rendered(message_id, sender, nonce)
    try:
        message = compose(org, replace(ack.letter, reference=reference), ack.plan, now, nonce)
        return Rendered(message_id, sender, nonce, str(message["Subject"])[:2000], message.as_bytes())
    except Exception as exc:  # must not stop the poll: recorded as a failed acknowledgement
        error = f"{type(exc).__name__}: {exc}"
        return Rendered(message_id, sender, nonce, failed=reason(Code.RENDER_FAILED, error=error))


@lru_cache(maxsize=32)
def environment(override: Path | None) -> Environment:
    """Our templates, with an organisation's own folder (same names) taking precedence."""
    loaders: list[FileSystemLoader | PackageLoader] = [PackageLoader("triage", "templates/ack")]
    if override is not None:
        loaders.insert(0, FileSystemLoader(str(override)))
    return Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, undefined=StrictUndefined)


@dataclass(frozen=True)
class Letter:
    """What the acknowledgement is about: the case and the message that opened it."""

    reference: str
    recipient: Address
    subject: str
    received: datetime
    original_message_id: str = ""
    original_references: tuple[str, ...] = ()
    forwarded_by_staff: bool = False


def context(org: Organisation, letter: Letter, p: Plan) -> dict[str, object]:
    ack = org.acknowledge
    lang = p.language
    return {
        "org_name": org.name, "reference": letter.reference, "subject": letter.subject,
        "name": letter.recipient.name, "received": long_date(receipt_day(letter.received), lang),
        "term": p.term.words(lang), "due": long_date(p.due, lang),
        "extension": p.extension.words(lang) if p.extension else "",
        "due_extended": long_date(p.due_extended, lang) if p.due_extended else "",
        "handler": ack.handler, "appeal_name": ack.appeal_name if lang == "nl" else ack.appeal_name_en,
        "appeal_url": ack.appeal_url, "contact_name": ack.contact_name, "contact_phone": ack.contact_phone,
        "contact_email": ack.contact_email, "forwarded_by_staff": letter.forwarded_by_staff,
        "review_kind": p.review_kind,
    }


def sender_domain(org: Organisation) -> str:
    return email.utils.parseaddr(org.ack_from())[1].rpartition("@")[2].lower() or "localhost"


def _as_is(name: str, value: object, linesep: str) -> str | None:
    """`Name: value` on one line, when the value is printable ASCII within RFC 5322's 998 characters."""
    text = str(value)
    if text.isascii() and text.isprintable() and len(name) + len(text) + 2 <= 998:
        return f"{name}: {text}{linesep}"
    return None


class _Policy(email.policy.EmailPolicy):
    """The `email` package's SMTP policy, except that a printable ASCII header is written as it is,
    on one line; the others are folded and RFC 2047-encoded as usual. The package would write a long
    In-Reply-To or References as encoded words (CPython gh-100991), which breaks threading, fold
    before a long Message-ID (a leading blank some clients take as part of the id), and move a
    value that just misses the first line onto a line of its own, which it reads back with a blank."""

    def fold(self, name: str, value: str) -> str:
        return _as_is(name, value, self.linesep) or super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        line = _as_is(name, value, self.linesep)
        return line.encode("ascii") if line else super().fold_binary(name, value)


# Lines of at most 76 characters: RFC 2045's limit for quoted-printable, by which set_content sizes
# a body's lines (at SMTP's 78 they reach 78). Encoded words keep well within RFC 2047's 75.
_POLICY = _Policy(linesep="\r\n", max_line_length=76)


def compose(org: Organisation, letter: Letter, p: Plan, created: datetime, nonce: int = 0) -> EmailMessage:
    """The acknowledgement as a multipart/alternative message, ready to send: CRLF line ends,
    headers RFC 2047-encoded where they are not ASCII, UTF-8 quoted-printable text parts."""
    env = environment(org.acknowledge.templates)
    values = context(org, letter, p)
    msg = EmailMessage(policy=_POLICY)
    subject = _plain(letter.subject)[:200]
    msg["Subject"] = (f"{_SUBJECT[p.language]}: {subject} [{letter.reference}]" if subject else
                      f"{_SUBJECT[p.language]} [{letter.reference}]")
    msg["From"] = _address(*email.utils.parseaddr(org.ack_from()))
    msg["To"] = _address(letter.recipient.name, letter.recipient.addr)
    if org.acknowledge.reply_to:
        msg["Reply-To"] = _address(*email.utils.parseaddr(org.acknowledge.reply_to))
    msg["Date"] = created.astimezone(AMSTERDAM)
    msg["Message-ID"] = ack_message_id(letter.reference, sender_domain(org), str(nonce))
    original = letter.original_message_id if _MSGID.match(letter.original_message_id) else ""
    if original:
        msg["In-Reply-To"] = original
        msg["References"] = " ".join([*[r for r in letter.original_references if _MSGID.match(r)][-10:], original])
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"  # asks Exchange not to send an out-of-office back
    text = env.get_template(f"{p.language}/{p.template}.txt").render(values)
    msg.set_content(text, charset="utf-8", cte="quoted-printable")
    html = env.get_template(f"{p.language}/{p.template}.html").render(values)
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    msg["Content-Language"] = p.language  # after the parts: making them moves Content-* headers down
    return msg


def _plain(text: str) -> str:
    """Text for a header: one line (CR/LF and runs of blanks folded), with no RFC 2047 marker left.
    The `email` package decodes an encoded word it finds in a subject or a name, CR/LF included,
    and Python before 3.11.10 and 3.12.5 writes those out: a header injection."""
    return one_line(text).replace("=?", "= ?")


def _address(name: str, addr: str) -> headerregistry.Address:
    """`Name <addr>`; the `email` package quotes or encodes the name as needed."""
    return headerregistry.Address(display_name=_plain(name), addr_spec=one_line(addr).replace(" ", ""))
