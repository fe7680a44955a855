"""The privacy page for administrators, under /admin/privacy: look an address up and see what is
stored about it, download its access export (a POST: the address stays out of browser history and
server logs), and erase it after a confirmation page that shows exactly what will go, asks for the
reason and, for cases still open, for an explicit tick. Every step goes through `services.privacy`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, send_file, url_for

from triage.errors import Invalid, ServerError
from triage.services import privacy
from triage.web.auth import login_required
from triage.web.context import deps

bp = Blueprint("privacy", __name__)


def _form() -> tuple[str, str]:
    return request.form.get("address", "").strip(), request.form.get("organisation", "").strip()


def _organisations() -> dict[str, str]:
    return {key: org.name for key, org in deps().settings.organisations.items()}


def _plan(address: str, organisation: str) -> tuple[privacy.Plan | None, str | None]:
    try:
        return privacy.plan(deps(), address, organisation or None), None
    except Invalid:
        return None, "Dat is geen geldig e-mailadres. Vul één adres in, bijvoorbeeld jan@example.nl."


@bp.route("/admin/privacy", methods=["GET", "POST"])
@login_required("admin")
def index() -> Any:
    """The lookup form; posted, what is stored about the address."""
    address, organisation = _form()
    plan, error = _plan(address, organisation) if request.method == "POST" else (None, None)
    page = render_template("web/privacy.html", address=address, organisation=organisation, plan=plan,
                           error=error, organisations=_organisations())
    return (page, 400) if error else page


@bp.route("/admin/privacy/export", methods=["POST"])
@login_required("admin")
def export() -> Any:
    address, organisation = _form()
    try:
        made = privacy.access_export(deps(), address, g.user.name, organisation or None)
    except Invalid:
        flash("Dat is geen geldig e-mailadres; er is niets geëxporteerd.", "error")
        return redirect(url_for("privacy.index"))
    if made.path is None:
        flash("Niets gevonden over dit adres: er is niets geëxporteerd.", "ok")
        return redirect(url_for("privacy.index"))
    handle = made.path.open("rb")
    made.path.unlink()  # the open handle keeps the bytes until the response is sent
    response = send_file(handle, mimetype="application/zip", as_attachment=True, etag=False, conditional=False,
                         download_name=f"inzageverzoek-{dt.date.today().isoformat()}.zip")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _confirm_page(address: str, organisation: str, plan: privacy.Plan, error: str | None = None,
                  reason: str = "", status: int = 200) -> tuple[str, int]:
    return render_template("web/privacy_erase.html", address=address, organisation=organisation, plan=plan,
                           error=error, reason=reason, organisations=_organisations()), status


@bp.route("/admin/privacy/erase/confirm", methods=["POST"])
@login_required("admin")
def confirm_erase() -> Any:
    """What an erasure would remove, the reason and (for open cases) the tick it needs."""
    address, organisation = _form()
    plan, error = _plan(address, organisation)
    if plan is None or plan.empty:
        flash(error or "Niets gevonden over dit adres: er is niets te wissen.", "error" if error else "ok")
        return redirect(url_for("privacy.index"))
    return _confirm_page(address, organisation, plan)


@bp.route("/admin/privacy/erase", methods=["POST"])
@login_required("admin")
def erase() -> Any:
    address, organisation = _form()
    reason, force = request.form.get("reason", "").strip(), request.form.get("force") == "1"
    fingerprint = request.form.get("fingerprint", "")
    try:
        done = privacy.erase(deps(), address, reason, g.user.name, force=force, organisation=organisation or None,
                             confirm=lambda plan: plan.fingerprint == fingerprint)
    except (privacy.NoReason, privacy.OpenCases, privacy.Changed) as exc:
        plan, _error = _plan(address, organisation)
        if plan is None or plan.empty:
            return redirect(url_for("privacy.index"))
        return _confirm_page(address, organisation, plan, _refusal(exc), reason, 400)
    except (Invalid, ServerError) as exc:
        flash(f"Niet gewist: {exc}", "error")
        return redirect(url_for("privacy.index"))
    if not done.done:
        if done.plan.empty:
            flash("Niets gevonden over dit adres: er is niets gewist.", "ok")
            return redirect(url_for("privacy.index"))
        return _confirm_page(address, organisation, done.plan, _refusal(privacy.Changed("")), reason, 409)
    flash(_done(done), "ok")
    return redirect(url_for("privacy.index"))


def _refusal(exc: Exception) -> str:
    if isinstance(exc, privacy.OpenCases):
        refs = ", ".join(c.reference for c in exc.cases)
        return (f"Nog in behandeling: {refs}. Rond deze zaken eerst af, of vink aan dat ze toch gewist "
                "moeten worden.")
    if isinstance(exc, privacy.NoReason):
        return "Vul de reden voor het wissen in; die wordt vastgelegd (het adres niet)."
    return "Er is intussen iets veranderd (nieuwe post?). Bekijk hieronder opnieuw wat er gewist wordt."


def _n(count: int, one: str, more: str) -> str:
    return f"{count} {one if count == 1 else more}"


def _done(done: privacy.Erased) -> str:
    plan = done.plan
    text = (f"Gewist: {_n(len(plan.cases), 'zaak', 'zaken')}, {_n(plan.messages, 'bericht', 'berichten')} en "
            f"{_n(plan.letters, 'brief', 'brieven')}. De zaaknummers, data en indeling blijven anoniem bewaard.")
    if done.from_mailbox:
        text += f" Uit de mailbox verwijderd: {done.from_mailbox} berichten."
    if not done.compacted:
        text += " Let op: het databasebestand kon nog niet worden opgeschoond; dat gebeurt bij het volgende wissen."
    return text
