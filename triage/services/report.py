"""The yearly report (Awb 9:12a) of one organisation, or of every organisation in a scope, over a
period: its figures beside the previous period's, rendered once as a self-contained Dutch HTML
document (`templates/report/report.html`) that the web page shows and WeasyPrint turns into a PDF."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from triage import reporting
from triage.errors import Invalid
from triage.procedure_text import STATES
from triage.report_charts import Bar, columns, month_label, rows
from triage.report_words import name_parts
from triage.reporting import Figures
from triage.services.cases import today
from triage.services.deps import Deps
from triage.stages.terms import Term
from triage.store import report as store
from triage.store.scope import Scope

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
MAX_DAYS = 366 * 10  # a longer period is refused
TOPICS = {"product": "Product", "service": "Dienstverlening", "staff": "Bejegening door medewerkers",
          None: "Nog niet ingedeeld"}
CLASSES = {"formal": "Formele klachten", "informal": "Informele klachten", "question": "Vragen", "all": "Alle zaken"}
SERIES = ("Klachten", "Vragen")


class Refused(Invalid):
    """The report cannot be made: `code` is organisation (unknown or outside the scope) or period."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year + 1, 1, 1))

    @property
    def whole_year(self) -> bool:
        return self.start.month == self.start.day == 1 and self.end == self.start.replace(year=self.start.year + 1)

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    def previous(self) -> Period:
        """The period of equal length just before: the year before a whole year."""
        if self.whole_year:
            return Period.year(self.start.year - 1)
        return Period(self.start - (self.end - self.start), self.start)

    def label(self) -> str:
        if self.whole_year:
            return str(self.start.year)
        return f"{_nl(self.start)} tot en met {_nl(self.last)}"


def _nl(day: date) -> str:
    return format_date(day, format="long", locale="nl_NL")


@dataclass(frozen=True)
class Report:
    title: str
    organisation: str  # the display name (or names)
    period: Period
    figures: Figures
    previous: Figures
    context: dict[str, Any]  # what templates/report/_body.html reads
    html: str  # the whole self-contained document


def check(period: Period) -> None:
    if period.end <= period.start:
        raise Refused("period", "the period ends before it starts")
    if (period.end - period.start).days > MAX_DAYS:
        raise Refused("period", "the period is longer than 10 years")


def organisation_name(deps: Deps, scope: Scope, organisation: str | None) -> str:
    """The display name of the organisation (or of all those in scope); Refused if unknown or out of scope."""
    orgs = deps.settings.organisations
    if organisation is not None:
        if organisation not in orgs or not scope.allows(organisation):
            raise Refused("organisation", f"unknown organisation {organisation!r}")
        return orgs[organisation].name
    names = [org.name for key, org in orgs.items() if scope.allows(key)]
    return ", ".join(names) if names else "alle organisaties"


@dataclass(frozen=True)
class Choices:
    """What the report page offers: years with cases (and this one), the organisations in scope."""

    years: list[int]
    organisations: dict[str, str]  # id -> name
    this_year: int


def choices(deps: Deps, scope: Scope) -> Choices:
    this_year = today(deps).year
    with deps.sessions() as session:
        years = set(store.years_with_cases(session, scope)) | {this_year}
    orgs = {key: org.name for key, org in deps.settings.organisations.items() if scope.allows(key)}
    return Choices(sorted(years, reverse=True), orgs, this_year)


def build(deps: Deps, scope: Scope, period: Period, organisation: str | None = None) -> Report:
    """The report for the cases received in `period` in scope (of `organisation` when given)."""
    check(period)
    name = organisation_name(deps, scope, organisation)
    before = period.previous()
    with deps.sessions() as session:
        found = store.rows(session, scope, period.start, period.end, organisation)
        earlier = store.rows(session, scope, before.start, before.end, organisation)
    previous = reporting.figures(earlier, before.start, before.end)
    figures = reporting.figures(found, period.start, period.end, earlier, frozenset(name_parts(name)))
    title = (f"Klachtenjaarverslag {period.label()} — {name}" if period.whole_year
             else f"Klachtenverslag {period.label()} — {name}")
    context = _context(title, name, period, figures, previous, today(deps))
    html = environment().get_template("report/report.html").render(**context)
    return Report(title, name, period, figures, previous, context, html)


def _term(text: str) -> str:
    try:
        return Term.parse(text).words("nl")
    except ValueError:
        return text


def _context(title: str, name: str, period: Period, f: Figures, p: Figures, made: date) -> dict[str, Any]:
    several = period.start.year != period.last.year
    month_groups = [(month_label(m, several), [Bar(f"Klachten {month_label(m, True)}", c, 0),
                                                Bar(f"Vragen {month_label(m, True)}", q, 1)]) for m, c, q in f.by_month]
    topic_groups = [(TOPICS[t], [Bar(f"Klachten {TOPICS[t]}", counts["formal"] + counts["informal"], 0),
                                 Bar(f"Vragen {TOPICS[t]}", counts["question"], 1)])
                    for t, counts in f.by_topic.items() if t is not None or any(counts.values())]
    handling = [(label, [Bar(label, n, 0)]) for label, n in f.buckets]
    return {
        "title": title, "organisation": name, "period": period.label(), "previous_period": period.previous().label(),
        "made": _nl(made), "f": f, "p": p, "show": reporting.shown, "percent": reporting.percent,
        "topics": TOPICS, "classes": CLASSES, "states": STATES, "term": _term, "whole_year": period.whole_year,
        "month_chart": columns("chart-months", "Klachten en vragen per maand", month_groups, SERIES),
        "topic_chart": rows("chart-topics", "Klachten en vragen per onderwerp", topic_groups, SERIES),
        "handling_chart": columns("chart-handling", "Behandelduur van afgesloten zaken", handling, height=200),
    }


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(loader=PackageLoader("triage", "templates"), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True, undefined=StrictUndefined)


def pdf(report: Report) -> tuple[bytes, int]:
    """The report as an A4 PDF (WeasyPrint, from the same HTML) and its number of pages."""
    for name in ("weasyprint", "weasyprint.progress", "fontTools"):  # its progress is no news to the reader
        logging.getLogger(name).setLevel(logging.WARNING)
    import weasyprint  # slow to import: only who makes a PDF loads it

    document = weasyprint.HTML(string=report.html, base_url=str(TEMPLATES / "report")).render()
    return document.write_pdf() or b"", len(document.pages)
