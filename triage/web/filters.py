"""Jinja filters for Dutch pages: dates, moments in Amsterdam time, and reason codes."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask

from triage.dates import long_date, short_datetime
from triage.web import words


def nl_date(value: date | None) -> str:
    """'21 november 2026'; none gives '–'."""
    return long_date(value, "nl") if value else "–"


def nl_datetime(value: datetime | None) -> str:
    """'21-11-2026 10:12' in Amsterdam time."""
    if value is None:
        return "–"
    return short_datetime(value)


def register(app: Flask) -> None:
    app.jinja_env.filters.update(nl_date=nl_date, nl_datetime=nl_datetime, nl_reasons=words.reasons)
