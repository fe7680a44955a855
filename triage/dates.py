"""Dates as the organisation and its complainants read them: Amsterdam time, written out in
Dutch or English with Babel ("woensdag 6 mei 2026"). Used by the letters and by the web UI."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_LOCALES = {"nl": "nl_NL", "en": "en_GB"}


def long_date(day: date, language: str) -> str:
    """'woensdag 6 mei 2026', 'Wednesday, 6 May 2026'."""
    return format_date(day, format="full", locale=_LOCALES.get(language, "nl_NL"))


def short_datetime(moment: datetime) -> str:
    """'21-11-2026 10:12' in Amsterdam time."""
    return moment.astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M")
