"""Write one message's outcome: the message row, its raw bytes, a new case (with a reference
number) or a link to an existing one, and an audit entry. Callers hold the transaction."""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from triage.config import Organisation
from triage.domain import CaseStatus, Disposition, Outcome
from triage.mailboxes.base import Fetched
from triage.stages.parse import decode_header_value, one_line
from triage.store import acks, repo
from triage.store.models import Case, Message, RawBlob

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@dataclass
class Filed:
    """What became of one message, for logs and reports."""

    message_id: int
    uid: str
    sha256: str
    disposition: str
    reason: str
    folder: str
    reference: str = ""
    sender: str = ""
    complainant: str = ""
    subject: str = ""
    renumbered: bool = False  # a known message met again under a new UIDVALIDITY

    @property
    def label(self) -> str:
        return "renumbered" if self.renumbered else self.disposition

    def log(self, logger: logging.Logger) -> None:
        level = logging.WARNING if self.disposition == Disposition.QUARANTINED else logging.INFO
        logger.log(level, "event=message uid=%s reference=%s disposition=%s reason=%r sender=%s",
                   self.uid, self.reference or "-", self.label, self.reason, self.sender or "-")


def folder_for(org: Organisation, disposition: str) -> str:
    f = org.folders
    return {
        Disposition.FILED: f.filed, Disposition.JOINED: f.filed, Disposition.REVIEW: f.review,
        Disposition.IGNORED: f.ignored, Disposition.DUPLICATE: f.ignored, Disposition.QUARANTINED: f.quarantine,
    }[Disposition(disposition)]


def _details(outcome: Outcome) -> dict[str, Any]:
    if outcome.resolved is None:
        return {}
    mail, r = outcome.resolved.mail, outcome.resolved
    details: dict[str, Any] = {
        "attachments": [{"name": a.name, "type": a.content_type, "size": a.size} for a in mail.attachments],
        "headers": [[k, v] for k, v in mail.headers[:200]],
        "content_type": mail.content_type,
        "html_only": mail.html_only,
        "quoted": mail.quoted[:20000],
        "signature": mail.signature[:2000],
        "defects": list(mail.defects),
        "truncated": mail.truncated,
        "note": r.note,
    }
    if r.forward:
        details["forward"] = {
            "via": r.forward.via, "sender": str(r.forward.sender or ""), "subject": r.forward.subject,
            "date": r.forward.date.isoformat() if r.forward.date else None, "text": r.forward.text[:50000],
        }
    return details


def _peek(raw: bytes) -> tuple[str, str | None]:
    """Subject and sender of a message no stage could read, from its headers alone, for the
    review queue. Never raises."""
    try:
        head = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw[:200_000])
        sender = email.utils.parseaddr(one_line(str(head.get("from", ""))))[1].lower()
        return decode_header_value(head.get("subject", ""))[:2000], (sender[:320] or None)
    except Exception:  # the message is broken enough to be quarantined: show what we can
        return "", None


def _apply(session: Session, org: Organisation, msg: Message, outcome: Outcome, raw: bytes = b"",
           recent: dict[str, int] | None = None) -> str:
    """Fill `msg` from `outcome`; create or link the case. Returns the case reference, if any."""
    msg.disposition = outcome.disposition.value
    msg.reason = outcome.reason
    msg.folder = folder_for(org, outcome.disposition)
    if outcome.disposition == Disposition.QUARANTINED:
        msg.error = outcome.error
        msg.attempts += 1
        if raw and not msg.subject:
            msg.subject, msg.sender = _peek(raw)
        return ""
    msg.error = ""
    r = outcome.resolved
    assert r is not None
    mail = r.mail
    msg.message_id = mail.message_id[:2000]
    msg.subject = mail.subject
    msg.sender = mail.sender.addr[:320] if mail.sender else None
    answerable = r.complainant is not None and outcome.disposition != Disposition.IGNORED
    msg.complainant = r.complainant.addr[:320] if answerable and r.complainant else None
    msg.forwarded_by = r.forwarded_by.addr[:320] if r.forwarded_by else None
    msg.sent_at = mail.date
    msg.text = mail.text
    msg.new_text = r.text
    msg.details = _details(outcome)
    if outcome.disposition == Disposition.JOINED and outcome.thread:
        msg.case_id = outcome.thread.case_id
        return outcome.thread.reference
    if outcome.disposition not in (Disposition.FILED, Disposition.REVIEW):
        return ""
    year = msg.received_at.astimezone(AMSTERDAM).year
    reference, seq = repo.next_reference(session, org.id, org.reference_prefix, year)
    p = outcome.prediction
    case = Case(
        organisation=org.id, reference=reference, year=year, seq=seq,
        status=(CaseStatus.OPEN if outcome.disposition == Disposition.FILED else CaseStatus.NEEDS_REVIEW).value,
        review_reason=outcome.reason if outcome.disposition == Disposition.REVIEW else "",
        complainant=msg.complainant, complainant_name=r.complainant.name[:200] if r.complainant else "",
        forwarded_by=msg.forwarded_by, subject=r.subject,
        kind=p.kind if p else None, topic=p.topic if p else None, formality=p.formality if p else None,
        confidences=dict(p.confidence) if p else {}, model_version=p.model_version if p else None,
        received_at=msg.received_at, created_at=repo.now(),
    )
    session.add(case)
    session.flush()
    msg.case_id = case.id
    acks.enqueue(session, org, case, outcome, recent)
    return reference


def _filed(msg: Message, reference: str) -> Filed:
    return Filed(message_id=msg.id, uid=msg.uid, sha256=msg.sha256, disposition=msg.disposition,
                 reason=msg.reason, folder=msg.folder, reference=reference, sender=msg.sender or "",
                 complainant=msg.complainant or "", subject=msg.subject)


def _new_message(org: Organisation, key: str, uidvalidity: int, fetched: Fetched, digest: str) -> Message:
    now = repo.now()
    return Message(organisation=org.id, mailbox=key, uidvalidity=uidvalidity, uid=fetched.uid, sha256=digest,
                   size=len(fetched.raw), received_at=fetched.internaldate or now, fetched_at=now, attempts=0,
                   details={}, message_id="", subject="", text="", new_text="", reason="", error="")


def file_new(session: Session, org: Organisation, key: str, uidvalidity: int, fetched: Fetched, digest: str,
             outcome: Outcome, recent: dict[str, int] | None = None) -> Filed:
    """Record a new message and, from its outcome, its case and acknowledgement; `recent` is the
    batch's per-recipient count of acknowledgements (`acks.recent_counts`)."""
    repo.save_blob(session, digest, fetched.raw)
    msg = _new_message(org, key, uidvalidity, fetched, digest)
    session.add(msg)
    reference = _apply(session, org, msg, outcome, fetched.raw, recent)
    session.flush()
    if outcome.bounce_of:
        bounced = acks.record_bounce(session, org.id, outcome.bounce_of, outcome.reason, msg.id)
        msg.reason = f"{msg.reason}; bounce of the acknowledgement of {', '.join(bounced)}" if bounced else msg.reason
    repo.audit(session, "message." + msg.disposition, organisation=org.id, case_id=msg.case_id,
               message_id=msg.id, reason=msg.reason, reference=reference)
    return _filed(msg, reference)


def file_duplicate(session: Session, org: Organisation, key: str, uidvalidity: int, fetched: Fetched,
                   digest: str, first: Message) -> Filed:
    msg = _new_message(org, key, uidvalidity, fetched, digest)
    reference = first.case.reference if first.case else ""
    msg.disposition = Disposition.DUPLICATE.value
    msg.reason = f"identical bytes to message {first.id}" + (f" of {reference}" if reference else "")
    msg.folder = folder_for(org, Disposition.DUPLICATE)
    msg.duplicate_of, msg.case_id = first.id, first.case_id
    msg.subject, msg.sender, msg.message_id = first.subject, first.sender, first.message_id
    session.add(msg)
    session.flush()
    repo.audit(session, "message.duplicate", organisation=org.id, case_id=msg.case_id, message_id=msg.id,
               duplicate_of=first.id)
    return _filed(msg, reference)


def reidentify(session: Session, msg: Message, key: str, uidvalidity: int, uid: str) -> Filed:
    """The mailbox renumbered (UIDVALIDITY changed) a message we filed but had not moved yet."""
    old = (msg.mailbox, msg.uidvalidity, msg.uid)
    msg.mailbox, msg.uidvalidity, msg.uid = key, uidvalidity, uid
    session.flush()
    repo.audit(session, "message.renumbered", organisation=msg.organisation, message_id=msg.id,
               old=list(old), new=[key, uidvalidity, uid])
    filed = _filed(msg, msg.case.reference if msg.case else "")
    filed.renumbered = True
    return filed


def retry(session: Session, org: Organisation, message_id: int, process: Callable[[bytes], Outcome]) -> Filed:
    """Run a quarantined message through the stages again from its stored bytes."""
    msg = session.get(Message, message_id)
    assert msg is not None
    blob = session.get(RawBlob, msg.sha256)
    assert blob is not None
    outcome = process(blob.data)
    before = msg.folder
    reference = _apply(session, org, msg, outcome, blob.data)
    msg.moved_at = None if msg.folder != before else msg.moved_at
    session.flush()
    repo.audit(session, "message.retried", organisation=org.id, case_id=msg.case_id, message_id=msg.id,
               disposition=msg.disposition, attempts=msg.attempts)
    return _filed(msg, reference)


def stamp(dt: datetime | None) -> str:
    return dt.astimezone(AMSTERDAM).strftime("%Y-%m-%d %H:%M") if dt else ""
