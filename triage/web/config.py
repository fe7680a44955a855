"""The web app's Flask settings: signed session cookies (HttpOnly, SameSite=Lax, optionally
Secure) that expire, a CSRF token that lives as long as the session, and a cap on request size."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta

from flask import Flask

from triage.config import Settings

SECRET_FILE = ".triage-web-secret"


def secret_key(settings: Settings) -> str:
    """The session signing key: from the environment, else a file made once beside the config."""
    value = os.environ.get(settings.web.secret_key_env)
    if value:
        return value
    path = settings.path.resolve().parent / SECRET_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def configure(app: Flask, settings: Settings, testing: bool) -> None:
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
