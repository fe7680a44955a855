"""Placeholder: the register pages (issue 15), filled in by their own change."""

from __future__ import annotations

from flask import Blueprint

from triage.web.auth import login_required

bp = Blueprint("register", __name__)


@bp.route("/register")
@login_required("staff")
def index() -> str:
    return "Register"
