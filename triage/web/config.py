"""The web app's Flask settings: signed session cookies (HttpOnly, SameSite=Lax, Secure when the
public URL is https) that hold only a session token, a CSRF token that lives as long as the
session, a cap on request size, trusted reverse proxies, and the warning `serve` gives when it
listens beyond loopback without https."""

from __future__ import annotations

import ipaddress
import os
import secrets
from datetime import timedelta

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

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
        SESSION_COOKIE_SECURE=settings.web.cookies_secure,
        SESSION_COOKIE_NAME="triage_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.web.session_hours),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        MAX_CONTENT_LENGTH=1024 * 1024,
        TESTING=testing,
    )
    if settings.web.trusted_proxies:
        hops = settings.web.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def _loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it resolves to whatever it resolves to
        return False


def exposure_warning(settings: Settings, host: str) -> str | None:
    """A warning when the UI listens beyond loopback while people do not reach it over https
    (passwords and session cookies would cross the network readable)."""
    if _loopback(host) or (settings.web.https and settings.web.cookies_secure):
        return None
    reason = ("web.secure_cookies = false sends session cookies without TLS" if settings.web.https
              else "web.public_url is not an https:// address")
    return (f"warning: listening on {host}, beyond this machine, but {reason}: passwords and session cookies "
            "can be read on the network. Serve it behind a reverse proxy with TLS and set "
            "web.public_url = \"https://…\"")
