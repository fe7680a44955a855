"""Everything stored about one e-mail address (exact, case-insensitive), found in a few batch
queries: the cases it complained in (and the cases merged into them), every message it sent or
that belongs to those cases, mail of it that was ignored, the letters we sent about those cases or
to it, their corrections and log. And its erasure: every trace anonymised in the caller's
transaction (`triage.store.anonymise`), the anonymous record kept."""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, String, cast, func, or_, select
from sqlalchemy.orm import Session

from triage.dates import AMSTERDAM
from triage.domain import AckStatus, CaseStatus
from triage.procedure import OPEN
from triage.store.anonymise import SAFE_DETAIL, anonymise_case, purge_message
from triage.store.models import Acknowledgement, AuditLog, Case, Correction, Message, RawBlob
from triage.store.scope import EVERYTHING, Scope

CHUNK = 500  # ids per IN (...): well below SQLite's and PostgreSQL's parameter limits
T = TypeVar("T")
_WAITING = (AckStatus.PENDING.value, AckStatus.SENDING.value, AckStatus.HELD.value)


def key(address: str) -> str:
    """The form addresses are compared in: trimmed, lower case."""
    return address.strip().lower()


def _chunks(ids: Sequence[T]) -> Iterator[list[T]]:
    for i in range(0, len(ids), CHUNK):
        yield list(ids[i : i + CHUNK])


@dataclass
class Found:
    """What is stored about an address; `messages` holds the messages of `cases` and the others."""

    address: str
    cases: list[Case] = field(default_factory=list)  # by arrival
    messages: list[Message] = field(default_factory=list)  # by arrival
    letters: list[Acknowledgement] = field(default_factory=list)  # by creation
    corrections: dict[int, list[Correction]] = field(default_factory=dict)  # per case id
    history: dict[int, list[AuditLog]] = field(default_factory=dict)  # per case id
    _messages: dict[int | None, list[Message]] = field(default_factory=dict)  # per case id, made by `group`
    _letters: dict[int | None, list[Acknowledgement]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.cases or self.messages or self.letters)

    def group(self) -> None:
        """Index the messages and letters per case (after `messages` and `letters` were set)."""
        self._messages, self._letters = {}, {}
        for m in self.messages:
            self._messages.setdefault(m.case_id, []).append(m)
        for a in self.letters:
            self._letters.setdefault(a.case_id, []).append(a)

    def messages_of(self, case_id: int) -> list[Message]:
        return self._messages.get(case_id, [])

    def letters_of(self, case_id: int) -> list[Acknowledgement]:
        return self._letters.get(case_id, [])

    def loose_messages(self) -> list[Message]:
        """Messages outside the found cases: ignored mail, quarantined mail, a message in another's case."""
        ids = {c.id for c in self.cases}
        return [m for m in self.messages if m.case_id not in ids]

    def loose_letters(self) -> list[Acknowledgement]:
        ids = {c.id for c in self.cases}
        return [a for a in self.letters if a.case_id not in ids]


def _where(scope: Scope, organisation: str | None, column: Any) -> list[Any]:
    clauses = [scope.clause(column)]
    if organisation:
        clauses.append(column == organisation)
    return clauses


def _cases(session: Session, addr: str, scope: Scope, organisation: str | None) -> list[Case]:
    found = {c.id: c for c in session.scalars(select(Case).where(
        func.lower(Case.complainant) == addr, *_where(scope, organisation, Case.organisation)))}
    new = list(found)
    while new:  # cases merged into those (and into those merged ones)
        merged = [c for ids in _chunks(new) for c in session.scalars(select(Case).where(Case.merged_into.in_(ids)))]
        new = [c.id for c in merged if c.id not in found]
        found.update((c.id, c) for c in merged)
    return sorted(found.values(), key=lambda c: (c.received_at, c.id))


def find(session: Session, address: str, organisation: str | None = None, scope: Scope = EVERYTHING) -> Found:
    """Everything about `address` within `scope` (and `organisation`, when given)."""
    addr = key(address)
    out = Found(addr, _cases(session, addr, scope, organisation))
    ids = [c.id for c in out.cases]
    where_msg = _where(scope, organisation, Message.organisation)
    messages = {m.id: m for m in session.scalars(select(Message).where(
        or_(func.lower(Message.sender) == addr, func.lower(Message.complainant) == addr), *where_msg))}
    letters = {a.id: a for a in session.scalars(select(Acknowledgement).where(
        func.lower(Acknowledgement.recipient) == addr, Acknowledgement.kind != "digest",
        *_where(scope, organisation, Acknowledgement.organisation)))}
    for chunk in _chunks(ids):
        messages.update((m.id, m) for m in session.scalars(select(Message).where(Message.case_id.in_(chunk))))
        letters.update((a.id, a) for a in session.scalars(select(Acknowledgement)
                                                           .where(Acknowledgement.case_id.in_(chunk))))
        for row in session.scalars(select(Correction).where(Correction.case_id.in_(chunk))
                                   .order_by(Correction.at, Correction.id)):
            out.corrections.setdefault(row.case_id, []).append(row)
        for entry in session.scalars(select(AuditLog).where(AuditLog.case_id.in_(chunk))
                                     .order_by(AuditLog.at, AuditLog.id)):
            out.history.setdefault(entry.case_id or 0, []).append(entry)
    out.messages = sorted(messages.values(), key=lambda m: (m.received_at, m.id))
    out.letters = sorted(letters.values(), key=lambda a: (a.created_at, a.id))
    out.group()
    return out


def raw_blobs(session: Session, shas: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """The stored bytes per sha256, a chunk at a time (a purged blob has none and is left out)."""
    for chunk in _chunks(sorted(set(shas))):
        for sha, data in session.execute(select(RawBlob.sha256, RawBlob.data).where(RawBlob.sha256.in_(chunk),
                                                                                     RawBlob.size > 0)):
            yield str(sha), bytes(data)


@dataclass(frozen=True)
class Erased:
    cases: int  # anonymised now
    messages: int  # purged now
    letters: int  # blanked


def erase(session: Session, found: Found, now: datetime) -> Erased:
    """Anonymise every case found (by "erasure"), purge every other message found, blank every
    letter found and every log detail and staff digest that names the address or an erased case."""
    cases = messages = 0
    today = now.astimezone(AMSTERDAM).date()
    for case in found.cases:
        if case.anonymised_at is None:
            cases += 1
        if CaseStatus(case.status) in OPEN:  # forced: nobody can handle it any more, nothing goes out
            case.status, case.ended_on, case.on_time = CaseStatus.WITHDRAWN.value, today, None
        messages += anonymise_case(session, case, now, by="erasure")
    messages += sum(purge_message(session, msg, now) for msg in found.messages)
    for row in found.loose_letters():
        if row.status in _WAITING:
            row.status = AckStatus.SUPPRESSED.value
        row.raw, row.recipient, row.subject, row.reason, row.reasons = None, "", "", "", []
    _strip_log(session, found)
    _blank_digests(session, found, {c.organisation for c in found.cases})
    session.flush()
    return Erased(cases, messages, len(found.letters))


def _safe(detail: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (detail or {}).items() if k in SAFE_DETAIL}


def _strip_log(session: Session, found: Found) -> None:
    """Log rows about the found messages, and any other whose detail quotes the address, keep
    only details that hold no personal data."""
    for chunk in _chunks([m.id for m in found.messages]):
        for entry in session.scalars(select(AuditLog).where(AuditLog.message_id.in_(chunk))):
            entry.detail = _safe(entry.detail)
    quoting = func.lower(cast(AuditLog.detail, String)).contains(found.address, autoescape=True)
    for entry in session.scalars(select(AuditLog).where(quoting)):
        entry.detail = _safe(entry.detail)


def _blank_digests(session: Session, found: Found, organisations: set[str]) -> None:
    """A staff digest quotes its cases' subjects: one that lists an erased case loses its text."""
    needles = [c.reference for c in found.cases] + [found.address]
    if not organisations or not found.cases:
        return
    digests = session.scalars(select(Acknowledgement).where(
        Acknowledgement.kind == "digest", Acknowledgement.organisation.in_(sorted(organisations)),
        Acknowledgement.raw.is_not(None)))
    for row in digests:
        text = _text(row.raw).lower()
        if any(n.lower() in text for n in needles):
            if row.status in _WAITING:
                row.status = AckStatus.SUPPRESSED.value
            row.raw, row.subject = None, ""


def _text(raw: bytes | None) -> str:
    """The text parts of a stored mail, decoded, after its bytes as they are."""
    if not raw:
        return ""
    out = [raw.decode("utf-8", "replace")]
    try:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        out += [str(p.get_content()) for p in parsed.walk() if p.get_content_maintype() == "text"]
    except (LookupError, ValueError, AttributeError):  # an unknown charset or a broken part: the bytes decide
        pass
    return "\n".join(out)


def compact_file(engine: Engine) -> bool:
    """SQLite: rewrite the database file (VACUUM: no free page keeps old rows) and empty its
    write-ahead log (a checkpoint that truncates it), so blanked data is gone from both files.
    True when both finished; PostgreSQL: nothing to do here (True)."""
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")  # VACUUM cannot run in a transaction
        conn.exec_driver_sql("VACUUM")
        for _ in range(5):
            busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
            if busy is not None and not busy[0]:
                return True
            time.sleep(0.2)  # a reader still holds an older snapshot: it ends soon
    return False
