"""The procedure after intake in a real browser (issue 13): Playwright drives Debian's Chromium
against the app served by waitress. A coordinator assigns a formal complaint; its handler finds it
under "Mijn zaken", records the hearing, extends the term and answers it through the composer's
preview with keyboard and mouse; the overdue list shows a case whose due date has passed; a
forged POST is refused. Takes the screenshots of docs/web (case-procedure, answer-composer, overdue)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from servers import free_port
from sqlalchemy import select
from test_browser import DIALOGS, _page, _shot, browser  # noqa: F401 (the module-scoped browser fixture)
from web_site import Site, build

from triage.stages.terms import Calendar
from triage.store import users
from triage.store.models import Case, User
from triage.web import create_app

HANDLER = ("anouk", "anouk-wachtwoord-1")
COORDINATOR = ("coordinator", "coordinator-wachtwoord-1")
ANSWER = "Wij hebben uw klacht over de balie onderzocht.\n\nDe medewerker heeft excuses aangeboden."


def _working_day_before(days: int) -> date:
    """The working day at least `days` before today: a due date never falls in a weekend or on a holiday."""
    day = date.today() - timedelta(days=days)
    while not Calendar().is_working_day(day):
        day -= timedelta(days=1)
    return day


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        site = build(tmp_path_factory.mktemp("browser-procedure"), monkeypatch)
        with site.sessions.begin() as s:
            users.add(s, HANDLER[0], HANDLER[1], "staff", ["lindendal"])
            users.add(s, COORDINATOR[0], COORDINATOR[1], "staff", ["lindendal"])
            s.scalars(select(User).where(User.name == COORDINATOR[0])).one().role = "coordinator"
            late = s.scalars(select(Case).where(Case.status == "new", Case.kind == "question")
                             .order_by(Case.id)).first()
            assert late is not None
            late.due_date = _working_day_before(2)  # a question whose term has passed
            mine = s.scalars(select(Case).where(Case.status == "new", Case.kind == "complaint",
                                                Case.formality == "informal").order_by(Case.id)).first()
            assert mine is not None  # and a complaint of the handler's, five days late
            mine.due_date, mine.handler, mine.status = _working_day_before(5), HANDLER[0], "in_progress"
        yield site


@pytest.fixture(scope="module")
def base_url(site: Site) -> Iterator[str]:
    from waitress.server import create_server

    server = create_server(create_app(site.settings, site.sessions, models=site.models), host="127.0.0.1",
                           port=free_port(), threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


def _formal(site: Site) -> Case:
    with site.sessions() as s:
        found = s.scalars(select(Case).where(Case.status == "new", Case.kind == "complaint",
                                             Case.formality == "formal", Case.complainant.is_not(None))
                          .order_by(Case.id)).first()
        assert found is not None
        s.expunge(found)
        return found


def test_a_coordinator_assigns_and_the_handler_extends_and_answers(browser: Any, base_url: str,  # noqa: F811
                                                                    site: Site) -> None:
    case = _formal(site)
    coordinator = _page(browser, base_url, COORDINATOR)
    coordinator.goto(f"{base_url}/case/{case.id}")
    coordinator.select_option("#handler-select", HANDLER[0])
    coordinator.click("#assign")
    coordinator.wait_for_load_state()
    assert f"Toegewezen aan {HANDLER[0]}" in coordinator.locator(".flash").inner_text()
    assert coordinator.locator("#handler").inner_text() == HANDLER[0]

    page = _page(browser, base_url, HANDLER)  # starts at "Mijn zaken": the case is there
    assert page.locator("h1").inner_text() == "Mijn zaken"
    row = page.locator(f"tr.queue-row[data-reference='{case.reference}']")
    assert row.count() == 1 and "nog" in row.locator(".days-left").inner_text()
    row.locator("a").click()
    page.wait_for_url(f"{base_url}/case/{case.id}")
    page.fill("#hearing-report", "De klager is telefonisch gehoord; zij wil excuses.")
    page.click("#hold-hearing")
    page.wait_for_load_state()
    page.click("#extend-box summary")
    new_due = page.locator("#extended-to").inner_text()
    page.click("#extend")
    page.wait_for_load_state()
    assert f"verlengd tot {new_due}" in page.locator(".flash").inner_text()
    assert page.locator("#waiting").count() == 1
    assert f"Termijn verlengd tot {new_due}" in page.locator("#log").inner_text()
    _shot(page, "case-procedure")
    _compose_and_send(page, base_url, case)
    assert not DIALOGS


def _compose_and_send(page: Any, base_url: str, case: Case) -> None:
    page.keyboard.press("a")  # the composer
    page.wait_for_url(f"{base_url}/case/{case.id}/answer")
    page.select_option("#judgement", "founded")
    page.fill("#answer-text", ANSWER)
    page.focus("#answer-text")
    page.keyboard.press("Control+Enter")  # the preview
    page.wait_for_selector("#letter-preview")
    letter = page.locator("#letter-preview").inner_text()
    assert "excuses aangeboden" in letter and "ombudsman" in letter and case.reference in letter
    _shot(page, "answer-composer")
    page.click("#send-answer")
    page.wait_for_url(f"{base_url}/case/{case.id}#procedure")
    assert page.locator("#case-state").inner_text().strip() == "Afgehandeld"
    assert "Antwoord verstuurd (op tijd)" in page.locator("#log").inner_text()
    assert "excuses aangeboden" in page.locator("#brieven").inner_text()


def test_the_overdue_list_shows_a_case_past_its_due_date(browser: Any, base_url: str,  # noqa: F811
                                                         site: Site) -> None:
    page = _page(browser, base_url, HANDLER)
    page.click("#view-overdue")
    page.wait_for_url("**/queue?view=overdue")
    table = page.locator("#worklist").inner_text()
    assert page.locator("tr.queue-row").count() == 2
    late = [(date.today() - _working_day_before(n)).days for n in (2, 5)]
    assert f"{late[0]} dagen te laat" in table and f"{late[1]} dagen te laat" in table and HANDLER[0] in table
    _shot(page, "overdue")


def test_a_forged_procedure_post_is_refused(browser: Any, base_url: str, site: Site) -> None:  # noqa: F811
    page = _page(browser, base_url, HANDLER)
    case_id = site.case_id(status="new")
    status = page.evaluate("""async (url) => {
        const body = new URLSearchParams({me: '1'});
        const r = await fetch(url, {method: 'POST', body, credentials: 'same-origin'});
        return r.status; }""", f"{base_url}/case/{case_id}/procedure/assign")
    assert status == 400
    with site.sessions() as s:
        assert s.get(Case, case_id).handler is None  # type: ignore[union-attr]
