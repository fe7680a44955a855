"""Cases that owe their complainant a corrected acknowledgement: a person changed the labels so
that the case's due date or kind of letter differs from what its last sent acknowledgement says,
and no newer one waits to go out. The SQL twin of `services.review.offers_corrected_ack`, for the
review queue's tab."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy import case as when
from sqlalchemy.orm import aliased

from triage.domain import AckStatus, CaseStatus
from triage.store.models import Acknowledgement, Case


def _letter_class() -> Any:
    """The acknowledgement class (template name) the case's labels call for, as in the ack stage."""
    return when((Case.kind == "question", "question"), (Case.formality == "formal", "formal_complaint"),
                else_="informal_complaint")


def corrected_ack_owed() -> Any:
    """A condition on Case: it owes a corrected acknowledgement that nobody queued yet."""
    sent, newer, last = aliased(Acknowledgement), aliased(Acknowledgement), aliased(Acknowledgement)
    last_sent = (select(func.max(last.nonce)).where(last.case_id == Case.id, last.kind == "ack",
                                                    last.status == AckStatus.SENT).correlate(Case).scalar_subquery())
    differs = exists().where(sent.case_id == Case.id, sent.kind == "ack", sent.status == AckStatus.SENT,
                             sent.nonce == last_sent,
                             or_(sent.due_date.is_distinct_from(Case.due_date),
                                 ~sent.template.endswith("/" + _letter_class()))).correlate(Case)
    waiting = exists().where(newer.case_id == Case.id, newer.kind == "ack", newer.nonce > last_sent,
                             newer.status.in_((AckStatus.PENDING, AckStatus.SENDING))).correlate(Case)
    # an extended term was told in its own notice; an ended case owes nothing
    return and_(Case.status.in_((CaseStatus.NEW, CaseStatus.IN_PROGRESS)), Case.kind.is_not(None),
                Case.extensions == 0, Case.consent_date.is_(None), differs, ~waiting)
