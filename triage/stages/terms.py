"""Handling terms: which term applies to a case and the concrete date it ends.

Weeks and calendar days run from the day after receipt; a term that ends on a Saturday, Sunday
or public holiday moves to the next working day (Algemene termijnenwet). Working days skip
weekends, Dutch public holidays (the `holidays` package, every 5 May included), the days a royal
decree equates with them (`triage/data/decreed_days.toml`, Atw art. 3 lid 3) and extra days from
config. Receipt is the arrival in the mailbox, in Europe/Amsterdam time.
"""

from __future__ import annotations

import re
import tomllib
from calendar import monthrange
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any, Literal
from zoneinfo import ZoneInfo

import holidays

from triage.dates import AMSTERDAM

Unit = Literal["working_days", "calendar_days", "weeks", "months"]

_TERM = re.compile(r"^\s*(\d{1,3})\s+(working days?|werkdagen|werkdag|calendar days?|days?|dagen|dag|weeks?|weken|week|"
                   r"months?|maanden|maand)\s*$", re.IGNORECASE)
_UNITS: dict[str, Unit] = {
    "working day": "working_days", "working days": "working_days", "werkdag": "working_days",
    "werkdagen": "working_days", "calendar day": "calendar_days", "calendar days": "calendar_days",
    "day": "calendar_days", "days": "calendar_days", "dag": "calendar_days", "dagen": "calendar_days",
    "week": "weeks", "weeks": "weeks", "weken": "weeks",
    "month": "months", "months": "months", "maand": "months", "maanden": "months",
}
_WORDS = {
    "nl": {"working_days": ("werkdag", "werkdagen"), "calendar_days": ("dag", "dagen"), "weeks": ("week", "weken"),
           "months": ("maand", "maanden")},
    "en": {"working_days": ("working day", "working days"), "calendar_days": ("day", "days"),
           "weeks": ("week", "weeks"), "months": ("month", "months")},
}


@dataclass(frozen=True)
class Term:
    amount: int
    unit: Unit

    @classmethod
    def parse(cls, text: str) -> Term:
        """'6 weeks', '10 working days', '14 calendar days', '1 month' (Dutch words work too)."""
        match = _TERM.match(text)
        if not match:
            raise ValueError(f"{text!r} is not a term: write e.g. '6 weeks', '10 working days', '14 calendar days' "
                             "or '1 month'")
        return cls(int(match.group(1)), _UNITS[match.group(2).lower()])

    def words(self, language: str) -> str:
        one, many = _WORDS.get(language, _WORDS["nl"])[self.unit]
        return f"{self.amount} {one if self.amount == 1 else many}"

    def __str__(self) -> str:
        return self.words("en")


@dataclass(frozen=True)
class Decree:
    """The shipped royal decree's days equated with holidays, its title and the last year it covers."""

    days: frozenset[date]
    source: str
    last_year: int


@lru_cache(maxsize=1)
def decree() -> Decree:
    text = resources.files("triage").joinpath("data/decreed_days.toml").read_text("utf-8")
    data: dict[str, Any] = tomllib.loads(text)
    return Decree(frozenset(data["days"]), data["source"], int(data["last_year"]))


def decree_warning(today: date) -> str:
    """A warning from half a year before the last year the shipped decree covers: a new decree
    names the days after it, and until this package ships them config must add them."""
    last = decree().last_year
    if today < date(last - 1, 7, 1):
        return ""
    return (f"the days equated with public holidays that ship with this version run until {last} "
            f"(Atw art. 3 lid 3): look up the decree for {last + 1} and later, and add its days to "
            "[organisations.X.terms] extra_holidays until an update ships them")


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    # "optional" adds the days the package leaves out by default, such as 5 May in most years.
    days = holidays.country_holidays("NL", years=year, categories=("public", "optional")).keys()
    return frozenset(days) | {day for day in decree().days if day.year == year}


@dataclass(frozen=True)
class Calendar:
    """Dutch working days: no weekends, no public holidays, none of the configured extra days."""

    extra: frozenset[date] = frozenset()

    @classmethod
    def with_extra(cls, days: Iterable[date]) -> Calendar:
        return cls(frozenset(days))

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in _public_holidays(day.year) and day not in self.extra

    def next_working_day(self, day: date) -> date:
        """`day` itself if it is a working day, else the first one after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, day: date, count: int) -> date:
        """The `count`th working day after `day`."""
        while count > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day


def receipt_day(received: datetime) -> date:
    """The day of receipt in Europe/Amsterdam (a naive time is taken to be UTC)."""
    if received.tzinfo is None:
        received = received.replace(tzinfo=ZoneInfo("UTC"))
    return received.astimezone(AMSTERDAM).date()


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the last day of that month when it is shorter (a month
    from 31 January ends on 28 or 29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def due_date(received: datetime, term: Term, calendar: Calendar) -> date:
    day = receipt_day(received)
    if term.unit == "working_days":
        return calendar.add_working_days(day, term.amount)
    if term.unit == "months":  # the day with the same number, moved off weekends and holidays
        return calendar.next_working_day(add_months(day, term.amount))
    days = term.amount * (7 if term.unit == "weeks" else 1)
    return calendar.next_working_day(day + timedelta(days=days))


def extended(term: Term, extension: Term) -> Term:
    """The term with its one extension added (same unit, or both counted in calendar days)."""
    if term.unit == extension.unit:
        return Term(term.amount + extension.amount, term.unit)
    if "working_days" in (term.unit, extension.unit) or "months" in (term.unit, extension.unit):
        raise ValueError("an extension in other units than its term must not use working days or months")
    to_days = {"weeks": 7, "calendar_days": 1}
    return Term(term.amount * to_days[term.unit] + extension.amount * to_days[extension.unit], "calendar_days")
