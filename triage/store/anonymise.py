"""Removing personal data while keeping an anonymous record: a case keeps its reference, dates,
labels, term, procedure steps and ending (the yearly figures stay right); its subject, texts,
addresses, names, notes, letters and the raw bytes of its messages go. Used by the retention purge
and by an erasure on request (AVG art. 17); both call these functions inside their own transaction,
one case at a time, so an interrupted run leaves every case either whole or anonymised.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from triage.domain import AckStatus
from triage.reasons import Code, english, reason
from triage.store.models import Acknowledgement, AuditLog, Case, Message, RawBlob

BY = ("purge", "erasure")
# Audit details that never hold personal data: kept on an anonymised case's audit rows.
SAFE_DETAIL = frozenset({"reference", "status", "disposition", "attempts", "kind", "topic", "formality", "head",
                          "old", "new", "ending", "due", "judgement", "letter", "nonce", "from_status", "to_status"})


def purge_message(session: Session, msg: Message, now: datetime) -> bool:
    """Blank one message's content and addresses and drop its raw bytes unless another message
    still needs them. Keeps its identity (mailbox, UIDVALIDITY, UID, sha256, dates, disposition), so
    it is never fetched or filed again. False when it was purged before."""
    if msg.purged_at is not None:
        return False
    msg.subject, msg.sender, msg.complainant, msg.forwarded_by = "", None, None, None
    msg.message_id, msg.text, msg.new_text, msg.details = "", "", "", {}
    # the reasons go too: their parameters may quote a sender or the words of the mail
    msg.reason, msg.reasons, msg.error = "", [], ""
    msg.purged_at = now
    # its audit rows keep what happened, not their details (a reason may quote the sender)
    for entry in session.scalars(select(AuditLog).where(AuditLog.message_id == msg.id)):
        entry.detail = {k: v for k, v in (entry.detail or {}).items() if k in SAFE_DETAIL}
    session.flush()
    others = session.scalar(select(Message.id).where(Message.sha256 == msg.sha256, Message.id != msg.id,
                                                     Message.purged_at.is_(None)).limit(1))
    if others is None:
        session.execute(update(RawBlob).where(RawBlob.sha256 == msg.sha256).values(data=b"", size=0))
    return True


def anonymise_case(session: Session, case: Case, now: datetime, by: str) -> int:
    """Remove the personal data of a case, its messages and its letters; returns how many messages
    were purged. A letter still waiting in the outbox is suppressed: nothing about the case leaves
    any more. Idempotent: a case anonymised before is left as it is (0)."""
    assert by in BY
    if case.anonymised_at is not None:
        return 0
    case.complainant, case.complainant_name, case.forwarded_by, case.subject = None, "", None, ""
    case.hearing_note, case.ending_note, case.draft = "", "", {}
    case.review_reason, case.review_reasons = "", []
    case.unread_since = None
    case.anonymised_at, case.anonymised_by = now, by
    purged = sum(purge_message(session, msg, now)
                 for msg in session.scalars(select(Message).where(Message.case_id == case.id)))
    why = reason(Code.ANONYMISED, by=by)
    waiting = (AckStatus.PENDING, AckStatus.SENDING, AckStatus.HELD)
    for row in session.scalars(select(Acknowledgement).where(Acknowledgement.case_id == case.id)):
        if row.status in waiting:
            row.status = AckStatus.SUPPRESSED.value
        row.raw, row.recipient, row.subject = None, "", ""
        row.reason, row.reasons = english(why), [why.stored()]
    for entry in session.scalars(select(AuditLog).where(AuditLog.case_id == case.id)):
        entry.detail = {k: v for k, v in (entry.detail or {}).items() if k in SAFE_DETAIL}
    session.flush()
    return purged
