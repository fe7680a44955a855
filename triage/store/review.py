"""What the review UI reads and changes: the queue (filters, counts, pages), a case with its
history, corrections that recompute the due date, corrected acknowledgements, replays, and the
export of corrections as a corpus folder."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, and_, exists, false, func, or_, select
from sqlalchemy import case as when
from sqlalchemy.orm import Session

from triage.domain import CaseStatus, Disposition
from triage.errors import Invalid
from triage.store import acks, repo
from triage.store.models import Acknowledgement, AuditLog, Case, Correction, Message, RawBlob
from triage.store.owed import corrected_ack_owed
from triage.store.scope import Scope, case_in, message_in

LABELS = {"kind": ("complaint", "question"), "topic": ("product", "service", "staff"),
          "formality": ("formal", "informal")}
STATUSES = ("todo", "review", "ack_failed", "ack_owed", "quarantined", "machine", "open", "all")
PER_PAGE = 50
_FAILED_ACK = (acks.FAILED, acks.BOUNCED)


@dataclass
class Filters:
    organisation: str = ""
    kind: str = ""
    topic: str = ""
    formality: str = ""
    status: str = "todo"
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        f = cls(organisation=str(args.get("organisation", "") or ""), kind=str(args.get("kind", "") or ""),
                topic=str(args.get("topic", "") or ""), formality=str(args.get("formality", "") or ""))
        status = str(args.get("status", "todo") or "todo")
        f.status = status if status in STATUSES else "todo"
        for head, values in LABELS.items():
            if getattr(f, head) not in values:
                setattr(f, head, "")
        try:
            f.page = max(1, int(args.get("page", 1)))
        except (TypeError, ValueError):
            f.page = 1
        return f

    def labels_set(self) -> bool:
        return bool(self.kind or self.topic or self.formality)


@dataclass
class Item:
    """One line of the queue: a case, or a message without a case (quarantined or machine mail)."""

    kind: str  # case, quarantined, machine
    id: int
    organisation: str
    reference: str
    subject: str
    who: str
    received: datetime
    due: date | None
    status: str
    reason: str
    labels: dict[str, str | None] = field(default_factory=dict)
    confidences: dict[str, float] = field(default_factory=dict)
    reasons: list[Any] = field(default_factory=list)  # the codes of `reason`, when stored as codes
    model_version: str | None = None  # the model that classified a case
    urgent: bool = False  # reports danger or a threat
    other_procedure: str | None = None  # another procedure governs it


def _ack_failed() -> Any:
    return exists().where(Acknowledgement.case_id == Case.id, Acknowledgement.status.in_(_FAILED_ACK))


def _case_query(f: Filters, scope: Scope, status: str | None = None) -> Select[Any]:
    q = select(Case).where(scope.clause(Case.organisation))
    if f.organisation:
        q = q.where(Case.organisation == f.organisation)
    for head in LABELS:
        if getattr(f, head):
            q = q.where(getattr(Case, head) == getattr(f, head))
    status = f.status if status is None else status
    if status == "todo":
        q = q.where(or_(Case.status == CaseStatus.NEEDS_REVIEW, _ack_failed()))
    elif status == "review":
        q = q.where(Case.status == CaseStatus.NEEDS_REVIEW)
    elif status == "ack_failed":
        q = q.where(_ack_failed())
    elif status == "ack_owed":
        q = q.where(corrected_ack_owed())
    elif status == "open":
        q = q.where(Case.status.in_([CaseStatus.NEW, CaseStatus.IN_PROGRESS]))
    elif status != "all":
        q = q.where(false())
    return q


def _message_query(f: Filters, scope: Scope, status: str | None = None) -> Select[Any]:
    status = f.status if status is None else status
    quarantined, ignored = Disposition.QUARANTINED, Disposition.IGNORED
    wanted = {"todo": [quarantined], "quarantined": [quarantined], "machine": [ignored],
              "all": [quarantined, ignored]}.get(status, [])
    q = select(Message).where(Message.disposition.in_(wanted), Message.case_id.is_(None),
                              scope.clause(Message.organisation))
    if f.organisation:
        q = q.where(Message.organisation == f.organisation)
    if f.labels_set() or not wanted:
        q = q.where(false())
    return q


def _count(session: Session, q: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(q.subquery())) or 0


def counts(session: Session, f: Filters, scope: Scope) -> dict[str, dict[str, int]]:
    """How many items of `scope` each filter value would show, the other filters staying as they are."""
    out: dict[str, dict[str, int]] = {"status": {}}
    for status in STATUSES:
        out["status"][status] = (_count(session, _case_query(f, scope, status))
                                 + _count(session, _message_query(f, scope, status)))
    for head, values in LABELS.items():
        out[head] = {}
        for value in values:
            g = Filters(**{**f.__dict__, head: value})
            out[head][value] = _count(session, _case_query(g, scope))
    orgs = session.execute(select(Case.organisation, func.count()).where(scope.clause(Case.organisation))
                           .group_by(Case.organisation)).all()
    out["organisation"] = {str(org): int(n) for org, n in orgs}
    return out


def _case_item(case: Case, failed: set[int]) -> Item:
    status = "ack_failed" if case.id in failed else case.status
    return Item("case", case.id, case.organisation, case.reference, case.subject,
                case.complainant or "", case.received_at, case.due_date, status, case.review_reason,
                {h: getattr(case, h) for h in LABELS}, dict(case.confidences or {}), list(case.review_reasons or []),
                case.model_version, bool(case.urgent), case.other_procedure)


def _message_item(msg: Message) -> Item:
    kind = "quarantined" if msg.disposition == Disposition.QUARANTINED else "machine"
    return Item(kind, msg.id, msg.organisation, "", msg.subject, msg.sender or "", msg.received_at, None,
                kind, msg.error or msg.reason, reasons=[] if msg.error else list(msg.reasons or []))


def queue(session: Session, f: Filters, scope: Scope, per_page: int = PER_PAGE) -> list[Item]:
    """One page of the queue of `scope`, most urgent first: cases that report danger, then cases by
    due date, then messages without a case (quarantined before machine mail) by arrival. How many
    there are in all: `counts()["status"]`."""
    cq, mq = _case_query(f, scope), _message_query(f, scope)
    start = (f.page - 1) * per_page
    cases = list(session.scalars(cq.order_by(Case.urgent.desc(), Case.due_date.is_(None), Case.due_date,
                                             Case.received_at, Case.id)
                                 .limit(start + per_page)))
    failed = {i for i in session.scalars(select(Acknowledgement.case_id).where(
        Acknowledgement.case_id.in_([c.id for c in cases]), Acknowledgement.status.in_(_FAILED_ACK))) if i}
    messages = list(session.scalars(mq.order_by(Message.disposition.desc(), Message.received_at, Message.id)
                                    .limit(start + per_page)))
    items = [_case_item(c, failed) for c in cases] + [_message_item(m) for m in messages]
    return items[start : start + per_page]


@dataclass
class CaseView:
    case: Case
    messages: list[Message]
    acknowledgements: list[Acknowledgement]
    corrections: list[Correction]
    history: list[AuditLog]


def case_view(session: Session, case_id: int, scope: Scope) -> CaseView | None:
    case = case_in(session, scope, case_id)
    if case is None:
        return None
    messages = sorted(case.messages, key=lambda m: (m.received_at, m.id))
    rows = acknowledgements(session, case.id)
    corrections = list(session.scalars(select(Correction).where(Correction.case_id == case.id).order_by(Correction.at)))
    history = list(session.scalars(select(AuditLog).where(AuditLog.case_id == case.id).order_by(AuditLog.at)))
    return CaseView(case, messages, rows, corrections, history)


def acknowledgements(session: Session, case_id: int) -> list[Acknowledgement]:
    return list(session.scalars(select(Acknowledgement).where(Acknowledgement.case_id == case_id)
                                .order_by(Acknowledgement.nonce)))


def language(session: Session, case: Case) -> str:
    """The language of the case's latest acknowledgement (its template's folder)."""
    template = session.scalar(select(Acknowledgement.template).where(Acknowledgement.case_id == case.id)
                              .order_by(Acknowledgement.nonce.desc()).limit(1)) or "nl/"
    return template.split("/")[0] or "nl"


def record_correction(session: Session, case: Case, user: str, labels: dict[str, str], now: datetime) -> list[str]:
    """A correction row per head (equal old and new: a confirmation); the case takes the labels.
    Returns the heads that changed."""
    changed = []
    for head in LABELS:
        old, new = getattr(case, head), labels[head]
        session.add(Correction(case_id=case.id, user=user, at=now, head=head, old=old, new=new))
        if old != new:
            changed.append(head)
            setattr(case, head, new)
    return changed


def set_term(case: Case, term: str, due: date, due_is_latest: bool) -> None:
    """The case states the due date its acknowledgement gives."""
    case.term, case.due_date, case.due_is_latest = term, due, due_is_latest


def replay(session: Session, message_id: int, scope: Scope, user: str, now: datetime) -> Message | None:
    """Give a quarantined message its attempts back: the next poll processes it again. None: no
    such message in scope."""
    msg = message_in(session, scope, message_id)
    if msg is None:
        return None
    if msg.disposition != Disposition.QUARANTINED:
        raise Invalid("only a quarantined message can be replayed")
    if msg.purged_at is not None:
        raise Invalid("the message's content was removed (retention period over): it cannot be replayed")
    msg.attempts = 0
    repo.audit(session, "message.replay", now, actor=user, organisation=msg.organisation, message_id=msg.id)
    return msg


def raw_message(session: Session, msg: Message) -> bytes | None:
    """The stored bytes of a message (for its attachments), or None when they are gone."""
    blob = session.get(RawBlob, msg.sha256)
    return blob.data if blob is not None and blob.size else None  # size 0: purged


def corrected_cases(session: Session, since: int | None = None, upto: int | None = None) -> list[Case]:
    """Cases a person confirmed or corrected; with `since`/`upto`, those whose latest correction id
    is above / at most that id."""
    latest = select(Correction.case_id, func.max(Correction.id).label("last")).group_by(Correction.case_id).subquery()
    q = select(Case).join(latest, latest.c.case_id == Case.id)
    if since is not None:
        q = q.where(latest.c.last > since)
    if upto is not None:
        q = q.where(latest.c.last <= upto)
    return list(session.scalars(q.order_by(Case.id)))


def corrected_count(session: Session) -> int:
    """How many cases a person confirmed or corrected."""
    return session.scalar(select(func.count(func.distinct(Correction.case_id)))) or 0


def arrivals(session: Session) -> list[tuple[datetime, bool]]:
    """Every case's arrival and whether it was filed without a person: open, classified by a
    model, and never confirmed or corrected. Two columns, not whole rows."""
    corrected = exists().where(Correction.case_id == Case.id)
    auto = and_(Case.review_reason == "", Case.model_version.is_not(None), ~corrected)
    return [(at, bool(flag)) for at, flag in session.execute(
        select(Case.received_at, when((auto, True), else_=False)).order_by(Case.received_at))]


def last_correction_id(session: Session) -> int:
    return session.scalar(select(func.max(Correction.id))) or 0


def export_corrections(session: Session, folder: Path, since: int | None = None, upto: int | None = None) -> int:
    """Write the corrected cases' first messages and final labels in the corpus format."""
    (folder / "mail").mkdir(parents=True, exist_ok=True)
    rows = []
    for case in corrected_cases(session, since, upto):
        opening = min(case.messages, key=lambda m: (m.received_at, m.id))
        blob = session.get(RawBlob, opening.sha256)
        if blob is None or not blob.size or case.kind is None or case.anonymised_at is not None:
            continue
        name = f"mail/{case.reference}.eml"
        (folder / name).write_bytes(blob.data)
        domain = (case.forwarded_by or "").rpartition("@")[2]
        # one writer per complainant: their messages stay in one fold of a grouped evaluation
        writer_id = f"complainant:{(case.complainant or case.reference).lower()}"
        rows.append({"file": name, "kind": case.kind, "topic": case.topic, "formality": case.formality,
                     "language": language(session, case), "org_domain": domain, "writer": writer_id})
    with (folder / "labels.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=["file", "kind", "topic", "formality", "language", "org_domain",
                                                 "writer"])
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def merged_here(session: Session, case_id: int) -> list[str]:
    """The references of the cases merged into this one."""
    return list(session.scalars(select(Case.reference).where(Case.merged_into == case_id).order_by(Case.id)))


def reference_of(session: Session, case_id: int | None) -> str:
    found = session.scalar(select(Case.reference).where(Case.id == case_id)) if case_id else None
    return found or ""


def worklist(session: Session, q: Select[Any], organisation: str, limit: int) -> list[Case]:
    """A worklist's cases (`q` from `triage.store.cases.worklist_query`): those that report danger,
    then the earliest due."""
    if organisation:
        q = q.where(Case.organisation == organisation)
    return list(session.scalars(q.order_by(Case.urgent.desc(), Case.due_date.is_(None), Case.due_date, Case.id)
                                .limit(limit)))
