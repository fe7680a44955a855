"""The complaint procedure as a table: every state against every action (allowed, or refused with
which code), the refusals the Awb asks for, who may reopen, merging and splitting, the dates the
procedure counts (the extended term across Christmas and Easter, the 9:8 deadline, days left) and
the digest's alerts; every refusal has one Dutch sentence."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from triage.domain import CaseStatus
from triage.procedure import (
    Act,
    Action,
    Alert,
    Change,
    Facts,
    No,
    Refusal,
    Rules,
    alerts,
    days_left,
    decide,
    extended_due,
    ninety_eight_deadline,
    on_time,
)
from triage.procedure_text import refusal
from triage.stages.terms import Calendar, Term

S, A = CaseStatus, Action
RECEIVED = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # Monday 2 November 2026
DUE = date(2026, 12, 14)  # 6 weeks later, a Monday
TODAY = date(2026, 11, 20)
EARLIER = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)

BASE = Facts(status=S.IN_PROGRESS, kind="complaint", formality="formal", received=RECEIVED, due=DUE,
             term=Term(6, "weeks"), hearing="held", handler="anna", complainant="jan@example.nl",
             organisation="debrug", reference="KL-2026-000010")
INTO = replace(BASE, status=S.NEW, received=EARLIER, reference="KL-2026-000003", hearing="")

# One request per action that the procedure allows on a working formal complaint (heard, not extended).
REQUESTS: dict[Action, dict[str, Any]] = {
    A.ASSIGN: {"handler": "piet"},
    A.CONTACT: {"note": "Klager gebeld, hij wacht af."},
    A.PLAN_HEARING: {"on": date(2026, 11, 25)},
    A.HOLD_HEARING: {"text": "Klager gehoord, verslag in dossier."},
    A.SKIP_HEARING: {"ground": "waived"},
    A.EXTEND: {"note": "Advies van de afdeling nodig."},
    A.EXTEND_WITH_CONSENT: {"consent": date(2026, 11, 19), "until": date(2027, 1, 15)},
    A.ANSWER: {"text": "Wij hebben het onderzocht.", "judgement": "founded"},
    A.CLOSE: {"ending": S.RESOLVED, "note": "Telefonisch opgelost."},
    A.REOPEN: {"note": "Klager belde terug."},
    A.MERGE: {"into": INTO},
    A.SPLIT: {},
}
ACTIONS = [A.ASSIGN, A.CONTACT, A.PLAN_HEARING, A.HOLD_HEARING, A.SKIP_HEARING, A.EXTEND, A.EXTEND_WITH_CONSENT,
           A.ANSWER, A.CLOSE, A.REOPEN, A.MERGE, A.SPLIT]
assert set(ACTIONS) == set(Action)

NR, ST, MG = No.NEEDS_REVIEW, No.STATE, No.MERGED
ENDED_ROW = (ST, ST, ST, ST, ST, ST, ST, ST, ST, S.IN_PROGRESS, ST, ST)
# Written by hand: for each state, the outcome of each action in ACTIONS' order: the new state, or the refusal.
TABLE: dict[CaseStatus, tuple[CaseStatus | No, ...]] = {
    S.NEEDS_REVIEW: (NR, NR, NR, NR, NR, NR, NR, NR, NR, ST, S.MERGED, ST),
    S.NEW: (S.IN_PROGRESS, S.NEW, S.NEW, S.NEW, S.NEW, S.NEW, S.NEW, S.ANSWERED, S.RESOLVED, ST, S.MERGED, ST),
    S.IN_PROGRESS: (S.IN_PROGRESS, S.IN_PROGRESS, S.IN_PROGRESS, S.IN_PROGRESS, S.IN_PROGRESS, S.IN_PROGRESS,
                    S.IN_PROGRESS, S.ANSWERED, S.RESOLVED, ST, S.MERGED, ST),
    S.ANSWERED: ENDED_ROW,
    S.RESOLVED: ENDED_ROW,
    S.NOT_HANDLED: ENDED_ROW,
    S.FORWARDED: ENDED_ROW,
    S.WITHDRAWN: ENDED_ROW,
    S.QUESTION_ANSWERED: ENDED_ROW,
    S.NOT_A_COMPLAINT: ENDED_ROW,
    S.MERGED: (MG, MG, MG, MG, MG, MG, MG, MG, MG, MG, MG, S.NEW),
}
assert set(TABLE) == set(CaseStatus)
CELLS = [(status, action, row[i]) for status, row in TABLE.items() for i, action in enumerate(ACTIONS)]


def act(action: Action, role: str = "coordinator", today: date = TODAY, **values: Any) -> Act:
    return Act(action=action, role=role, user="marie", today=today, **{**REQUESTS[action], **values})


def refused(result: Change | Refusal) -> No:
    assert isinstance(result, Refusal), result
    return result.code


def allowed(result: Change | Refusal) -> Change:
    assert isinstance(result, Change), result
    return result


@pytest.mark.parametrize(("status", "action", "outcome"), CELLS, ids=[f"{s.value}-{a.value}" for s, a, _ in CELLS])
def test_each_state_allows_or_refuses_each_action_as_the_table_says(status: CaseStatus, action: Action,
                                                                     outcome: CaseStatus | No) -> None:
    facts = replace(BASE, status=status, merged_from=S.NEW if status == S.MERGED else None)
    result = decide(facts, act(action))
    if isinstance(outcome, No):
        assert refused(result) == outcome
    else:
        assert allowed(result).status == outcome


@pytest.mark.parametrize(("role", "action", "code"), [
    ("staff", A.REOPEN, No.ROLE),
    ("gast", A.ASSIGN, No.ROLE),
    ("", A.CONTACT, No.ROLE),
    ("Admin", A.REOPEN, No.ROLE),  # roles are exact words
])
def test_a_role_that_may_not_is_refused_with_its_name(role: str, action: Action, code: No) -> None:
    result = decide(replace(BASE, status=S.ANSWERED if action == A.REOPEN else S.IN_PROGRESS), act(action, role))
    assert refused(result) == code
    assert isinstance(result, Refusal) and result.params == {"role": role}


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_a_coordinator_or_administrator_reopens_an_ended_case(role: str) -> None:
    change = allowed(decide(replace(BASE, status=S.ANSWERED), act(A.REOPEN, role)))
    assert change.status == S.IN_PROGRESS and change.audit == "case.reopened"
    assert change.set == {"ended_on": None, "on_time": None, "answered_on": None, "judgement": "", "ending_note": ""}
    assert change.detail["was"] == "answered"


def test_a_case_closed_from_review_reopens_to_review() -> None:
    """Closed as 'geen klacht' before anyone classified it: reopened, it needs its labels first."""
    never = replace(BASE, status=S.NOT_A_COMPLAINT, kind=None, formality=None)
    assert allowed(decide(never, act(A.REOPEN))).status == S.NEEDS_REVIEW


def test_no_extension_after_a_consented_delay() -> None:
    """The complainant agreed to 1 March; an extension counted from receipt would bring the date forward."""
    consented = replace(BASE, consented=True, due=date(2027, 3, 1))
    assert refused(decide(consented, act(A.EXTEND))) == No.EXTENDED_ALREADY


def test_staff_take_every_action_but_reopening() -> None:
    for action in ACTIONS:
        if action in (A.REOPEN, A.SPLIT):
            continue
        assert isinstance(decide(BASE, act(action, "staff")), Change), action


def test_a_case_without_handler_reopens_as_new_and_reopening_needs_a_reason() -> None:
    assert allowed(decide(replace(BASE, status=S.RESOLVED, handler=None), act(A.REOPEN))).status == S.NEW
    assert refused(decide(replace(BASE, status=S.RESOLVED), act(A.REOPEN, note="  "))) == No.NOTE_MISSING


def test_assigning_nobody_takes_the_handler_off_and_makes_the_case_new_again() -> None:
    change = allowed(decide(BASE, act(A.ASSIGN, handler="")))
    assert (change.status, change.set, change.audit) == (S.NEW, {"handler": None}, "case.unassigned")
    assert change.detail == {"previous": "anna"}


# --- extension (Awb 9:11 lid 2) and consent (lid 3) ---------------------------------------------

def test_an_extension_moves_the_due_date_by_four_weeks_counted_from_receipt_and_sends_its_letter() -> None:
    change = allowed(decide(BASE, act(A.EXTEND)))
    assert change.letter == "extension" and change.audit == "case.extended"
    assert change.set == {"due_date": date(2027, 1, 11), "extensions": 1, "due_before_extension": DUE}
    assert change.detail["from"] == "2026-12-14" and change.detail["to"] == "2027-01-11"


def test_an_extension_on_the_last_day_is_allowed_and_the_day_after_refused_as_expired() -> None:
    assert isinstance(decide(BASE, act(A.EXTEND, today=DUE)), Change)
    late = decide(BASE, act(A.EXTEND, today=date(2026, 12, 15)))
    assert refused(late) == No.EXPIRED and isinstance(late, Refusal) and late.params == {"due": DUE}


def test_a_second_extension_without_consent_is_refused_but_with_consent_allowed() -> None:
    once = replace(BASE, extensions=1, due=date(2027, 1, 11))
    second = decide(once, act(A.EXTEND))
    assert refused(second) == No.EXTENDED_ALREADY and isinstance(second, Refusal)
    assert second.params == {"due": date(2027, 1, 11)}
    change = allowed(decide(once, act(A.EXTEND_WITH_CONSENT, until=date(2027, 2, 1))))
    assert change.letter == "consent"
    assert change.set == {"due_date": date(2027, 2, 1), "consent_date": date(2026, 11, 19)}


def test_only_a_formal_complaint_is_extended() -> None:
    assert refused(decide(replace(BASE, formality="informal"), act(A.EXTEND))) == No.NOT_FORMAL
    assert refused(decide(replace(BASE, kind="question", formality=None), act(A.EXTEND))) == No.NOT_FORMAL


@pytest.mark.parametrize(("values", "code"), [
    ({"consent": date(2026, 11, 21)}, No.CONSENT_DATE),  # tomorrow
    ({"consent": date(2026, 11, 1)}, No.CONSENT_DATE),  # before receipt
    ({"consent": None}, No.CONSENT_DATE),
    ({"until": DUE}, No.UNTIL_NOT_LATER),
    ({"until": date(2026, 12, 1)}, No.UNTIL_NOT_LATER),
    ({"until": None}, No.UNTIL_NOT_LATER),
])
def test_a_consent_needs_its_past_date_and_a_later_due_date(values: dict[str, Any], code: No) -> None:
    assert refused(decide(BASE, act(A.EXTEND_WITH_CONSENT, **values))) == code


def test_a_consent_after_an_expired_term_needs_a_date_still_to_come() -> None:
    """The term ran out on 14 December; a consented date of 18 December, entered on the 21st, is refused."""
    late = act(A.EXTEND_WITH_CONSENT, today=date(2026, 12, 21), consent=date(2026, 12, 15), until=date(2026, 12, 18))
    assert refused(decide(BASE, late)) == No.UNTIL_NOT_LATER
    fine = replace(late, until=date(2027, 1, 8))
    assert not isinstance(decide(BASE, fine), Refusal)


def test_a_question_gets_no_consented_extension() -> None:
    question = replace(BASE, kind="question", formality=None)
    assert refused(decide(question, act(A.EXTEND_WITH_CONSENT))) == No.NOT_COMPLAINT


# --- the hearing (Awb 9:10) and the answer (9:12) ------------------------------------------------

@pytest.mark.parametrize(("action", "values", "code"), [
    (A.PLAN_HEARING, {"on": date(2026, 11, 1)}, No.HEARING_DATE),
    (A.PLAN_HEARING, {"on": None}, No.HEARING_DATE),
    (A.HOLD_HEARING, {"text": " "}, No.REPORT_MISSING),
    (A.HOLD_HEARING, {"on": date(2026, 10, 30)}, No.HEARING_DATE),
    (A.HOLD_HEARING, {"on": date(2026, 11, 21)}, No.HEARING_FUTURE),  # tomorrow
    (A.SKIP_HEARING, {"ground": "bored"}, No.GROUND_MISSING),
])
def test_a_hearing_needs_its_date_report_or_ground(action: Action, values: dict[str, Any], code: No) -> None:
    assert refused(decide(BASE, act(action, **values))) == code


@pytest.mark.parametrize("action", [A.PLAN_HEARING, A.HOLD_HEARING, A.SKIP_HEARING])
def test_only_a_formal_complaint_is_heard(action: Action) -> None:
    assert refused(decide(replace(BASE, formality="informal"), act(action))) == No.NOT_FORMAL


def test_holding_the_hearing_records_its_day_and_report() -> None:
    change = allowed(decide(replace(BASE, hearing="planned"), act(A.HOLD_HEARING, on=date(2026, 11, 18))))
    assert change.set == {"hearing": "held", "hearing_date": date(2026, 11, 18),
                          "hearing_note": "Klager gehoord, verslag in dossier."}
    today = allowed(decide(replace(BASE, hearing="planned"), act(A.HOLD_HEARING)))
    assert today.set["hearing_date"] == TODAY


@pytest.mark.parametrize("hearing", ["", "planned"])
def test_a_formal_complaint_is_not_answered_before_the_hearing_is_held_or_skipped(hearing: str) -> None:
    assert refused(decide(replace(BASE, hearing=hearing), act(A.ANSWER))) == No.NOT_HEARD


def test_a_formal_complaint_is_answered_after_its_hearing_was_skipped() -> None:
    assert allowed(decide(replace(BASE, hearing="skipped"), act(A.ANSWER))).status == S.ANSWERED


@pytest.mark.parametrize("judgement", ["", "maybe"])
def test_a_formal_complaint_is_not_answered_without_a_judgement(judgement: str) -> None:
    assert refused(decide(BASE, act(A.ANSWER, judgement=judgement))) == No.JUDGEMENT_MISSING


def test_an_answer_needs_its_text() -> None:
    assert refused(decide(BASE, act(A.ANSWER, text="\n "))) == No.TEXT_MISSING


def test_the_answer_records_its_day_whether_it_was_on_time_and_clears_the_draft() -> None:
    on_the_day = allowed(decide(replace(BASE, draft=True), act(A.ANSWER, today=DUE)))
    assert on_the_day.letter == "answer" and on_the_day.audit == "case.answered"
    assert on_the_day.set == {"answered_on": DUE, "on_time": True, "judgement": "founded", "draft": {}}
    late = allowed(decide(BASE, act(A.ANSWER, today=date(2026, 12, 15))))
    assert late.set["on_time"] is False and late.detail == {"on_time": False, "judgement": "founded"}


def test_an_informal_complaint_is_answered_without_hearing_or_judgement_and_the_answerer_handles_it() -> None:
    change = allowed(decide(replace(BASE, formality="informal", hearing="", handler=None),
                            act(A.ANSWER, judgement="")))
    assert change.status == S.ANSWERED and change.set["handler"] == "marie"


def test_a_question_is_answered_as_question_answered_without_judgement() -> None:
    change = allowed(decide(replace(BASE, kind="question", formality=None, hearing=""), act(A.ANSWER)))
    assert change.status == S.QUESTION_ANSWERED and change.set["judgement"] == ""


# --- closing --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("facts", "values", "code"), [
    (BASE, {"ending": S.ANSWERED}, No.ANSWER_BY_LETTER),
    (replace(BASE, draft=True), {}, No.DRAFT_PENDING),
    (BASE, {"ending": None}, No.GROUND_MISSING),
    (BASE, {"ending": S.MERGED}, No.GROUND_MISSING),
    (BASE, {"ending": S.NOT_HANDLED, "ground": ""}, No.GROUND_MISSING),
    (BASE, {"ending": S.FORWARDED, "to": " "}, No.NOTE_MISSING),
    (BASE, {"ending": S.WITHDRAWN, "note": ""}, No.NOTE_MISSING),
    (BASE, {"note": ""}, No.NOTE_MISSING),
    (BASE, {"ending": S.QUESTION_ANSWERED}, No.NOT_QUESTION),
    (replace(BASE, kind="question", formality=None), {}, No.NOT_COMPLAINT),
    (replace(BASE, kind="question", formality=None), {"ending": S.NOT_HANDLED, "ground": "trivial"},
     No.NOT_COMPLAINT),
    (replace(BASE, status=S.NEEDS_REVIEW), {"ending": S.WITHDRAWN}, No.NEEDS_REVIEW),
])
def test_closing_is_refused_when_the_ending_does_not_fit(facts: Facts, values: dict[str, Any], code: No) -> None:
    assert refused(decide(facts, act(A.CLOSE, **values))) == code


def test_a_case_under_review_may_be_closed_as_no_complaint() -> None:
    change = allowed(decide(replace(BASE, status=S.NEEDS_REVIEW), act(A.CLOSE, ending=S.NOT_A_COMPLAINT, note="")))
    assert change.status == S.NOT_A_COMPLAINT and change.letter == ""


def test_not_handling_sends_the_98_notice_and_is_on_time_until_four_weeks_after_receipt() -> None:
    close = {"ending": S.NOT_HANDLED, "ground": "over_a_year"}
    in_time = allowed(decide(BASE, act(A.CLOSE, today=date(2026, 11, 30), **close)))
    assert in_time.letter == "not_handled" and in_time.set["on_time"] is True
    assert in_time.detail == {"ending": "not_handled", "note": "Telefonisch opgelost.", "ground": "over_a_year",
                              "deadline": "2026-11-30"}
    late = allowed(decide(BASE, act(A.CLOSE, today=date(2026, 12, 1), **close)))
    assert late.set["on_time"] is False


def test_forwarding_names_who_is_competent_and_sends_its_notice() -> None:
    change = allowed(decide(BASE, act(A.CLOSE, ending=S.FORWARDED, to=" Gemeente Lindendal ")))
    assert change.letter == "forwarded" and change.detail["to"] == "Gemeente Lindendal"


def test_closing_as_resolved_sends_no_letter_and_records_the_day() -> None:
    change = allowed(decide(BASE, act(A.CLOSE)))
    assert change.letter == "" and change.set == {"ended_on": TODAY, "on_time": True,
                                                  "ending_note": "Telefonisch opgelost."}


# --- merging and splitting -----------------------------------------------------------------------

@pytest.mark.parametrize(("into", "code"), [
    (None, No.MERGE_SELF),
    (replace(INTO, reference=BASE.reference), No.MERGE_SELF),
    (replace(INTO, complainant="piet@example.nl"), No.MERGE_OTHER),
    (replace(INTO, organisation="lindendal"), No.MERGE_OTHER),
    (replace(INTO, received=datetime(2026, 11, 3, tzinfo=UTC)), No.MERGE_ORDER),
    (replace(INTO, status=S.ANSWERED), No.STATE),
    (replace(INTO, status=S.MERGED), No.STATE),
])
def test_only_a_later_case_of_the_same_complainant_and_organisation_joins_an_open_earlier_one(
        into: Facts | None, code: No) -> None:
    assert refused(decide(BASE, act(A.MERGE, into=into))) == code


def test_a_case_without_complainant_merges_with_nothing() -> None:
    assert refused(decide(replace(BASE, complainant=None), act(A.MERGE, into=replace(INTO, complainant=None)))) \
        == No.MERGE_OTHER


def test_merging_keeps_the_state_before_and_splitting_restores_it() -> None:
    merged = allowed(decide(BASE, act(A.MERGE)))
    assert merged.status == S.MERGED and merged.set == {"merged_from": "in_progress"}
    assert merged.detail["into"] == "KL-2026-000003"
    split = allowed(decide(replace(BASE, status=S.MERGED, merged_from=S.IN_PROGRESS), act(A.SPLIT)))
    assert split.status == S.IN_PROGRESS and split.set == {"merged_from": None, "merged_into": None}
    review = allowed(decide(replace(BASE, status=S.MERGED, merged_from=S.NEEDS_REVIEW), act(A.SPLIT)))
    assert review.status == S.NEEDS_REVIEW


@pytest.mark.parametrize("before", [None, S.ANSWERED])
def test_a_split_without_an_open_state_before_makes_the_case_new(before: CaseStatus | None) -> None:
    assert allowed(decide(replace(BASE, status=S.MERGED, merged_from=before), act(A.SPLIT))).status == S.NEW


# --- dates ---------------------------------------------------------------------------------------

def at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(("received", "first", "extended"), [
    # 10 weeks after Friday 16 October 2026 is Christmas Day, Friday; then a weekend: Monday 28 December
    (at(2026, 10, 16), date(2026, 11, 27), date(2026, 12, 28)),
    # 10 weeks after Friday 23 October 2026 is New Year's Day, Friday: Monday 4 January 2027
    (at(2026, 10, 23), date(2026, 12, 4), date(2027, 1, 4)),
    # 10 weeks after Friday 15 January 2027 is Good Friday (26 March; Easter is 28 March): past Easter
    # Monday 29 March to Tuesday 30 March
    (at(2027, 1, 15), date(2027, 2, 26), date(2027, 3, 30)),
    # 10 weeks after Monday 18 January 2027 is Easter Monday: Tuesday 30 March
    (at(2027, 1, 18), date(2027, 3, 1), date(2027, 3, 30)),
    # an ordinary Wednesday stays
    (at(2026, 11, 4), date(2026, 12, 16), date(2027, 1, 13)),
])
def test_the_extended_due_date_counts_ten_weeks_from_receipt_off_weekends_and_holidays(
        received: datetime, first: date, extended: date) -> None:
    facts = replace(BASE, received=received, due=first)
    assert extended_due(facts, Rules()) == extended
    change = allowed(decide(facts, act(A.EXTEND, today=first)))
    assert change.set["due_date"] == extended


def test_an_extension_counted_in_other_units_than_a_working_days_term_runs_from_the_current_due_date() -> None:
    facts = replace(BASE, term=Term(30, "working_days"), due=date(2026, 12, 11))  # a Friday
    assert extended_due(facts, Rules()) == date(2027, 1, 8)  # 4 weeks on, a Friday


def test_a_configured_extra_day_off_moves_the_extended_date() -> None:
    rules = Rules(calendar=Calendar.with_extra([date(2027, 1, 11)]))
    assert extended_due(BASE, rules) == date(2027, 1, 12)


@pytest.mark.parametrize(("received", "deadline"), [
    (at(2026, 11, 4), date(2026, 12, 2)),  # four weeks on, a Wednesday
    (datetime(2026, 11, 3, 23, 30, tzinfo=UTC), date(2026, 12, 2)),  # already 4 November in Amsterdam
    (at(2027, 3, 1), date(2027, 3, 30)),  # Easter Monday 29 March 2027: the next day
    (at(2026, 11, 27), date(2026, 12, 28)),  # Christmas Day on a Friday, then the weekend
    # 5 May 2027 (Liberation Day), 6 May Ascension Day, 7 May equated by royal decree: Monday 10 May
    (at(2027, 4, 7), date(2027, 5, 10)),
])
def test_the_98_deadline_is_four_weeks_after_receipt_on_a_working_day(received: datetime, deadline: date) -> None:
    assert ninety_eight_deadline(received, Calendar()) == deadline


def test_on_time_and_days_left_count_from_the_due_date() -> None:
    assert on_time(DUE, DUE) and not on_time(DUE, date(2026, 12, 15)) and on_time(None, date(2030, 1, 1))
    assert days_left(DUE, date(2026, 12, 10)) == 4
    assert days_left(DUE, DUE) == 0
    assert days_left(DUE, date(2026, 12, 16)) == -2
    assert days_left(None, TODAY) is None


# --- alerts for the digest -----------------------------------------------------------------------

@pytest.mark.parametrize(("facts", "today", "window", "expected"), [
    (BASE, date(2026, 12, 15), 5, [Alert("overdue", DUE)]),
    # Tuesday 8 December: 5 working days on is 15 December, the due date falls within
    (BASE, date(2026, 12, 8), 5, [Alert("due_soon", DUE), Alert("extension_ends", DUE)]),
    (replace(BASE, extensions=1), date(2026, 12, 8), 5, [Alert("due_soon", DUE)]),
    (replace(BASE, formality="informal"), date(2026, 12, 8), 5, [Alert("due_soon", DUE)]),
    (replace(BASE, kind="question", formality=None), date(2026, 12, 8), 5, [Alert("due_soon", DUE)]),
    (BASE, date(2026, 12, 7), 5, [Alert("due_soon", DUE), Alert("extension_ends", DUE)]),  # 5 on: 14 Dec
    (BASE, date(2026, 12, 4), 5, []),  # 5 working days on is 11 December
    # 9:8: received 2 November, the notice is due by Monday 30 November
    (replace(BASE, hearing=""), date(2026, 11, 24), 5, [Alert("notice_98", date(2026, 11, 30))]),
    (replace(BASE, hearing="planned"), date(2026, 11, 30), 5, [Alert("notice_98", date(2026, 11, 30))]),
    (replace(BASE, hearing="skipped"), date(2026, 11, 24), 5, [Alert("notice_98", date(2026, 11, 30))]),
    (replace(BASE, hearing=""), date(2026, 12, 1), 5, []),  # the day after the deadline
    (replace(BASE, hearing=""), date(2026, 11, 20), 10, []),  # the notice window is at most 5 working days
    (BASE, date(2026, 11, 24), 5, []),  # heard: no notice any more
    (replace(BASE, hearing="", formality="informal"), date(2026, 11, 24), 5, []),  # 9:8 is formal only
    (replace(BASE, hearing="", kind="question", formality=None), date(2026, 11, 24), 5, []),
    (replace(BASE, status=S.NEW, hearing=""), date(2026, 11, 24), 5, [Alert("notice_98", date(2026, 11, 30))]),
    (replace(BASE, status=S.ANSWERED), date(2026, 12, 15), 5, []),
    (replace(BASE, status=S.NOT_HANDLED, hearing=""), date(2026, 11, 24), 5, []),
    (replace(BASE, status=S.NEEDS_REVIEW), date(2026, 12, 15), 5, []),
    (replace(BASE, status=S.MERGED), date(2026, 12, 15), 5, []),
    (replace(BASE, due=None), date(2026, 12, 15), 5, []),
])
def test_alerts_name_late_cases_those_due_soon_the_last_days_to_extend_and_to_send_a_98_notice(
        facts: Facts, today: date, window: int, expected: list[Alert]) -> None:
    assert alerts(facts, today, window, Rules()) == expected


# --- the refusals in Dutch -----------------------------------------------------------------------

PARAMS: dict[No, dict[str, Any]] = {
    No.ROLE: {"role": "staff"}, No.STATE: {"status": "answered"}, No.EXPIRED: {"due": DUE},
    No.EXTENDED_ALREADY: {"due": date(2027, 1, 11)}, No.UNTIL_NOT_LATER: {"due": DUE},
    No.GROUND_MISSING: {"grounds": ("unfounded", "waived", "no_reply")},
    No.JUDGEMENT_MISSING: {"choices": ("founded", "unfounded")}, No.MERGE_ORDER: {"into": "KL-2026-000011"},
    No.HANDLER_UNKNOWN: {"name": "piet"},
    No.LETTER: {"problem": "missing_appeal", "detail": "de Nationale ombudsman", "appeal": "de Nationale ombudsman"},
}


@pytest.mark.parametrize("code", list(No))
def test_every_refusal_is_one_dutch_sentence_with_its_parameters_filled_in(code: No) -> None:
    text = refusal(Refusal(code, PARAMS.get(code, {})))
    assert text and "{" not in text and "}" not in text and text.rstrip().endswith(".")
    for key, value in PARAMS.get(code, {}).items():
        if isinstance(value, str) and key not in ("status", "problem"):
            assert value in text


@pytest.mark.parametrize("code", list(No))
def test_a_refusal_missing_its_parameters_still_reads_as_a_sentence(code: No) -> None:
    text = refusal(Refusal(code))
    assert text and "{" not in text and "}" not in text and ".." not in text and "()" not in text
    assert text == refusal(Refusal(code, dict.fromkeys(PARAMS.get(code, {}))))  # None is missing too


def test_refusal_sentences_write_dates_and_states_in_dutch() -> None:
    assert "maandag 14 december 2026" in refusal(Refusal(No.EXPIRED, {"due": DUE}))
    assert "afgehandeld" in refusal(Refusal(No.STATE, {"status": "answered"}))
    assert "de Nationale ombudsman" in refusal(Refusal(No.LETTER, PARAMS[No.LETTER]))
    decided = decide(BASE, act(A.EXTEND, today=date(2026, 12, 15)))
    assert isinstance(decided, Refusal) and "maandag 14 december 2026" in refusal(decided)


def test_a_note_text_or_organisation_past_its_limit_is_refused() -> None:
    """A megabyte of note would land whole in the file and the audit log."""
    assert refused(decide(BASE, act(A.CONTACT, note="x" * 5_001))) == No.TOO_LONG
    assert refused(decide(BASE, act(A.ANSWER, text="x" * 50_001))) == No.TOO_LONG
    assert isinstance(decide(BASE, act(A.CONTACT, note="x" * 5_000)), Change)


def test_the_competent_organisation_is_written_on_one_line() -> None:
    """A line break typed into 'to' must not break the notice's sentence (or look like a header)."""
    closed = allowed(decide(BASE, act(A.CLOSE, ending=S.FORWARDED, to="Waterschap\r\nBcc: x@evil.example")))
    assert closed.detail["to"] == "Waterschap Bcc: x@evil.example"
