"""What the procedure pages read: a case's procedure panel (the actions that apply in its state,
who may handle it, the date an extension would give, letters waiting in the outbox) and the
worklists (mine, without a handler, overdue, due this week, working, ended, all) with their counts.
The rules stay `triage.procedure`'s: an action applies when `decide` does not refuse it for the
case's state, kind or the person's role."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from triage import procedure
from triage.domain import CaseStatus
from triage.procedure import Act, Action, Facts, No, Rules
from triage.services import cases
from triage.services.deps import Deps
from triage.store import cases as store
from triage.store import review as review_store
from triage.store.scope import Scope

VIEWS = store.VIEWS
PER_PAGE = 100
# Refusals that say the action does not belong to this case (its state, kind or the person's role):
# the page does not offer it. Others (no hearing yet, a draft waiting) are offered and explained.
_NOT_HERE = frozenset({No.ROLE, No.STATE, No.NEEDS_REVIEW, No.NOT_FORMAL, No.NOT_COMPLAINT, No.NOT_QUESTION,
                       No.MERGED, No.EXPIRED, No.EXTENDED_ALREADY, No.ANSWER_BY_LETTER})


@dataclass(frozen=True)
class Panel:
    """The procedure part of a case page."""

    today: date
    days_left: int | None  # calendar days to the due date, negative when late
    offers: frozenset[str]  # the actions (procedure.Action values) that apply
    endings: tuple[str, ...]  # the endings a close may choose here
    handlers: list[str]  # who may handle the case
    extended_to: date | None  # the due date the one extension would give
    notice_98: date | None  # the last day of a 9:8 notice, for a complaint
    waiting: int  # letters of the case waiting in the outbox
    merged_into: str = ""  # the reference of the case this one joined
    merged_here: list[str] = field(default_factory=list)  # references of cases merged into this one


def _probe(action: Action, actor: cases.Actor, today: date, ending: CaseStatus | None = None) -> Act:
    """An act with every field filled in, so that only the case, its kind and the role can refuse it."""
    return Act(action=action, role=actor.role, user=actor.name, today=today, handler=actor.name, note="…",
               on=today, consent=today, until=date.max, text="…", judgement="founded", ending=ending,
               ground="handled_before", to="…")


def _applies(facts: Facts, act: Act, rules: Rules) -> bool:
    decision = procedure.decide(facts, act, rules)
    return not isinstance(decision, procedure.Refusal) or decision.code not in _NOT_HERE


def offers(facts: Facts, actor: cases.Actor, today: date, rules: Rules) -> tuple[frozenset[str], tuple[str, ...]]:
    """The actions and closing endings that apply to a case with these facts for this person."""
    found = {a.value for a in Action if a not in (Action.CLOSE, Action.MERGE)
             and _applies(facts, _probe(a, actor, today), rules)}
    if facts.status in procedure.OPEN and procedure.may(actor.role, Action.MERGE):
        found.add(Action.MERGE.value)
    if facts.status == CaseStatus.NEEDS_REVIEW:
        found.discard(Action.SPLIT.value)
    endings = tuple(e.value for e in procedure.CLOSE_ENDINGS
                    if _applies(facts, _probe(Action.CLOSE, actor, today, e), rules))
    if endings:
        found.add(Action.CLOSE.value)
    return frozenset(found), endings


def panel(deps: Deps, case_id: int, actor: cases.Actor) -> Panel | None:
    """The procedure panel of a case in the actor's scope; None: no such case there."""
    today = cases.today(deps)
    with deps.sessions() as session:
        case = store.find(session, actor.scope, case_id=case_id)
        if case is None:
            return None
        org = deps.settings.organisations.get(case.organisation)
        rules = cases.rules(org) if org is not None else Rules()
        facts = store.facts(case)
        offered, endings = offers(facts, actor, today, rules) if org is not None else (frozenset(), ())
        extended_to = None
        if Action.EXTEND.value in offered:
            extended_to = procedure.extended_due(facts, rules)
        return Panel(today, procedure.days_left(case.due_date, today), offered, endings,
                     store.handlers(session, case.organisation), extended_to,
                     procedure.ninety_eight_deadline(case.received_at, rules.calendar) if facts.complaint else None,
                     store.letters_waiting(session, case.id), review_store.reference_of(session, case.merged_into),
                     review_store.merged_here(session, case.id))


@dataclass(frozen=True)
class Row:
    """One line of a worklist."""

    id: int
    organisation: str
    reference: str
    subject: str
    who: str
    received: Any
    due: date | None
    days_left: int | None
    handler: str | None
    status: str
    hearing: str
    extended: bool
    unread: bool
    urgent: bool = False  # reports danger or a threat (the opening message or a reply)


@dataclass(frozen=True)
class WorkPage:
    view: str
    rows: list[Row]
    total: int
    counts: dict[str, int]
    today: date
    week_end: date


def week_end(today: date) -> date:
    """The Sunday of this week ("deze week" runs from today to then)."""
    return today + timedelta(days=6 - today.weekday())


def counts(deps: Deps, user: str, scope: Scope) -> dict[str, int]:
    today = cases.today(deps)
    with deps.sessions() as session:
        return store.worklist_counts(session, scope, user, today, week_end(today))


def default_view(deps: Deps, user: str, scope: Scope) -> str | None:
    """"mine" for someone who handles working cases; None: the review queue."""
    return "mine" if counts(deps, user, scope)["mine"] else None


def worklist(deps: Deps, view: str, user: str, scope: Scope, organisation: str = "") -> WorkPage:
    """A worklist's cases in the person's scope, the most urgent (earliest due) first."""
    view = view if view in VIEWS else "mine"
    today = cases.today(deps)
    end = week_end(today)
    with deps.sessions() as session:
        found = review_store.worklist(session, store.worklist_query(scope, view, user, today, end), organisation,
                                      PER_PAGE)
        rows = [Row(c.id, c.organisation, c.reference, c.subject, c.complainant_name or c.complainant or "",
                    c.received_at, c.due_date, procedure.days_left(c.due_date, today), c.handler, c.status,
                    c.hearing or "", bool(c.extensions or c.consent_date), c.unread_since is not None,
                    bool(c.urgent))
                for c in found]
        totals = store.worklist_counts(session, scope, user, today, end)
    return WorkPage(view, rows, totals[view], totals, today, end)
