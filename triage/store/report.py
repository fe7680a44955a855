"""The yearly report's rows: the cases of one organisation (or all in a scope) received in a period
of Amsterdam days, as `triage.reporting.Row` values with the text and name parts the themes need."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from triage.dates import AMSTERDAM
from triage.report_words import name_parts
from triage.reporting import Row
from triage.store.models import Case, Message
from triage.store.scope import Scope

CHUNK = 500  # case ids per query for the opening messages' text


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(0), AMSTERDAM)


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]


def _opening_texts(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """The own text of each case's first message (by id: the one that opened it)."""
    out: dict[int, str] = {}
    for chunk in _chunks(ids):
        first = (select(func.min(Message.id)).where(Message.case_id.in_(chunk))
                 .group_by(Message.case_id).scalar_subquery())
        for case_id, text in session.execute(select(Message.case_id, Message.new_text).where(Message.id.in_(first))):
            if case_id is not None:
                out[case_id] = text or ""
    return out


def _row(case: Any, text: str) -> Row:
    anonymised = case.anonymised_at is not None
    return Row(received=case.received_at.astimezone(AMSTERDAM).date(), kind=case.kind, topic=case.topic,
               formality=case.formality, status=case.status, term=case.term or "", due=case.due_date,
               done=case.answered_on or case.ended_on, on_time=case.on_time, extensions=case.extensions or 0,
               urgent=bool(case.urgent), other_procedure=case.other_procedure, anonymised=anonymised,
               text="" if anonymised else f"{case.subject or ''}\n{text}", who=case.complainant or "",
               names=tuple(sorted(name_parts(case.complainant_name or "", case.complainant or "",
                                             case.forwarded_by or ""))))


def rows(session: Session, scope: Scope, start: date, end: date, organisation: str | None = None) -> list[Row]:
    """The cases received from `start` up to (not including) `end`, Amsterdam days, in scope (and of
    `organisation` when given); merged cases included, with their status (the figures skip them)."""
    q = (select(Case.id, Case.received_at, Case.kind, Case.topic, Case.formality, Case.status, Case.term,
                Case.due_date, Case.answered_on, Case.ended_on, Case.on_time, Case.extensions, Case.urgent,
                Case.other_procedure, Case.anonymised_at, Case.subject, Case.complainant_name, Case.complainant,
                Case.forwarded_by)
         .where(scope.clause(Case.organisation), Case.received_at >= _moment(start), Case.received_at < _moment(end))
         .order_by(Case.received_at, Case.id))
    if organisation is not None:
        q = q.where(Case.organisation == organisation)
    found = session.execute(q).all()
    texts = _opening_texts(session, [c.id for c in found if c.anonymised_at is None and c.status != "merged"])
    return [_row(c, texts.get(c.id, "")) for c in found]


def years_with_cases(session: Session, scope: Scope) -> list[int]:
    """The years (of the reference counter, i.e. receipt) that have cases in scope, newest first."""
    return list(session.scalars(select(Case.year).where(scope.clause(Case.organisation)).distinct()
                                .order_by(Case.year.desc())))
