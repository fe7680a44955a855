"""The procedure's rows: a case found within a scope, its facts for `triage.procedure`, a change
applied, the letters it sends (outbox rows of their own kind), and the worklists and digests
that read the handling dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from triage.domain import AckStatus, CaseStatus
from triage.procedure import Change, Facts
from triage.stages.letters import NONCE_BASE, Written
from triage.stages.terms import Term
from triage.store import repo
from triage.store.acks import notify_new_rows
from triage.store.models import Acknowledgement, Case, Digest, User
from triage.store.scope import Scope

WORKING = (CaseStatus.NEW, CaseStatus.IN_PROGRESS)
VIEWS = ("mine", "unassigned", "overdue", "week", "working", "ended", "all")


def find(session: Session, scope: Scope, case_id: int | None = None, reference: str | None = None,
         lock: bool = False) -> Case | None:
    """A case by id or reference, when its organisation is in scope; else None."""
    q = select(Case).where(Case.id == case_id) if case_id is not None else select(Case).where(
        Case.reference == (reference or "").strip().upper())
    q = q.where(scope.clause(Case.organisation))  # nothing outside the scope is read, let alone locked
    if lock:
        q = q.with_for_update()
    case = session.scalars(q).first()
    return case if case is not None and scope.allows(case.organisation) else None


def facts(case: Case) -> Facts:
    try:
        term: Term | None = Term.parse(case.term) if case.term else None
    except ValueError:
        term = None
    merged = CaseStatus(case.merged_from) if case.merged_from in set(CaseStatus) else None
    return Facts(status=CaseStatus(case.status), kind=case.kind, formality=case.formality, received=case.received_at,
                 due=case.due_date, term=term, extensions=case.extensions, consented=case.consent_date is not None,
                 hearing=case.hearing,
                 handler=case.handler, draft=bool((case.draft or {}).get("text")), merged_from=merged,
                 complainant=case.complainant, organisation=case.organisation, reference=case.reference)


def apply(session: Session, case: Case, change: Change, actor: str, now: datetime,
          into: Case | None = None) -> None:
    """Write an allowed change: the fields, the state, and one audit row with its details."""
    for name, value in change.set.items():
        setattr(case, name, value)
    if into is not None:
        case.merged_into = into.id
    case.status = change.status.value
    repo.audit(session, change.audit, now, actor=actor, organisation=case.organisation, case_id=case.id,
               status=case.status, **change.detail)


@dataclass(frozen=True)
class Outgoing:
    """A letter as the outbox row records it."""

    kind: str  # extension, consent, answer, not_handled, forwarded
    language: str
    recipient: str
    due: date | None  # the date the letter states, if any
    nonce: int  # from `next_letter_nonce`, also in its Message-ID


def write_letter(session: Session, case: Case, written: Written, out: Outgoing, now: datetime,
                 actor: str) -> Acknowledgement:
    """One letter of the case, pending in the outbox (sent exactly once by the send job)."""
    kind = out.kind
    row = Acknowledgement(organisation=case.organisation, case_id=case.id, kind=kind, nonce=out.nonce,
                          status=AckStatus.PENDING.value, reason="", reasons=[], recipient=out.recipient[:320],
                          sender=written.sender, template=f"{out.language}/{kind}", due_date=out.due, attempts=0,
                          created_at=now, message_id=written.message_id, subject=written.subject[:2000],
                          raw=written.raw)
    session.add(row)
    notify_new_rows(session)
    repo.audit(session, "letter.pending", now, actor=actor, organisation=case.organisation, case_id=case.id,
               kind=kind, recipient=row.recipient)
    return row


def next_letter_nonce(session: Session, case: Case) -> int:
    last = session.scalar(select(func.max(Acknowledgement.nonce)).where(Acknowledgement.case_id == case.id)) or 0
    return max(last, NONCE_BASE) + 1


def letters_waiting(session: Session, case_id: int) -> int:
    """The case's letters (not acknowledgements) that wait for the send job."""
    return int(session.scalar(select(func.count()).select_from(Acknowledgement).where(
        Acknowledgement.case_id == case_id, Acknowledgement.kind != "ack",
        Acknowledgement.status.in_((AckStatus.PENDING, AckStatus.SENDING)))) or 0)


def opening_message_id(case: Case) -> str:
    """The Message-ID of the message that opened the case (a letter is threaded to it); none for a
    forward by staff (the original sender never saw that message)."""
    if case.forwarded_by or not case.messages:
        return ""
    return min(case.messages, key=lambda m: (m.received_at, m.id)).message_id


def mark_read(case: Case) -> bool:
    if case.unread_since is None:
        return False
    case.unread_since = None
    return True


def active_user(session: Session, name: str, organisation: str) -> User | None:
    """An active user by name who may handle the organisation's cases."""
    user = session.scalars(select(User).where(User.name == name, User.active.is_(True))).first()
    if user is None:
        return None
    allowed = user.role == "admin" or user.all_organisations or organisation in {
        m.organisation for m in user.memberships}
    return user if allowed else None


def handlers(session: Session, organisation: str) -> list[str]:
    """The names of the active users who may handle the organisation's cases."""
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
    return [u.name for u in users if u.role == "admin" or u.all_organisations
            or organisation in {m.organisation for m in u.memberships}]


def view_clause(view: str, user: str, today: date, week_end: date) -> ColumnElement[bool]:
    """The cases of a worklist: mine, without a handler, overdue, due this week, working, ended, all."""
    working = Case.status.in_(WORKING)
    clauses: dict[str, ColumnElement[bool]] = {
        "mine": and_(working, Case.handler == user),
        "unassigned": and_(Case.status == CaseStatus.NEW, Case.handler.is_(None)),
        "overdue": and_(working, Case.due_date < today),
        "week": and_(working, Case.due_date >= today, Case.due_date <= week_end),
        "working": working,
        "ended": Case.status.not_in((*WORKING, CaseStatus.NEEDS_REVIEW, CaseStatus.MERGED)),
        "all": Case.id.is_not(None),
    }
    return clauses[view]


def worklist_query(scope: Scope, view: str, user: str, today: date, week_end: date) -> Select[Any]:
    return select(Case).where(scope.clause(Case.organisation), view_clause(view, user, today, week_end))


def worklist_counts(session: Session, scope: Scope, user: str, today: date, week_end: date) -> dict[str, int]:
    return {view: int(session.scalar(select(func.count()).select_from(
        worklist_query(scope, view, user, today, week_end).subquery())) or 0) for view in VIEWS}


def digest_candidates(session: Session, organisations: list[str]) -> list[Case]:
    """Every working case of these organisations, and every other one with unread correspondence (a
    reply to an answer is news too); the digest decides what to say of each."""
    return list(session.scalars(select(Case).where(
        Case.organisation.in_(organisations),
        or_(Case.status.in_(WORKING), and_(Case.unread_since.is_not(None), Case.status != CaseStatus.MERGED)))
        .order_by(Case.due_date, Case.id)))


@dataclass(frozen=True)
class Recipient:
    name: str
    address: str
    role: str
    organisations: frozenset[str]  # empty with `everything`
    everything: bool


def digest_recipients(session: Session) -> list[Recipient]:
    """Active users with an e-mail address."""
    users = session.scalars(select(User).where(User.active.is_(True), User.email.is_not(None)).order_by(User.name))
    return [Recipient(u.name, str(u.email).lower(), u.role, frozenset(m.organisation for m in u.memberships),
                      u.role == "admin" or u.all_organisations) for u in users if u.email]


def digest_sent(session: Session, recipient: str, day: date) -> bool:
    return session.get(Digest, (recipient.lower(), day)) is not None


def record_digest(session: Session, recipient: str, day: date, organisation: str, written: Written, cases: int,
                  now: datetime) -> None:
    """The digest's outbox row and its (recipient, day) key in one transaction: a second worker's
    insert of the same key fails at commit and its row goes with it."""
    row = Acknowledgement(organisation=organisation, case_id=None, kind="digest", nonce=0,
                          status=AckStatus.PENDING.value, reason="", reasons=[], recipient=recipient.lower()[:320],
                          sender=written.sender, template="nl/digest", due_date=None, attempts=0, created_at=now,
                          message_id=written.message_id, subject=written.subject[:2000], raw=written.raw)
    session.add(row)
    session.flush()
    session.add(Digest(recipient=recipient.lower(), day=day, outbox_id=row.id, cases=cases, created_at=now))
    notify_new_rows(session)
    repo.audit(session, "digest.queued", now, organisation=organisation, recipient=recipient, day=day.isoformat(),
               cases=cases)
