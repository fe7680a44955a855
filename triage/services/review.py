"""What staff do with a case: confirm or correct its labels (the due date follows), queue a
corrected acknowledgement, replay a quarantined message; and the case and message pages (with what
they offer) and attachment downloads. Each use case owns its transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from triage.config import Organisation
from triage.domain import AckPlan, AckStatus, Address, Attachment, CaseStatus, Disposition, Prediction
from triage.errors import Invalid
from triage.logs import get_logger
from triage.pipeline import acknowledge
from triage.procedure import No, Refusal
from triage.services.cases import ProcedureRefused
from triage.services.deps import Deps
from triage.services.rows import AckRow, CaseRow, CorrectionRow, LogRow, MessageRow
from triage.stages import acknowledge as ack_stage
from triage.stages import attachments as files
from triage.store import acks, repo
from triage.store import review as store
from triage.store.models import Acknowledgement, Case, Message
from triage.store.scope import Scope, case_in, message_in

log = get_logger("triage.review")
LABELS = store.LABELS


def _labels(labels: dict[str, str]) -> dict[str, str]:
    """Checked labels; a question is always informal (LABELS.md)."""
    if labels.get("kind") == "question":
        labels = {**labels, "formality": "informal"}
    for head, values in LABELS.items():
        if labels.get(head) not in values:
            raise Invalid(f"{head} must be one of {', '.join(values)}")
    return labels


def plan_for(session: Session, org: Organisation, case: Case) -> ack_stage.Plan:
    """The acknowledgement plan for a case's labels as a person set them (so: sure), in the
    language of its earlier acknowledgement."""
    prediction = Prediction(kind=case.kind or "complaint", topic=case.topic or "service",
                            formality=case.formality or "informal", sure=True, language=store.language(session, case))
    return ack_stage.plan(org, prediction, case.received_at)


def _correct(session: Session, deps: Deps, org: Organisation, case: Case, user: str,
             labels: dict[str, str]) -> list[str]:
    labels, now = _labels(labels), deps.clock()
    changed = store.record_correction(session, case, user, labels, now)
    plan = plan_for(session, org, case)
    # The term follows the labels while the case is worked on and its term was not extended; an
    # ended case keeps the term it was handled in (its labels are still corrected, for learning).
    if case.status in (CaseStatus.NEEDS_REVIEW, CaseStatus.NEW, CaseStatus.IN_PROGRESS) and not case.extensions \
            and case.consent_date is None:
        store.set_term(case, str(plan.term), plan.due, plan.due_is_latest)
    if case.status == CaseStatus.NEEDS_REVIEW:
        case.status = CaseStatus.NEW.value
    case.review_reason, case.review_reasons = "", []
    repo.audit(session, "case.corrected" if changed else "case.confirmed", now, actor=user,
               organisation=case.organisation, case_id=case.id, changed=changed, labels=labels,
               due=plan.due.isoformat())
    return changed


@dataclass(frozen=True)
class Corrected:
    reference: str
    changed: list[str]  # the heads that changed; none: the labels were confirmed
    due: date | None  # the due date the case has now
    ack_owed: bool = False  # the sent acknowledgement now states another term: offer a corrected one


def _correctable(session: Session, deps: Deps, case_id: int, scope: Scope) -> tuple[Case, Organisation] | None:
    """The case and its organisation, or None when either is gone (no longer configured) or the
    case lies outside the person's scope."""
    case = case_in(session, scope, case_id)
    org = deps.settings.organisations.get(case.organisation) if case is not None else None
    return (case, org) if case is not None and org is not None else None


def correct(deps: Deps, case_id: int, user: str, labels: dict[str, str], scope: Scope) -> Corrected | None:
    """Confirm or change the three heads of a case; recompute the due date. None: no such case
    (of a configured organisation, in scope). Labels that are not allowed raise Invalid and change
    nothing."""
    try:
        with deps.sessions.begin() as session:
            found = _correctable(session, deps, case_id, scope)
            if found is None:
                return None
            case, org = found
            changed = _correct(session, deps, org, case, user, labels)
            owed = offers_corrected_ack(case, store.acknowledgements(session, case.id))
            return Corrected(case.reference, changed, case.due_date, owed)
    except StaleDataError:  # someone took an action on the case at the same moment
        raise ProcedureRefused(Refusal(No.CHANGED)) from None


def offers_corrected_ack(case: Case, rows: list[Acknowledgement]) -> bool:
    """True when the acknowledgement that went out states another term than the case now has."""
    rows = [r for r in rows if r.kind == "ack"]  # answers and notices are letters of their own
    sent = [r for r in rows if r.status == AckStatus.SENT]
    working = case.status in (CaseStatus.NEW, CaseStatus.IN_PROGRESS)
    if not sent or not working or case.kind is None or case.extensions or case.consent_date is not None:
        return False
    last = sent[-1]
    if any(r.nonce > last.nonce and r.status in (AckStatus.PENDING, AckStatus.SENDING) for r in rows):
        return False
    wanted = ack_stage.class_of(case.kind, case.formality)
    return last.due_date != case.due_date or last.template.split("/")[-1] != wanted


def _queue_corrected_ack(session: Session, deps: Deps, org: Organisation, case: Case, user: str) -> None:
    rows = store.acknowledgements(session, case.id)
    if not offers_corrected_ack(case, rows) or not case.complainant:
        raise Invalid("this case needs no corrected acknowledgement")
    opening = min(case.messages, key=lambda m: (m.received_at, m.id))
    plan, now, nonce = plan_for(session, org, case), deps.clock(), max(r.nonce for r in rows if r.kind == "ack") + 1
    recipient = Address(case.complainant, case.complainant_name)
    letter = ack_stage.Letter(reference=case.reference, recipient=recipient, subject=case.subject,
                              received=case.received_at,
                              original_message_id="" if case.forwarded_by else opening.message_id,
                              forwarded_by_staff=bool(case.forwarded_by))
    ack = AckPlan(template=f"{plan.language}/{plan.template}", due=plan.due, recipient=recipient, suppressed=None,
                  plan=plan, letter=letter)
    rendered = acknowledge(org, ack, case.reference, now, nonce)
    acks.write(session, case, ack, rendered, now, actor=user)


def send_corrected_ack(deps: Deps, case_id: int, user: str, scope: Scope) -> bool:
    """Queue a corrected acknowledgement (a person asked for it; it is never sent by itself).
    False: no such case in scope; a case that needs none raises Invalid."""
    with deps.sessions.begin() as session:
        found = _correctable(session, deps, case_id, scope)
        if found is None:
            return False
        _queue_corrected_ack(session, deps, found[1], found[0], user)
        return True


def replay(deps: Deps, message_id: int, user: str, scope: Scope) -> bool:
    """Give a quarantined message its attempts back: the next poll processes it again. False: no
    such message in scope; any other message raises Invalid."""
    with deps.sessions.begin() as session:
        return store.replay(session, message_id, scope, user, deps.clock()) is not None


@dataclass(frozen=True)
class CasePage:
    """A case with its messages, acknowledgements (with their text), corrections and log, and
    what the page offers: correcting (its organisation is configured), a corrected acknowledgement."""

    case: CaseRow
    org_name: str
    can_correct: bool
    offer_corrected_ack: bool
    messages: list[MessageRow]
    acknowledgements: list[AckRow]
    corrections: list[CorrectionRow]
    history: list[LogRow]


def case_page(deps: Deps, case_id: int, scope: Scope) -> CasePage | None:
    with deps.sessions() as session:
        view = store.case_view(session, case_id, scope)
        if view is None:
            return None
        org = deps.settings.organisations.get(view.case.organisation)
        limit = deps.settings.parsing.max_parts
        return CasePage(CaseRow.of(view.case), org.name if org else view.case.organisation, org is not None,
                        offers_corrected_ack(view.case, view.acknowledgements),
                        [_row(session, m, limit) for m in view.messages], [AckRow.of(a) for a in view.acknowledgements],
                        [CorrectionRow.of(c) for c in view.corrections], [LogRow.of(h) for h in view.history])


@dataclass(frozen=True)
class MessagePage:
    """A message; without a case, whether it may be replayed or waits for its replay."""

    message: MessageRow
    can_replay: bool
    replay_pending: bool


def message_page(deps: Deps, message_id: int, scope: Scope) -> MessagePage | None:
    with deps.sessions() as session:
        msg = message_in(session, scope, message_id)
        if msg is None:
            return None
        quarantined = msg.disposition == Disposition.QUARANTINED
        row = _row(session, msg, deps.settings.parsing.max_parts)
        return MessagePage(row, quarantined and msg.attempts > 0, quarantined and msg.attempts == 0)


def files_of(session: Session, msg: Message, max_parts: int) -> tuple[Attachment, ...]:
    """The message's files as the walk stored them at intake; a message stored before part paths
    were (or without them: quarantined) is walked now, by the same function."""
    stored = (msg.details or {}).get("attachments")
    if isinstance(stored, list):
        found = [Attachment.of_record(r) if isinstance(r, dict) else None for r in stored]
        if all(found):
            return tuple(f for f in found if f is not None)
    raw = store.raw_message(session, msg)
    return files.walk(files.load(raw, max_parts)) if raw is not None else ()


def _row(session: Session, msg: Message, max_parts: int) -> MessageRow:
    """The message as a page shows it, its attachments listed as the download finds them."""
    row = MessageRow.of(msg)
    return replace(row, details={**row.details, "attachments": [f.record() for f in files_of(session, msg, max_parts)]})


@dataclass(frozen=True)
class Download:
    name: str  # cleaned (files.clean_name)
    content_type: str  # as the message says; served as application/octet-stream all the same
    data: bytes


def attachment(deps: Deps, message_id: int, path: str, scope: Scope) -> Download | None:
    """The file at part `path` of a message, found in its stored bytes and served only when its
    size and sha256 are those listed. None: no such message (in scope) or file, or it does not match."""
    with deps.sessions() as session:
        msg = message_in(session, scope, message_id)
        limit = deps.settings.parsing.max_parts
        listed = next((f for f in files_of(session, msg, limit) if f.path == path), None) if msg is not None else None
        raw = store.raw_message(session, msg) if msg is not None and listed is not None else None
    found = files.extract(files.load(raw, limit), path) if raw is not None else None
    if listed is None or found is None:
        return None
    if (found[0].size, found[0].sha256) != (listed.size, listed.sha256):
        log.warning("attachment_mismatch", message=message_id, path=path, listed=listed.sha256,
                    found=found[0].sha256)
        return None
    return Download(listed.name, listed.content_type, found[1])


def export_corrections(deps: Deps, folder: Path) -> int:
    """Corrected cases in the corpus format (labels.csv + mail/*.eml), for a person to check."""
    with deps.sessions() as session:
        return store.export_corrections(session, folder)
