"""The user pages for administrators, under /admin/users: the list, adding an account, and per
account: its role, its e-mail address, its organisations, a new password, blocking (after a
confirmation) and re-enabling. Every change goes through `services.accounts`; a refusal is one
Dutch line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from triage.services import accounts
from triage.web import words
from triage.web.auth import login_required
from triage.web.context import deps

ROLE_WORDS = words.ROLES


def _refusal(exc: accounts.AccountError) -> str:
    if exc.problem == accounts.Problem.UNKNOWN_USER:
        abort(404)
    return words.account_problem(exc.problem, exc.params)


def _account(name: str) -> accounts.Account:
    found = accounts.account(deps(), name)
    if found is None:
        abort(404)
    return found


def _chosen() -> tuple[list[str], bool]:
    """The organisations ticked on a form, and whether 'all organisations' was."""
    return request.form.getlist("organisation"), request.form.get("all_organisations") == "1"


def users() -> str:
    return render_template("web/users.html", users=accounts.all_accounts(deps()),
                           organisations=accounts.organisations(deps()), role_words=ROLE_WORDS)


def new_user() -> Any:
    form = {"name": request.form.get("name", "").strip(), "role": request.form.get("role", "staff"),
            "email": request.form.get("email", "").strip()}
    chosen, everything = _chosen()
    error = None
    if request.method == "POST":
        password = request.form.get("password", "")
        if password != request.form.get("password_again", ""):
            error = "De twee wachtwoorden zijn niet gelijk."
        else:
            try:
                accounts.add(deps(), form["name"], password, form["role"], chosen, everything, actor=g.user.name,
                             email=form["email"] or None)
            except accounts.AccountError as exc:
                error = _refusal(exc)
            else:
                flash(f"{form['name']} is toegevoegd en kan nu inloggen.", "ok")
                return redirect(url_for("admin.user", name=form["name"]))
    page = render_template("web/user_new.html", form=form, chosen=chosen, everything=everything, error=error,
                           organisations=accounts.organisations(deps()), role_words=ROLE_WORDS)
    return (page, 400) if error else page


def user(name: str) -> str:
    return render_template("web/user.html", account=_account(name), organisations=accounts.organisations(deps()),
                           own=name == g.user.name, role_words=ROLE_WORDS)


def confirm_block(name: str) -> Any:
    account = _account(name)
    if name == g.user.name:
        flash(words.account_problem(accounts.Problem.OWN_ACCOUNT, {}), "error")
        return redirect(url_for("admin.user", name=name))
    return render_template("web/user_block.html", account=account)


def _change(name: str, change: Callable[[], object], done: str) -> Response:
    try:
        change()
    except accounts.AccountError as exc:
        flash(_refusal(exc), "error")
    else:
        flash(done, "ok")
    return redirect(url_for("admin.user", name=name))


def disable_user(name: str) -> Response:
    return _change(name, lambda: accounts.block_user(deps(), name, actor=g.user.name),
                   f"{name} is geblokkeerd en kan niet meer inloggen.")


def enable_user(name: str) -> Response:
    return _change(name, lambda: accounts.enable(deps(), name, actor=g.user.name),
                   f"{name} kan weer inloggen.")


def reset_password(name: str) -> Response:
    password = request.form.get("password", "")
    if password != request.form.get("password_again", ""):
        flash("De twee wachtwoorden zijn niet gelijk; het wachtwoord is niet gewijzigd.", "error")
        return redirect(url_for("admin.user", name=name))
    return _change(name, lambda: accounts.set_password(deps(), name, password, actor=g.user.name),
                   f"{name} heeft een nieuw wachtwoord; wie met het oude was ingelogd, is afgemeld.")


def change_role(name: str) -> Response:
    role = request.form.get("role", "")
    return _change(name, lambda: accounts.set_role(deps(), name, role, actor=g.user.name),
                   f"De rol van {name} is gewijzigd.")


def change_email(name: str) -> Response:
    address = request.form.get("email", "").strip()
    done = f"Het e-mailadres van {name} is gewijzigd." if address else f"{name} heeft geen e-mailadres meer."
    return _change(name, lambda: accounts.set_email(deps(), name, address or None, actor=g.user.name),
                   done)


def change_organisations(name: str) -> Response:
    chosen, everything = _chosen()
    return _change(name, lambda: accounts.set_organisations(deps(), name, chosen, everything, actor=g.user.name),
                   f"De organisaties van {name} zijn gewijzigd.")


PAGES: list[tuple[str, Callable[..., Any], list[str]]] = [
    ("", users, ["GET"]),
    ("/new", new_user, ["GET", "POST"]),
    ("/<name>", user, ["GET"]),
    ("/<name>/block", confirm_block, ["GET"]),
    ("/<name>/disable", disable_user, ["POST"]),
    ("/<name>/enable", enable_user, ["POST"]),
    ("/<name>/password", reset_password, ["POST"]),
    ("/<name>/role", change_role, ["POST"]),
    ("/<name>/email", change_email, ["POST"]),
    ("/<name>/organisations", change_organisations, ["POST"]),
]


def register(bp: Blueprint) -> None:
    """Add the user pages to the admin blueprint (endpoints `admin.users`, `admin.user`, ...), for
    administrators only."""
    for path, view, methods in PAGES:
        bp.add_url_rule(f"/users{path}", endpoint=view.__name__, view_func=login_required("admin")(view),
                        methods=methods)
