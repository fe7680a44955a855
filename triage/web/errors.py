"""The error pages, in Dutch: an expired or forged form (400), an admin page for staff (403),
and a page or case that does not exist (404)."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError


def _page(code: int, title: str, message: str) -> tuple[str, int]:
    return render_template("web/error.html", code=code, title=title, message=message), code


def csrf_error(_exc: CSRFError) -> tuple[str, int]:
    return _page(400, "Formulier verlopen", "Dit formulier is verlopen of niet via deze site verstuurd. "
                 "Laad de pagina opnieuw en probeer het nog eens.")


def forbidden(_exc: Exception) -> tuple[str, int]:
    return _page(403, "Geen toegang", "Deze pagina is alleen voor beheerders.")


def not_found(_exc: Exception) -> tuple[str, int]:
    return _page(404, "Niet gevonden", "Deze pagina of zaak bestaat niet (meer).")


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(403, forbidden)
    app.register_error_handler(404, not_found)
