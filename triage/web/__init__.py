"""The review web UI: a Flask app factory with one blueprint per area (auth, review, admin).

Sessions are signed cookies (HttpOnly, SameSite=Lax, optionally Secure) that expire; every POST
carries a CSRF token (Flask-WTF); message bodies are rendered as escaped text, never as HTML.
"""

from __future__ import annotations

import os
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.orm import Session, sessionmaker

from triage.config import Settings
from triage.stages.acknowledge import long_date
from triage.stages.terms import AMSTERDAM
from triage.store import repo
from triage.web import context, words

csrf = CSRFProtect()


def secret_key(settings: Settings) -> str:
    """The session signing key: from the environment, else a file made once beside the config."""
    value = os.environ.get(settings.web.secret_key_env)
    if value:
        return value
    path = settings.path.resolve().parent / ".triage-web-secret"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def nl_date(value: date | None) -> str:
    return long_date(value, "nl") if value else "–"


def nl_datetime(value: datetime | None) -> str:
    """'21-11-2026 10:12' in Amsterdam time."""
    if value is None:
        return "–"
    return value.astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M")


def create_app(settings: Settings, sessions: sessionmaker[Session] | None = None,
               models: Path | None = None, testing: bool = False) -> Flask:
    from triage.services.deps import build

    app = Flask(__name__, template_folder=str(Path(__file__).resolve().parent.parent / "templates"),
                static_folder="static")
    app.config.update(
        SECRET_KEY=secret_key(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.web.secure_cookies,
        SESSION_COOKIE_NAME="triage_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.web.session_hours),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        MAX_CONTENT_LENGTH=1024 * 1024,
        TESTING=testing,
    )
    if sessions is None:
        engine = repo.open_engine(settings.database.url)
        sessions = repo.session_factory(engine)
    deps = build(settings, sessions, models=models)
    # The web process only queues long jobs (retraining); `triage run` runs them.
    context.install(app, deps)
    csrf.init_app(app)
    app.jinja_env.filters["nl_date"] = nl_date
    app.jinja_env.filters["nl_datetime"] = nl_datetime
    app.jinja_env.filters["nl_reasons"] = words.reasons

    from triage.web.admin import bp as admin_bp
    from triage.web.auth import bp as auth_bp
    from triage.web.review import bp as review_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(admin_bp)

    @app.after_request
    def headers(response: Any) -> Any:
        response.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "
                                    "style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; "
                                    "form-action 'self'; base-uri 'none'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    def error(code: int, title: str, message: str) -> tuple[str, int]:
        return render_template("web/error.html", code=code, title=title, message=message), code

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[str, int]:
        return error(400, "Formulier verlopen", "Dit formulier is verlopen of niet via deze site verstuurd. "
                     "Laad de pagina opnieuw en probeer het nog eens.")

    @app.errorhandler(403)
    def forbidden(_exc: Exception) -> tuple[str, int]:
        return error(403, "Geen toegang", "Deze pagina is alleen voor beheerders.")

    @app.errorhandler(404)
    def not_found(_exc: Exception) -> tuple[str, int]:
        return error(404, "Niet gevonden", "Deze pagina of zaak bestaat niet (meer).")

    return app
