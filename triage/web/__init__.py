"""The review web UI: a Flask app factory with one blueprint per area (auth, review, the
procedure of a case, admin).

Sessions live on the server (the signed cookie, HttpOnly, SameSite=Lax and Secure under https,
holds a random token); every POST carries a CSRF token (Flask-WTF); message bodies are rendered
as escaped text, never as HTML.
Views call `triage.services` and nothing deeper.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from triage.config import Settings
from triage.services.deps import build, utc_now
from triage.services.setup import open_sessions
from triage.web import (
    admin,
    auth,
    cases,
    context,
    converters,
    errors,
    filters,
    privacy,
    register,
    report,
    review,
    security,
)
from triage.web.config import configure

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def create_app(settings: Settings, sessions: sessionmaker[Session] | None = None,
               models: Path | None = None, testing: bool = False,
               clock: Callable[[], datetime] = utc_now) -> Flask:
    """The app for these settings; `sessions` defaults to the configured database; tests pass a
    `clock`. The web process only queues long jobs (retraining): `triage run` runs them."""
    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder="static")
    configure(app, settings, testing)
    if sessions is None:
        sessions, _created = open_sessions(settings)
    context.install(app, build(settings, sessions, models=models, clock=clock))
    security.protect(app)
    filters.register(app)
    errors.register(app)
    converters.register(app)
    for blueprint in (auth.bp, review.bp, cases.bp, admin.bp, register.bp, report.bp, privacy.bp):
        app.register_blueprint(blueprint)
    return app
