"""Outbox rows: written with the case (same transaction), claimed by a sender with
`FOR UPDATE SKIP LOCKED` and a lease, marked sent or retried with backoff, and bounces recorded."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, String, and_, cast, func, or_, select, text, update
from sqlalchemy.orm import Session, joinedload

from triage.addresses import rate_key
from triage.config import Outbox
from triage.domain import COUNTED_ACKS, AckPlan, AckStatus, Rendered
from triage.reasons import Code, Reason, english, reason
from triage.store import repo
from triage.store.models import Acknowledgement, Case, Message

PENDING, SENDING, SENT = AckStatus.PENDING, AckStatus.SENDING, AckStatus.SENT
FAILED, SUPPRESSED, BOUNCED, HELD = AckStatus.FAILED, AckStatus.SUPPRESSED, AckStatus.BOUNCED, AckStatus.HELD


CHANNEL = "triage_outbox"  # PostgreSQL LISTEN/NOTIFY: a new pending row, for every worker's send job


def notify_new_rows(session: Session) -> None:
    """On PostgreSQL, tell every listening worker (delivered at commit, once per transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(text(f"NOTIFY {CHANNEL}"))  # no autoflush for this


def _same_key(key: str) -> ColumnElement[bool]:
    """Recipients with rate key `key`: `jan@x` and `jan+tag@x` (`Jan@x` is stored lower-cased), or
    every address at a domain for `*@x`."""
    local, _, domain = key.rpartition("@")
    at_domain = Acknowledgement.recipient.endswith(f"@{domain}", autoescape=True)
    if local == "*":
        return at_domain
    return or_(Acknowledgement.recipient == key,
               and_(Acknowledgement.recipient.startswith(f"{local}+", autoescape=True), at_domain))


MACHINE_MEMORY = timedelta(days=30)  # how long a domain that answered our mail counts as a machine


def machine_domains(session: Session, recipients: set[str], now: datetime) -> frozenset[str]:
    """The recipients' domains from which, in the last 30 days, one address answered our mail to
    another address there (the thread stage's REFERENCE_OTHER_SENDER note with its `domain`)."""
    domains = {r.rpartition("@")[2].lower() for r in recipients if "@" in r}
    if not domains:
        return frozenset()
    rows = session.scalars(select(Message.complainant).where(
        or_(*(Message.complainant.endswith(f"@{d}", autoescape=True) for d in sorted(domains))),
        Message.received_at >= now - MACHINE_MEMORY,
        cast(Message.reasons, String).contains(f'"{Code.REFERENCE_OTHER_SENDER.value}"'),
        cast(Message.reasons, String).contains('"domain"')).distinct())
    return frozenset(str(c).rpartition("@")[2].lower() for c in rows if c)


def recent_counts(session: Session, recipients: set[str], now: datetime,
                  machines: frozenset[str] = frozenset()) -> dict[str, int]:
    """Per rate key (`triage.addresses.rate_key`: the address without its +tag, or the whole domain of
    a machine-looking address or of one of `machines`), the acknowledgements sent or on their way
    in the last 24 hours, in one query (asked once per batch; the pipeline adds what the batch
    itself queues)."""
    keys = {rate_key(r, machines) for r in recipients}
    counts = dict.fromkeys(keys, 0)
    if keys:
        rows = session.execute(select(Acknowledgement.recipient, func.count()).where(
            or_(*(_same_key(k) for k in sorted(keys))), Acknowledgement.kind == "ack",
            Acknowledgement.status.in_(COUNTED_ACKS),
            Acknowledgement.created_at >= now - timedelta(hours=24)).group_by(Acknowledgement.recipient))
        for recipient, n in rows:
            key = rate_key(recipient, machines)
            if key in counts:  # jan@x was asked for, not *@x: a machine-looking neighbour is not jan
                counts[key] += int(n)
    return counts


def hour_count(session: Session, organisation: str, now: datetime) -> int:
    """The organisation's acknowledgements sent or on their way, written in the last hour."""
    return int(session.scalar(select(func.count()).select_from(Acknowledgement).where(
        Acknowledgement.organisation == organisation, Acknowledgement.kind == "ack",
        Acknowledgement.status.in_(COUNTED_ACKS), Acknowledgement.created_at >= now - timedelta(hours=1))) or 0)


def held_counts(session: Session) -> dict[str, int]:
    """Per organisation, the acknowledgements that wait for a person (over the hourly limit)."""
    return {org: int(n) for org, n in session.execute(
        select(Acknowledgement.organisation, func.count()).where(Acknowledgement.status == HELD)
        .group_by(Acknowledgement.organisation))}


def release_held(session: Session, organisation: str, send: bool, now: datetime, actor: str) -> int:
    """A person's decision on the organisation's held acknowledgements: send them all (pending) or
    none of them (suppressed). Returns how many."""
    rows = list(session.scalars(select(Acknowledgement).where(
        Acknowledgement.organisation == organisation, Acknowledgement.status == HELD).with_for_update()))
    why = reason(Code.HELD_NOT_SENT, user=actor)
    for row in rows:
        if send:
            row.status, row.reason, row.reasons, row.next_attempt_at = PENDING, "", [], None
        else:
            row.status, row.reason, row.reasons = SUPPRESSED, english(why), [why.stored()]
        repo.audit(session, f"ack.{row.status}", now, actor=actor, organisation=organisation, case_id=row.case_id,
                   released=send)
    if rows and send:
        notify_new_rows(session)
    return len(rows)


def write(session: Session, case: Case, ack: AckPlan, rendered: Rendered, now: datetime,
          actor: str = "worker") -> Acknowledgement:
    """One acknowledgement row of a case, as decided: pending with its bytes, suppressed or failed
    with the reason. A pending row wakes the listening workers' send jobs at commit."""
    status, why = ack.status(rendered)
    organisation, nonce = case.organisation, rendered.nonce
    row = Acknowledgement(organisation=organisation, case_id=case.id, nonce=nonce, status=status.value,
                          reason=english(why) if why else "", reasons=[why.stored()] if why else [],
                          recipient=ack.recipient.addr[:320] if ack.recipient and ack.letter else "",
                          sender=rendered.sender, template=ack.template, due_date=ack.due, attempts=0, created_at=now,
                          message_id=rendered.message_id, subject=rendered.subject, raw=rendered.raw)
    session.add(row)  # flushed with the rest of the transaction: nothing here needs its id
    if row.status == PENDING:
        notify_new_rows(session)
    repo.audit(session, "ack." + row.status, now, actor=actor, organisation=organisation, case_id=case.id,
               reason=row.reason, template=row.template, due=ack.due.isoformat(), nonce=nonce)
    return row


def record_bounce(session: Session, organisation: str, message_ids: tuple[str, ...], reason: str,
                  bounce_message_id: int, now: datetime) -> list[str]:
    """Mark our acknowledgements named by a bounce as undeliverable; returns their case references."""
    rows = session.scalars(select(Acknowledgement).where(Acknowledgement.organisation == organisation,
                                                         Acknowledgement.message_id.in_(message_ids))).all()
    references = []
    for row in rows:
        row.status, row.reason = BOUNCED, f"bounced: {reason}"[:2000]
        if row.case is not None:
            references.append(row.case.reference)
        repo.audit(session, "ack.bounced", now, organisation=organisation, case_id=row.case_id,
                   message_id=bounce_message_id, reason=reason)
    return references


def claim(session: Session, worker: str, settings: Outbox, now: datetime) -> list[Acknowledgement]:
    """Take up to `batch` rows that are due (or whose sender's lease ran out) for this worker."""
    due = or_(and_(Acknowledgement.status == PENDING,
                   or_(Acknowledgement.next_attempt_at.is_(None), Acknowledgement.next_attempt_at <= now)),
              and_(Acknowledgement.status == SENDING, Acknowledgement.claimed_until < now))
    rows = list(session.scalars(select(Acknowledgement).where(due).order_by(Acknowledgement.id)
                                .options(joinedload(Acknowledgement.case))  # its reference
                                .limit(settings.batch).with_for_update(skip_locked=True, of=Acknowledgement)))
    for row in rows:
        if row.status == SENDING:  # its sender died between sending and recording: the documented window
            repo.audit(session, "ack.reclaimed", now, organisation=row.organisation, case_id=row.case_id,
                       previous=row.claimed_by)
        row.status, row.claimed_by = SENDING, worker
        row.claimed_until = now + timedelta(seconds=settings.lease)
    return rows


def action(kind: str, what: str) -> str:
    """The audit action of an outbox event: `ack.sent` for an acknowledgement, `letter.sent` for
    an answer, a notice or a digest (its kind in the details)."""
    return f"{'ack' if kind == 'ack' else 'letter'}.{what}"


def envelope(row: Acknowledgement) -> tuple[str, str]:
    """(MAIL FROM, RCPT TO): bounces come back to our own address, so they can be recorded."""
    return email.utils.parseaddr(row.sender)[1], row.recipient


@dataclass(frozen=True)
class Claimed:
    """What the send job needs of a claimed row, read in the claiming transaction."""

    id: int
    organisation: str
    case_id: int | None  # None: a digest
    reference: str
    mail_from: str
    rcpt_to: str
    raw: bytes
    kind: str = "ack"

    @classmethod
    def of(cls, row: Acknowledgement) -> Claimed:
        assert row.raw is not None
        mail_from, rcpt_to = envelope(row)
        reference = row.case.reference if row.case is not None else ""
        return cls(row.id, row.organisation, row.case_id, reference, mail_from, rcpt_to, row.raw, row.kind)


def mark_sent(session: Session, item: Claimed, now: datetime) -> None:
    """Record a delivery: one UPDATE and one audit row, nothing read first (this closes the window)."""
    session.execute(update(Acknowledgement).where(Acknowledgement.id == item.id).values(
        status=SENT, sent_at=now, claimed_by=None, claimed_until=None, attempts=Acknowledgement.attempts + 1))
    repo.audit(session, action(item.kind, "sent"), now, organisation=item.organisation, case_id=item.case_id,
               recipient=item.rcpt_to, kind=item.kind)


def mark_failed_attempt(session: Session, row_id: int, error: str, permanent: bool, settings: Outbox,
                        now: datetime, why: Reason | None = None) -> bool:
    """A refused or failed send: retry later with backoff, or give up after `max_attempts` (True).
    `why`: the code, when the refusal has one."""
    row = session.get(Acknowledgement, row_id)
    assert row is not None
    row.attempts += 1
    row.reason, row.claimed_by, row.claimed_until = error[:2000], None, None
    if why is not None:
        row.reasons = [why.stored()]
    if permanent or row.attempts >= settings.max_attempts:
        row.status = FAILED
        repo.audit(session, action(row.kind, "failed"), now, organisation=row.organisation, case_id=row.case_id,
                   kind=row.kind, error=error,
                   attempts=row.attempts)
        return True
    row.status = PENDING
    row.next_attempt_at = now + timedelta(seconds=settings.backoff * 2 ** (row.attempts - 1))
    return False


def release(session: Session, ids: list[int], worker: str) -> None:
    """Give rows this worker claimed back untouched (the server could not be reached: not the
    rows' fault); a row whose lease another worker has taken over meanwhile is left alone."""
    session.execute(update(Acknowledgement).where(
        Acknowledgement.id.in_(ids), Acknowledgement.status == SENDING, Acknowledgement.claimed_by == worker)
        .values(status=PENDING, claimed_by=None, claimed_until=None))
