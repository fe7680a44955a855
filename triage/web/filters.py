"""Jinja filters for Dutch pages: dates, moments in Amsterdam time, and reason codes."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask

from triage.dates import long_date, short_datetime
from triage.idn import unicode_domain
from triage.web import history, words


def nl_date(value: date | None) -> str:
    """'21 november 2026'; none gives '–'."""
    return long_date(value, "nl") if value else "–"


def nl_datetime(value: datetime | None) -> str:
    """'21-11-2026 10:12' in Amsterdam time."""
    if value is None:
        return "–"
    return short_datetime(value)


def nl_score(value: float, threshold: float | None = None) -> str:
    """A model's confidence as a percentage; against its threshold, one that fails never reads as
    the threshold itself ('72,9%' for 0.7296 against 0.73)."""
    if threshold is None:
        return f"{round(value * 100)}%"
    return words.score_and_threshold(value, threshold)[0]


def nl_threshold(value: float, threshold: float) -> str:
    """The threshold beside `nl_score`: '73,0%' when the score reads '72,9%'."""
    return words.score_and_threshold(value, threshold)[1]


def nl_address(value: str | None) -> str:
    """An address as people write it: its domain in Unicode (stored as A-labels, `xn--…`)."""
    if not value:
        return ""
    local, at, domain = value.rpartition("@")
    return f"{local}@{unicode_domain(domain)}" if at and "xn--" in domain else value


def register(app: Flask) -> None:
    app.jinja_env.filters.update(nl_date=nl_date, nl_datetime=nl_datetime, nl_reasons=words.reasons,
                                 nl_score=nl_score, nl_threshold=nl_threshold, nl_actor=history.actor,
                                 nl_address=nl_address)
