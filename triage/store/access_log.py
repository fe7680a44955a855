"""The access log: who opened which case page or message, downloaded which attachment or made an
access export. Rows are written one per access (or in one batch for an export), read per case for
administrators, and deleted once older than the organisation's retention period."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from triage.store.models import AccessLog, Case, Message

WHAT = ("case", "message", "attachment", "export")


@dataclass(frozen=True)
class Entry:
    """One access, to be written."""

    user: str
    organisation: str
    what: str  # case, message, attachment, export
    case_id: int | None = None
    message_id: int | None = None
    part: str = ""  # an attachment's MIME part path


def record(session: Session, at: datetime, entry: Entry) -> None:
    record_many(session, at, [entry])


def record_many(session: Session, at: datetime, entries: Iterable[Entry]) -> int:
    """Write these accesses in one INSERT; returns how many."""
    rows = [{"at": at, "user": e.user[:100], "organisation": e.organisation, "what": e.what,
             "case_id": e.case_id, "message_id": e.message_id, "part": e.part[:40]} for e in entries]
    for e in rows:
        assert e["what"] in WHAT, e["what"]
    if rows:
        session.execute(insert(AccessLog), rows)
    return len(rows)


def whereabouts(session: Session, *, case_id: int | None = None,
                message_id: int | None = None) -> tuple[str, int | None] | None:
    """The organisation and case of a case or message (a message's case may be None); None: no such row."""
    if message_id is not None:
        found = session.execute(select(Message.organisation, Message.case_id)
                                .where(Message.id == message_id)).first()
    else:
        found = session.execute(select(Case.organisation, Case.id).where(Case.id == case_id)).first()
    return (str(found[0]), found[1]) if found is not None else None


def for_case(session: Session, case_id: int, limit: int = 500) -> list[AccessLog]:
    """The latest accesses to a case (its page, its messages and attachments, exports), newest first."""
    return list(session.scalars(select(AccessLog).where(AccessLog.case_id == case_id)
                                .order_by(AccessLog.at.desc(), AccessLog.id.desc()).limit(limit)))

