"""The review UI's smaller promises (issue 12, item 14) through Flask's test client, on a site
filled by the real pipeline: ids too large for the database are 404, error pages, flashes and the
case log speak Dutch, a failing score never reads as its threshold, the red badge follows each
head's threshold, promotion refuses paths and names none, and a correction that changes the term
leads to the corrected acknowledgement and to the queue's tab until it is sent."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from test_web import _login, _token
from web_site import ADMIN, ROOT, STAFF, Site, build, claim_at_once

from triage.services.review import offers_corrected_ack
from triage.store import review as store
from triage.store.models import Acknowledgement, Case
from triage.store.scope import EVERYTHING
from triage.training import registry
from triage.web import create_app, words

HUGE = "99999999999999999999"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        site = build(tmp_path_factory.mktemp("web-review"), monkeypatch)
        with site.jobs:
            yield site


@pytest.fixture
def app(site: Site) -> Flask:
    return claim_at_once(create_app(site.settings, site.sessions, models=site.models, testing=True), site.jobs)


@pytest.fixture
def staff(app: Flask) -> FlaskClient:
    return _login(app.test_client(), STAFF)


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    return _login(app.test_client(), ADMIN)


def _text(client: FlaskClient, path: str) -> str:
    return client.get(path).get_data(as_text=True)


def test_ids_too_large_for_the_database_are_404_not_500(staff: FlaskClient, admin: FlaskClient) -> None:
    for client, path in ((staff, f"/case/{HUGE}"), (staff, f"/message/{HUGE}"), (staff, "/case/2147483648"),
                         (staff, f"/message/1/attachment/{HUGE}"), (admin, f"/admin/jobs/{HUGE}"),
                         (admin, f"/admin/jobs/{HUGE}.json")):
        response = client.get(path)
        assert response.status_code == 404 and "Niet gevonden" in response.get_data(as_text=True), path
    token = _token(staff, "/queue")
    for path in (f"/case/{HUGE}/correct", f"/case/{HUGE}/acknowledgement", f"/message/{HUGE}/replay"):
        assert staff.post(path, data={"csrf_token": token}).status_code == 404, path
    assert staff.get(f"/queue?status=all&page={HUGE}").status_code == 200  # the last page


def test_error_pages_are_dutch(staff: FlaskClient, site: Site) -> None:
    response = staff.get(f"/case/{site.case_id()}/correct")  # a form's address opened as a page
    page = response.get_data(as_text=True)
    assert response.status_code == 405 and "Niet toegestaan" in page and 'lang="nl"' in page
    assert "Method Not Allowed" not in page


def test_flash_messages_are_dutch(staff: FlaskClient, site: Site) -> None:
    case_id = site.case_id(status="needs_review")
    staff.post(f"/case/{case_id}/correct", data={"kind": "klacht", "topic": "x", "formality": "formal",
                                                 "csrf_token": _token(staff, f"/case/{case_id}")})
    page = _text(staff, f"/case/{case_id}")
    assert "Niet opgeslagen: kies bij soort, onderwerp en vorm" in page and "must be one of" not in page
    staff.post(f"/case/{case_id}/acknowledgement", data={"csrf_token": _token(staff, f"/case/{case_id}")})
    page = _text(staff, f"/case/{case_id}")
    assert "geen gecorrigeerde bevestiging nodig" in page and "needs no" not in page
    with site.sessions() as s:
        filed = s.scalars(select(Case).where(Case.status == "new")).first()
        assert filed is not None
        message_id = filed.messages[0].id
    staff.post(f"/message/{message_id}/replay", data={"csrf_token": _token(staff, "/queue")})
    page = _text(staff, f"/case/{filed.id}")
    assert "Alleen een bericht in quarantaine" in page and "only a quarantined" not in page


def _log(client: FlaskClient, case_id: int) -> str:
    page = _text(client, f"/case/{case_id}")
    log = page[page.index("<h3>Logboek</h3>"):]
    return log[:log.index("</ol>")]


def test_the_case_log_is_dutch_with_the_system_as_systeem(staff: FlaskClient, site: Site) -> None:
    for case_id in (site.case_id(status="needs_review"), site.case_id(status="new")):
        log = _log(staff, case_id)
        assert "<strong>systeem</strong>" in log and "worker" not in log
        for english in ("reason:", "template:", "recipient", "nonce", "due:", "unsure", "informal_complaint",
                        "question/", "complaint/"):
            assert english not in log, (english, log)
        assert re.search(r"uiterlijk [a-z]+dag \d{1,2} [a-z]+ 20\d\d", log)  # 'uiterlijk donderdag 17 december 2026'
        assert "eerste bevestiging" in log
    with site.sessions() as s:
        explained = s.scalars(select(Acknowledgement).where(Acknowledgement.reason != "")).all()
    assert explained  # the demo's reply to our own acknowledgement is not acknowledged again
    for ack in explained:
        log = _log(staff, ack.case_id)
        assert "reden: " + html.escape(words.reasons(ack.reasons, ack.reason)) in log and ack.reason not in log


def test_a_failing_score_never_reads_as_its_threshold(staff: FlaskClient) -> None:
    assert words.score_and_threshold(0.7263, 0.7281) == ("72,6%", "72,9%")
    assert words.score_and_threshold(0.72999, 0.73) == ("72,9%", "73,0%")
    assert words.score_and_threshold(0.54, 0.73) == ("54%", "73%")
    assert words.score_and_threshold(0.7281, 0.7281) == ("73%", "73%")  # a pass may equal its threshold
    page = _text(staff, "/queue?status=review")
    pairs = re.findall(r"\((\d+(?:,\d+)?)%, nodig (\d+(?:,\d+)?)%\)", page)
    assert pairs
    assert all(float(a.replace(",", ".")) < float(b.replace(",", ".")) for a, b in pairs), pairs


def _badges(page: str, head: str) -> dict[str, bool]:
    """The confidence badges beside a head's radio buttons: percentage -> shown as low (red)."""
    found = re.findall(rf'<label for="{head}-\w+">[^<]*<span class="conf( low)?"[^>]*>([\d,]+%)', page)
    return {pct: bool(low) for low, pct in found}


def test_the_red_badge_follows_the_heads_threshold(staff: FlaskClient, site: Site) -> None:
    with site.sessions.begin() as s:
        case = s.scalars(select(Case).where(Case.status == "new").order_by(Case.id)).first()
        assert case is not None
        case.confidences = {"kind": 0.95, "topic": 0.82, "formality": 0.52, "language": 0.99}
        case_id, version = case.id, case.model_version
    limits = registry.load(site.models, version).thresholds
    assert limits["topic"] < 0.82 < 0.85 and limits["formality"] > 0.52  # the committed model's
    page = _text(staff, f"/case/{case_id}")
    assert _badges(page, "topic") == {"82%": False}  # above the threshold: not red, though below 0.85
    assert _badges(page, "formality") == {"52%": True}
    assert f"nodig {round(limits['formality'] * 100)}%" in page  # the title says what was needed


def test_promote_refuses_paths_and_shows_no_server_path(admin: FlaskClient, site: Site) -> None:
    current = registry.current_version(site.models)
    token = _token(admin, "/admin/models")
    admin.post("/admin/models/%2E%2E/promote", data={"csrf_token": token})
    page = _text(admin, "/admin/models")
    assert "geen geldige versienaam" in page and str(site.models) not in page
    damaged = site.models / "20200101-000000"
    damaged.mkdir()
    (damaged / "model.skops").write_bytes(b"not a model")  # and no card.json: it cannot be read
    admin.post("/admin/models/20200101-000000/promote", data={"csrf_token": token})
    page = _text(admin, "/admin/models")
    assert "kan niet worden geladen" in page and str(site.models) not in page
    blocker = site.models / "CURRENT.tmp"
    blocker.mkdir()  # CURRENT cannot be written (as on a full disk): a refusal, not a 500
    try:
        response = admin.post(f"/admin/models/{current}/promote", data={"csrf_token": token})
    finally:
        blocker.rmdir()
    page = _text(admin, "/admin/models")
    assert response.status_code == 302 and "kon niet worden geschreven" in page and str(site.models) not in page
    assert registry.current_version(site.models) == current


def test_cli_promote_refuses_paths_and_shows_no_server_path(tmp_path: Path) -> None:
    models = tmp_path / "modellen"
    version = registry.current_version(ROOT / "models")
    assert version is not None
    (models / version).mkdir(parents=True)
    (models / version / "card.json").write_text("{}", encoding="utf-8")  # no model.skops beside it
    (models / "CURRENT").write_text(version + "\n")
    for name in ("..", f"../{version}", "./x", version):
        done = subprocess.run([sys.executable, "-m", "triage.cli", "models", "promote", name, "--models", str(models)],
                              capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert done.returncode == 2 and "Traceback" not in done.stderr, (name, done.stderr)
        assert str(tmp_path) not in done.stderr, done.stderr
    assert (models / "CURRENT").read_text().strip() == version


def _owed(client: FlaskClient) -> str:
    return _text(client, "/queue?status=ack_owed")


def test_a_correction_that_changes_the_term_leads_to_the_corrected_acknowledgement(
        staff: FlaskClient, site: Site) -> None:
    case_id = site.case_id(kind="complaint", formality="informal", status="new")
    with site.sessions() as s:
        case = s.get(Case, case_id)
        assert case is not None
        reference, topic = case.reference, case.topic
    assert reference not in _owed(staff)
    response = staff.post(f"/case/{case_id}/correct", data={
        "kind": "complaint", "topic": topic, "formality": "formal", "action": "confirm", "next": "/queue",
        "csrf_token": _token(staff, f"/case/{case_id}")})  # what `c` sends
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/case/{case_id}#send-corrected-ack")
    page = _text(staff, f"/case/{case_id}")
    assert 'id="send-corrected-ack" autofocus' in page and "Verstuur de gecorrigeerde bevestiging" in page
    owed = _owed(staff)
    assert reference in owed and "Correctie te versturen" in owed
    staff.post(f"/case/{case_id}/acknowledgement", data={"csrf_token": _token(staff, f"/case/{case_id}")})
    assert reference not in _owed(staff)  # queued: no longer owed


def test_a_confirmation_that_keeps_the_term_goes_on_to_the_next_case(staff: FlaskClient, site: Site) -> None:
    case_id = site.case_id(status="needs_review")
    with site.sessions() as s:
        case = s.get(Case, case_id)
        assert case is not None
        labels = {"kind": case.kind, "topic": case.topic, "formality": case.formality}
    response = staff.post(f"/case/{case_id}/correct", data={
        **labels, "action": "confirm", "next": "/case/1", "csrf_token": _token(staff, f"/case/{case_id}")})
    assert response.headers["Location"].endswith("/case/1")


def test_the_tab_and_the_case_page_agree_on_who_is_owed_a_corrected_acknowledgement(
        staff: FlaskClient, site: Site) -> None:
    for case_id in (site.case_id(kind="question", status="new"), site.case_id(kind="complaint", formality="formal")):
        with site.sessions() as s:
            case = s.get(Case, case_id)
            assert case is not None
            topic = case.topic
        staff.post(f"/case/{case_id}/correct", data={"kind": "complaint", "topic": topic, "formality": "informal",
                                                     "action": "save", "csrf_token": _token(staff, "/queue")})
    with site.sessions() as s:
        listed = {i.id for i in store.queue(s, store.Filters(status="ack_owed"), EVERYTHING, per_page=500)}
        wanted = {c.id for c in s.scalars(select(Case)) if offers_corrected_ack(
            c, list(s.scalars(select(Acknowledgement).where(Acknowledgement.case_id == c.id)
                              .order_by(Acknowledgement.nonce))))}
    assert wanted and listed == wanted
