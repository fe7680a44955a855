"""Outbox rows: written with the case (same transaction), claimed by a sender with
`FOR UPDATE SKIP LOCKED` and a lease, marked sent or retried with backoff, and bounces recorded."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.orm import Session, joinedload

from triage.config import Organisation, Outbox
from triage.domain import Outcome, ack_message_id
from triage.stages import acknowledge
from triage.store import repo
from triage.store.models import Acknowledgement, Case

PENDING, SENDING, SENT, FAILED, SUPPRESSED, BOUNCED = "pending", "sending", "sent", "failed", "suppressed", "bounced"
_COUNTED = (PENDING, SENDING, SENT)


CHANNEL = "triage_outbox"  # PostgreSQL LISTEN/NOTIFY: a new pending row, for every worker's send job


def notify_new_rows(session: Session) -> None:
    """On PostgreSQL, tell every listening worker (delivered at commit, once per transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(text(f"NOTIFY {CHANNEL}"))  # no autoflush for this


def recent_counts(session: Session, recipients: set[str], now: datetime) -> dict[str, int]:
    """Per recipient, the acknowledgements sent or on their way to it in the last 24 hours, in one
    query (the pipeline asks once per batch; `enqueue` adds what the batch itself queues)."""
    counts = dict.fromkeys(recipients, 0)
    if recipients:
        counts.update({recipient: int(n) for recipient, n in session.execute(
            select(Acknowledgement.recipient, func.count()).where(
                Acknowledgement.recipient.in_(recipients), Acknowledgement.status.in_(_COUNTED),
                Acknowledgement.created_at >= now - timedelta(hours=24)).group_by(Acknowledgement.recipient))})
    return counts


def recipients(outcomes: list[Outcome]) -> set[str]:
    """The addresses a batch's acknowledgements would go to, as stored on their rows."""
    return {o.resolved.complainant.addr[:320] for o in outcomes
            if o.resolved is not None and o.resolved.complainant is not None}


def apply_plan(case: Case, plan: acknowledge.Plan) -> None:
    """The case states the due date its acknowledgement gives."""
    case.due_date, case.term, case.due_is_latest = plan.due, str(plan.term), plan.due_is_latest


def enqueue(session: Session, org: Organisation, case: Case, outcome: Outcome,
            recent: dict[str, int] | None = None) -> Acknowledgement:
    """Set the case's due date and write its acknowledgement row: pending, or suppressed with why.
    `recent` (from `recent_counts`) saves the rate-limit query per message."""
    resolved = outcome.resolved
    assert resolved is not None
    plan = acknowledge.plan(org, outcome.prediction, case.received_at)
    apply_plan(case, plan)
    recipient = resolved.complainant if case.complainant else None
    if not org.acknowledge.enabled:
        why = "acknowledgements are switched off for this organisation"
    else:
        now = repo.now()
        addr = recipient.addr[:320] if recipient else ""
        if not recipient:
            count = 0
        elif recent is not None and addr in recent:
            count = recent[addr]
        else:
            count = recent_counts(session, {addr}, now)[addr]
        why = acknowledge.suppression(recipient, org.own(), case.received_at, now, org.acknowledge.max_age_days,
                                      count, org.acknowledge.per_recipient_per_day)
    letter = None
    if recipient is not None:
        forwarded = resolved.forwarded_by is not None
        letter = acknowledge.Letter(
            reference=case.reference, recipient=recipient, subject=resolved.subject, received=case.received_at,
            original_message_id="" if forwarded else resolved.mail.message_id,
            original_references=() if forwarded else resolved.mail.references, forwarded_by_staff=forwarded)
    row = write(session, org, case, plan, letter, nonce=0, why=why)
    if recent is not None and row.status in _COUNTED:
        recent[row.recipient] = recent.get(row.recipient, 0) + 1
    return row


def write(session: Session, org: Organisation, case: Case, plan: acknowledge.Plan,
          letter: acknowledge.Letter | None, nonce: int, why: str = "", actor: str = "worker") -> Acknowledgement:
    """One acknowledgement row of a case: rendered and pending, or suppressed with `why`. One that
    cannot be rendered (hostile input) is recorded as failed; the caller goes on."""
    now = repo.now()
    row = Acknowledgement(organisation=org.id, case_id=case.id, nonce=nonce, status=SUPPRESSED if why else PENDING,
                          reason=why, recipient=letter.recipient.addr[:320] if letter else "", sender=org.ack_from(),
                          template=f"{plan.language}/{plan.template}", due_date=plan.due, attempts=0, created_at=now,
                          message_id=ack_message_id(case.reference, acknowledge.sender_domain(org), str(nonce)))
    if letter is not None and not why:
        try:
            message = acknowledge.compose(org, letter, plan, now, nonce)
            row.subject, row.raw = str(message["Subject"])[:2000], message.as_bytes()
        except Exception as exc:  # a template or header that cannot be written must not stop the poll
            row.status, row.reason = FAILED, f"could not write the acknowledgement: {type(exc).__name__}: {exc}"
    session.add(row)  # flushed with the rest of the transaction: nothing here needs its id
    if row.status == PENDING:
        notify_new_rows(session)
    repo.audit(session, "ack." + row.status, actor=actor, organisation=org.id, case_id=case.id, reason=row.reason,
               template=row.template, due=plan.due.isoformat(), nonce=nonce)
    return row


def record_bounce(session: Session, organisation: str, message_ids: tuple[str, ...], reason: str,
                  bounce_message_id: int) -> list[str]:
    """Mark our acknowledgements named by a bounce as undeliverable; returns their case references."""
    rows = session.scalars(select(Acknowledgement).where(Acknowledgement.organisation == organisation,
                                                         Acknowledgement.message_id.in_(message_ids))).all()
    references = []
    for row in rows:
        row.status, row.reason = BOUNCED, f"bounced: {reason}"[:2000]
        references.append(row.case.reference)
        repo.audit(session, "ack.bounced", organisation=organisation, case_id=row.case_id,
                   message_id=bounce_message_id, reason=reason)
    return references


def claim(session: Session, worker: str, settings: Outbox, now: datetime) -> list[Acknowledgement]:
    """Take up to `batch` rows that are due (or whose sender's lease ran out) for this worker."""
    due = or_(and_(Acknowledgement.status == PENDING,
                   or_(Acknowledgement.next_attempt_at.is_(None), Acknowledgement.next_attempt_at <= now)),
              and_(Acknowledgement.status == SENDING, Acknowledgement.claimed_until < now))
    rows = list(session.scalars(select(Acknowledgement).where(due).order_by(Acknowledgement.id)
                                .options(joinedload(Acknowledgement.case, innerjoin=True))  # its reference
                                .limit(settings.batch).with_for_update(skip_locked=True, of=Acknowledgement)))
    for row in rows:
        if row.status == SENDING:  # its sender died between sending and recording: the documented window
            repo.audit(session, "ack.reclaimed", organisation=row.organisation, case_id=row.case_id,
                       previous=row.claimed_by)
        row.status, row.claimed_by = SENDING, worker
        row.claimed_until = now + timedelta(seconds=settings.lease)
    return rows


def envelope(row: Acknowledgement) -> tuple[str, str]:
    """(MAIL FROM, RCPT TO): bounces come back to our own address, so they can be recorded."""
    return email.utils.parseaddr(row.sender)[1], row.recipient


@dataclass(frozen=True)
class Claimed:
    """What the send job needs of a claimed row, read in the claiming transaction."""

    id: int
    organisation: str
    case_id: int
    reference: str
    mail_from: str
    rcpt_to: str
    raw: bytes

    @classmethod
    def of(cls, row: Acknowledgement) -> Claimed:
        assert row.raw is not None
        mail_from, rcpt_to = envelope(row)
        return cls(row.id, row.organisation, row.case_id, row.case.reference, mail_from, rcpt_to, row.raw)


def mark_sent(session: Session, item: Claimed, now: datetime) -> None:
    """Record a delivery: one UPDATE and one audit row, nothing read first (this closes the window)."""
    session.execute(update(Acknowledgement).where(Acknowledgement.id == item.id).values(
        status=SENT, sent_at=now, claimed_by=None, claimed_until=None, attempts=Acknowledgement.attempts + 1))
    repo.audit(session, "ack.sent", organisation=item.organisation, case_id=item.case_id, recipient=item.rcpt_to)


def mark_failed_attempt(session: Session, row: Acknowledgement, error: str, permanent: bool, settings: Outbox,
                        now: datetime) -> None:
    """A refused or failed send: retry later with backoff, or give up after `max_attempts`."""
    row.attempts += 1
    row.reason, row.claimed_by, row.claimed_until = error[:2000], None, None
    if permanent or row.attempts >= settings.max_attempts:
        row.status = FAILED
        repo.audit(session, "ack.failed", organisation=row.organisation, case_id=row.case_id, error=error,
                   attempts=row.attempts)
        return
    row.status = PENDING
    row.next_attempt_at = now + timedelta(seconds=settings.backoff * 2 ** (row.attempts - 1))


def release(session: Session, ids: list[int], worker: str) -> None:
    """Give rows this worker claimed back untouched (the server could not be reached: not the
    rows' fault); a row whose lease another worker has taken over meanwhile is left alone."""
    session.execute(update(Acknowledgement).where(
        Acknowledgement.id.in_(ids), Acknowledgement.status == SENDING, Acknowledgement.claimed_by == worker)
        .values(status=PENDING, claimed_by=None, claimed_until=None))
