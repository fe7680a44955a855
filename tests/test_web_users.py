"""The admin user pages with the e-mail address and the coordinator role, through Flask's test
client on a real SQLite database: adding, changing and refusing an address, the three roles in
Dutch, and the pages still for administrators only (with their CSRF check)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import sessions_for, settings_for, write_config
from flask.testing import FlaskClient

from triage.services import accounts
from triage.services.deps import Deps, build
from triage.web import create_app

Site = tuple[FlaskClient, FlaskClient, Deps]
ADMIN, STAFF = ("beheerder", "beheer-wachtwoord-1"), ("medewerker", "medewerker-wachtwoord-1")


def _token(client: FlaskClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _login(client: FlaskClient, who: tuple[str, str]) -> FlaskClient:
    response = client.post("/login", data={"name": who[0], "password": who[1], "csrf_token": _token(client, "/login"),
                                           "next": "/queue"})
    assert response.status_code == 302
    return client


@pytest.fixture
def site(tmp_path: Path) -> Site:
    """An admin's and a staff member's browser, and the services' dependencies."""
    settings = settings_for(write_config(tmp_path, f"sqlite:///{tmp_path / 'triage.db'}", 'type = "maildir"\n'
                                         f'path = "{tmp_path / "mail"}"\n'))
    sessions = sessions_for(settings)
    deps = build(settings, sessions)
    accounts.add(deps, *ADMIN, "admin")
    accounts.add(deps, *STAFF, "staff", ["debrug"])
    app = create_app(settings, sessions, testing=True)
    return _login(app.test_client(), ADMIN), _login(app.test_client(), STAFF), deps


def test_an_admin_adds_a_coordinator_with_an_email_address(site: Site) -> None:
    admin, _staff, deps = site
    form = admin.get("/admin/users/new").get_data(as_text=True)
    assert 'name="email"' in form
    assert [label for _v, label in re.findall(r'<option value="(\w+)"[^>]*>([^<]+)</option>', form)] == [
        "Medewerker", "Coördinator", "Beheerder"]
    response = admin.post("/admin/users/new", data={
        "name": "kees", "role": "coordinator", "email": "Kees <Kees@DeBrug.example>", "organisation": "debrug",
        "password": "kees-wachtwoord-1", "password_again": "kees-wachtwoord-1",
        "csrf_token": _token(admin, "/admin/users/new")})
    assert response.status_code == 302
    kees = accounts.account(deps, "kees")
    assert kees is not None and (kees.role, kees.email) == ("coordinator", "kees@debrug.example")
    listing = admin.get("/admin/users").get_data(as_text=True)
    assert "kees@debrug.example" in listing and "Coördinator" in listing
    page = admin.get("/admin/users/kees").get_data(as_text=True)
    assert 'value="kees@debrug.example"' in page and '<option value="coordinator" selected>' in page


def test_an_admin_changes_clears_or_is_refused_an_address(site: Site) -> None:
    admin, _staff, deps = site
    token = _token(admin, "/admin/users/medewerker")
    admin.post("/admin/users/medewerker/email", data={"email": "mw@debrug.example", "csrf_token": token})
    assert accounts.account(deps, "medewerker").email == "mw@debrug.example"  # type: ignore[union-attr]
    refused = admin.post("/admin/users/medewerker/email", data={"email": "mw@debrug.example, x@y.nl",
                                                                 "csrf_token": token}, follow_redirects=True)
    assert "Geef één e-mailadres, zoals naam@organisatie.nl." in refused.get_data(as_text=True)
    assert accounts.account(deps, "medewerker").email == "mw@debrug.example"  # type: ignore[union-attr]
    bad_new = admin.post("/admin/users/new", data={
        "name": "joop", "role": "staff", "email": "geen adres", "password": "joop-wachtwoord-1",
        "password_again": "joop-wachtwoord-1", "csrf_token": token})
    assert bad_new.status_code == 400 and "Geef één e-mailadres" in bad_new.get_data(as_text=True)
    assert accounts.account(deps, "joop") is None
    admin.post("/admin/users/medewerker/email", data={"email": "", "csrf_token": token})
    assert accounts.account(deps, "medewerker").email is None  # type: ignore[union-attr]


def test_the_user_pages_stay_for_admins_and_need_the_csrf_token(site: Site) -> None:
    admin, staff, deps = site
    assert staff.get("/admin/users/medewerker").status_code == 403
    token = _token(staff, "/queue")
    assert staff.post("/admin/users/medewerker/email", data={"email": "x@debrug.example",
                                                             "csrf_token": token}).status_code == 403
    assert admin.post("/admin/users/medewerker/email", data={"email": "x@debrug.example"}).status_code == 400
    assert accounts.account(deps, "medewerker").email is None  # type: ignore[union-attr]
