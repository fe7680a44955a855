"""Login, logout and the role checks every other view uses."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from triage.services import accounts
from triage.web.context import deps

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])


def login_required(role: str = "staff") -> Callable[[F], F]:
    """The view needs a logged-in user; role "admin" also needs an administrator (else 403)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if g.get("user") is None:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if role == "admin" and g.user.role != "admin":
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _safe_next(target: str) -> str:
    """Only a path on this site: never redirect a user elsewhere after logging in."""
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return url_for("review.queue")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    next_url = _safe_next(request.values.get("next", "") or "/")
    if request.method == "GET":
        return render_template("web/login.html", error=None, wait=None, next=next_url)
    address = request.remote_addr or "unknown"
    result = accounts.login(deps(), request.form.get("name", ""), request.form.get("password", ""), address)
    if result.user is None:
        status = 429 if result.wait else 401
        error = None if result.wait else "Naam of wachtwoord klopt niet."
        return render_template("web/login.html", error=error, wait=int(result.wait + 0.999) or None,
                               next=next_url), status
    session.clear()
    session.permanent = True
    session["sid"] = result.token
    return redirect(next_url)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """End the session on the server too: a copy of the cookie no longer logs anyone in."""
    accounts.logout(deps(), str(session.get("sid", "")))
    session.clear()
    flash("U bent uitgelogd.", "ok")
    return redirect(url_for("auth.login"))
