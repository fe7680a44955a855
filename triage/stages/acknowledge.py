"""The acknowledgement of a new case: which class and term apply, whether it may be sent at
all, and the mail itself (Jinja2 templates per language and class, text + HTML).

Pure: no sockets, no sessions. `plan` picks template and due date, `suppression` says why not
to send, `compose` renders the MIME message with its deterministic Message-ID.
"""

from __future__ import annotations

import binascii
import email.policy
import email.utils
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from functools import lru_cache
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined, select_autoescape

from triage import idn
from triage.addresses import OwnAddresses, ack_message_id, rate_key
from triage.config import Acknowledge, Organisation, Terms
from triage.dates import AMSTERDAM, long_date
from triage.domain import AckPlan, Address, Prediction, Rendered, Resolved
from triage.reasons import Code, Reason, reason
from triage.stages.parse import decode_header_value, one_line
from triage.stages.quoting import greeting_name, quoted_subject
from triage.stages.screen import is_machine_address
from triage.stages.special import Special
from triage.stages.terms import Term, due_date, extended, receipt_day

CLASSES = ("formal_complaint", "informal_complaint", "question")  # and "review", "passed_on"
LANGUAGES = ("nl", "en")
_SUBJECT = {"nl": "Ontvangstbevestiging", "en": "Acknowledgement of receipt"}
_MSGID = re.compile(r"^<[^<>\s]+@[^<>\s]+>$")
# Lines up to RFC 5322's hard limit: a long Message-ID in In-Reply-To stays on its line (folded
# before it, some clients read the leading blank as part of the id). Encoded words stay <= 75.
_POLICY = email.policy.compat32.clone(linesep="\r\n", max_line_length=998)
_FOLD = email.policy.SMTP  # folds the rare header that needs it: 78 characters, RFC 2047


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
    danger: str = ""  # the message reports danger (triage.stages.special.Danger): where to turn at once


def procedure_term(org: Organisation | None, procedure: str, received: datetime) -> tuple[Term, date]:
    """The term of another procedure (`Terms.woo`, `.avg`, ...) and the day it ends."""
    terms = org.terms if org is not None else Terms()
    term = terms.term(procedure)
    return term, due_date(received, term, terms.calendar())


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


def plan(org: Organisation, prediction: Prediction | None, received: datetime, special: Special | None = None) -> Plan:
    """The class, language and due date of a new case's acknowledgement. A message that another
    procedure governs, or that reports danger, gets `passed_on`: received and passed on, no term
    (the case keeps the term that could apply, for the review queue)."""
    calendar = org.terms.calendar()
    language = prediction.language if prediction and prediction.language in LANGUAGES else "nl"
    danger = special.danger.value if special is not None and special.danger is not None else ""
    if special is not None and special.procedure is not None:
        term, due = procedure_term(org, special.procedure.value, received)
        return Plan(template="passed_on", language=language, term=term, due=due, due_is_latest=False, danger=danger)
    dues = {name: (org.terms.term(name), due_date(received, org.terms.term(name), calendar))
            for name in candidates(prediction)}
    name = max(dues, key=lambda n: dues[n][1])
    term, due = dues[name]
    review = len(dues) > 1
    extension = due_extended = None
    if name == "formal_complaint" and not review:
        extension = org.terms.term("formal_extension")
        due_extended = due_date(received, extended(term, extension), calendar)
    if danger:  # a person looks first, today: the letter promises no term, it says where to turn at once
        return Plan(template="passed_on", language=language, term=term, due=due, due_is_latest=review, danger=danger)
    return Plan(template="review" if review else name, language=language, term=term, due=due,
                due_is_latest=review, review_kind=prediction.kind if prediction and review and "kind"
                not in prediction.unsure else "", extension=extension, due_extended=due_extended)


_DELIVERABLE = re.compile(r"[^\s@<>()\[\],;:\"\\]{1,64}@[^\s@<>()\[\],;:\"\\]+\.[^\s@<>()\[\],;:\"\\.]+")


def deliverable(addr: str) -> bool:
    """A plain local@domain.tld of at most 254 characters, nothing that could break a header, its
    domain a valid (international) domain name."""
    return (len(addr) <= 254 and addr.isprintable() and bool(_DELIVERABLE.fullmatch(addr))
            and idn.ascii_domain(addr.rpartition("@")[2]) is not None)


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
        return reason(Code.RATE_LIMITED, count=sent_to_recipient_today, address=rate_key(recipient.addr))
    return None


@dataclass(frozen=True)
class Standing:
    """What bears on sending beyond the message itself: the rate limits' counts, the thread."""

    to_recipient: int = 0  # acknowledgements to the same recipient (its rate key) in the last 24 hours
    this_hour: int = 0  # the organisation's acknowledgements in the last hour
    answers: str = ""  # the reference of ours that the message answers without joining its case


def decide(org: Organisation, resolved: Resolved, prediction: Prediction | None, received: datetime,
           now: datetime, standing: Standing, special: Special | None = None) -> AckPlan:
    """The acknowledgement of a new case: its plan (class, language, due date), whether it may be
    sent, whether it must wait for a person (the hourly limit), and its letter."""
    recent, answers, this_hour = standing.to_recipient, standing.answers, standing.this_hour
    p = plan(org, prediction, received, special)
    recipient = resolved.complainant
    if not org.acknowledge.enabled:
        why: Reason | None = reason(Code.ACKS_OFF)
    elif answers:
        why = reason(Code.REPLY_TO_OUR_MAIL, reference=answers)
    else:
        why = suppressed(recipient, org.own(), received, now, org.acknowledge, recent)
    letter = _letter(resolved, received)
    limit = org.acknowledge.per_organisation_per_hour
    held = reason(Code.HELD, count=this_hour, limit=limit) if why is None and this_hour >= limit else None
    return AckPlan(template=f"{p.language}/{p.template}", due=p.due, recipient=recipient, suppressed=why,
                   plan=p, letter=letter, held=held)


def _letter(resolved: Resolved, received: datetime) -> Letter | None:
    """The letter to the complainant, if there is one. When Reply-To names the recipient (a website
    form, or anyone who claims to be one) the subject and name were written by whoever filled it in,
    not by the recipient: our letter repeats neither."""
    recipient = resolved.complainant
    if recipient is None:
        return None
    forwarded = resolved.forwarded_by is not None
    form = resolved.why is not None and resolved.why.code == Code.REPLY_TO
    return Letter(reference="", recipient=replace(recipient, name="") if form else recipient,
                  subject="" if form else resolved.subject, received=received,
                  original_message_id="" if forwarded else resolved.mail.message_id,
                  original_references=() if forwarded else resolved.mail.references,
                  forwarded_by_staff=forwarded)


def render(org: Organisation, ack: AckPlan, reference: str, now: datetime, nonce: int = 0) -> Rendered:
    """The acknowledgement of case `reference` as bytes for the outbox; a template or header that
    cannot be written (hostile input, a broken override template) is a reason, not an exception."""
    message_id, sender = ack_message_id(reference, sender_domain(org), str(nonce)), org.ack_from()
    if ack.letter is None or ack.suppressed is not None:
        return Rendered(message_id, sender, nonce)
    try:
        message = compose(org, replace(ack.letter, reference=reference), ack.plan, now, nonce)
        subject = decode_header_value(message["Subject"])[:2000]  # as the complainant reads it, for the case page
        return Rendered(message_id, sender, nonce, subject, message.as_bytes())
    except Exception as exc:  # must not stop the poll: recorded as a failed acknowledgement
        error = f"{type(exc).__name__}: {exc}"
        return Rendered(message_id, sender, nonce, failed=reason(Code.RENDER_FAILED, error=error))


@lru_cache(maxsize=32)
def environment(override: Path | None, folder: str = "templates/ack") -> Environment:
    """Our templates (the acknowledgements', or the letters' of `triage.stages.letters`), with an
    organisation's own folder (same names) taking precedence."""
    loaders: list[FileSystemLoader | PackageLoader] = [PackageLoader("triage", folder)]
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
        "org_name": org.name, "reference": letter.reference, "subject": quoted_subject(letter.subject),
        "name": greeting_name(letter.recipient.name), "received": long_date(receipt_day(letter.received), lang),
        "term": p.term.words(lang), "due": long_date(p.due, lang),
        "extension": p.extension.words(lang) if p.extension else "",
        "due_extended": long_date(p.due_extended, lang) if p.due_extended else "",
        "handler": ack.handler, "appeal_name": ack.appeal_name if lang == "nl" else ack.appeal_name_en,
        "appeal_url": ack.appeal_url, "contact_name": ack.contact_name, "contact_phone": ack.contact_phone,
        "contact_email": ack.contact_email, "privacy_url": ack.privacy_url,
        "forwarded_by_staff": letter.forwarded_by_staff,
        "review_kind": p.review_kind, "show_due": p.template != "passed_on", "danger": p.danger,
    }


def sender_domain(org: Organisation) -> str:
    return email.utils.parseaddr(org.ack_from())[1].rpartition("@")[2].lower() or "localhost"


def compose(org: Organisation, letter: Letter, p: Plan, created: datetime, nonce: int = 0) -> Message:
    """The acknowledgement as a multipart/alternative message, ready to send (CRLF line ends,
    headers RFC 2047-encoded where they are not ASCII). Built with the `email` package's compat32
    classes: a third of the cost of EmailMessage, whose header registry parses every header again."""
    env = environment(org.acknowledge.templates)
    values = context(org, letter, p)
    text = env.get_template(f"{p.language}/{p.template}.txt").render(values)
    html = env.get_template(f"{p.language}/{p.template}.html").render(values)
    msg = MIMEMultipart("alternative", policy=_POLICY)
    subject = values["subject"]  # quoted: one line (no header injection), no links or phone numbers
    msg["Subject"] = _header(f"{_SUBJECT[p.language]}: {subject} [{letter.reference}]" if subject else
                             f"{_SUBJECT[p.language]} [{letter.reference}]", "Subject")
    msg["From"] = _address(*email.utils.parseaddr(org.ack_from()), "From")
    msg["To"] = _address(str(values["name"]), letter.recipient.addr, "To")
    if org.acknowledge.reply_to:
        msg["Reply-To"] = _address(*email.utils.parseaddr(org.acknowledge.reply_to), "Reply-To")
    msg["Date"] = email.utils.format_datetime(created.astimezone(AMSTERDAM))
    msg["Message-ID"] = ack_message_id(letter.reference, sender_domain(org), str(nonce))
    original = letter.original_message_id if _MSGID.match(letter.original_message_id) else ""
    if original:
        msg["In-Reply-To"] = original
        msg["References"] = " ".join([*[r for r in letter.original_references if _MSGID.match(r)][-10:], original])
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"  # asks Exchange not to send an out-of-office back
    msg["Content-Language"] = p.language
    for body, subtype in ((text, "plain"), (html, "html")):
        msg.attach(_text_part(body, subtype))
    return msg


def _text_part(body: str, subtype: str) -> MIMENonMultipart:
    """A UTF-8 quoted-printable text part, encoded by binascii (in C) rather than by the `email`
    package's encoder (in Python), which took a fifth of the time to write an acknowledgement."""
    part = MIMENonMultipart("text", subtype, charset="utf-8", policy=_POLICY)
    del part["MIME-Version"]  # once, at the top
    part["Content-Transfer-Encoding"] = "quoted-printable"
    lines = body.replace("\r\n", "\n").encode("utf-8")
    part.set_payload(binascii.b2a_qp(lines, quotetabs=False, istext=True).decode("ascii"))
    return part


def _header(value: str, name: str) -> str:
    """A header value: as is when ASCII, else RFC 2047 encoded words of at most 75 characters,
    folded onto lines of at most 76 (the policy folds nothing below 998, so that Message-IDs and
    References stay on one line)."""
    value = one_line(value)
    if value.isascii():
        return value
    return Header(value, "utf-8", header_name=name).encode(linesep="\r\n", maxlinelen=76)


_PLACEHOLDER = "a@b.invalid"


def _utf8(value: str) -> str:
    """UTF-8 for a compat32 header: its generator writes surrogate-escaped bytes back as they were."""
    return value.encode("utf-8").decode("ascii", "surrogateescape")


def _address(name: str, addr: str, field: str) -> str:
    """`Name <addr>`, the name quoted or encoded as needed; CR/LF never reach the header. A non-ASCII
    name is folded by the `email` package's modern policy, which encodes a phrase word by word
    (split encoded words would otherwise run words together in some readers). The domain is
    written in A-labels unless the local part itself needs UTF-8."""
    addr, name = idn.header_form(one_line(addr).replace(" ", "")), one_line(name)
    if not addr.isascii():  # RFC 6532: the address in UTF-8 (sent only with SMTPUTF8)
        before, after = _address(name, _PLACEHOLDER, field).rsplit(_PLACEHOLDER, 1)
        return before + _utf8(addr) + after
    if name.isascii():
        return email.utils.formataddr((name, addr))
    folded: str = _FOLD.fold(field, email.utils.formataddr((name, addr)))
    return folded[len(field) + 2 :].rstrip("\r\n")
