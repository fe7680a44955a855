"""Jinja filters for Dutch pages: dates, moments in Amsterdam time, and reason codes."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask

from triage import procedure_text
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


def nl_days(left: int | None) -> str:
    """Days to a due date: 'nog 12 dagen', 'vandaag', '3 dagen te laat'; none gives ''."""
    if left is None:
        return ""
    if left == 0:
        return "vandaag"
    days = f"{abs(left)} {'dag' if abs(left) == 1 else 'dagen'}"
    return f"nog {days}" if left > 0 else f"{days} te laat"


def nl_state(value: str | None) -> str:
    """A case's state in Dutch, as a name ('In behandeling')."""
    words_ = procedure_text.STATES.get(str(value), str(value or "–"))
    return words_[:1].upper() + words_[1:]


def nl_percent(value: float | None, digits: int = 0) -> str:
    """0.9584 -> '95,8%' (digits=1); None -> '–'."""
    if value is None:
        return "–"
    return f"{float(value) * 100:.{digits}f}%".replace(".", ",")


def nl_procedure(value: str | None) -> str:
    """The short Dutch name of another procedure ('Woo-verzoek')."""
    return words.PROCEDURE_NAMES.get(str(value), str(value or ""))


def register(app: Flask) -> None:
    app.jinja_env.filters.update(nl_date=nl_date, nl_datetime=nl_datetime, nl_reasons=words.reasons,
                                 nl_score=nl_score, nl_threshold=nl_threshold, nl_actor=history.actor,
                                 nl_address=nl_address, nl_days=nl_days, nl_state=nl_state,
                                 nl_procedure=nl_procedure, nl_percent=nl_percent)
    app.jinja_env.globals.update(STATES=procedure_text.STATES, ENDINGS=procedure_text.ENDINGS,
                                 HEARING=procedure_text.HEARING, SKIP_GROUNDS=procedure_text.SKIP_GROUNDS,
                                 NOT_HANDLED_CHOICES=procedure_text.NOT_HANDLED_CHOICES,
                                 JUDGEMENT_CHOICES=procedure_text.JUDGEMENT_CHOICES,
                                 LETTER_KINDS=history.LETTER_KINDS)
