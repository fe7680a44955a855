"""Plain frozen values that flow through the pipeline: Mail, Forward, Screening, Prediction, Outcome.

Stages take and return these; nothing here talks to a server or a database.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from triage.idn import canonical
from triage.reasons import Code, Reason, english, text

if TYPE_CHECKING:  # the acknowledgement stage's own values travel in the outcome, unread by the store
    from triage.stages.acknowledge import Letter, Plan


class Disposition(enum.StrEnum):
    """What became of one fetched message."""

    FILED = "filed"  # a new case, classified with confidence
    REVIEW = "review"  # a new case that needs a person
    JOINED = "joined"  # appended to an existing case (a reply in its thread)
    IGNORED = "ignored"  # machine mail: never acknowledged
    DUPLICATE = "duplicate"  # identical bytes seen before
    QUARANTINED = "quarantined"  # a stage failed; kept with its error


class CaseStatus(enum.StrEnum):
    """Where a case stands in the procedure (`triage.procedure` owns the moves between them)."""

    NEEDS_REVIEW = "needs_review"  # te beoordelen: the classification is not sure
    NEW = "new"  # nieuw: classified, nobody handles it yet
    IN_PROGRESS = "in_progress"  # in behandeling: a handler is assigned
    ANSWERED = "answered"  # afgehandeld: the written answer went out (Awb 9:12)
    RESOLVED = "resolved"  # informeel opgelost (Awb 9:5)
    NOT_HANDLED = "not_handled"  # niet in behandeling genomen (Awb 9:8)
    FORWARDED = "forwarded"  # doorgezonden (Awb 9:7, 2:3)
    WITHDRAWN = "withdrawn"  # ingetrokken
    QUESTION_ANSWERED = "question_answered"  # beantwoord: a question
    NOT_A_COMPLAINT = "not_a_complaint"  # geen klacht: leaves the figures
    MERGED = "merged"  # joined an earlier case of the same complainant


class AckStatus(enum.StrEnum):
    """Where an acknowledgement (an outbox row) stands."""

    PENDING = "pending"  # waiting for the send job
    SENDING = "sending"  # claimed by a sender (with a lease)
    SENT = "sent"
    FAILED = "failed"  # refused, given up, or could not be written
    SUPPRESSED = "suppressed"  # never to be sent: its reason says why
    BOUNCED = "bounced"
    HELD = "held"  # over the organisation's hourly limit: written, waits for a person to release it


COUNTED_ACKS = (AckStatus.PENDING, AckStatus.SENDING, AckStatus.SENT)  # what the rate limit counts


@dataclass(frozen=True)
class Address:
    addr: str  # in its one form (`triage.idn.canonical`: lower case, the domain as A-labels), however given
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "addr", canonical(self.addr))

    def __str__(self) -> str:
        return f"{self.name} <{self.addr}>" if self.name else self.addr


@dataclass(frozen=True)
class Attachment:
    """A file in a message, found by its MIME part path ("2.1.3", numbered as IMAP does)."""

    path: str
    name: str  # cleaned: no control or bidi characters, no path separators
    content_type: str
    size: int
    sha256: str
    inline: bool = False  # shown in the text (Content-Disposition: inline), e.g. an image in HTML
    within: str = ""  # the path of the forwarded message it came in, or ''

    def record(self) -> dict[str, Any]:
        """As stored in the message's details (JSON)."""
        return {"path": self.path, "name": self.name, "type": self.content_type, "size": self.size,
                "sha256": self.sha256, "inline": self.inline, "within": self.within}

    @classmethod
    def of_record(cls, record: dict[str, Any]) -> Attachment | None:
        """From a stored record; None for a record written before part paths were stored."""
        try:
            return cls(str(record["path"]), str(record["name"]), str(record["type"]), int(record["size"]),
                       str(record["sha256"]), bool(record.get("inline")), str(record.get("within") or ""))
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Mail:
    """One parsed message. `text` is the whole readable body; `new_text` drops quoted history
    and signature; `headers` keeps every header (lower-cased name, decoded value; Authentication-Results
    raw, unfolded) in order."""

    message_id: str
    subject: str
    sender: Address | None
    reply_to: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    date: datetime | None
    in_reply_to: str
    references: tuple[str, ...]
    headers: tuple[tuple[str, str], ...]
    content_type: str
    text: str
    new_text: str
    quoted: str
    signature: str
    html_only: bool
    attachments: tuple[Attachment, ...]
    size: int
    truncated: bool = False
    parts_cut: bool = False  # more MIME parts than [parsing] max_parts: those past the limit were not read
    defects: tuple[str, ...] = ()
    rfc822_parts: tuple[bytes, ...] = ()  # attached message/rfc822 parts, raw
    reply_to_all: tuple[Address, ...] = ()  # the addresses of every Reply-To field (`reply_to`: the first, named)
    from_count: int = 1  # mailboxes in From (From fields, when several): `sender` speaks for it only when 1

    def header(self, name: str) -> str:
        """The first value of header `name` (case-insensitive), or ''."""
        name = name.lower()
        return next((v for k, v in self.headers if k == name), "")

    def has_header(self, name: str) -> bool:
        name = name.lower()
        return any(k == name for k, _ in self.headers)


@dataclass(frozen=True)
class Forward:
    """The original message found inside a forward."""

    sender: Address | None
    date: datetime | None
    subject: str
    text: str
    via: str  # "outlook", "gmail", "apple", "thunderbird", "rfc822", ...


_DOUBTFUL = frozenset({Code.FORWARD_UNVERIFIED, Code.REPLY_TO_UNVERIFIED, Code.REPLY_TO_SEVERAL, Code.FROM_SEVERAL})


@dataclass(frozen=True)
class Resolved:
    """Who the message is really from, after unwrapping forwards and contact forms."""

    mail: Mail
    complainant: Address | None  # whom to answer; None when nobody may be answered
    forwarded_by: Address | None = None  # staff member who forwarded it to us
    forward: Forward | None = None
    why: Reason | None = None  # why the complainant is what it is, when not plainly the sender

    @property
    def note(self) -> str:
        return english(self.why) if self.why else ""

    @property
    def needs_review(self) -> bool:
        """Whom to answer is in doubt (an unverified forward or Reply-To, several Reply-To or From
        addresses): a person must look, however sure the classifier is."""
        return self.why is not None and self.why.code in _DOUBTFUL

    @property
    def subject(self) -> str:
        return self.forward.subject if self.forward and self.forwarded_by else self.mail.subject

    @property
    def text(self) -> str:
        """The complainant's own words: the forwarded original for a staff forward, the whole
        message for anyone else's forward (taken as it stands), else the new text of the mail."""
        if self.forward and self.forwarded_by:
            return self.forward.text
        if self.forward:
            return self.mail.text
        return self.mail.new_text or self.mail.text


@dataclass(frozen=True)
class Screening:
    machine: bool
    why: Reason | None = None  # MACHINE with its rule, e.g. auto-submitted: auto-replied

    @property
    def reason(self) -> str:
        return english(self.why) if self.why else ""


@dataclass(frozen=True)
class Prediction:
    """The classifier's three heads with confidences (filled by the Classify issue)."""

    kind: str
    topic: str
    formality: str
    confidence: dict[str, float] = field(default_factory=dict)
    model_version: str = ""
    sure: bool = False
    language: str = "nl"
    unsure: tuple[str, ...] = ()  # heads below their threshold


@dataclass(frozen=True)
class ThreadMatch:
    case_id: int
    reference: str
    how: str  # "subject" or "in-reply-to"


@dataclass(frozen=True)
class CasePlan:
    """The case a new message opens: labels, status, why a person must look, and its term."""

    status: CaseStatus
    review: tuple[Reason, ...]
    term: str  # "6 weeks", as stored
    due: date
    due_is_latest: bool  # under review: the longest term that could apply
    kind: str | None = None
    topic: str | None = None
    formality: str | None = None
    confidences: dict[str, float] = field(default_factory=dict)
    model_version: str | None = None
    urgent: bool = False  # reports danger or a threat: on top of the review queue
    procedure: str | None = None  # another procedure governs it (woo, avg, bezwaar, ingebrekestelling)


@dataclass(frozen=True)
class AckPlan:
    """The acknowledgement of a new case: to whom, which template, and whether it may go out."""

    template: str  # "nl/formal_complaint"
    due: date
    recipient: Address | None
    suppressed: Reason | None  # None: it goes out
    plan: Plan
    letter: Letter | None  # what it is about; None when there is nobody to write to
    held: Reason | None = None  # it may go out, but only once a person releases it (HELD)

    def status(self, rendered: Rendered) -> tuple[AckStatus, Reason | None]:
        """The outbox status it starts in, and why it will not go out (yet)."""
        if self.suppressed is not None:
            return AckStatus.SUPPRESSED, self.suppressed
        if rendered.failed is not None or rendered.raw is None:
            return AckStatus.FAILED, rendered.failed
        if self.held is not None:
            return AckStatus.HELD, self.held
        return AckStatus.PENDING, None


@dataclass(frozen=True)
class Rendered:
    """An acknowledgement ready for the outbox: its Message-ID and bytes, or why it could not be written."""

    message_id: str
    sender: str  # the From address, also the envelope sender (bounces come back to us)
    nonce: int = 0  # 0: the first acknowledgement of the case; 1, 2, ...: corrected ones
    subject: str = ""
    raw: bytes | None = None
    failed: Reason | None = None


@dataclass(frozen=True)
class Outcome:
    """The pipeline's decision for one message: everything that must be written, as values."""

    disposition: Disposition
    reasons: tuple[Reason, ...] = ()
    resolved: Resolved | None = None
    screening: Screening | None = None
    thread: ThreadMatch | None = None
    prediction: Prediction | None = None
    error: str = ""
    bounce_of: tuple[str, ...] = ()  # Message-IDs of our acknowledgements that this bounce reports
    case: CasePlan | None = None  # FILED and REVIEW: the case to open
    ack: AckPlan | None = None  # with `case`: its acknowledgement
    peek: tuple[str, str | None] = ("", None)  # QUARANTINED: subject and sender from the headers alone

    @property
    def reason(self) -> str:
        return text(self.reasons)

    def details(self) -> dict[str, Any]:
        """What the review page shows of the message beyond its text (stored as JSON)."""
        if self.resolved is None:
            return {}
        mail, r = self.resolved.mail, self.resolved
        details: dict[str, Any] = {
            "attachments": [a.record() for a in mail.attachments],
            "headers": [[k, v] for k, v in mail.headers[:200]],
            "content_type": mail.content_type, "html_only": mail.html_only, "quoted": mail.quoted[:20000],
            "signature": mail.signature[:2000], "defects": list(mail.defects), "truncated": mail.truncated,
            "parts_cut": mail.parts_cut,
            "note": r.note,
        }
        if r.forward:
            details["forward"] = {
                "via": r.forward.via, "sender": str(r.forward.sender or ""), "subject": r.forward.subject,
                "date": r.forward.date.isoformat() if r.forward.date else None, "text": r.forward.text[:50000],
            }
        return details
