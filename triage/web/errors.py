"""The error pages, in Dutch: an expired or forged form (400), an admin page for staff (403),
a page or case that does not exist (404), and every other HTTP error and a crash (500) with a
Dutch title and one line, never Werkzeug's English page or a traceback."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

PAGES = {
    400: ("Ongeldig verzoek", "De site kon dit verzoek niet lezen. Ga terug en probeer het nog eens."),
    403: ("Geen toegang", "Deze pagina is alleen voor beheerders."),
    404: ("Niet gevonden", "Deze pagina of zaak bestaat niet (meer)."),
    405: ("Niet toegestaan", "Deze pagina kan niet op deze manier worden geopend."),
    413: ("Te groot", "Wat u verstuurde is te groot voor deze site."),
    429: ("Te veel verzoeken", "Wacht even en probeer het dan opnieuw."),
    500: ("Er ging iets mis", "Er ging op de server iets mis. Probeer het later opnieuw; blijft dit "
          "gebeuren, meld het dan aan de beheerder."),
}


def _page(code: int, title: str, message: str) -> tuple[str, int]:
    return render_template("web/error.html", code=code, title=title, message=message), code


def csrf_error(_exc: CSRFError) -> tuple[str, int]:
    return _page(400, "Formulier verlopen", "Dit formulier is verlopen of niet via deze site verstuurd. "
                 "Laad de pagina opnieuw en probeer het nog eens.")


def http_error(exc: HTTPException) -> tuple[str, int]:
    code = exc.code or 500
    title, message = PAGES.get(code, PAGES[500 if code >= 500 else 400])
    return _page(code, title, message)


def crash(_exc: Exception) -> tuple[str, int]:
    return _page(500, *PAGES[500])


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(500, crash)
