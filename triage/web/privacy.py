"""Placeholder: the privacy pages (issue 15), filled in by their own change."""

from __future__ import annotations

from flask import Blueprint

from triage.web.auth import login_required

bp = Blueprint("privacy", __name__)


@bp.route("/admin/privacy")
@login_required("admin")
def index() -> str:
    return "Privacy"
