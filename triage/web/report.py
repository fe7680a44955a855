"""Placeholder: the report pages (issue 15), filled in by their own change."""

from __future__ import annotations

from flask import Blueprint

from triage.web.auth import login_required

bp = Blueprint("report", __name__)


@bp.route("/report")
@login_required("staff")
def index() -> str:
    return "Jaarverslag"
