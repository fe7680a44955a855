"""The complaint procedure after intake: a case's states, the actions that move it, who may take
them, and the dates they imply (the extended term, the last day of a 9:8 notice, on time or late).

Pure: a `Facts` value and an `Act` in, a `Change` or a `Refusal` out. The services apply a change
to the stored case and write its letter to the outbox; the web UI, the CLI and the worker only
call them. Refusals are codes with parameters, written in Dutch by `triage.procedure_text`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from triage.domain import CaseStatus
from triage.stages.terms import Calendar, Term, due_date, extended, receipt_day

S = CaseStatus
OPEN = frozenset({S.NEEDS_REVIEW, S.NEW, S.IN_PROGRESS})
WORKING = frozenset({S.NEW, S.IN_PROGRESS})  # classified, not ended: the procedure runs
ENDINGS = frozenset({S.ANSWERED, S.RESOLVED, S.NOT_HANDLED, S.FORWARDED, S.WITHDRAWN, S.QUESTION_ANSWERED,
                     S.NOT_A_COMPLAINT})
ROLES = ("staff", "coordinator", "admin")
NOTICE_WEEKS = 4  # Awb 9:8: a complaint not taken up is told so within 4 weeks of receipt


class Action(enum.StrEnum):
    ASSIGN = "assign"  # handler: a user name, or "" to take the handler off
    CONTACT = "contact"  # note: a phone call or meeting
    PLAN_HEARING = "plan_hearing"  # on: the date
    HOLD_HEARING = "hold_hearing"  # report
    SKIP_HEARING = "skip_hearing"  # ground: one of SKIP_GROUNDS
    EXTEND = "extend"  # the one extension of Awb 9:11 lid 2
    EXTEND_WITH_CONSENT = "extend_with_consent"  # consent: its date, until: the new due date (9:11 lid 3)
    ANSWER = "answer"  # text, judgement (formal complaints): the written answer goes out
    CLOSE = "close"  # ending, note, ground (9:8), to (forwarded)
    REOPEN = "reopen"  # reason
    MERGE = "merge"  # into: the earlier case (its Facts)
    SPLIT = "split"


SKIP_GROUNDS = ("unfounded", "waived", "no_reply")  # Awb 9:10 lid 2 a, b, c
NOT_HANDLED_GROUNDS = ("handled_before", "over_a_year", "objection_possible", "court", "criminal", "trivial")
JUDGEMENTS = ("founded", "partly_founded", "unfounded", "no_judgement")
CLOSE_ENDINGS = (S.RESOLVED, S.NOT_HANDLED, S.FORWARDED, S.WITHDRAWN, S.QUESTION_ANSWERED, S.NOT_A_COMPLAINT)
LETTER_ENDINGS = {S.NOT_HANDLED: "not_handled", S.FORWARDED: "forwarded"}  # endings that send a notice


class No(enum.StrEnum):
    """Why an action is refused (parameters in the refusal)."""

    ROLE = "role"  # role
    STATE = "state"  # status: the action does not apply in this state
    NEEDS_REVIEW = "needs_review"  # classify first
    NOT_FORMAL = "not_formal"  # only a formal complaint has this step
    NOT_COMPLAINT = "not_complaint"  # only for a complaint
    NOT_QUESTION = "not_question"  # only for a question
    EXPIRED = "expired"  # due: the term has passed, no extension any more
    EXTENDED_ALREADY = "extended_already"  # due: a further delay needs the complainant's consent
    CONSENT_DATE = "consent_date"  # a consent date in the future or before receipt
    UNTIL_NOT_LATER = "until_not_later"  # due: the new date must come after the current one
    NOTE_MISSING = "note_missing"
    GROUND_MISSING = "ground_missing"  # grounds: the choices
    TEXT_MISSING = "text_missing"
    JUDGEMENT_MISSING = "judgement_missing"
    NOT_HEARD = "not_heard"  # a formal complaint is answered only after its hearing or its skipping
    HEARING_DATE = "hearing_date"  # before receipt
    HEARING_FUTURE = "hearing_future"  # a hearing recorded as held on a day still to come
    REPORT_MISSING = "report_missing"
    ANSWER_BY_LETTER = "answer_by_letter"  # 'answered' is reached by sending the answer
    DRAFT_PENDING = "draft_pending"  # an unsent answer waits: send or discard it first
    MERGE_SELF = "merge_self"
    MERGE_OTHER = "merge_other"  # another complainant or organisation
    MERGE_ORDER = "merge_order"  # the later case joins the earlier
    MERGED = "merged"  # the case is merged: split it first
    HANDLER_UNKNOWN = "handler_unknown"  # name
    CHANGED = "changed"  # someone else changed the case meanwhile
    LETTER = "letter"  # problem: the letter cannot be written (a template without a required part)
    NO_RECIPIENT = "no_recipient"  # the letter has nobody to go to
    TOO_LONG = "too_long"  # a note, a text or an organisation's name past its limit (LIMITS)


# What a person may write, at most: a note or report, an answer's text, the competent organisation.
LIMITS = {"note": 5_000, "text": 50_000, "to": 200}


@dataclass(frozen=True)
class Refusal:
    code: No
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Facts:
    """What the procedure needs to know of one case."""

    status: CaseStatus
    kind: str | None
    formality: str | None
    received: datetime
    due: date | None
    term: Term | None  # the term the due date was counted with
    extensions: int = 0  # 0 or 1: the one extension of 9:11 lid 2
    consented: bool = False  # the complainant agreed to a later date (9:11 lid 3): no extension after it
    hearing: str = ""  # "", planned, held, skipped
    handler: str | None = None
    draft: bool = False  # an answer is drafted and not sent
    merged_from: CaseStatus | None = None  # a merged case: its state before
    complainant: str | None = None
    organisation: str = ""
    reference: str = ""

    @property
    def complaint(self) -> bool:
        return self.kind == "complaint"

    @property
    def formal(self) -> bool:
        return self.kind == "complaint" and self.formality == "formal"


@dataclass(frozen=True)
class Act:
    action: Action
    role: str  # the actor's role
    user: str  # the actor's name
    today: date  # in Europe/Amsterdam
    handler: str = ""
    note: str = ""
    on: date | None = None  # a hearing's date
    consent: date | None = None
    until: date | None = None
    text: str = ""
    judgement: str = ""
    ending: CaseStatus | None = None
    ground: str = ""
    to: str = ""  # the competent organisation (forwarded)
    into: Facts | None = None  # merge: the earlier case


@dataclass(frozen=True)
class Rules:
    """The organisation's calendar and extension."""

    calendar: Calendar = Calendar()
    extension: Term = Term(4, "weeks")


@dataclass(frozen=True)
class Change:
    """What an allowed action does: the new state, the fields it sets, the letter it sends (a
    template name of `triage.stages.letters`), and the audit action with its details."""

    status: CaseStatus
    audit: str
    set: dict[str, Any] = field(default_factory=dict)
    letter: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def ninety_eight_deadline(received: datetime, calendar: Calendar) -> date:
    """The last day a 9:8 notice (not taken up) may go out: 4 weeks after receipt."""
    return calendar.next_working_day(receipt_day(received) + timedelta(weeks=NOTICE_WEEKS))


def extended_due(facts: Facts, rules: Rules) -> date:
    """The due date after the one extension, counted like the first from the day of receipt."""
    term = facts.term or Term(6, "weeks")
    try:
        whole = extended(term, rules.extension)
    except ValueError:  # working days and weeks do not add up: extend from the current due date
        assert facts.due is not None
        return due_date(datetime.combine(facts.due, datetime.min.time()), rules.extension, rules.calendar)
    return due_date(facts.received, whole, rules.calendar)


def on_time(due: date | None, day: date) -> bool:
    return due is None or day <= due


def days_left(due: date | None, today: date) -> int | None:
    """Calendar days until the due date; negative when late."""
    return None if due is None else (due - today).days


def may(role: str, action: Action) -> bool:
    """Reopening an ended case is for a coordinator or administrator; the rest for any staff."""
    if role not in ROLES:
        return False
    return action != Action.REOPEN or role in ("coordinator", "admin")


def decide(facts: Facts, act: Act, rules: Rules = Rules()) -> Change | Refusal:
    """The change `act` makes to a case with these facts, or why it may not."""
    if not may(act.role, act.action):
        return Refusal(No.ROLE, {"role": act.role})
    if facts.status == S.MERGED and act.action != Action.SPLIT:
        return Refusal(No.MERGED)
    if any(len(getattr(act, name)) > limit for name, limit in LIMITS.items()):
        return Refusal(No.TOO_LONG)
    return _DECIDE[act.action](facts, act, rules)


def one_line(text: str) -> str:
    """A name as a letter writes it mid-sentence: its words on one line."""
    return " ".join(text.split())


def _working(facts: Facts) -> Refusal | None:
    if facts.status == S.NEEDS_REVIEW:
        return Refusal(No.NEEDS_REVIEW)
    if facts.status not in WORKING:
        return Refusal(No.STATE, {"status": facts.status.value})
    return None


def _assign(facts: Facts, act: Act, rules: Rules) -> Change | Refusal:
    if (no := _working(facts)) is not None:
        return no
    if not act.handler:
        return Change(S.NEW, "case.unassigned", {"handler": None}, detail={"previous": facts.handler})
    return Change(S.IN_PROGRESS, "case.assigned", {"handler": act.handler},
                  detail={"handler": act.handler, "previous": facts.handler})


def _contact(facts: Facts, act: Act, rules: Rules) -> Change | Refusal:
    if (no := _working(facts)) is not None:
        return no
    if not act.note.strip():
        return Refusal(No.NOTE_MISSING)
    return Change(facts.status, "case.contact", detail={"note": act.note.strip()})


def _hearing_allowed(facts: Facts) -> Refusal | None:
    if (no := _working(facts)) is not None:
        return no
    return None if facts.formal else Refusal(No.NOT_FORMAL)


def _plan_hearing(facts: Facts, act: Act, rules: Rules) -> Change | Refusal:
    if (no := _hearing_allowed(facts)) is not None:
        return no
    if act.on is None or act.on < receipt_day(facts.received):
        return Refusal(No.HEARING_DATE)
    return Change(facts.status, "case.hearing_planned", {"hearing": "planned", "hearing_date": act.on},
                  detail={"on": act.on.isoformat(), "note": act.note.strip()})


def _hold_hearing(facts: Facts, act: Act, rules: Rules) -> Change | Refusal:
    if (no := _hearing_allowed(facts)) is not None:
        return no
    if not act.text.strip():
        return Refusal(No.REPORT_MISSING)
    held = act.on or act.today
    if held < receipt_day(facts.received):
        return Refusal(No.HEARING_DATE)
    if held > act.today:
        return Refusal(No.HEARING_FUTURE)
    return Change(facts.status, "case.hearing_held", {"hearing": "held", "hearing_date": held,
                                                      "hearing_note": act.text.strip()},
                  detail={"on": held.isoformat(), "report": act.text.strip()})


def _skip_hearing(facts: Facts, act: Act, rules: Rules) -> Change | Refusal:
    if (no := _hearing_allowed(facts)) is not None:
        return no
    if act.ground not in SKIP_GROUNDS:
        return Refusal(No.GROUND_MISSING, {"grounds": SKIP_GROUNDS})
    return Change(facts.status, "case.hearing_skipped", {"hearing": "skipped", "hearing_note": act.note.strip()},
                  detail={"ground": act.ground, "note": act.note.strip()})


def _extend(facts: Facts, act: Act, rules: Rules) -> Change | Refusal:
    if (no := _working(facts)) is not None:
        return no
    if not facts.formal:
        return Refusal(No.NOT_FORMAL)
    if facts.extensions >= 1 or facts.consented:
        return Refusal(No.EXTENDED_ALREADY, {"due": facts.due})
    if facts.due is not None and act.today > facts.due:
        return Refusal(No.EXPIRED, {"due": facts.due})
    new = extended_due(facts, rules)
    if facts.due is not None and new <= facts.due:  # the due date was moved by hand past what 9:11 allows
        return Refusal(No.EXTENDED_ALREADY, {"due": facts.due})
    return Change(facts.status, "case.extended", {"due_date": new, "extensions": 1, "due_before_extension": facts.due},
                  letter="extension", detail={"from": _iso(facts.due), "to": new.isoformat(),
                                              "note": act.note.strip()})


def _extend_with_consent(facts: Facts, act: Act, rules: Rules) -> Change | Refusal:
    if (no := _working(facts)) is not None:
        return no
    if not facts.complaint:
        return Refusal(No.NOT_COMPLAINT)
    if act.consent is None or act.consent > act.today or act.consent < receipt_day(facts.received):
        return Refusal(No.CONSENT_DATE)
    if act.until is None or (facts.due is not None and act.until <= facts.due) or act.until <= act.today:
        return Refusal(No.UNTIL_NOT_LATER, {"due": facts.due})  # a new date already past promises nothing
    return Change(facts.status, "case.extended_with_consent",
                  {"due_date": act.until, "consent_date": act.consent},
                  letter="consent", detail={"from": _iso(facts.due), "to": act.until.isoformat(),
                                            "consent": act.consent.isoformat(), "note": act.note.strip()})


def _answer(facts: Facts, act: Act, rules: Rules) -> Change | Refusal:
    if (no := _working(facts)) is not None:
        return no
    if not act.text.strip():
        return Refusal(No.TEXT_MISSING)
    if facts.formal:
        if act.judgement not in JUDGEMENTS:
            return Refusal(No.JUDGEMENT_MISSING, {"choices": JUDGEMENTS})
        if facts.hearing not in ("held", "skipped"):
            return Refusal(No.NOT_HEARD)
    ending = S.ANSWERED if facts.complaint else S.QUESTION_ANSWERED
    fields: dict[str, Any] = {"answered_on": act.today, "on_time": on_time(facts.due, act.today),
                              "judgement": act.judgement if facts.complaint else "", "draft": {}}
    if facts.handler is None:
        fields["handler"] = act.user  # who answers handles it
    return Change(ending, "case.answered", fields, letter="answer",
                  detail={"on_time": fields["on_time"], "judgement": fields["judgement"]})


def _close_refused(facts: Facts, act: Act) -> Refusal | None:  # noqa: PLR0911 (one rule a line)
    ending = act.ending
    if ending == S.ANSWERED:
        return Refusal(No.ANSWER_BY_LETTER)
    if ending not in CLOSE_ENDINGS:
        return Refusal(No.GROUND_MISSING, {"grounds": tuple(e.value for e in CLOSE_ENDINGS)})
    if facts.status not in OPEN or (facts.status == S.NEEDS_REVIEW and ending != S.NOT_A_COMPLAINT):
        return _working(facts) or Refusal(No.STATE, {"status": facts.status.value})
    if facts.draft:
        return Refusal(No.DRAFT_PENDING)
    if ending in (S.RESOLVED, S.NOT_HANDLED, S.FORWARDED) and not facts.complaint:
        return Refusal(No.NOT_COMPLAINT)
    if ending == S.QUESTION_ANSWERED and facts.complaint:
        return Refusal(No.NOT_QUESTION)
    note = act.note.strip()
    if ending == S.NOT_HANDLED and act.ground not in NOT_HANDLED_GROUNDS:
        return Refusal(No.GROUND_MISSING, {"grounds": NOT_HANDLED_GROUNDS})
    if ending == S.FORWARDED and not one_line(act.to):
        return Refusal(No.NOTE_MISSING)
    if ending in (S.RESOLVED, S.WITHDRAWN, S.QUESTION_ANSWERED) and not note:
        return Refusal(No.NOTE_MISSING)
    return None


def _close(facts: Facts, act: Act, rules: Rules) -> Change | Refusal:
    if (no := _close_refused(facts, act)) is not None:
        return no
    ending, note = act.ending, act.note.strip()
    assert ending is not None
    fields: dict[str, Any] = {"ended_on": act.today, "on_time": on_time(facts.due, act.today)}
    detail: dict[str, Any] = {"ending": ending.value, "note": note}
    if ending == S.NOT_HANDLED:
        deadline = ninety_eight_deadline(facts.received, rules.calendar)
        fields["on_time"] = act.today <= deadline
        detail.update(ground=act.ground, deadline=deadline.isoformat())
    if ending == S.FORWARDED:
        detail["to"] = one_line(act.to)
    fields["ending_note"] = note
    return Change(ending, "case.closed", fields, letter=LETTER_ENDINGS.get(ending, ""), detail=detail)


def _reopen(facts: Facts, act: Act, rules: Rules) -> Change | Refusal:
    if facts.status not in ENDINGS:
        return Refusal(No.STATE, {"status": facts.status.value})
    if not act.note.strip():
        return Refusal(No.NOTE_MISSING)
    # never classified (closed from review as no complaint): back to review; else to work again
    back = S.NEEDS_REVIEW if facts.kind is None else S.IN_PROGRESS if facts.handler else S.NEW
    return Change(back, "case.reopened", {"ended_on": None, "on_time": None, "answered_on": None, "judgement": "",
                                          "ending_note": ""},
                  detail={"reason": act.note.strip(), "was": facts.status.value})


def _merge(facts: Facts, act: Act, rules: Rules) -> Change | Refusal:
    into = act.into
    if into is None or into.reference == facts.reference:
        return Refusal(No.MERGE_SELF)
    if into.organisation != facts.organisation or not facts.complainant or into.complainant != facts.complainant:
        return Refusal(No.MERGE_OTHER)
    if into.received > facts.received:
        return Refusal(No.MERGE_ORDER, {"into": into.reference})
    if into.status not in OPEN or into.status == S.MERGED:
        return Refusal(No.STATE, {"status": into.status.value})
    if facts.status not in OPEN:
        return Refusal(No.STATE, {"status": facts.status.value})
    return Change(S.MERGED, "case.merged", {"merged_from": facts.status.value},
                  detail={"into": into.reference, "note": act.note.strip()})


def _split(facts: Facts, act: Act, rules: Rules) -> Change | Refusal:
    if facts.status != S.MERGED:
        return Refusal(No.STATE, {"status": facts.status.value})
    back = facts.merged_from if facts.merged_from in OPEN else S.NEW
    assert back is not None
    return Change(back, "case.split", {"merged_from": None, "merged_into": None}, detail={"note": act.note.strip()})


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


_DECIDE = {
    Action.ASSIGN: _assign, Action.CONTACT: _contact, Action.PLAN_HEARING: _plan_hearing,
    Action.HOLD_HEARING: _hold_hearing, Action.SKIP_HEARING: _skip_hearing, Action.EXTEND: _extend,
    Action.EXTEND_WITH_CONSENT: _extend_with_consent, Action.ANSWER: _answer, Action.CLOSE: _close,
    Action.REOPEN: _reopen, Action.MERGE: _merge, Action.SPLIT: _split,
}


@dataclass(frozen=True)
class Alert:
    """A date a digest names: an overdue case, one due soon, an extension still possible, a 9:8 notice."""

    kind: str  # overdue, due_soon, extension_ends, notice_98
    day: date


def alerts(facts: Facts, today: date, window: int, rules: Rules) -> list[Alert]:
    """What a handler must be told about a case today: late, due within `window` working days, the
    last days to extend it, or (a formal complaint not yet heard) the last days to send a 9:8 notice."""
    if facts.status not in WORKING or facts.due is None:
        return []
    found = []
    horizon = rules.calendar.add_working_days(today, window)
    if facts.due < today:
        found.append(Alert("overdue", facts.due))
    elif facts.due <= horizon:
        found.append(Alert("due_soon", facts.due))
        if facts.formal and facts.extensions == 0:
            found.append(Alert("extension_ends", facts.due))
    if facts.formal and facts.hearing != "held":  # 9:8 is a step of the formal procedure only
        deadline = ninety_eight_deadline(facts.received, rules.calendar)
        if today <= deadline <= rules.calendar.add_working_days(today, min(window, 5)):
            found.append(Alert("notice_98", deadline))
    return found
