"""The review UI in a real browser: Playwright drives Debian's Chromium against the app served
by waitress. Logs in, works through the queue with the keyboard, corrects a case and sees its due
date change, replays a quarantined message, keeps staff out of admin pages, refuses a forged POST,
shows hostile mail as inert text, retrains and promotes a model; takes the README's screenshots."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import unavailable
from servers import free_port
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

from triage.training import registry
from triage.web import create_app

CHROMIUM = os.environ.get("TRIAGE_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("TRIAGE_SCREENSHOTS", "")) if os.environ.get("TRIAGE_SCREENSHOTS") else None
DIALOGS: list[str] = []  # any alert() a page manages to run ends up here
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        site = build(tmp_path_factory.mktemp("browser"), monkeypatch)
        with site.jobs:
            yield site


@pytest.fixture(scope="module")
def base_url(site: Site) -> Iterator[str]:
    from waitress.server import create_server

    app = claim_at_once(create_app(site.settings, site.sessions, models=site.models), site.jobs)
    server = create_server(app, host="127.0.0.1", port=free_port(), threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium is not at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        unavailable(f"playwright is not installed: {exc}")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def _page(browser: Any, base_url: str, who: tuple[str, str], width: int = 1280, height: int = 900) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height}, locale="nl-NL")
    page = context.new_page()
    page.on("dialog", lambda dialog: (DIALOGS.append(dialog.message), dialog.dismiss()))
    page.goto(f"{base_url}/login")
    page.fill("input[name=name]", who[0])
    page.fill("input[name=password]", who[1])
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/queue")
    return page


def _shot(page: Any, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_work_through_the_queue_with_the_keyboard(browser: Any, base_url: str) -> None:
    page = _page(browser, base_url, STAFF)
    rows = page.locator("tr.queue-row")
    assert rows.count() > 3
    _shot(page, "queue")
    second = rows.nth(1).get_attribute("data-href")
    page.keyboard.press("j")
    assert "selected" in (rows.nth(1).get_attribute("class") or "")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}{second}")
    assert page.locator("#due-date").count() == 1 or "message" in page.url
    page.keyboard.press("u")
    page.wait_for_url(f"{base_url}/queue")


def test_danger_is_on_top_of_the_queue_and_another_procedure_is_named(browser: Any, base_url: str) -> None:
    page = _page(browser, base_url, STAFF)
    first = page.locator("tr.queue-row").first
    assert "urgent" in (first.get_attribute("class") or "")
    assert first.locator(".badge-urgent").inner_text() == "Spoed"
    assert "Gaslucht in het trappenhuis" in first.inner_text()
    assert "SPOED: meldt een gevaarlijke situatie" in first.inner_text()
    notice = page.locator("tr.queue-row", has_text="Wmo-aanvraag")
    assert notice.locator(".badge-procedure").inner_text() == "Ingebrekestelling"
    assert "ingebrekestelling: na 2 weken kan een dwangsom" in notice.inner_text()
    first.locator("a").click()
    page.wait_for_url("**/case/**")
    assert page.locator(".case-status .badge-urgent").inner_text() == "Spoed"
    assert "geen (ontvangen en doorgezet)" in page.locator(".ack").first.inner_text()  # no term was promised
    _shot(page, "case-urgent")


def test_correct_a_case_and_see_its_due_date_change(browser: Any, base_url: str, site: Site) -> None:
    case_id = site.case_id(kind="question", status="new")
    page = _page(browser, base_url, STAFF)
    page.goto(f"{base_url}/case/{case_id}")
    before = page.locator("#due-date").inner_text()
    _shot(page, "case")
    page.check("#kind-complaint")
    page.check("#formality-formal")
    page.click("button[value=save]")
    page.wait_for_load_state()
    after = page.locator("#due-date").inner_text()
    assert after != before and ("2026" in after or "2027" in after)
    assert page.locator("#send-corrected-ack").count() == 1
    assert not DIALOGS


def test_hostile_mail_is_shown_as_inert_text(browser: Any, base_url: str, site: Site) -> None:
    page = _page(browser, base_url, STAFF)
    page.goto(f"{base_url}/case/{site.case_id(subject=HOSTILE_SUBJECT)}")
    body = page.locator("pre.mail").first.inner_text()
    assert "<script>alert('xss')</script>" in body and "onerror" in body
    assert page.locator("pre.mail img").count() == 0 and page.locator("pre.mail script").count() == 0
    page.wait_for_timeout(300)
    assert DIALOGS == []


def test_replay_a_quarantined_message(browser: Any, base_url: str, site: Site) -> None:
    page = _page(browser, base_url, STAFF)
    page.goto(f"{base_url}/message/{site.message_id(BROKEN_SUBJECT)}")
    assert "simulated parser bug" in page.content()
    page.click("#replay")
    page.wait_for_load_state()
    assert "opnieuw verwerkt" in page.content()
    assert page.locator("#replay").count() == 0


def test_files_of_a_nested_forward_download_byte_exact_with_their_names(browser: Any, base_url: str,
                                                                       site: Site) -> None:
    page = _page(browser, base_url, STAFF)
    page.goto(f"{base_url}/case/{site.case_of(FORWARD_SUBJECT)}")
    _shot(page, "case-attachments")
    links = page.locator("div.attachments li a")  # first the forwarded message itself (.eml)
    assert links.count() == 4
    for n, (path, (name, sha)) in enumerate(FORWARD_FILES.items(), 1):  # zażalenie.pdf, foto.jpg twice
        with page.expect_download() as info:
            links.nth(n).click()
        download = info.value
        assert download.suggested_filename == name, path
        assert hashlib.sha256(Path(download.path()).read_bytes()).hexdigest() == sha, path


def test_a_name_with_a_bidi_override_is_shown_and_saved_cleaned(browser: Any, base_url: str, site: Site) -> None:
    page = _page(browser, base_url, STAFF)
    page.goto(f"{base_url}/case/{site.case_of(ODD_NAMES_SUBJECT)}")
    link = page.locator("div.attachments li a").nth(1)  # after the inline image
    assert link.inner_text() == "factuur-loodgieter-gpj.exe"  # sent as "factuur-loodgieter-\u202egpj.exe"
    assert "\u202e" not in page.locator("div.attachments").inner_text()
    with page.expect_download() as info:
        link.click()
    assert info.value.suggested_filename == "factuur-loodgieter-gpj.exe"


def test_staff_are_kept_out_of_admin_pages(browser: Any, base_url: str) -> None:
    page = _page(browser, base_url, STAFF)
    assert page.locator("a[href='/admin/models']").count() == 0
    response = page.goto(f"{base_url}/admin/models")
    assert response.status == 403 and "Geen toegang" in page.content()


def test_a_forged_post_without_csrf_token_is_refused(browser: Any, base_url: str, site: Site) -> None:
    page = _page(browser, base_url, STAFF)
    case_id = site.case_id(status="needs_review")
    status = page.evaluate("""async (url) => {
        const body = new URLSearchParams({kind: 'question', topic: 'service', formality: 'informal'});
        const r = await fetch(url, {method: 'POST', body, credentials: 'same-origin'});
        return r.status; }""", f"{base_url}/case/{case_id}/correct")
    assert status == 400


def test_retrain_and_promote_a_model(browser: Any, base_url: str, site: Site) -> None:
    page = _page(browser, base_url, ADMIN)
    page.goto(f"{base_url}/admin/models")
    old = registry.current_version(site.models)
    page.click("#retrain")
    page.wait_for_url("**/admin/jobs/*")
    assert page.locator("#progress").count() == 1 or page.locator("#promote-new").count() == 1
    page.locator("#promote-new").wait_for(timeout=240_000)
    page.click("#promote-new")
    page.wait_for_url(f"{base_url}/admin/models")
    new = registry.current_version(site.models)
    assert new != old and new is not None
    assert new in page.content() and "In gebruik" in page.content()
    # and back: a rollback is a promotion of the older version
    page.click(f"button.promote[data-version='{old}']")
    page.wait_for_url(f"{base_url}/admin/models")
    assert registry.current_version(site.models) == old
    # the committed version's figures: per head and as a whole, grouped by writer and held out
    details = page.locator("section[aria-labelledby=detail-title]").inner_text()
    assert f"Versie {old} per indeling" in details and "Achtergehouden schrijvers (230 berichten)" in details
    _shot(page, "models")


def _in_view(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return bool(box) and box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= size["width"] and \
        box["y"] + box["height"] <= size["height"]


def test_the_queue_reads_on_a_phone(browser: Any, base_url: str) -> None:
    """Cards instead of a wide table: nothing scrolls sideways, and the first case's due date and
    status are on the screen as it opens (the desktop table: `test_work_through_the_queue…`)."""
    page = _page(browser, base_url, STAFF, width=390, height=844)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, "the page scrolls sideways on a phone"
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
    first = page.locator("tr.queue-row").first
    first.scroll_into_view_if_needed()
    due, status = first.locator("td.due"), first.locator("td.status .badge")
    assert any(month in due.inner_text() for month in ("december", "januari", "februari"))
    assert _in_view(page, due), due.bounding_box()
    assert _in_view(page, status), status.bounding_box()
    _shot(page, "queue-phone")



def test_an_admin_adds_a_user_and_blocks_them_after_a_confirmation(browser: Any, base_url: str) -> None:
    joke = ("joke.de-vries", "joke-wachtwoord-1")
    page = _page(browser, base_url, ADMIN)
    page.goto(f"{base_url}/admin/users")
    page.click("#add-user")
    page.fill("#name", joke[0])
    page.select_option("#role", "staff")
    page.check("input[name=organisation][value=lindendal]")
    page.fill("#password", joke[1])
    page.fill("#password_again", joke[1])
    _shot(page, "user-new")
    page.click("#new-user button[type=submit]")
    page.wait_for_url(f"{base_url}/admin/users/{joke[0]}")
    assert "is toegevoegd" in page.content() and "Gemeente Lindendal" in page.content()
    theirs = _page(browser, base_url, joke)  # they can log in and see the queue
    assert theirs.locator("tr.queue-row").count() > 0
    page.click("#block")
    page.wait_for_url(f"{base_url}/admin/users/{joke[0]}/block")
    assert f"{joke[0]} blokkeren?" in page.locator("h1").inner_text()
    _shot(page, "user-block")
    page.click("#confirm-block")
    page.wait_for_url(f"{base_url}/admin/users/{joke[0]}")
    assert "Geblokkeerd" in page.locator(".page-head").inner_text() and page.locator("#enable").count() == 1
    _shot(page, "user")
    page.goto(f"{base_url}/admin/users")
    assert "Geblokkeerd" in page.locator("tr", has_text=joke[0]).inner_text()
    _shot(page, "users")
    theirs.goto(f"{base_url}/queue")  # the open session ended
    assert "/login" in theirs.url
    again = browser.new_context(locale="nl-NL").new_page()
    again.goto(f"{base_url}/login")
    again.fill("input[name=name]", joke[0])
    again.fill("input[name=password]", joke[1])
    again.keyboard.press("Enter")
    refusal = again.locator(".notice-error")
    refusal.wait_for()
    assert "/login" in again.url and "klopt niet" in refusal.inner_text()
    assert not DIALOGS


def test_a_copied_session_cookie_is_refused_after_logout(browser: Any, base_url: str) -> None:
    page = _page(browser, base_url, STAFF)
    stolen = page.context.cookies()
    assert [c["name"] for c in stolen] == ["triage_session"]
    thief = browser.new_context(locale="nl-NL")
    thief.add_cookies(stolen)
    other = thief.new_page()
    other.goto(f"{base_url}/queue")
    assert other.url == f"{base_url}/queue"  # the copy works while the session lives
    page.click("text=Afmelden")
    page.wait_for_url(f"{base_url}/login")
    assert "uitgelogd" in page.content()
    replay = browser.new_context(locale="nl-NL")  # a fresh copy of the cookie, as it was before logging out
    replay.add_cookies(stolen)
    again = replay.new_page()
    again.goto(f"{base_url}/queue")
    assert again.url.startswith(f"{base_url}/login")
    for context in (thief, replay, page.context):
        context.close()


def test_shortcuts_choose_topic_and_formality(browser: Any, base_url: str, site: Site) -> None:
    page = _page(browser, base_url, STAFF)
    page.goto(f"{base_url}/case/{site.case_id(status='needs_review')}")
    help_text = page.locator(".hint").inner_text()
    assert "p/d/m" in help_text and "f/i" in help_text
    for key, radio in (("m", "#topic-staff"), ("d", "#topic-service"), ("p", "#topic-product"),
                       ("f", "#formality-formal"), ("i", "#formality-informal"), ("f", "#formality-formal")):
        page.keyboard.press(key)
        assert page.locator(radio).is_checked(), key


def test_c_after_a_term_change_leads_to_the_corrected_acknowledgement(
        browser: Any, base_url: str, site: Site) -> None:
    case_id = site.case_id(kind="complaint", formality="informal", status="new")
    page = _page(browser, base_url, STAFF)
    page.goto(f"{base_url}/case/{case_id}")
    page.keyboard.press("f")  # informal -> formal: 10 working days become 6 weeks
    page.keyboard.press("c")
    page.wait_for_url(f"{base_url}/case/{case_id}#send-corrected-ack")
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.id") == "send-corrected-ack"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "staat klaar" in page.content() and page.locator("#send-corrected-ack").count() == 0
