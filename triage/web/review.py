"""The review queue, a case with its corrections, messages without a case, and attachments."""

from __future__ import annotations

import email
import email.policy
import math
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response as WResponse

from triage.config import Settings
from triage.domain import Disposition
from triage.errors import Invalid
from triage.services import review as services
from triage.services.deps import Deps
from triage.store import review
from triage.store.models import Case, Message
from triage.web import nl_date
from triage.web.auth import login_required

bp = Blueprint("review", __name__)
STATUS_NAMES = [("todo", "Te doen"), ("review", "Te beoordelen"), ("ack_failed", "Bevestiging mislukt"),
                ("quarantined", "Quarantaine"), ("machine", "Automatische mail"), ("open", "Ingedeeld"),
                ("all", "Alles")]


def _settings() -> Settings:
    return _deps().settings


def _deps() -> Deps:
    deps: Deps = current_app.extensions["triage"]["deps"]
    return deps


@bp.route("/")
@login_required()
def index() -> WResponse:
    return redirect(url_for("review.queue"))


@bp.route("/queue")
@login_required()
def queue() -> str:
    filters = review.Filters.from_args(request.args)
    session["filters"] = {k: v for k, v in filters.__dict__.items() if k != "page"}
    items = review.queue(g.db, filters)
    counts = review.counts(g.db, filters)
    total = counts["status"][filters.status]
    organisations = {org.id: org.name for org in _settings().organisations.values()}
    return render_template("web/queue.html", items=items, total=total, filters=filters,
                           pages=max(1, math.ceil(total / review.PER_PAGE)), counts=counts,
                           statuses=STATUS_NAMES, labels=review.LABELS, organisations=organisations,
                           today=date.today())


def _item_url(item: review.Item) -> str:
    if item.kind == "case":
        return url_for("review.case", case_id=item.id)
    return url_for("review.message", message_id=item.id)


def _neighbours(kind: str, item_id: int) -> tuple[str | None, str | None]:
    """The items before and after this one in the queue as the user last filtered it."""
    filters = review.Filters(**session.get("filters", {}))
    filters.page = 1
    items = review.queue(g.db, filters, per_page=500)
    keys = [(i.kind, i.id) for i in items]
    if (kind, item_id) not in keys:
        return None, (_item_url(items[0]) if items else None)
    at = keys.index((kind, item_id))
    prev_url = _item_url(items[at - 1]) if at > 0 else None
    next_url = _item_url(items[at + 1]) if at + 1 < len(items) else None
    return prev_url, next_url


def _text_of(raw: bytes | None) -> str:
    if not raw:
        return ""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    body = parsed.get_body(("plain",)) if isinstance(parsed, email.message.EmailMessage) else None
    return str(body.get_content()) if body is not None else ""


@bp.route("/case/<int:case_id>")
@login_required()
def case(case_id: int) -> str:
    view = services.case_view(g.db, case_id)
    if view is None:
        abort(404)
    org = _settings().organisations.get(view.case.organisation)
    prev_url, next_url = _neighbours("case", case_id)
    return render_template("web/case.html", view=view, org_name=org.name if org else view.case.organisation,
                           labels=review.LABELS, next_url=next_url, prev_url=prev_url, can_correct=org is not None,
                           ack_texts={a.nonce: _text_of(a.raw) for a in view.acknowledgements}, today=date.today())


def _case_and_org(case_id: int) -> tuple[Case, Any]:
    found = g.db.get(Case, case_id)
    if found is None:
        abort(404)
    org = _settings().organisations.get(found.organisation)
    if org is None:
        abort(404)
    return found, org


@bp.route("/case/<int:case_id>/correct", methods=["POST"])
@login_required()
def correct(case_id: int) -> WResponse:
    found, org = _case_and_org(case_id)
    labels = {head: request.form.get(head, "") for head in review.LABELS}
    try:
        changed = services.correct(g.db, _deps(), org, found, g.user.name, labels)
    except Invalid as exc:
        g.db.rollback()
        flash(f"Niet opgeslagen: {exc}", "error")
        return redirect(url_for("review.case", case_id=case_id))
    g.db.commit()
    flash(f"{found.reference}: " + ("gecorrigeerd" if changed else "bevestigd") + f", uiterlijk "
          f"{nl_date(found.due_date)}.", "ok")
    target = request.form.get("next", "")
    if request.form.get("action") == "confirm" and target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("review.case", case_id=case_id))


@bp.route("/case/<int:case_id>/acknowledgement", methods=["POST"])
@login_required()
def corrected_ack(case_id: int) -> WResponse:
    found, org = _case_and_org(case_id)
    _commit_or_flash(lambda: services.send_corrected_ack(g.db, _deps(), org, found, g.user.name),
                     "De gecorrigeerde bevestiging staat klaar en gaat bij de volgende verzendronde de deur uit.")
    return redirect(url_for("review.case", case_id=case_id))


def _commit_or_flash(change: Callable[[], object], done: str) -> None:
    """Make the change and commit it with a note, or roll back and say why not."""
    try:
        change()
    except Invalid as exc:
        g.db.rollback()
        flash(str(exc), "error")
    else:
        g.db.commit()
        flash(done, "ok")


@bp.route("/message/<int:message_id>")
@login_required()
def message(message_id: int) -> Any:
    msg = g.db.get(Message, message_id)
    if msg is None:
        abort(404)
    if msg.case_id is not None:
        return redirect(url_for("review.case", case_id=msg.case_id))
    quarantined = msg.disposition == Disposition.QUARANTINED
    return render_template("web/message.html", msg=msg, can_replay=quarantined and msg.attempts > 0,
                           replay_pending=quarantined and msg.attempts == 0)


@bp.route("/message/<int:message_id>/replay", methods=["POST"])
@login_required()
def replay(message_id: int) -> WResponse:
    _commit_or_flash(lambda: services.replay(g.db, _deps(), message_id, g.user.name),
                     "Het bericht wordt opnieuw verwerkt bij de volgende controle van de mailbox.")
    return redirect(url_for("review.message", message_id=message_id))


@bp.route("/message/<int:message_id>/attachment/<int:index>")
@login_required()
def attachment(message_id: int, index: int) -> WResponse:
    msg = g.db.get(Message, message_id)
    found = review.attachment(g.db, msg, index) if msg is not None else None
    if found is None:
        abort(404)
    name, _content_type, data = found
    safe = "".join(c if c.isalnum() or c in "._- " else "_" for c in name)[:150] or "bijlage"
    # Always a download, never rendered: an attached HTML page must not run on this site.
    return Response(data, mimetype="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{safe}"'})
