"""What staff do with a case: confirm or correct its labels (the due date follows), queue a
corrected acknowledgement, replay a quarantined message, and read a case with what it offers."""

from __future__ import annotations

from sqlalchemy.orm import Session

from triage.config import Organisation
from triage.domain import AckPlan, AckStatus, Address, CaseStatus, Prediction
from triage.errors import Invalid
from triage.pipeline import acknowledge
from triage.services.deps import Deps
from triage.stages import acknowledge as ack_stage
from triage.store import acks, repo
from triage.store import review as store
from triage.store.models import Acknowledgement, Case

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


def correct(session: Session, deps: Deps, org: Organisation, case: Case, user: str,
            labels: dict[str, str]) -> list[str]:
    """Confirm or change the three heads; recompute the due date. Returns the heads that changed.
    The caller commits (one transaction with whatever else the request did)."""
    labels, now = _labels(labels), deps.clock()
    changed = store.record_correction(session, case, user, labels, now)
    plan = plan_for(session, org, case)
    store.set_term(case, str(plan.term), plan.due, plan.due_is_latest)
    case.status, case.review_reason, case.review_reasons = CaseStatus.OPEN.value, "", []
    repo.audit(session, "case.corrected" if changed else "case.confirmed", now, actor=user,
               organisation=case.organisation, case_id=case.id, changed=changed, labels=labels,
               due=plan.due.isoformat())
    return changed


def offers_corrected_ack(case: Case, rows: list[Acknowledgement]) -> bool:
    """True when the acknowledgement that went out states another term than the case now has."""
    sent = [r for r in rows if r.status == AckStatus.SENT]
    if not sent or case.status == CaseStatus.NEEDS_REVIEW or case.kind is None:
        return False
    last = sent[-1]
    if any(r.nonce > last.nonce and r.status in (AckStatus.PENDING, AckStatus.SENDING) for r in rows):
        return False
    wanted = ack_stage.class_of(case.kind, case.formality)
    return last.due_date != case.due_date or last.template.split("/")[-1] != wanted


def send_corrected_ack(session: Session, deps: Deps, org: Organisation, case: Case, user: str) -> Acknowledgement:
    """Queue a corrected acknowledgement (a person asked for it; it is never sent by itself)."""
    rows = store.acknowledgements(session, case.id)
    if not offers_corrected_ack(case, rows) or not case.complainant:
        raise Invalid("this case needs no corrected acknowledgement")
    opening = min(case.messages, key=lambda m: (m.received_at, m.id))
    plan, now, nonce = plan_for(session, org, case), deps.clock(), max(r.nonce for r in rows) + 1
    recipient = Address(case.complainant, case.complainant_name)
    letter = ack_stage.Letter(reference=case.reference, recipient=recipient, subject=case.subject,
                              received=case.received_at,
                              original_message_id="" if case.forwarded_by else opening.message_id,
                              forwarded_by_staff=bool(case.forwarded_by))
    ack = AckPlan(template=f"{plan.language}/{plan.template}", due=plan.due, recipient=recipient, suppressed=None,
                  plan=plan, letter=letter)
    rendered = acknowledge(org, ack, case.reference, now, nonce)
    return acks.write(session, case, ack, rendered, now, actor=user)


def replay(session: Session, deps: Deps, message_id: int, user: str) -> None:
    """Give a quarantined message its attempts back: the next poll processes it again."""
    store.replay(session, message_id, user, deps.clock())


def case_view(session: Session, case_id: int) -> store.CaseView | None:
    """A case with its messages, acknowledgements, corrections and history."""
    view = store.case_view(session, case_id)
    if view is not None:
        view.offer_corrected_ack = offers_corrected_ack(view.case, view.acknowledgements)
    return view
