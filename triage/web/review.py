"""The review queue, a case with its corrections, messages without a case, and attachments. Every
view reads and acts within the logged-in user's organisations: another organisation's case,
message or attachment is a 404, as if it did not exist."""

from __future__ import annotations

import re
from io import BytesIO
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, session, url_for
from werkzeug.wrappers import Response as WResponse

from triage.errors import Invalid
from triage.services import access_log, worklist
from triage.services import cases as case_services
from triage.services import models as model_services
from triage.services import queue as queues
from triage.services import review as services
from triage.services.cases import ProcedureRefused
from triage.web import history
from triage.web.auth import login_required
from triage.web.cases import actor
from triage.web.context import deps
from triage.web.filters import nl_date

bp = Blueprint("review", __name__)
_PART = re.compile(r"[1-9][0-9]{0,3}(\.[1-9][0-9]{0,3}){0,15}")  # a MIME part path: "2", "2.1.3"
STATUS_NAMES = [("todo", "Te doen"), ("review", "Te beoordelen"), ("ack_failed", "Bevestiging mislukt"),
                ("ack_owed", "Correctie te versturen"),
                ("quarantined", "Quarantaine"), ("machine", "Automatische mail"), ("open", "In procedure"),
                ("all", "Alles")]
VIEW_NAMES = [("mine", "Mijn zaken"), ("unassigned", "Zonder behandelaar"), ("overdue", "Te laat"),
              ("week", "Deze week"), ("working", "In behandeling"), ("ended", "Afgerond"), ("all", "Alles")]


@bp.route("/")
@login_required()
def index() -> WResponse:
    return redirect(url_for("review.queue"))


@bp.route("/queue")
@login_required()
def queue() -> str:
    view = request.args.get("view", "")
    if not request.args:  # the list last chosen; at first, "mine" for someone who handles cases
        remembered = session.get("view")
        view = str(remembered if remembered is not None else
                   worklist.default_view(deps(), g.user.name, g.user.scope) or "")
    if view and view in worklist.VIEWS:
        session["view"] = view
        return _worklist(view)
    session["view"] = ""
    filters = queues.Filters.from_args(request.args)
    session["filters"] = {k: v for k, v in filters.__dict__.items() if k != "page"}
    page = queues.queue_page(deps(), filters, g.user.scope)
    return render_template("web/queue.html", items=page.items, total=page.total, filters=filters, pages=page.pages,
                           counts=page.counts, statuses=STATUS_NAMES, labels=queues.LABELS,
                           organisations=page.organisations, held=page.held, today=case_services.today(deps()),
                           thresholds=model_services.thresholds(deps()), views=VIEW_NAMES,
                           view_counts=worklist.counts(deps(), g.user.name, g.user.scope))


def _worklist(view: str) -> str:
    page = worklist.worklist(deps(), view, g.user.name, g.user.scope, request.args.get("organisation", ""))
    counts, organisations = queues.status_counts(deps(), g.user.scope)
    return render_template("web/worklist.html", page=page, views=VIEW_NAMES, statuses=STATUS_NAMES,
                           status_counts=counts, organisations=organisations)


@bp.route("/acknowledgements/held/<organisation>", methods=["POST"])
@login_required()
def release_held(organisation: str) -> WResponse:
    send = request.form.get("action") == "send"
    done = queues.release_held(deps(), organisation, g.user.name, send, g.user.scope)
    if done is None:
        abort(404)
    if done:
        flash(f"{done} {'bevestiging' if done == 1 else 'bevestigingen'} " + (
            "vrijgegeven: ze gaan bij de volgende verzendronde de deur uit." if send else "niet verstuurd."), "ok")
    return redirect(url_for("review.queue"))


def _item_url(item: queues.Item | None) -> str | None:
    if item is None:
        return None
    if item.kind == "case":
        return url_for("review.case", case_id=item.id)
    return url_for("review.message", message_id=item.id)


@bp.route("/case/<int:case_id>")
@login_required()
def case(case_id: int) -> str:
    view = services.case_page(deps(), case_id, g.user.scope)
    if view is None:
        abort(404)
    access_log.opened(deps(), g.user.name, "case", case_id=case_id)
    before, after = queues.neighbours(deps(), queues.Filters(**session.get("filters", {})), g.user.scope,
                                       "case", case_id)
    return render_template("web/case.html", view=view, org_name=view.org_name, labels=queues.LABELS,
                           next_url=_item_url(after), prev_url=_item_url(before), can_correct=view.can_correct,
                           today=case_services.today(deps()), thresholds=model_services.thresholds(deps()),
                           history=history.lines(view.history, view.messages, view.acknowledgements),
                           panel=worklist.panel(deps(), case_id, actor()),
                           access_log=access_log.case_log(deps(), case_id, g.user.role))


@bp.route("/case/<int:case_id>/correct", methods=["POST"])
@login_required()
def correct(case_id: int) -> WResponse:
    labels = {head: request.form.get(head, "") for head in queues.LABELS}
    try:
        done = services.correct(deps(), case_id, g.user.name, labels, g.user.scope)
    except Invalid:
        flash("Niet opgeslagen: kies bij soort, onderwerp en vorm een van de aangeboden waarden.", "error")
        return redirect(url_for("review.case", case_id=case_id))
    except ProcedureRefused as refused:
        flash(str(refused), "error")
        return redirect(url_for("review.case", case_id=case_id))
    if done is None:
        abort(404)
    flash(f"{done.reference}: " + ("gecorrigeerd" if done.changed else "bevestigd") + f", uiterlijk "
          f"{nl_date(done.due)}.", "ok")
    if done.ack_owed:  # the complainant was told another term: the corrected acknowledgement comes first
        flash("De verstuurde bevestiging noemt een andere termijn. Verstuur de gecorrigeerde bevestiging "
              "(Enter) of ga verder (j).", "ok")
        return redirect(url_for("review.case", case_id=case_id, _anchor="send-corrected-ack"))
    target = request.form.get("next", "")
    if request.form.get("action") == "confirm" and target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("review.case", case_id=case_id))


@bp.route("/case/<int:case_id>/acknowledgement", methods=["POST"])
@login_required()
def corrected_ack(case_id: int) -> WResponse:
    try:
        queued = services.send_corrected_ack(deps(), case_id, g.user.name, g.user.scope)
    except Invalid:  # the only refusal: the case needs none (any more)
        flash("Deze zaak heeft geen gecorrigeerde bevestiging nodig.", "error")
        return redirect(url_for("review.case", case_id=case_id))
    if not queued:
        abort(404)
    flash("De gecorrigeerde bevestiging staat klaar en gaat bij de volgende verzendronde de deur uit.", "ok")
    return redirect(url_for("review.case", case_id=case_id))


@bp.route("/message/<int:message_id>")
@login_required()
def message(message_id: int) -> Any:
    view = services.message_page(deps(), message_id, g.user.scope)
    if view is None:
        abort(404)
    if view.message.case_id is not None:  # its case page shows it (and logs the access)
        return redirect(url_for("review.case", case_id=view.message.case_id))
    access_log.opened(deps(), g.user.name, "message", message_id=message_id)
    return render_template("web/message.html", msg=view.message, can_replay=view.can_replay,
                           replay_pending=view.replay_pending)


@bp.route("/message/<int:message_id>/replay", methods=["POST"])
@login_required()
def replay(message_id: int) -> WResponse:
    try:
        found = services.replay(deps(), message_id, g.user.name, g.user.scope)
    except Invalid:  # the only refusal: the message is not in quarantine
        flash("Alleen een bericht in quarantaine kan opnieuw worden verwerkt.", "error")
        return redirect(url_for("review.message", message_id=message_id))
    if not found:
        abort(404)
    flash("Het bericht wordt opnieuw verwerkt bij de volgende controle van de mailbox.", "ok")
    return redirect(url_for("review.message", message_id=message_id))


@bp.route("/message/<int:message_id>/attachment/<part>")
@login_required()
def attachment(message_id: int, part: str) -> WResponse:
    found = services.attachment(deps(), message_id, part, g.user.scope) if _PART.fullmatch(part) else None
    if found is None:
        abort(404)
    access_log.opened(deps(), g.user.name, "attachment", message_id=message_id, part=part)
    # Always a download, never rendered: an attached HTML page must not run on this site. Werkzeug
    # writes the name as RFC 6266 `filename` (ASCII) plus RFC 5987 `filename*` (UTF-8).
    response = send_file(BytesIO(found.data), mimetype="application/octet-stream", as_attachment=True,
                         download_name=found.name, etag=False, conditional=False)
    response.headers["Cache-Control"] = "private, no-store"  # personal data: not kept in caches
    return response
