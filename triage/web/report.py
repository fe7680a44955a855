"""The yearly report page: a period chooser (a year, or from and to; an organisation when the user
sees several) above the report's own body, and the same report as a PDF or an HTML download. Bad
input is a Dutch message on the page, never an error page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, g, render_template, request

from triage.services import report as services
from triage.web.auth import login_required
from triage.web.context import deps

bp = Blueprint("report", __name__)


class Bad(Exception):
    """The chosen period or organisation cannot be used; the message is Dutch."""


def _day(name: str) -> date:
    value = request.args.get(name, "").strip()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Bad(f"“{value}” is geen datum: kies een dag als 2026-01-31.") from None


def _chosen(choices: services.Choices) -> tuple[services.Period, str | None, dict[str, str]]:
    """The period, the organisation and the query that asked for them (for the download links)."""
    args = request.args
    organisation = args.get("organisation", "").strip() or None
    if organisation is not None and organisation not in choices.organisations:
        raise Bad("Die organisatie bestaat niet of valt buiten uw organisaties.")
    query = {"organisation": organisation} if organisation else {}
    if args.get("from", "").strip() or args.get("to", "").strip():
        start, last = _day("from"), _day("to")
        if last < start:
            raise Bad("De einddatum ligt voor de begindatum.")
        if (last - start).days > services.MAX_DAYS:
            raise Bad("Kies een periode van hoogstens 10 jaar.")
        return services.Period(start, last + timedelta(days=1)), organisation, {
            **query, "from": start.isoformat(), "to": last.isoformat()}
    year_text = args.get("year", "").strip() or str(choices.this_year)
    if not year_text.isdigit() or not 1900 <= int(year_text) <= 9998:
        raise Bad(f"“{year_text}” is geen jaar.")
    return services.Period.year(int(year_text)), organisation, {**query, "year": year_text}


def _build() -> tuple[services.Choices, services.Report | None, dict[str, str], str]:
    choices = services.choices(deps(), g.user.scope)
    try:
        period, organisation, query = _chosen(choices)
        return choices, services.build(deps(), g.user.scope, period, organisation), query, ""
    except Bad as exc:
        return choices, None, {}, str(exc)
    except services.Refused:
        return choices, None, {}, "Voor deze periode of organisatie kan geen verslag worden gemaakt."


def _page(choices: services.Choices, built: services.Report | None, query: dict[str, str], error: str) -> str:
    extra: dict[str, Any] = built.context if built is not None else {}
    return render_template("web/report.html", choices=choices, report=built, query=query, error=error,
                           asked=request.args, **extra)


@bp.route("/report")
@login_required("staff")
def index() -> tuple[str, int]:
    choices, built, query, error = _build()
    return _page(choices, built, query, error), 400 if error else 200


def _file_name(built: services.Report, suffix: str) -> str:
    period = built.period
    when = str(period.start.year) if period.whole_year else f"{period.start.isoformat()}_{period.last.isoformat()}"
    return f"klachtenverslag-{when}.{suffix}"


@bp.route("/report.pdf")
@login_required("staff")
def pdf() -> Response | tuple[str, int]:
    choices, built, query, error = _build()
    if built is None:
        return _page(choices, built, query, error), 400
    data, _pages = services.pdf(built)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{_file_name(built, "pdf")}"'})


@bp.route("/report.html")
@login_required("staff")
def html() -> Response | tuple[str, int]:
    choices, built, query, error = _build()
    if built is None:
        return _page(choices, built, query, error), 400
    return Response(built.html, mimetype="text/html", headers={
        "Content-Disposition": f'attachment; filename="{_file_name(built, "html")}"'})
