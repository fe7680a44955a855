"""Handling terms pinned to real dates: weeks from the day after receipt moved off weekends and
holidays, working days skipping Christmas, Easter, Ascension and configured extra days, King's Day
on a Saturday, receipt in Amsterdam time, and the term a case under review gets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from triage.config import Terms
from triage.domain import Prediction
from triage.stages.terms import Calendar, Term, decree, decree_warning, due_date, extended, receipt_day

AMS_WINTER = timezone(timedelta(hours=1))
AMS_SUMMER = timezone(timedelta(hours=2))
PLAIN = Calendar()  # public holidays and the shipped decreed days
SHUT = Calendar.with_extra([date(2026, 5, 21)])  # a day the organisation configured


def at(y: int, m: int, d: int, hour: int = 10, tz: timezone = AMS_WINTER) -> datetime:
    return datetime(y, m, d, hour, 0, tzinfo=tz)


@pytest.mark.parametrize(("received", "term", "calendar", "due"), [
    # LABELS.md: a formal complaint received Tuesday 24 March 2026 is due Wednesday 6 May (5 May is a holiday)
    (at(2026, 3, 24), "6 weeks", PLAIN, date(2026, 5, 6)),
    # the term with its extension of 4 weeks: Tuesday 2 June 2026
    (at(2026, 3, 24), "10 weeks", PLAIN, date(2026, 6, 2)),
    # a weeks term ending on a working Friday stays there; one ending on a Sunday moves to Monday
    (at(2026, 10, 2, tz=AMS_SUMMER), "6 weeks", PLAIN, date(2026, 11, 13)),
    (at(2026, 10, 4, tz=AMS_SUMMER), "6 weeks", PLAIN, date(2026, 11, 16)),
    # King's Day 2025 fell on Saturday 26 April (27 April was a Sunday): a term ending then moves to Monday 28th
    (at(2025, 3, 15), "6 weeks", PLAIN, date(2025, 4, 28)),
    (at(2025, 4, 12, tz=AMS_SUMMER), "14 calendar days", PLAIN, date(2025, 4, 28)),
    # Christmas and New Year: 10 working days from Friday 18 December 2026 end on Tuesday 5 January 2027
    (at(2026, 12, 18), "10 working days", PLAIN, date(2027, 1, 5)),
    # Easter 2026: Good Friday 3 April and Easter Monday 6 April are skipped
    (at(2026, 4, 1, tz=AMS_SUMMER), "5 working days", PLAIN, date(2026, 4, 10)),
    # Ascension Thursday 14 May 2026 and the Friday after (decreed), and a day the organisation added
    (at(2026, 5, 12, tz=AMS_SUMMER), "5 working days", PLAIN, date(2026, 5, 21)),
    (at(2026, 5, 12, tz=AMS_SUMMER), "5 working days", SHUT, date(2026, 5, 22)),
    # the decree's days are built in: 6 weeks from Friday 26 March 2027 end on Friday 7 May 2027,
    # a decreed day, and move past the weekend to Monday 10 May
    (at(2027, 3, 26), "6 weeks", PLAIN, date(2027, 5, 10)),
    (at(2027, 3, 26), "6 weeks", Calendar(), date(2027, 5, 10)),
    # Friday 2 January 2026: 1 working day from New Year's Eve is Monday 5 January
    (at(2025, 12, 31), "1 working day", PLAIN, date(2026, 1, 5)),
    # 28 April 2028 (the Friday after King's Day) and 26 May 2028 (after Ascension)
    (at(2028, 4, 26, tz=AMS_SUMMER), "1 working day", PLAIN, date(2028, 5, 1)),
    (at(2028, 4, 14, tz=AMS_SUMMER), "6 weeks", PLAIN, date(2028, 5, 29)),
    # a month (an AVG request): the same day number a month on, the month's last day when it is
    # shorter, moved off weekends and holidays
    (at(2026, 3, 10), "1 month", PLAIN, date(2026, 4, 10)),
    (at(2027, 1, 31), "1 month", PLAIN, date(2027, 3, 1)),  # 28 February 2027 is a Sunday
    (at(2028, 1, 31), "1 maand", PLAIN, date(2028, 2, 29)),  # a leap year
    (at(2026, 11, 25), "1 month", PLAIN, date(2026, 12, 28)),  # Christmas on Friday 25 December
    # received on a Saturday: working days start on Monday
    (at(2026, 11, 21), "5 working days", PLAIN, date(2026, 11, 27)),
    # Whit Monday 25 May 2026
    (at(2026, 5, 22, tz=AMS_SUMMER), "1 working day", PLAIN, date(2026, 5, 26)),
])
def test_due_dates(received: datetime, term: str, calendar: Calendar, due: date) -> None:
    assert due_date(received, Term.parse(term), calendar) == due


def test_receipt_is_counted_in_amsterdam_time() -> None:
    # 23:30 UTC on Thursday 26 March 2026 is 00:30 on Friday 27 March in Amsterdam
    received = datetime(2026, 3, 26, 23, 30, tzinfo=UTC)
    assert receipt_day(received) == date(2026, 3, 27)
    # Mon 30, Tue 31, Wed 1, Thu 2, (Good Friday, weekend, Easter Monday), Tue 7 April
    assert due_date(received, Term.parse("5 working days"), PLAIN) == date(2026, 4, 7)
    # a naive time is UTC, not local
    assert receipt_day(datetime(2026, 3, 26, 23, 30)) == date(2026, 3, 27)


@pytest.mark.parametrize("day", [date(2026, 5, 5), date(2027, 5, 5), date(2029, 5, 5), date(2025, 4, 26),
                                 date(2026, 4, 27), date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1)])
def test_public_holidays_are_not_working_days(day: date) -> None:
    assert not PLAIN.is_working_day(day)


def test_ordinary_days_and_decreed_days() -> None:
    assert PLAIN.is_working_day(date(2025, 4, 25))  # the Friday before King's Day 2025
    assert PLAIN.is_working_day(date(2026, 1, 5)) and not PLAIN.is_working_day(date(2026, 1, 2))
    assert PLAIN.is_working_day(date(2026, 5, 21)) and not SHUT.is_working_day(date(2026, 5, 21))


def test_the_shipped_decree_names_its_days_and_its_source() -> None:
    shipped = decree()
    assert shipped.days == {date(2026, 1, 2), date(2026, 5, 15), date(2027, 5, 7), date(2028, 4, 28),
                            date(2028, 5, 26)}
    assert shipped.source.startswith("Besluit gelijkstelling van 2 januari 2026") and shipped.last_year == 2028
    assert all(not PLAIN.is_working_day(day) for day in shipped.days)


def test_check_config_warns_half_a_year_before_the_decrees_last_year() -> None:
    assert decree_warning(date(2026, 12, 3)) == ""
    assert decree_warning(date(2027, 6, 30)) == ""
    warning = decree_warning(date(2027, 7, 1))
    assert "until 2028" in warning and "2029" in warning and "extra_holidays" in warning
    assert decree_warning(date(2029, 2, 1)) == warning


@pytest.mark.parametrize(("text", "term"), [
    ("6 weeks", Term(6, "weeks")), ("10 working days", Term(10, "working_days")), ("1 week", Term(1, "weeks")),
    ("14 calendar days", Term(14, "calendar_days")), ("10 werkdagen", Term(10, "working_days")),
    ("6 weken", Term(6, "weeks")),
])
def test_term_parsing(text: str, term: Term) -> None:
    assert Term.parse(text) == term


@pytest.mark.parametrize("text", ["six weeks", "6", "6 fortnights", "-1 days", ""])
def test_bad_terms_are_refused_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match="6 weeks"):
        Term.parse(text)


def test_words() -> None:
    assert Term(6, "weeks").words("nl") == "6 weken"
    assert Term(1, "working_days").words("nl") == "1 werkdag"
    assert Term(10, "working_days").words("en") == "10 working days"


def test_extension_adds_in_the_same_unit() -> None:
    assert extended(Term(6, "weeks"), Term(4, "weeks")) == Term(10, "weeks")
    assert extended(Term(6, "weeks"), Term(14, "calendar_days")) == Term(56, "calendar_days")
    with pytest.raises(ValueError):
        extended(Term(6, "weeks"), Term(5, "working_days"))


def _prediction(kind: str, formality: str, unsure: tuple[str, ...] = ()) -> Prediction:
    return Prediction(kind=kind, topic="service", formality=formality, unsure=unsure, sure=not unsure)


@pytest.mark.parametrize(("prediction", "template", "due", "latest"), [
    (_prediction("complaint", "formal"), "formal_complaint", date(2026, 5, 6), False),
    (_prediction("complaint", "informal"), "informal_complaint", date(2026, 4, 9), False),
    (_prediction("question", "informal"), "question", date(2026, 3, 31), False),
    # sure it is a question, unsure of the topic only: the question's term, no doubt about it
    (_prediction("question", "informal", ("topic",)), "question", date(2026, 3, 31), False),
    # unsure whether formal: the longest of the two complaint terms, as "uiterlijk"
    (_prediction("complaint", "informal", ("formality",)), "review", date(2026, 5, 6), True),
    # unsure of the kind, or no model at all: the longest term there is
    (_prediction("question", "informal", ("kind",)), "review", date(2026, 5, 6), True),
    (None, "review", date(2026, 5, 6), True),
])
def test_plan_picks_the_term_that_could_apply(prediction: Prediction | None, template: str, due: date,
                                              latest: bool) -> None:
    from test_acknowledge import organisation

    from triage.stages.acknowledge import plan

    p = plan(organisation(), prediction, at(2026, 3, 24))
    assert (p.template, p.due, p.due_is_latest) == (template, due, latest)
    if template == "formal_complaint":
        assert p.extension == Term(4, "weeks") and p.due_extended == date(2026, 6, 2)


def test_terms_in_config_are_checked() -> None:
    with pytest.raises(ValueError, match="not a term"):
        Terms(question="vijf werkdagen")
    assert Terms(question="3 working days").term("question") == Term(3, "working_days")
