"""Administrators: model versions with their figures and plots, retraining (queued here, run by
`triage run`) with progress, promotion and rollback, and the list of users."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, url_for
from werkzeug.wrappers import Response

from triage.errors import ConfigError, ModelError
from triage.services import jobs
from triage.services import models as model_services
from triage.services.deps import Deps
from triage.store import review
from triage.store import users as accounts
from triage.training import registry
from triage.web import words
from triage.web.auth import login_required
from triage.web.charts import Axis, line_chart

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _models_dir() -> Path:
    return _deps().models


def _deps() -> Deps:
    deps: Deps = current_app.extensions["triage"]["deps"]
    return deps


def _versions(models: Path) -> list[dict[str, Any]]:
    active = registry.current_version(models)
    out = [{"version": card.get("version"), "active": card.get("version") == active,
            "created": card.get("created", ""), "corpus_size": card.get("corpus_size"),
            "corrections_included": card.get("corrections_included", 0), "heads": card.get("heads", {}),
            "worse": card.get("worse", []), "compared_with": card.get("compared_with")}
           for card in registry.versions(models)]
    return sorted(out, key=lambda v: str(v["version"]))


def _short(version: str) -> str:
    """'20261121-003549' as '21-11 00:35'."""
    if len(version) == 15 and version[8] == "-":
        return f"{version[6:8]}-{version[4:6]} {version[9:11]}:{version[11:13]}"
    return version[:12]


def _auto_share_per_week() -> tuple[list[str], list[float | None]]:
    """Per ISO week: the share of new cases filed without a person (status open, no correction)."""
    weeks: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for received, auto in review.arrivals(g.db):
        year, week, _ = received.isocalendar()
        key = f"{year}-W{week:02d}"
        weeks[key][1] += 1
        weeks[key][0] += auto
    labels = sorted(weeks)[-26:]
    return labels, [weeks[k][0] / weeks[k][1] if weeks[k][1] else None for k in labels]


@bp.route("/models")
@login_required("admin")
def models() -> str:
    directory = _models_dir()
    versions = _versions(directory)
    metrics = {words.HEADS[h]: [v["heads"].get(h, {}).get("macro_f1") for v in versions] for h in review.LABELS}
    low = min([m for values in metrics.values() for m in values if m is not None] or [0.5])
    metrics_svg = line_chart("Macro-F1 per versie", [_short(str(v["version"])) for v in versions], metrics,
                             Axis(low=max(0.0, round(low - 0.05, 1)), high=1.0))
    corrected = {c.id for c in review.corrected_cases(g.db)}
    weeks, shares = _auto_share_per_week()
    auto_svg = line_chart("Automatisch ingedeeld per week", weeks, {"automatisch": shares}, Axis(percent=True))
    return render_template("web/models.html", versions=versions, metrics_svg=metrics_svg, auto_svg=auto_svg,
                           job=jobs.latest_job(_deps(), jobs.RETRAIN), corrections=len(corrected))


@bp.route("/retrain", methods=["POST"], endpoint="retrain")
@login_required("admin")
def retrain_start() -> Response:
    """Queue a retrain for the worker (or show the one queued or running already)."""
    job_id = jobs.enqueue_retrain(_deps(), g.user.name)
    return redirect(url_for("admin.job", job_id=job_id))


def _job(job_id: int) -> jobs.JobView:
    job = jobs.job_for_page(_deps(), job_id)
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
        model_services.promote(_deps(), version, g.user.name)
    except ModelError as exc:
        flash(f"Niet in gebruik genomen: {exc}", "error")
        return redirect(url_for("admin.models"))
    flash(f"Model {version} is nu in gebruik; de daemon deelt er vanaf de volgende controle van de mailbox "
          "mee in.", "ok")
    return redirect(url_for("admin.models"))


@bp.route("/users")
@login_required("admin")
def users() -> str:
    return render_template("web/users.html", users=accounts.all_users(g.db))


@bp.route("/users/<name>/disable", methods=["POST"])
@login_required("admin")
def disable_user(name: str) -> Response:
    if name == g.user.name:
        flash("U kunt uzelf niet blokkeren.", "error")
        return redirect(url_for("admin.users"))
    try:
        accounts.disable(g.db, name, actor=g.user.name)
    except ConfigError:
        abort(404)
    g.db.commit()
    flash(f"{name} kan niet meer inloggen.", "ok")
    return redirect(url_for("admin.users"))

