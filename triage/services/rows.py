"""Frozen copies of the rows the review pages show (a case with its procedure, its messages,
acknowledgements and letters, corrections and log), made while the session is open so that a
page renders them after it closed."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from triage.store.models import Acknowledgement, AuditLog, Case, Correction, Message


@dataclass(frozen=True)
class CaseRow:
    id: int
    organisation: str
    reference: str
    status: str
    review_reason: str
    review_reasons: list[Any]
    complainant: str | None
    complainant_name: str
    forwarded_by: str | None
    subject: str
    kind: str | None
    topic: str | None
    formality: str | None
    confidences: dict[str, Any]
    model_version: str | None
    received_at: datetime
    due_date: date | None
    term: str
    due_is_latest: bool
    procedure: Procedure
    urgent: bool = False  # reports danger or a threat
    other_procedure: str | None = None  # woo, avg, bezwaar, ingebrekestelling

    @classmethod
    def of(cls, case: Case) -> CaseRow:
        return cls(case.id, case.organisation, case.reference, case.status, case.review_reason,
                   list(case.review_reasons or []), case.complainant, case.complainant_name, case.forwarded_by,
                   case.subject, case.kind, case.topic, case.formality, dict(case.confidences or {}),
                   case.model_version, case.received_at, case.due_date, case.term, case.due_is_latest,
                   Procedure.of(case), bool(case.urgent), case.other_procedure)


@dataclass(frozen=True)
class Procedure:
    """What the procedure recorded of a case after intake: handler, hearing, extension, ending,
    the answer being written, new correspondence, and the version a form must carry."""

    handler: str | None
    extensions: int
    due_before_extension: date | None
    consent_date: date | None
    hearing: str
    hearing_date: date | None
    hearing_note: str
    judgement: str
    answered_on: date | None
    ended_on: date | None
    on_time: bool | None
    ending_note: str
    draft_text: str
    draft_judgement: str
    merged_into: int | None
    unread_since: datetime | None
    version: int

    @classmethod
    def of(cls, case: Case) -> Procedure:
        draft = dict(case.draft or {})
        return cls(case.handler, case.extensions or 0, case.due_before_extension, case.consent_date,
                   case.hearing or "", case.hearing_date, case.hearing_note or "", case.judgement or "",
                   case.answered_on, case.ended_on, case.on_time, case.ending_note or "",
                   str(draft.get("text") or ""), str(draft.get("judgement") or ""), case.merged_into,
                   case.unread_since, case.version)


@dataclass(frozen=True)
class MessageRow:
    id: int
    organisation: str
    subject: str
    sender: str | None
    received_at: datetime
    text: str
    new_text: str
    details: dict[str, Any]
    disposition: str
    reason: str
    reasons: list[Any]
    error: str
    attempts: int
    case_id: int | None

    @classmethod
    def of(cls, msg: Message) -> MessageRow:
        return cls(msg.id, msg.organisation, msg.subject, msg.sender, msg.received_at, msg.text, msg.new_text,
                   dict(msg.details or {}), msg.disposition, msg.reason, list(msg.reasons or []), msg.error,
                   msg.attempts, msg.case_id)


def text_of(raw: bytes | None) -> str:
    """The plain-text body of a stored message ("" when there is none)."""
    if not raw:
        return ""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    body = parsed.get_body(("plain",)) if isinstance(parsed, email.message.EmailMessage) else None
    return str(body.get_content()) if body is not None else ""


@dataclass(frozen=True)
class AckRow:
    """An acknowledgement as the case page shows it, with the text of its letter."""

    nonce: int
    status: str
    reason: str
    reasons: list[Any]
    recipient: str
    subject: str
    due_date: date | None
    sent_at: datetime | None
    text: str
    kind: str = "ack"  # ack, or a letter of the procedure: extension, consent, answer, not_handled, forwarded
    created_at: datetime | None = None
    template: str = ""  # "nl/passed_on": received and passed on, no term stated

    @classmethod
    def of(cls, ack: Acknowledgement) -> AckRow:
        return cls(ack.nonce, ack.status, ack.reason, list(ack.reasons or []), ack.recipient, ack.subject,
                   ack.due_date, ack.sent_at, text_of(ack.raw), ack.kind or "ack", ack.created_at, ack.template or "")


@dataclass(frozen=True)
class CorrectionRow:
    user: str
    at: datetime
    head: str
    old: str | None
    new: str

    @classmethod
    def of(cls, row: Correction) -> CorrectionRow:
        return cls(row.user, row.at, row.head, row.old, row.new)


@dataclass(frozen=True)
class LogRow:
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]

    @classmethod
    def of(cls, row: AuditLog) -> LogRow:
        return cls(row.at, row.actor, row.action, dict(row.detail or {}))
