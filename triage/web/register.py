"""The register page: every case of the person's organisations, searched, filtered, sorted and paged
(GET parameters, so a search can be bookmarked), and its exports as CSV and Excel with the same
filters. A filter that cannot be read is not applied and says why in Dutch; never an error page."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, Response, g, redirect, render_template, request, stream_with_context, url_for
from werkzeug.wrappers import Response as WResponse

from triage.services import cases as case_services
from triage.services import register as services
from triage.services.queue import LABELS
from triage.web import words
from triage.web.auth import login_required
from triage.web.context import deps

bp = Blueprint("register", __name__)
MAX_SEARCH = 200  # characters
FIELDS = ("q", "from", "to", "kind", "topic", "formality", "status", "handler", "urgent", "timing", "sort", "order")
_DUTCH_DAY = re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NAMES = {"from": "periode van", "to": "periode tot", "kind": "soort", "topic": "onderwerp", "formality": "vorm",
          "status": "status", "timing": "op tijd"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Asked:
    """A register request as read from its parameters: the query and what could not be read."""

    query: services.Query
    problems: list[str]
    args: dict[str, str]  # the parameters that were given and understood (for links)


def _day(value: str) -> date:
    """A day as 2026-03-24 (what a date field sends) or as 24-3-2026."""
    found = _DUTCH_DAY.fullmatch(value)
    if found:
        return date(int(found.group(3)), int(found.group(2)), int(found.group(1)))
    return date.fromisoformat(value)


def _choice(args: Mapping[str, str], name: str, allowed: tuple[str, ...], problems: list[str]) -> str:
    value = args.get(name, "").strip()
    if value and value not in allowed:
        problems.append(f"Onbekende waarde voor ‘{_NAMES[name]}’: ‘{value[:40]}’. Dit filter is niet toegepast.")
        return ""
    return value


def _days(args: Mapping[str, str], problems: list[str]) -> tuple[date | None, date | None]:
    found: list[date | None] = []
    for name in ("from", "to"):
        value = args.get(name, "").strip()
        try:
            found.append(_day(value) if value else None)
        except ValueError:
            problems.append(f"‘{value[:40]}’ bij ‘{_NAMES[name]}’ is geen bestaande datum; gebruik bijvoorbeeld "
                            "2026-03-24. Dit filter is niet toegepast.")
            found.append(None)
    start, end = found
    if start and end and start > end:
        problems.append("‘Periode van’ ligt na ‘periode tot’: de periode is niet toegepast.")
        return None, None
    return start, end


def parse(args: Mapping[str, str]) -> Asked:
    """The query a register request asks for, with a Dutch line for every filter it could not read."""
    problems: list[str] = []
    text = args.get("q", "").strip()
    if len(text) > MAX_SEARCH:
        problems.append(f"De zoekterm is te lang: alleen de eerste {MAX_SEARCH} tekens zijn gebruikt.")
        text = text[:MAX_SEARCH]
    start, end = _days(args, problems)
    labels = {head: _choice(args, head, LABELS[head], problems) for head in ("kind", "topic", "formality")}
    status = _choice(args, "status", (*services.STATUS_GROUPS, *services.STATUSES), problems)
    timing = _choice(args, "timing", services.TIMINGS, problems)
    sort = args.get("sort", "")
    page = args.get("page", "1")
    query = services.Query(text=text, received_from=start, received_to=end, status=status,
                           handler=_CONTROL.sub("", args.get("handler", "")).strip()[:100],
                           urgent=args.get("urgent") == "1",
                           timing=timing, sort=sort if sort in services.SORTS else "received",
                           descending=args.get("order", "desc") != "asc",
                           page=int(page) if page.isdigit() and len(page) < 7 else 1, **labels)
    kept = {"q": text, "from": start.isoformat() if start else "", "to": end.isoformat() if end else "",
            "status": status, "handler": query.handler, "urgent": "1" if query.urgent else "", "timing": timing,
            "sort": query.sort if query.sort != "received" else "", "order": "asc" if not query.descending else "",
            **labels}
    return Asked(query, problems, {k: v for k, v in kept.items() if v})


def _labels() -> services.Labels:
    return services.Labels(values=words.VALUES)


def _filename(extension: str) -> str:
    return f"register-{case_services.today(deps()).isoformat()}.{extension}"


def _back() -> WResponse:
    """To the page with the same parameters: it says what is wrong with them."""
    query = request.query_string.decode("ascii", "replace")
    return redirect(url_for("register.index") + (f"?{query}" if query else ""))


@bp.route("/register")
@login_required("staff")
def index() -> str:
    asked = parse(request.args)
    page = services.register_page(deps(), asked.query, g.user.scope)
    return render_template("web/register.html", page=page, asked=asked, args=asked.args, labels=LABELS,
                           statuses=services.STATUSES, nobody=services.NOBODY, limit=services.EXPORT_LIMIT)


@bp.route("/register/export.csv")
@login_required("staff")
def export_csv() -> WResponse:
    asked = parse(request.args)
    if asked.problems:
        return _back()
    chunks = services.export_csv(deps(), asked.query, g.user.scope, _labels(), g.user.name)
    return Response(stream_with_context(chunks), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{_filename("csv")}"'})


@bp.route("/register/export.xlsx")
@login_required("staff")
def export_xlsx() -> WResponse:
    asked = parse(request.args)
    if asked.problems:
        return _back()
    data = services.export_xlsx(deps(), asked.query, g.user.scope, _labels(), g.user.name)
    return Response(data, mimetype=XLSX, headers={"Content-Disposition": f'attachment; filename="{_filename("xlsx")}"'})
