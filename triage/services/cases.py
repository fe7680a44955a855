"""The procedure's use cases, for the web UI and the CLI alike: take an action on a case (assign,
record contact, the hearing, extend, answer, close, reopen, merge, split), keep and preview the
answer being written, mark correspondence read, and show a case. Each owns its transaction; the
rules are `triage.procedure`'s, the letters `triage.stages.letters`'.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from triage import procedure
from triage.config import Organisation
from triage.dates import AMSTERDAM
from triage.domain import Address, CaseStatus
from triage.errors import TriageError
from triage.procedure import Act, Action, Change, Facts, No, Refusal, Rules
from triage.procedure_text import JUDGEMENTS, NOT_HANDLED_GROUNDS, refusal
from triage.services.deps import Deps
from triage.stages import letters
from triage.stages.acknowledge import deliverable
from triage.store import cases as store
from triage.store import repo
from triage.store import review as review_store
from triage.store.models import Case
from triage.store.scope import Scope


class ProcedureRefused(TriageError):
    """An action the procedure does not allow, or a stale form: the message is one Dutch sentence."""

    def __init__(self, no: Refusal) -> None:
        super().__init__(refusal(no))
        self.refusal = no


class NotFound(TriageError):
    """No such case in the user's organisations."""


@dataclass(frozen=True)
class Actor:
    name: str
    role: str
    scope: Scope


@dataclass(frozen=True)
class Request:
    """An action as a person asks for it (a form, a command); `procedure.Act` without the actor."""

    action: Action
    handler: str = ""
    note: str = ""
    on: date | None = None
    consent: date | None = None
    until: date | None = None
    text: str = ""
    judgement: str = ""
    ending: CaseStatus | None = None
    ground: str = ""
    to: str = ""
    into: str = ""  # merge: the reference of the earlier case


@dataclass(frozen=True)
class Done:
    reference: str
    status: str
    due: date | None
    letter: str = ""  # the kind of letter queued, if any
    no_address: bool = False  # a letter was due but the case has no address to send it to
    detail: dict[str, Any] = field(default_factory=dict)


def today(deps: Deps) -> date:
    return deps.clock().astimezone(AMSTERDAM).date()


def rules(org: Organisation) -> Rules:
    return Rules(calendar=org.terms.calendar(), extension=org.terms.term("formal_extension"))


def _case(session: Session, key: int | str, scope: Scope, lock: bool = True) -> Case:
    case = store.find(session, scope, case_id=key if isinstance(key, int) else None,
                      reference=key if isinstance(key, str) else None, lock=lock)
    if case is None:
        raise NotFound(f"geen zaak {key} gevonden bij uw organisaties")
    return case


def perform(deps: Deps, key: int | str, actor: Actor, request: Request, version: int | None = None) -> Done:
    """Take one action on a case (by id or reference). Raises ProcedureRefused with the Dutch reason,
    NotFound for a case outside the actor's organisations; nothing changes then."""
    try:
        with deps.sessions.begin() as session:
            return _perform(session, deps, key, actor, request, version)
    except StaleDataError:  # another transaction changed the row between our read and our write
        raise ProcedureRefused(Refusal(No.CHANGED)) from None


def _perform(session: Session, deps: Deps, key: int | str, actor: Actor, request: Request,
             version: int | None) -> Done:
    case = _case(session, key, actor.scope)
    if version is not None and case.version != version:
        raise ProcedureRefused(Refusal(No.CHANGED))
    org = deps.settings.organisations.get(case.organisation)
    if org is None:
        raise NotFound(f"de organisatie van {case.reference} staat niet (meer) in de configuratie")
    into = _merge_target(session, request, actor) if request.action == Action.MERGE else None
    if request.action == Action.ASSIGN and request.handler and store.active_user(
            session, request.handler, case.organisation) is None:
        raise ProcedureRefused(Refusal(No.HANDLER_UNKNOWN, {"name": request.handler}))
    act = Act(action=request.action, role=actor.role, user=actor.name, today=today(deps), handler=request.handler,
              note=request.note, on=request.on, consent=request.consent, until=request.until, text=request.text,
              judgement=request.judgement, ending=request.ending, ground=request.ground, to=request.to,
              into=store.facts(into) if into is not None else None)
    facts = store.facts(case)
    decision = procedure.decide(facts, act, rules(org))
    if isinstance(decision, Refusal):
        raise ProcedureRefused(decision)
    if request.action == Action.ANSWER and decision.set.get("handler") and store.active_user(
            session, actor.name, case.organisation) is None:  # the CLI's administrator handles nothing
        decision = replace(decision, set={k: v for k, v in decision.set.items() if k != "handler"})
    now = deps.clock()
    no_address = False
    if decision.letter:
        no_address = not _queue_letter(session, org, case, (facts, act, decision), actor.name, now)
    store.apply(session, case, decision, actor.name, now, into=into)
    session.flush()
    return Done(case.reference, case.status, case.due_date, decision.letter if not no_address else "", no_address,
                dict(decision.detail))


def _merge_target(session: Session, request: Request, actor: Actor) -> Case:
    # locked too: a merge into a case that is being closed or merged at the same moment waits for it
    target = store.find(session, actor.scope, reference=request.into, lock=True) if request.into else None
    if target is None:
        raise ProcedureRefused(Refusal(No.MERGE_SELF))
    return target


def paper(session: Session, org: Organisation, case: Case, kind: str, values: dict[str, Any],
          signed_by: str = "") -> letters.Paper:
    """The letter `kind` of this case: to its complainant, in the language of its acknowledgement."""
    language = review_store.language(session, case)
    original = store.opening_message_id(case)
    return letters.Paper(kind=kind, language=language, reference=case.reference,
                         recipient=Address(case.complainant or "nobody@invalid", case.complainant_name),
                         subject=case.subject, received=case.received_at, due=case.due_date,
                         question=case.kind == "question",
                         formal=case.kind == "complaint" and case.formality == "formal",
                         values=values, original_message_id=original,
                         signed_by=signed_by)


def letter_values(org: Organisation, facts: Facts, act: Act, change: Change, language: str) -> dict[str, Any]:
    """What the letter of `change` says beyond the case itself."""
    kind = change.letter
    if kind == "extension":
        return {"old_due": facts.due, "new_due": change.set["due_date"],
                "extension": rules(org).extension.words(language), "note": act.note.strip()}
    if kind == "consent":
        return {"consent": act.consent, "new_due": act.until}
    if kind == "answer":
        words = JUDGEMENTS.get(language, JUDGEMENTS["nl"]).get(act.judgement, "") if facts.complaint else ""
        return {"text": act.text.strip(), "judgement_words": words}
    if kind == "not_handled":
        grounds = NOT_HANDLED_GROUNDS.get(language, NOT_HANDLED_GROUNDS["nl"])
        return {"ground_words": grounds.get(act.ground, ""), "note": act.note.strip()}
    return {"to": procedure.one_line(act.to), "note": act.note.strip()}


def _queue_letter(session: Session, org: Organisation, case: Case, decided: tuple[Facts, Act, Change],
                  actor: str, now: datetime) -> bool:
    """Write the change's letter to the outbox; False when the case has nobody to write to."""
    facts, act, change = decided
    if not case.complainant or not deliverable(case.complainant):  # as for the acknowledgement: nobody to write to
        return False
    language = review_store.language(session, case)
    values = letter_values(org, facts, act, change, language)
    sheet = paper(session, org, case, change.letter, values)
    nonce = store.next_letter_nonce(session, case)
    try:
        written = letters.write(org, sheet, now, nonce)
    except letters.LetterProblem as exc:
        raise ProcedureRefused(Refusal(No.LETTER, {"problem": exc.code, "detail": exc.detail,
                                                   "appeal": exc.detail})) from None
    due = change.set.get("due_date", case.due_date)
    store.write_letter(session, case, written, store.Outgoing(change.letter, language, case.complainant, due, nonce),
                       now, actor)
    return True


def preview(deps: Deps, key: int | str, actor: Actor, request: Request) -> str:
    """The letter `request` would send (an answer, an extension notice, a 9:8 or forwarding notice),
    as the complainant will read it; nothing is written. Raises ProcedureRefused when the action
    is not allowed now or the letter cannot be written."""
    with deps.sessions() as session:
        case = _case(session, key, actor.scope, lock=False)
        org = deps.settings.organisations.get(case.organisation)
        if org is None:
            raise NotFound(case.reference)
        act = Act(action=request.action, role=actor.role, user=actor.name, today=today(deps), note=request.note,
                  consent=request.consent, until=request.until, text=request.text or "…",
                  judgement=request.judgement, ending=request.ending, ground=request.ground, to=request.to or "…")
        facts = replace(store.facts(case), draft=False)
        decision = procedure.decide(facts, act, rules(org))
        if isinstance(decision, Refusal):
            raise ProcedureRefused(decision)
        if not decision.letter:
            return ""
        language = review_store.language(session, case)
        sheet = paper(session, org, case, decision.letter, letter_values(org, facts, act, decision, language))
        try:
            return letters.body(org, sheet)
        except letters.LetterProblem as exc:
            raise ProcedureRefused(Refusal(No.LETTER, {"problem": exc.code, "detail": exc.detail,
                                                       "appeal": exc.detail})) from None


def save_draft(deps: Deps, key: int | str, actor: Actor, text: str, judgement: str, version: int | None) -> int:
    """Keep the answer being written (empty text: discard it). Returns the case's new version."""
    try:
        with deps.sessions.begin() as session:
            case = _case(session, key, actor.scope)
            if version is not None and case.version != version:
                raise ProcedureRefused(Refusal(No.CHANGED))
            if CaseStatus(case.status) not in procedure.WORKING:
                raise ProcedureRefused(Refusal(No.STATE, {"status": case.status}))
            text = text.strip()
            if len(text) > procedure.LIMITS["text"]:
                raise ProcedureRefused(Refusal(No.TOO_LONG))
            case.draft = {"text": text, "judgement": judgement, "by": actor.name} if text else {}
            repo.audit(session, "case.draft_saved" if text else "case.draft_discarded", deps.clock(),
                             actor=actor.name, organisation=case.organisation, case_id=case.id)
            session.flush()
            return case.version
    except StaleDataError:
        raise ProcedureRefused(Refusal(No.CHANGED)) from None


def mark_read(deps: Deps, key: int | str, actor: Actor) -> bool:
    """The complainant's new correspondence has been read (by whoever opened it)."""
    with deps.sessions.begin() as session:
        case = _case(session, key, actor.scope)
        if not store.mark_read(case):
            return False
        repo.audit(session, "case.read", deps.clock(), actor=actor.name, organisation=case.organisation,
                         case_id=case.id)
        return True
