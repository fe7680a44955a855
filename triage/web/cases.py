"""The complaint procedure after intake on the case page: assign, record contact, the hearing,
extend, close, reopen, merge and split (one POST each, with the case's version so a stale form is
refused), mark new correspondence read, and the answer composer with its preview. A refusal is a
Dutch flash and changes nothing; another organisation's case is a 404."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WResponse

from triage.domain import CaseStatus
from triage.procedure import Action
from triage.procedure_text import JUDGEMENT_CHOICES
from triage.services import cases as services
from triage.services import review as review_services
from triage.services import worklist
from triage.web.auth import login_required
from triage.web.context import deps
from triage.web.filters import nl_date
from triage.web.history import LETTER_KINDS

bp = Blueprint("cases", __name__)
ACTIONS = {a.value: a for a in Action if a != Action.ANSWER}  # the answer goes through the composer
DONE = {
    Action.ASSIGN: "Toegewezen aan {handler}.", Action.CONTACT: "Het contact is vastgelegd.",
    Action.PLAN_HEARING: "Het horen is gepland.", Action.HOLD_HEARING: "Het verslag van het horen is vastgelegd.",
    Action.SKIP_HEARING: "Vastgelegd dat van horen is afgezien.", Action.EXTEND: "De termijn is verlengd tot {due}.",
    Action.EXTEND_WITH_CONSENT: "De termijn is met instemming van de klager verlengd tot {due}.",
    Action.ANSWER: "De zaak is afgehandeld.", Action.CLOSE: "De zaak is afgesloten.",
    Action.REOPEN: "De zaak is heropend.", Action.MERGE: "De zaak is samengevoegd met {into}.",
    Action.SPLIT: "De zaak staat weer op zichzelf.",
}


def actor() -> services.Actor:
    return services.Actor(g.user.name, g.user.role, g.user.scope)


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.form.get(name, "").strip())
    except ValueError:
        return None


def _version() -> int:
    """The case's version the form was made from; a form without one (a hand-made POST) matches no
    version and is refused as changed meanwhile: the web never writes unchecked."""
    value = request.form.get("version", "")
    return int(value) if value.isdigit() else -1


def _ending() -> CaseStatus | None:
    value = request.form.get("ending", "")
    return CaseStatus(value) if value in set(CaseStatus) else None


def form_request(action: Action) -> services.Request:
    """The action as the form asks for it; the procedure checks every field."""
    form = request.form
    handler = g.user.name if form.get("me") else form.get("handler", "").strip()
    return services.Request(action=action, handler=handler, note=form.get("note", ""), on=_day("on"),
                            consent=_day("consent"), until=_day("until"), text=form.get("text", ""),
                            judgement=form.get("judgement", ""), ending=_ending(), ground=form.get("ground", ""),
                            to=form.get("to", ""), into=form.get("into", "").strip())


def _done_message(action: Action, done: services.Done, request_: services.Request) -> str:
    text = DONE[action].format(handler=request_.handler or "niemand", due=nl_date(done.due),
                                 into=done.detail.get("into", request_.into))
    if action == Action.ASSIGN and not request_.handler:
        text = "De behandelaar is eraf gehaald."
    if done.letter:
        text += f" {LETTER_KINDS.get(done.letter, 'De brief')} staat klaar en gaat bij de volgende verzendronde weg."
    if done.no_address:
        text += " Let op: de zaak heeft geen adres, er is geen brief verstuurd."
    return f"{done.reference}: {text}"


def _case_url(case_id: int, anchor: str = "procedure") -> str:
    return url_for("review.case", case_id=case_id, _anchor=anchor)


@bp.route("/case/<int:case_id>/procedure/<action>", methods=["POST"])
@login_required()
def act(case_id: int, action: str) -> WResponse:
    chosen = ACTIONS.get(action)
    if chosen is None:
        abort(404)
    asked = form_request(chosen)
    try:
        done = services.perform(deps(), case_id, actor(), asked, _version())
    except services.NotFound:
        abort(404)
    except services.ProcedureRefused as exc:
        flash(str(exc), "error")
        return redirect(_case_url(case_id))
    flash(_done_message(chosen, done, asked), "ok")
    return redirect(_case_url(case_id))


@bp.route("/case/<int:case_id>/read", methods=["POST"])
@login_required()
def read(case_id: int) -> WResponse:
    try:
        services.mark_read(deps(), case_id, actor())
    except services.NotFound:
        abort(404)
    flash("De nieuwe post is als gelezen gemarkeerd.", "ok")
    return redirect(_case_url(case_id, "berichten"))


def _composer(case_id: int, text: str, judgement: str, preview: str = "", status: int = 200) -> tuple[str, int]:
    view = review_services.case_page(deps(), case_id, g.user.scope)
    panel = worklist.panel(deps(), case_id, actor())
    if view is None or panel is None:
        abort(404)
    return render_template("web/answer.html", view=view, panel=panel, text=text, judgement=judgement,
                           preview=preview, judgements=JUDGEMENT_CHOICES,
                           formal=view.case.kind == "complaint" and view.case.formality == "formal"), status


@bp.route("/case/<int:case_id>/answer")
@login_required()
def answer(case_id: int) -> tuple[str, int]:
    view = review_services.case_page(deps(), case_id, g.user.scope)
    if view is None:
        abort(404)
    draft = view.case.procedure
    return _composer(case_id, draft.draft_text, draft.draft_judgement)


@bp.route("/case/<int:case_id>/answer", methods=["POST"])
@login_required()
def compose(case_id: int) -> WResponse | tuple[str, int]:
    """One form, three buttons: keep the draft, show the letter as it will read, or send it."""
    text, judgement, op = request.form.get("text", ""), request.form.get("judgement", ""), request.form.get("op")
    try:
        if op == "save":
            services.save_draft(deps(), case_id, actor(), text, judgement, _version())
            flash("Het concept is opgeslagen." if text.strip() else "Het concept is verwijderd.", "ok")
            return redirect(url_for("cases.answer", case_id=case_id))
        if op == "send":
            asked = services.Request(Action.ANSWER, text=text, judgement=judgement)
            done = services.perform(deps(), case_id, actor(), asked, _version())
            flash(_done_message(Action.ANSWER, done, asked), "ok")
            return redirect(_case_url(case_id))
        letter = services.preview(deps(), case_id, actor(), services.Request(Action.ANSWER, text=text,
                                                                            judgement=judgement))
    except services.NotFound:
        abort(404)
    except services.ProcedureRefused as exc:
        flash(str(exc), "error")
        return _composer(case_id, text, judgement, status=200)
    return _composer(case_id, text, judgement, preview=letter)


@bp.route("/case/<int:case_id>/notice/<action>", methods=["POST"])
@login_required()
def notice(case_id: int, action: str) -> WResponse | str:
    """The letter an extension or a closing with a notice will send, before it goes: the form's
    fields again, the letter as the complainant will read it, and a button that sends it."""
    chosen = ACTIONS.get(action)
    if chosen not in (Action.EXTEND, Action.EXTEND_WITH_CONSENT, Action.CLOSE):
        abort(404)
    asked = form_request(chosen)
    try:
        letter = services.preview(deps(), case_id, actor(), asked)
    except services.NotFound:
        abort(404)
    except services.ProcedureRefused as exc:
        flash(str(exc), "error")
        return redirect(_case_url(case_id))
    view = review_services.case_page(deps(), case_id, g.user.scope)
    if view is None:
        abort(404)
    fields = {k: v for k, v in request.form.items() if k not in ("csrf_token", "version")}
    return render_template("web/notice.html", view=view, action=chosen.value, fields=fields, letter=letter,
                           version=request.form.get("version", ""))
