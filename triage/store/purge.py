"""What the retention purge may remove on a given day, per organisation: cases ended longer ago than
the personal-data period (and the cases merged into them), machine mail and duplicates past their
days, quarantined messages past their days after a person or a retry handled them, and old access
log rows. Only selections and the access-log delete live here; `triage.store.anonymise` removes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, func, not_, or_, select
from sqlalchemy.orm import Session

from triage.config.organisation import Retention
from triage.dates import AMSTERDAM
from triage.domain import Disposition
from triage.procedure import ENDINGS
from triage.store.models import AccessLog, AuditLog, Case, Message

MACHINE = (Disposition.IGNORED.value, Disposition.DUPLICATE.value)
# How a quarantined message gets handled: a retry (after a person's replay, or the poll's own) filed
# it (its disposition is no longer "quarantined"), or a person dismissed it.
RETRIED, DISMISSED = "message.retried", "message.dismissed"
_ENDED = tuple(s.value for s in ENDINGS)


@dataclass(frozen=True)
class Cutoffs:
    """The moments before which something has expired on `today` (whole days, Europe/Amsterdam)."""

    today: date
    ended_before: date  # cases whose ended_on is before this day
    access_before: datetime  # access log rows
    machine_before: datetime  # machine mail and duplicates, by arrival
    handled_before: datetime  # quarantined messages, by the moment they were handled


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (the last day of a shorter month)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), AMSTERDAM)


def cutoffs(retention: Retention, today: date) -> Cutoffs:
    ended = months_before(today, retention.personal_data_months)
    return Cutoffs(today=today, ended_before=ended, access_before=_midnight(ended),
                   machine_before=_midnight(today - timedelta(days=retention.machine_mail_days)),
                   handled_before=_midnight(today - timedelta(days=retention.quarantine_days)))


@dataclass(frozen=True)
class ExpiredCase:
    id: int
    reference: str
    ended_on: date  # the ending of the case (for a merged case: of the case it joined)
    joined: str = ""  # a merged case: the reference of the case it joined


def expired_cases(session: Session, organisation: str, c: Cutoffs) -> list[ExpiredCase]:
    """The cases to anonymise: those ended before the cutoff, then every case merged into one of
    them (at any depth) that still holds its data, also when the case it joined was anonymised
    before (an interrupted run leaves none behind)."""
    roots = session.execute(select(Case.id, Case.reference, Case.ended_on).where(
        Case.organisation == organisation, Case.status.in_(_ENDED), Case.merged_into.is_(None),
        Case.anonymised_at.is_(None), Case.ended_on.is_not(None), Case.ended_on < c.ended_before)
        .order_by(Case.ended_on, Case.id)).all()
    found = [ExpiredCase(i, reference, ended_on) for i, reference, ended_on in roots if ended_on is not None]
    merged = session.scalars(select(Case).where(Case.organisation == organisation, Case.merged_into.is_not(None),
                                                Case.anonymised_at.is_(None)).order_by(Case.id))
    for case in merged:
        root = _root(session, case)
        if root is not None and _ended(root, c):
            assert root.ended_on is not None
            found.append(ExpiredCase(case.id, case.reference, root.ended_on, root.reference))
    return found


def _root(session: Session, case: Case) -> Case | None:
    """The case that `case` was merged into, followed to the end; None for a broken chain."""
    seen: set[int] = set()
    while case.merged_into is not None:
        if case.id in seen:
            return None
        seen.add(case.id)
        parent = session.get(Case, case.merged_into)
        if parent is None:
            return None
        case = parent
    return case


def _ended(case: Case, c: Cutoffs) -> bool:
    return case.status in _ENDED and case.ended_on is not None and case.ended_on < c.ended_before


def case_expired(session: Session, case: Case, c: Cutoffs) -> bool:
    """Whether `case` (read in this transaction) may be anonymised: its own ending, or that of the
    case it was merged into, lies before the cutoff. A reopened or split case is not."""
    root = _root(session, case)
    return root is not None and _ended(root, c)


def _handled_at() -> ColumnElement[datetime]:
    return (select(func.max(AuditLog.at))
            .where(AuditLog.message_id == Message.id, AuditLog.action.in_((RETRIED, DISMISSED)))
            .correlate(Message).scalar_subquery())


def _was_handled() -> ColumnElement[bool]:
    return exists().where(AuditLog.message_id == Message.id, AuditLog.action.in_((RETRIED, DISMISSED)))


def _dismissed() -> ColumnElement[bool]:
    return exists().where(AuditLog.message_id == Message.id, AuditLog.action == DISMISSED)


def machine_rule(c: Cutoffs) -> ColumnElement[bool]:
    """Machine mail and duplicates that never were in quarantine, past their days since arrival."""
    return and_(Message.disposition.in_(MACHINE), Message.received_at < c.machine_before, not_(_was_handled()))


def quarantine_rule(c: Cutoffs) -> ColumnElement[bool]:
    """Messages that came out of quarantine (filed by a retry as machine mail or a duplicate, or
    dismissed by a person) and were handled before the cutoff. One that went into a case goes with
    the case; one still waiting in quarantine is never purged."""
    done = or_(Message.disposition != Disposition.QUARANTINED.value, _dismissed())
    loose = or_(Message.case_id.is_(None), Message.disposition.in_(MACHINE))
    machine_too = or_(Message.disposition.not_in(MACHINE), Message.received_at < c.machine_before)
    return and_(loose, done, machine_too, _was_handled(), _handled_at() < c.handled_before)


@dataclass(frozen=True)
class ExpiredMessage:
    id: int
    rule: str  # machine, quarantine
    received_at: datetime


def expired_messages(session: Session, organisation: str, c: Cutoffs,
                     among: Collection[int] | None = None) -> list[ExpiredMessage]:
    """The messages to purge outside the case rule, oldest first (`among`: only these ids)."""
    found: list[ExpiredMessage] = []
    for rule, clause in (("machine", machine_rule(c)), ("quarantine", quarantine_rule(c))):
        q = select(Message.id, Message.received_at).where(
            Message.organisation == organisation, Message.purged_at.is_(None), clause)
        if among is not None:
            q = q.where(Message.id.in_(list(among)))
        found += [ExpiredMessage(i, rule, at) for i, at in session.execute(q.order_by(Message.id))]
    return sorted(found, key=lambda m: m.id)


def case_messages(session: Session, case_id: int) -> list[Message]:
    """The messages of a case that still hold their content."""
    return list(session.scalars(select(Message).where(Message.case_id == case_id, Message.purged_at.is_(None))
                                .order_by(Message.id)))


def messages(session: Session, ids: Sequence[int]) -> list[Message]:
    return list(session.scalars(select(Message).where(Message.id.in_(list(ids))).order_by(Message.id)))


def kept_shas(session: Session, shas: Collection[str], leaving: Collection[int]) -> set[str]:
    """Which of these contents a message that is not leaving now still holds: its copies in the
    mailbox stay (they are byte for byte the same) until the last of them expires."""
    return set(session.scalars(select(Message.sha256).where(
        Message.sha256.in_(list(shas)), Message.purged_at.is_(None), Message.id.not_in(list(leaving)))))


def access_rows(session: Session, organisation: str, c: Cutoffs) -> int:
    return session.scalar(select(func.count(AccessLog.id)).where(
        AccessLog.organisation == organisation, AccessLog.at < c.access_before)) or 0


def delete_access_rows(session: Session, organisation: str, c: Cutoffs) -> int:
    result = session.execute(delete(AccessLog).where(AccessLog.organisation == organisation,
                                                     AccessLog.at < c.access_before)
                             .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
