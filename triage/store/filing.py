"""Write one message's outcome: the message row, its raw bytes, a new case (with a reference
number) or a link to an existing one, and an audit entry. Callers hold the transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from triage.config import Organisation
from triage.dates import AMSTERDAM
from triage.domain import CasePlan, Disposition, Outcome, Rendered, Resolved
from triage.mailboxes.base import Fetched
from triage.reasons import Code, english, reason, stored, text
from triage.store import acks, repo
from triage.store.models import Case, Message, RawBlob

if TYPE_CHECKING:
    from structlog.stdlib import BoundLogger



AckWriter = Callable[[str], Rendered]  # the rendered acknowledgement of the case with this reference


@dataclass(frozen=True)
class Place:
    """Where a fetched message sits: its organisation, mailbox key and UIDVALIDITY."""

    org: Organisation
    key: str
    uidvalidity: int


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

    def log(self, logger: BoundLogger) -> None:
        level = logging.WARNING if self.disposition == Disposition.QUARANTINED else logging.INFO
        logger.log(level, "message", uid=self.uid, reference=self.reference or None, disposition=self.label,
                   reason=self.reason, sender=self.sender or None)


def folder_for(org: Organisation, disposition: str) -> str:
    f = org.folders
    return {
        Disposition.FILED: f.filed, Disposition.JOINED: f.filed, Disposition.REVIEW: f.review,
        Disposition.IGNORED: f.ignored, Disposition.DUPLICATE: f.ignored, Disposition.QUARANTINED: f.quarantine,
    }[Disposition(disposition)]


def _apply(session: Session, org: Organisation, msg: Message, outcome: Outcome, write: AckWriter | None) -> str:
    """Fill `msg` from `outcome`; create or link the case. Returns the case reference, if any."""
    msg.disposition = outcome.disposition.value
    msg.reason, msg.reasons = outcome.reason, stored(outcome.reasons)
    msg.folder = folder_for(org, outcome.disposition)
    if outcome.disposition == Disposition.QUARANTINED:
        msg.error = outcome.error
        msg.attempts += 1
        if not msg.subject:
            msg.subject, msg.sender = outcome.peek
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
    msg.details = outcome.details()
    if outcome.disposition == Disposition.JOINED and outcome.thread:
        msg.case_id = outcome.thread.case_id
        mark_unread(session, msg.case_id, msg.received_at, urgent=any(r.code == Code.DANGER for r in outcome.reasons))
        return outcome.thread.reference
    if outcome.case is None:
        return ""
    case = _open_case(session, org, msg, r, outcome.case)
    if outcome.ack is not None and write is not None:
        acks.write(session, case, outcome.ack, write(case.reference), msg.fetched_at)
    return case.reference


def mark_unread(session: Session, case_id: int, at: datetime, urgent: bool = False) -> None:
    """New correspondence for the handler: on the case, or on the case a merged one joined; a reply
    that reports danger makes them urgent. A plain UPDATE: a reply arriving is no edit of the case
    (its version stays, a form open on it stays valid)."""
    merged_into = session.scalar(select(Case.merged_into).where(Case.id == case_id, Case.status == "merged"))
    ids = [case_id, merged_into or case_id]
    session.execute(update(Case).where(Case.id.in_(ids), Case.unread_since.is_(None))
                    .values(unread_since=at).execution_options(synchronize_session=False))
    if urgent:
        session.execute(update(Case).where(Case.id.in_(ids)).values(urgent=True)
                        .execution_options(synchronize_session=False))


def _open_case(session: Session, org: Organisation, msg: Message, r: Resolved, plan: CasePlan) -> Case:
    year = msg.received_at.astimezone(AMSTERDAM).year
    reference, seq = repo.next_reference(session, org.id, org.reference_prefix, year)
    case = Case(
        organisation=org.id, reference=reference, year=year, seq=seq, status=plan.status.value,
        review_reason=text(plan.review), review_reasons=stored(plan.review),
        complainant=msg.complainant, complainant_name=r.complainant.name[:200] if r.complainant else "",
        forwarded_by=msg.forwarded_by, subject=r.subject, kind=plan.kind, topic=plan.topic, formality=plan.formality,
        confidences=plan.confidences, model_version=plan.model_version, received_at=msg.received_at,
        created_at=msg.fetched_at, due_date=plan.due, term=plan.term, due_is_latest=plan.due_is_latest,
        urgent=plan.urgent, other_procedure=plan.procedure,
    )
    session.add(case)
    session.flush()
    msg.case_id = case.id
    return case


def _filed(msg: Message, reference: str) -> Filed:
    return Filed(message_id=msg.id, uid=msg.uid, sha256=msg.sha256, disposition=msg.disposition,
                 reason=msg.reason, folder=msg.folder, reference=reference, sender=msg.sender or "",
                 complainant=msg.complainant or "", subject=msg.subject)


def _new_message(org: Organisation, key: str, uidvalidity: int, fetched: Fetched, now: datetime) -> Message:
    return Message(organisation=org.id, mailbox=key, uidvalidity=uidvalidity, uid=fetched.uid, sha256=fetched.sha256,
                   size=len(fetched.raw), received_at=fetched.internaldate or now, fetched_at=now, attempts=0,
                   details={}, message_id="", subject="", text="", new_text="", reason="", error="")


def file_new(session: Session, place: Place, fetched: Fetched, outcome: Outcome,
             write: AckWriter, now: datetime) -> Filed:
    """Record a new message and, from its outcome, its case and acknowledgement (`write` renders
    the acknowledgement once the case has its reference)."""
    org = place.org
    repo.save_blob(session, fetched.sha256, fetched.raw)
    msg = _new_message(org, place.key, place.uidvalidity, fetched, now)
    session.add(msg)
    reference = _apply(session, org, msg, outcome, write)
    session.flush()
    if outcome.bounce_of:
        bounced = acks.record_bounce(session, org.id, outcome.bounce_of, outcome.reason, msg.id, now)
        if bounced:
            why = reason(Code.BOUNCE_OF, references=bounced)
            msg.reason, msg.reasons = f"{msg.reason}; {english(why)}", [*msg.reasons, why.stored()]
    repo.audit(session, "message." + msg.disposition, now, organisation=org.id, case_id=msg.case_id,
               message_id=msg.id, reason=msg.reason, reference=reference)
    return _filed(msg, reference)


def file_duplicate(session: Session, place: Place, fetched: Fetched, first: Message,
                   now: datetime) -> Filed:
    org = place.org
    msg = _new_message(org, place.key, place.uidvalidity, fetched, now)
    reference = first.case.reference if first.case else ""
    msg.disposition = Disposition.DUPLICATE.value
    why = reason(Code.DUPLICATE, of=first.id, reference=reference)
    msg.reason, msg.reasons = english(why), [why.stored()]
    msg.folder = folder_for(org, Disposition.DUPLICATE)
    msg.duplicate_of, msg.case_id = first.id, first.case_id
    msg.subject, msg.sender, msg.message_id = first.subject, first.sender, first.message_id
    session.add(msg)
    session.flush()
    repo.audit(session, "message.duplicate", now, organisation=org.id, case_id=msg.case_id, message_id=msg.id,
               duplicate_of=first.id)
    return _filed(msg, reference)


def reidentify(session: Session, msg: Message, place: Place, uid: str, now: datetime) -> Filed:
    """The mailbox renumbered (UIDVALIDITY changed) a message we filed but had not moved yet."""
    key, uidvalidity = place.key, place.uidvalidity
    old = (msg.mailbox, msg.uidvalidity, msg.uid)
    msg.mailbox, msg.uidvalidity, msg.uid = key, uidvalidity, uid
    session.flush()
    repo.audit(session, "message.renumbered", now, organisation=msg.organisation, message_id=msg.id,
               old=list(old), new=[key, uidvalidity, uid])
    filed = _filed(msg, msg.case.reference if msg.case else "")
    filed.renumbered = True
    return filed


def stored_bytes(session: Session, message_id: int) -> tuple[Message, bytes]:
    """A message row and its raw bytes (to process a quarantined message again)."""
    msg = session.get(Message, message_id)
    assert msg is not None
    blob = session.get(RawBlob, msg.sha256)
    assert blob is not None
    return msg, blob.data


def refile(session: Session, org: Organisation, msg: Message, outcome: Outcome, write: AckWriter,
           now: datetime) -> Filed:
    """Record the new outcome of a quarantined message processed again from its stored bytes."""
    before = msg.folder
    reference = _apply(session, org, msg, outcome, write)
    msg.moved_at = None if msg.folder != before else msg.moved_at
    session.flush()
    repo.audit(session, "message.retried", now, organisation=org.id, case_id=msg.case_id, message_id=msg.id,
               disposition=msg.disposition, attempts=msg.attempts)
    return _filed(msg, reference)
