"""A case as the command line shows it (`triage case show`): its state, labels, dates, hearing,
extension, letters and timeline, read in one session and frozen; and the actor a command acts as
(a named active user with their role and organisations, or the CLI's administrator). Read-only:
every change goes through `triage.services.cases`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from triage import procedure
from triage.procedure_text import HEARING, STATES
from triage.services.cases import Actor, NotFound, today
from triage.services.deps import Deps
from triage.store import cases as store
from triage.store import review as review_store
from triage.store import users
from triage.store.models import Case
from triage.store.scope import EVERYTHING
from triage.store.users import AccountError, Problem

CLI_ACTOR = Actor("cli", "admin", EVERYTHING)  # the command line without --as: an administrator


def actor(deps: Deps, name: str | None) -> Actor:
    """The actor a command acts as: the active user `name` with their role and organisations, or
    (no name) the CLI's administrator. An unknown or blocked name raises AccountError."""
    if not name:
        return CLI_ACTOR
    with deps.sessions() as session:
        user = users.active_named(session, name)
        if user is None:
            raise AccountError(Problem.UNKNOWN_USER, f"no active user {name}: `triage user list` shows who there is",
                               name=name)
        return Actor(user.name, user.role, users.scope_of(user))


@dataclass(frozen=True)
class LetterLine:
    kind: str  # ack, extension, consent, answer, not_handled, forwarded
    status: str  # pending, sending, sent, failed, suppressed, bounced
    recipient: str
    subject: str
    due: date | None
    created: datetime
    sent: datetime | None


@dataclass(frozen=True)
class Event:
    at: datetime
    actor: str
    action: str  # the audit code: case.assigned, letter.sent, ...
    detail: dict[str, Any]


@dataclass(frozen=True)
class CaseInfo:
    """Everything `triage case show` prints; `as_json()` is its stable machine-readable form."""

    reference: str
    organisation: str
    status: str
    status_words: str
    kind: str | None
    topic: str | None
    formality: str | None
    complainant: str | None
    complainant_name: str
    subject: str
    handler: str | None
    received: datetime
    due: date | None
    term: str
    days_left: int | None  # negative: late
    hearing: str
    hearing_date: date | None
    hearing_note: str
    extensions: int
    due_before_extension: date | None
    consent_date: date | None
    judgement: str
    answered_on: date | None
    ended_on: date | None
    on_time: bool | None
    ending_note: str
    draft: bool
    merged_into: str | None
    letters: list[LetterLine] = field(default_factory=list)
    timeline: list[Event] = field(default_factory=list)

    @property
    def late(self) -> bool:
        return self.days_left is not None and self.days_left < 0 and self.status in procedure.WORKING

    @property
    def hearing_words(self) -> str:
        return HEARING.get(self.hearing, self.hearing)

    def as_json(self) -> dict[str, Any]:
        """Plain values only: dates and moments in ISO 8601, codes beside their Dutch words."""
        data = asdict(self)
        data["late"] = self.late
        data["hearing_words"] = self.hearing_words
        plain: dict[str, Any] = _plain(data)
        return plain


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def show(deps: Deps, key: int | str, who: Actor) -> CaseInfo:
    """The case (by id or reference) as `triage case show` prints it; NotFound outside the actor's
    organisations."""
    with deps.sessions() as session:
        case = store.find(session, who.scope, case_id=key if isinstance(key, int) else None,
                          reference=key if isinstance(key, str) else None)
        if case is None:
            raise NotFound(f"geen zaak {key} gevonden bij uw organisaties")
        view = review_store.case_view(session, case.id, who.scope)
        assert view is not None
        merged = session.get(Case, case.merged_into) if case.merged_into else None
        letters = [LetterLine(a.kind, a.status, a.recipient, a.subject, a.due_date, a.created_at, a.sent_at)
                   for a in sorted(view.acknowledgements, key=lambda a: (a.created_at, a.id))]
        timeline = [Event(row.at, row.actor, row.action, dict(row.detail or {})) for row in view.history]
        return _info(case, procedure.days_left(case.due_date, today(deps)), merged, letters, timeline)


def _info(case: Case, left: int | None, merged: Case | None, letters: list[LetterLine],
          timeline: list[Event]) -> CaseInfo:
    return CaseInfo(
        reference=case.reference, organisation=case.organisation, status=case.status,
        status_words=STATES.get(case.status, case.status), kind=case.kind, topic=case.topic,
        formality=case.formality, complainant=case.complainant, complainant_name=case.complainant_name,
        subject=case.subject, handler=case.handler, received=case.received_at, due=case.due_date, term=case.term,
        days_left=left, hearing=case.hearing, hearing_date=case.hearing_date, hearing_note=case.hearing_note,
        extensions=case.extensions, due_before_extension=case.due_before_extension,
        consent_date=case.consent_date, judgement=case.judgement, answered_on=case.answered_on,
        ended_on=case.ended_on, on_time=case.on_time, ending_note=case.ending_note,
        draft=bool((case.draft or {}).get("text")) if isinstance(case.draft, dict) else False,
        merged_into=merged.reference if merged is not None else None, letters=letters, timeline=timeline)
