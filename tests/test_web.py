"""The review web UI through Flask's test client: every view, both roles, and the error paths
(login slow-down, CSRF, 403/404, hostile content), on a site filled by the real pipeline."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import deps_for
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from web_site import (
    ADMIN,
    BROKEN_SUBJECT,
    FORWARD_FILES,
    FORWARD_SUBJECT,
    HOSTILE_SUBJECT,
    ODD_NAMES_SUBJECT,
    STAFF,
    Site,
    build,
    claim_at_once,
)

from triage.store.models import Acknowledgement, Case, Correction, Job, Message
from triage.training import registry
from triage.web import create_app


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        site = build(tmp_path_factory.mktemp("web"), monkeypatch)
        with site.jobs:
            yield site


@pytest.fixture
def app(site: Site) -> Flask:
    return claim_at_once(create_app(site.settings, site.sessions, models=site.models, testing=True), site.jobs)


def _token(client: FlaskClient, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _login(client: FlaskClient, who: tuple[str, str]) -> FlaskClient:
    response = client.post("/login", data={"name": who[0], "password": who[1], "csrf_token": _token(client),
                                           "next": "/queue"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/queue")
    return client


@pytest.fixture
def staff(app: Flask) -> FlaskClient:
    return _login(app.test_client(), STAFF)


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    return _login(app.test_client(), ADMIN)


def test_pages_need_a_login_and_say_so_in_dutch(app: Flask) -> None:
    client = app.test_client()
    for path in ("/", "/queue", "/case/1", "/admin/models", "/admin/users"):
        response = client.get(path)
        assert response.status_code == 302 and "/login?next=" in response.headers["Location"], path
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="nl"' in page and ("Wachtwoord" in page or "wachtwoord" in page)


def test_login_cookie_is_httponly_samesite_and_expires(app: Flask) -> None:
    client = app.test_client()
    response = client.post("/login", data={"name": STAFF[0], "password": STAFF[1], "csrf_token": _token(client)})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie


def test_wrong_passwords_are_refused_then_slowed_down(app: Flask, site: Site) -> None:
    from triage.store import users

    with site.sessions.begin() as s:
        users.add(s, "proef", "proef-wachtwoord-1", "staff")
    client = app.test_client()
    for _ in range(3):
        response = client.post("/login", data={"name": "proef", "password": "fout", "csrf_token": _token(client)})
        assert response.status_code == 401 and "klopt niet" in response.get_data(as_text=True)
    response = client.post("/login", data={"name": "proef", "password": "proef-wachtwoord-1",
                                           "csrf_token": _token(client)})
    assert response.status_code == 429 and "seconden" in response.get_data(as_text=True)  # even the right one waits
    unknown = client.post("/login", data={"name": "niemand", "password": "x", "csrf_token": _token(client)})
    assert unknown.status_code == 401  # an unknown name looks like a wrong password


def test_a_post_without_csrf_token_is_refused(staff: FlaskClient, site: Site) -> None:
    case_id = site.case_id(status="needs_review")
    response = staff.post(f"/case/{case_id}/correct", data={"kind": "question", "topic": "service",
                                                            "formality": "informal"})
    assert response.status_code == 400 and "Formulier verlopen" in response.get_data(as_text=True)
    with site.sessions() as s:
        assert s.get(Case, case_id).status == "needs_review"  # type: ignore[union-attr]


def test_staff_may_not_reach_admin_pages(staff: FlaskClient) -> None:
    for path in ("/admin/models", "/admin/users", "/admin/jobs/1"):
        response = staff.get(path)
        assert response.status_code == 403 and "Geen toegang" in response.get_data(as_text=True)
    token = _token(staff, "/queue")
    assert staff.post("/admin/retrain", data={"csrf_token": token}).status_code == 403


def test_queue_lists_what_needs_a_person_with_filters_counts_and_pages(staff: FlaskClient, site: Site) -> None:
    page = staff.get("/queue").get_data(as_text=True)
    assert BROKEN_SUBJECT in page  # quarantined
    with site.sessions() as s:
        review_refs = list(s.scalars(select(Case.reference).where(Case.status == "needs_review")))
    assert review_refs and all(ref in page for ref in review_refs)
    assert "Te beoordelen" in page and "Quarantaine" in page
    machine = staff.get("/queue?status=machine").get_data(as_text=True)
    assert "Undelivered Mail Returned to Sender" in machine
    questions = staff.get("/queue?status=all&kind=question").get_data(as_text=True)
    assert "Openingstijden zaterdag" in questions and BROKEN_SUBJECT not in questions
    assert staff.get("/queue?status=all&page=99").status_code == 200
    assert staff.get("/queue?status=nonsense&kind=<script>").status_code == 200  # unknown filters are ignored


def test_case_page_shows_hostile_mail_as_inert_text(staff: FlaskClient, site: Site) -> None:
    case_id = site.case_id(subject=HOSTILE_SUBJECT)
    response = staff.get(f"/case/{case_id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "foto-balie.pdf" in page


def test_attachments_download_and_are_never_rendered(staff: FlaskClient, site: Site) -> None:
    message_id = site.message_id(HOSTILE_SUBJECT)
    response = staff.get(f"/message/{message_id}/attachment/2")  # by MIME part path: 1 is the text
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.mimetype == "application/octet-stream"
    assert staff.get(f"/message/{message_id}/attachment/7").status_code == 404


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_files_of_a_nested_forward_are_listed_by_path_and_download_byte_exact(staff: FlaskClient,
                                                                              site: Site) -> None:
    message_id = site.message_id(FORWARD_SUBJECT)
    page = staff.get(f"/case/{site.case_of(FORWARD_SUBJECT)}").get_data(as_text=True)
    for path, (name, sha) in FORWARD_FILES.items():
        assert f'href="/message/{message_id}/attachment/{path}"' in page and name in page
        response = staff.get(f"/message/{message_id}/attachment/{path}")
        assert response.status_code == 200 and _sha256(response.data) == sha, path
        assert response.mimetype == "application/octet-stream" and "no-store" in response.headers["Cache-Control"]
        assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "uit het doorgestuurde bericht" in page
    disposition = staff.get(f"/message/{message_id}/attachment/2.2").headers["Content-Disposition"]
    assert "filename*=UTF-8''za%C5%BCalenie.pdf" in disposition and "filename=zazalenie.pdf" in disposition


def test_the_demo_forward_downloads_the_file_it_lists(staff: FlaskClient, site: Site) -> None:
    subject = "FW: Beschadiging grafmonument begraafplaats Oude Hof"  # KL-2026-000025 in `triage demo`
    message_id = site.message_id(subject)
    with site.sessions() as s:
        listed = s.get(Message, message_id).details["attachments"]  # type: ignore[union-attr]
    assert [(f["path"], f["size"]) for f in listed] == [("2", 1009)]
    response = staff.get(f"/message/{message_id}/attachment/2")
    assert response.status_code == 200 and len(response.data) == 1009
    assert _sha256(response.data) == listed[0]["sha256"] and b"grafmonument" in response.data


def test_bidi_controls_are_removed_from_shown_and_downloaded_names(staff: FlaskClient, site: Site) -> None:
    message_id = site.message_id(ODD_NAMES_SUBJECT)
    page = staff.get(f"/case/{site.case_of(ODD_NAMES_SUBJECT)}").get_data(as_text=True)
    assert "factuur-loodgieter-gpj.exe" in page and "\u202e" not in page
    assert "Wyjaśnienie szkody.txt" in page and "in de tekst" in page  # RFC 2231; the inline image
    disposition = staff.get(f"/message/{message_id}/attachment/2").headers["Content-Disposition"]
    assert disposition == "attachment; filename=factuur-loodgieter-gpj.exe"
    euro = staff.get(f"/message/{message_id}/attachment/4")
    assert euro.status_code == 200 and "filename*=UTF-8''overzicht%20schade%20%E2%82%AC.xlsx" in \
        euro.headers["Content-Disposition"]


def test_part_paths_that_are_not_files_give_404(staff: FlaskClient, site: Site) -> None:
    message_id = site.message_id(FORWARD_SUBJECT)
    for path in ("0", "1", "2.1", "2.1.1", "4", "2..2", "x", "99999999999999999999", "2.2.", "1" * 400):
        assert staff.get(f"/message/{message_id}/attachment/{path}").status_code == 404, path
    assert staff.get("/message/99999999/attachment/2").status_code == 404


def test_old_rows_are_walked_at_view_time_and_a_changed_file_is_not_served(staff: FlaskClient,
                                                                           site: Site) -> None:
    message_id = site.message_id(FORWARD_SUBJECT)
    with site.sessions.begin() as s:
        msg = s.get(Message, message_id)
        assert msg is not None
        stored = msg.details
        old = [{"name": "Klacht over bouwhek Kerkstraat.eml", "type": "message/rfc822", "size": 2007},
               {"name": "zażalenie.pdf", "type": "application/pdf", "size": 140}]  # as mail-parser listed them
        msg.details = {**stored, "attachments": old}
    try:
        page = staff.get(f"/case/{site.case_of(FORWARD_SUBJECT)}").get_data(as_text=True)
        assert all(f"/attachment/{path}" in page for path in FORWARD_FILES)
        assert _sha256(staff.get(f"/message/{message_id}/attachment/2.2").data) == FORWARD_FILES["2.2"][1]
        with site.sessions.begin() as s:
            changed = [dict(f) for f in stored["attachments"]]
            changed[1]["sha256"] = "0" * 64
            s.get(Message, message_id).details = {**stored, "attachments": changed}  # type: ignore[union-attr]
        assert staff.get(f"/message/{message_id}/attachment/2.2").status_code == 404
    finally:
        with site.sessions.begin() as s:
            s.get(Message, message_id).details = stored  # type: ignore[union-attr]


def test_a_quarantined_message_lists_and_serves_its_files(staff: FlaskClient, site: Site) -> None:
    message_id = site.message_id(BROKEN_SUBJECT)  # stored without details: walked when shown
    page = staff.get(f"/message/{message_id}", follow_redirects=True).get_data(as_text=True)
    assert f"/message/{message_id}/attachment/2" in page and "foto-balie.pdf" in page
    assert staff.get(f"/message/{message_id}/attachment/2").data == b"%PDF-1.4 test\n"


def test_correcting_a_case_recomputes_its_due_date_and_offers_a_corrected_acknowledgement(
        staff: FlaskClient, site: Site) -> None:
    case_id = site.case_id(kind="complaint", formality="informal", status="new")
    with site.sessions() as s:
        case = s.get(Case, case_id)
        assert case is not None
        before = case.due_date
        ack = s.scalars(select(Acknowledgement).where(Acknowledgement.case_id == case_id)).one()
        assert ack.status == "sent" and ack.due_date == before
    token = _token(staff, f"/case/{case_id}")
    response = staff.post(f"/case/{case_id}/correct", data={"kind": "complaint", "topic": case.topic,
                                                            "formality": "formal", "action": "save",
                                                            "csrf_token": token})
    assert response.status_code == 302
    page = staff.get(f"/case/{case_id}").get_data(as_text=True)
    with site.sessions() as s:
        case = s.get(Case, case_id)
        assert case is not None and case.formality == "formal" and case.term == "6 weeks"
        assert case.due_date is not None and before is not None and case.due_date > before
        heads = {c.head: (c.old, c.new, c.user) for c in s.scalars(select(Correction).where(
            Correction.case_id == case_id))}
        assert heads["formality"] == ("informal", "formal", STAFF[0])
    assert "send-corrected-ack" in page  # offered, never sent by itself
    with site.sessions() as s:
        assert s.scalars(select(Acknowledgement).where(Acknowledgement.case_id == case_id)).all()[-1].nonce == 0
    staff.post(f"/case/{case_id}/acknowledgement", data={"csrf_token": _token(staff, f"/case/{case_id}")})
    with site.sessions() as s:
        rows = s.scalars(select(Acknowledgement).where(Acknowledgement.case_id == case_id)
                         .order_by(Acknowledgement.nonce)).all()
        assert [(r.nonce, r.status) for r in rows] == [(0, "sent"), (1, "pending")]
        assert rows[1].template.endswith("formal_complaint") and rows[1].due_date == case.due_date
        assert rows[1].message_id.endswith(".1@lindendal.example>")
    assert "send-corrected-ack" not in staff.get(f"/case/{case_id}").get_data(as_text=True)


def test_bad_correction_values_are_refused(staff: FlaskClient, site: Site) -> None:
    case_id = site.case_id(status="needs_review")
    token = _token(staff, f"/case/{case_id}")
    staff.post(f"/case/{case_id}/correct", data={"kind": "klacht", "topic": "x", "formality": "formal",
                                                 "csrf_token": token})
    with site.sessions() as s:
        assert s.get(Case, case_id).status == "needs_review"  # type: ignore[union-attr]
    assert staff.get("/case/999999").status_code == 404


def test_replaying_a_quarantined_message_files_it_at_the_next_poll(staff: FlaskClient, site: Site) -> None:
    message_id = site.message_id(BROKEN_SUBJECT)
    page = staff.get(f"/message/{message_id}").get_data(as_text=True)
    assert "simulated parser bug" in page and 'id="replay"' in page
    staff.post(f"/message/{message_id}/replay", data={"csrf_token": _token(staff, f"/message/{message_id}")})
    with site.sessions() as s:
        assert s.get(Message, message_id).attempts == 0  # type: ignore[union-attr]
    site.poll()
    with site.sessions() as s:
        msg = s.get(Message, message_id)
        assert msg is not None and msg.disposition in ("filed", "review") and msg.case_id is not None
    assert staff.get(f"/message/{message_id}").status_code == 302  # it has a case now


def test_models_page_lists_versions_with_plots_and_promotes(admin: FlaskClient, site: Site) -> None:
    page = admin.get("/admin/models").get_data(as_text=True)
    version = registry.current_version(site.models)
    assert version in page and "<svg" in page and "In gebruik" in page
    response = admin.post("/admin/models/19990101-000000/promote", data={"csrf_token": _token(admin, "/admin/models")})
    assert response.status_code == 302
    assert "Niet in gebruik genomen" in admin.get("/admin/models").get_data(as_text=True)
    assert registry.current_version(site.models) == version


def test_admin_disables_a_user_who_then_cannot_log_in(admin: FlaskClient, app: Flask, site: Site) -> None:
    from triage.store import users

    with site.sessions.begin() as s:
        users.add(s, "tijdelijk", "tijdelijk-wachtwoord-1", "staff")
    assert "tijdelijk" in admin.get("/admin/users").get_data(as_text=True)
    admin.post("/admin/users/tijdelijk/disable", data={"csrf_token": _token(admin, "/admin/users")})
    client = app.test_client()
    response = client.post("/login", data={"name": "tijdelijk", "password": "tijdelijk-wachtwoord-1",
                                           "csrf_token": _token(client)})
    assert response.status_code == 401


def test_retrain_runs_in_the_background_with_progress_and_includes_corrections(
        admin: FlaskClient, site: Site) -> None:
    case_id = site.case_id(status="needs_review")
    admin.post(f"/case/{case_id}/correct", data={"kind": "complaint", "topic": "service", "formality": "informal",
                                                 "action": "confirm", "csrf_token": _token(admin, f"/case/{case_id}")})
    response = admin.post("/admin/retrain", data={"csrf_token": _token(admin, "/admin/models")})
    assert response.status_code == 302 and "/admin/jobs/" in response.headers["Location"]
    job_path = response.headers["Location"]
    assert "progress" in admin.get(job_path).get_data(as_text=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        state = admin.get(job_path + ".json").get_json()
        if state["status"] != "running":
            break
        time.sleep(1)
    assert state["status"] == "done", state
    assert state["result"]["corrections"] >= 1
    version = state["result"]["version"]
    assert (Path(site.models) / version / "model.skops").exists()
    assert registry.current_version(site.models) != version  # trained, not promoted
    page = admin.get(job_path).get_data(as_text=True)
    assert 'id="promote-new"' in page
    with site.sessions() as s:
        assert s.scalars(select(Job)).all()[-1].progress == 100


def test_reasons_are_shown_in_dutch() -> None:
    from triage.web.words import reason

    assert reason("unsure: topic 0.54 < 0.73; forwarded by a@b.nl") == \
        "onzeker over onderwerp (54%, nodig 73%); doorgestuurd door a@b.nl"
    assert reason("complaint/service/formal (model 1)") == "klacht/dienstverlening/formeel (model 1)"
    assert reason("parse failed") == "verwerking mislukt (parse)"


def test_logout_ends_the_session(staff: FlaskClient) -> None:
    token = _token(staff, "/queue")
    response = staff.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert staff.get("/queue").status_code == 302
    assert staff.get("/message/999999").status_code == 302  # logged out: to the login page, not a 404


def test_unknown_pages_and_messages_are_404_in_dutch(staff: FlaskClient) -> None:
    for path in ("/message/999999", "/case/999999", "/nergens"):
        response = staff.get(path)
        assert response.status_code == 404 and "Niet gevonden" in response.get_data(as_text=True)


def test_login_never_redirects_off_site(app: Flask) -> None:
    client = app.test_client()
    response = client.post("/login", data={"name": STAFF[0], "password": STAFF[1], "csrf_token": _token(client),
                                           "next": "https://evil.example/"})
    assert response.status_code == 302 and response.headers["Location"] == "/queue"


def test_retraining_compares_with_the_current_model_as_it_was_before_the_corrections(site: Site) -> None:
    """The current version is scored on the same folds without the corrections made since it was
    trained; the new version learns from them. With corrections that contradict the model, the two
    must differ: a comparison of identical pipelines on identical data would say nothing."""
    from triage.services import review as review_service
    from triage.store.scope import EVERYTHING
    from triage.training.retrain import retrain

    with site.sessions() as s:
        questions = list(s.scalars(select(Case.id).where(Case.kind == "question")))
        assert len(questions) >= 5
    for case_id in questions:
        review_service.correct(deps_for(site.settings, site.sessions), case_id, "proef",
                               {"kind": "complaint", "topic": "staff", "formality": "formal"}, EVERYTHING)
    result = retrain(site.sessions, site.corpus, site.models, folds=site.settings.model.folds)
    assert result.card["corrections_included"] >= len(questions) and result.card["corrections_upto"] > 0
    assert result.comparison["kind"][0] != result.comparison["kind"][1]
    assert registry.current_version(site.models) != result.version


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("triage_session")
    assert cookie is not None
    return cookie.value


def _replay(app: Flask, cookie: str) -> FlaskClient:
    """Another browser holding a copy of a session cookie (a stolen one: the thief keeps the copy
    whatever the site answers)."""
    thief = app.test_client()
    thief.set_cookie("triage_session", cookie)
    return thief


def test_a_copied_cookie_is_refused_after_logout(staff: FlaskClient, app: Flask) -> None:
    copy = _cookie(staff)
    assert _replay(app, copy).get("/queue").status_code == 200  # while the session lives, the copy works
    staff.post("/logout", data={"csrf_token": _token(staff, "/queue")})
    response = _replay(app, copy).get("/queue")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_international_addresses_are_shown_as_people_write_them(app: Flask) -> None:
    """Addresses are stored with their domain as A-labels (one form for counting and threading);
    the pages show the domain as its owner writes it."""
    render = app.jinja_env.from_string("{{ a|nl_address }}|{{ b|nl_address }}|{{ c|nl_address or '–' }}").render
    assert render(a="sanne@xn--tuinen-wei-f4a.nl", b="jöhn@xn--exmple-cua.nl", c=None) == \
        "sanne@tuinen-weiß.nl|jöhn@exämple.nl|–"
    assert render(a="info@xn--broken-", b="karin.smit@example.nl", c="") == "info@xn--broken-|karin.smit@example.nl|–"
    for page in ("case.html", "message.html", "queue.html"):
        source = (Path(app.root_path).parent / "templates" / "web" / page).read_text(encoding="utf-8")
        assert "|nl_address" in source, page
