"""Administrators: model versions with their figures and plots, retraining (queued here, run by
`triage run`) with progress, promotion and rollback. The user pages are in `web/users.py`."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, url_for
from werkzeug.wrappers import Response

from triage.services import jobs
from triage.services import models as model_services
from triage.services import queue as queues
from triage.web import users as user_pages
from triage.web import words
from triage.web.auth import login_required
from triage.web.charts import Axis, line_chart
from triage.web.context import deps

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _short(version: str) -> str:
    """'20261121-003549' as '21-11 00:35'."""
    if len(version) == 15 and version[8] == "-":
        return f"{version[6:8]}-{version[4:6]} {version[9:11]}:{version[11:13]}"
    return version[:12]


@bp.route("/models")
@login_required("admin")
def models() -> str:
    page = model_services.models_page(deps())
    versions = page.versions
    metrics = {words.HEADS[h]: [v.macro_f1(h) for v in versions] for h in queues.LABELS}
    low = min([m for values in metrics.values() for m in values if m is not None] or [0.5])
    metrics_svg = line_chart("Macro-F1 per versie", [_short(v.version) for v in versions], metrics,
                             Axis(low=max(0.0, round(low - 0.05, 1)), high=1.0))
    auto_svg = line_chart("Automatisch ingedeeld per week", page.weeks, {"automatisch": page.auto_shares},
                          Axis(percent=True))
    return render_template("web/models.html", versions=versions, metrics_svg=metrics_svg, auto_svg=auto_svg,
                           job=page.job, corrections=page.corrections)


@bp.route("/retrain", methods=["POST"], endpoint="retrain")
@login_required("admin")
def retrain_start() -> Response:
    """Queue a retrain for the worker (or show the one queued or running already)."""
    job_id = jobs.enqueue_retrain(deps(), g.user.name)
    return redirect(url_for("admin.job", job_id=job_id))


def _job(job_id: int) -> jobs.JobView:
    job = jobs.job_for_page(deps(), job_id)
    if job is None:
        abort(404)
    return job


@bp.route("/jobs/<int:job_id>")
@login_required("admin")
def job(job_id: int) -> str:
    found = _job(job_id)
    return render_template("web/job.html", job=found, comparison=found.result.get("comparison", []),
                           version=found.result.get("version"))


@bp.route("/jobs/<int:job_id>.json")
@login_required("admin")
def job_json(job_id: int) -> Response:
    found = _job(job_id)
    return jsonify(status=found.status, progress=found.progress, message=found.message, result=found.result)


@bp.route("/models/<version>/promote", methods=["POST"])
@login_required("admin")
def promote(version: str) -> Response:
    try:
        model_services.promote(deps(), version, g.user.name)
    except model_services.VersionRefused as exc:
        flash("Niet in gebruik genomen: " + words.REFUSED_VERSION[exc.why], "error")
        return redirect(url_for("admin.models"))
    flash(f"Model {version} is nu in gebruik; de daemon deelt er vanaf de volgende controle van de mailbox "
          "mee in.", "ok")
    return redirect(url_for("admin.models"))


user_pages.register(bp)  # the user pages, /admin/users/...
