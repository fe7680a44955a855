"""Plain frozen values that flow through the pipeline: Mail, Forward, Screening, Prediction, Outcome.

Stages take and return these; nothing here talks to a server or a database.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Disposition(enum.StrEnum):
    """What became of one fetched message."""

    FILED = "filed"  # a new case, classified with confidence
    REVIEW = "review"  # a new case that needs a person
    JOINED = "joined"  # appended to an existing case (a reply in its thread)
    IGNORED = "ignored"  # machine mail: never acknowledged
    DUPLICATE = "duplicate"  # identical bytes seen before
    QUARANTINED = "quarantined"  # a stage failed; kept with its error


class CaseStatus(enum.StrEnum):
    NEEDS_REVIEW = "needs_review"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Address:
    addr: str  # lower-cased e-mail address
    name: str = ""

    def __str__(self) -> str:
        return f"{self.name} <{self.addr}>" if self.name else self.addr


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    size: int


@dataclass(frozen=True)
class Mail:
    """One parsed message. `text` is the whole readable body; `new_text` drops quoted history
    and signature; `headers` keeps every header (lower-cased name, decoded value) in order."""

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
    defects: tuple[str, ...] = ()
    rfc822_parts: tuple[bytes, ...] = ()  # attached message/rfc822 parts, raw

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


@dataclass(frozen=True)
class Resolved:
    """Who the message is really from, after unwrapping forwards and contact forms."""

    mail: Mail
    complainant: Address | None  # whom to answer; None when nobody may be answered
    forwarded_by: Address | None = None  # staff member who forwarded it to us
    forward: Forward | None = None
    note: str = ""  # why the complainant is what it is, when not plainly the sender

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
    reason: str = ""  # e.g. "auto-submitted: auto-replied"


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
class Outcome:
    """The pipeline's decision for one message, before it is stored."""

    disposition: Disposition
    reason: str
    resolved: Resolved | None = None
    screening: Screening | None = None
    thread: ThreadMatch | None = None
    prediction: Prediction | None = None
    error: str = ""
    bounce_of: tuple[str, ...] = ()  # Message-IDs of our acknowledgements that this bounce reports


@dataclass(frozen=True)
class OwnAddresses:
    """What the forwards stage needs to know of the organisation."""

    addresses: frozenset[str]
    domains: frozenset[str]

    def is_own(self, addr: str) -> bool:
        addr = addr.lower()
        domain = addr.rpartition("@")[2]
        return addr in self.addresses or any(domain == d or domain.endswith("." + d) for d in self.domains)


def ack_message_id(reference: str, domain: str, nonce: str = "1") -> str:
    """The deterministic Message-ID of our acknowledgement for a case: recognisable in replies."""
    return f"<ack.{reference}.{nonce}@{domain}>"
