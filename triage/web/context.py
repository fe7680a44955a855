"""What every request sees: the app's `Deps`, and the logged-in user, looked up by the accounts
service from the session token in the signed cookie into `g.user` (a frozen `CurrentUser`, or
None) and shown to templates as `current_user`."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, session

from triage.services import accounts
from triage.services.deps import Deps


def install(app: Flask, deps: Deps) -> None:
    app.extensions["triage"] = {"deps": deps}
    app.before_request(load_user)
    app.context_processor(template_user)


def deps() -> Deps:
    found: Deps = current_app.extensions["triage"]["deps"]
    return found


def load_user() -> None:
    """The user of the session the cookie names while it lives; else none, and the cookie is cleared."""
    g.user = None
    token = session.get("sid")
    if token is None:
        if "pw" in session:  # a cookie from before server-side sessions: log in again
            session.clear()
        return
    g.user = accounts.current_user(deps(), str(token))
    if g.user is None:
        session.clear()


def template_user() -> dict[str, Any]:
    user = g.get("user")
    return {"current_user": {"name": user.name, "role": user.role} if user else None}
