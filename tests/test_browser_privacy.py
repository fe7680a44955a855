"""Access request and erasure in a real browser (issue 15): Playwright drives Debian's Chromium
against the app served by waitress on the demo data. An administrator looks a complainant up,
downloads the access export and opens the ZIP, erases the complainant through the confirmation
page (reason, the tick for the open case), and the case page keeps no trace of the address.
Takes the screenshot privacy-erase-confirm."""

from __future__ import annotations

import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import free_port
from sqlalchemy import select
from test_browser import DIALOGS, _page, _shot, browser  # noqa: F401 (the module-scoped browser fixture)
from web_site import ADMIN, STAFF, Site, build

from triage.store.models import Case
from triage.web import create_app

ADDRESS = "tinekepostma@home.nl"  # a complainant of the demo mail


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield build(tmp_path_factory.mktemp("browser-privacy"), monkeypatch)


@pytest.fixture(scope="module")
def base_url(site: Site) -> Iterator[str]:
    from waitress.server import create_server

    server = create_server(create_app(site.settings, site.sessions, models=site.models), host="127.0.0.1",
                           port=free_port(), threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


def _case(site: Site) -> Case:
    with site.sessions() as s:
        found = s.scalars(select(Case).where(Case.complainant == ADDRESS)).one()
        s.expunge(found)
        return found


def test_an_admin_exports_and_erases_a_complainant(browser: Any, base_url: str, site: Site,  # noqa: F811
                                                   tmp_path: Path) -> None:
    case = _case(site)
    assert case.subject and case.status in ("needs_review", "new")
    page = _page(browser, base_url, ADMIN)
    page.click("nav.mainnav >> text=Privacy")
    page.fill("#address", ADDRESS.upper())
    page.click("#lookup-submit")
    page.wait_for_selector("#found")
    assert page.locator(f"#privacy-cases tr[data-reference='{case.reference}']").count() == 1
    with page.expect_download() as info:
        page.click("#export")
    target = tmp_path / "inzage.zip"
    info.value.save_as(target)
    with zipfile.ZipFile(target) as archive:
        assert case.reference in archive.read("index.html").decode()
        assert f"cases/{case.reference}/case.json" in archive.namelist()
        assert any(n.startswith(f"cases/{case.reference}/messages/") and n.endswith(".eml") for n in archive.namelist())

    page.click("#erase")
    page.wait_for_selector("#erase-form")
    assert case.reference in page.locator("#open-cases").inner_text()
    page.fill("#reason", "Verzoek tot verwijdering per e-mail ontvangen")
    page.check("#force")
    _shot(page, "privacy-erase-confirm")
    page.click("#confirm-erase")
    page.wait_for_selector(".flash")
    assert "Gewist: 1 zaak," in page.locator(".flash").inner_text()

    page.goto(f"{base_url}/case/{case.id}")
    content = page.content().lower()
    assert ADDRESS not in content and case.subject.lower() not in content
    assert case.reference in page.content()  # the anonymous record stays
    assert "inzage-log" in content  # the admin sees who opened the case
    assert not DIALOGS


def test_staff_cannot_open_the_privacy_page(browser: Any, base_url: str) -> None:  # noqa: F811
    page = _page(browser, base_url, STAFF)
    assert page.goto(f"{base_url}/admin/privacy").status == 403
    assert page.locator("nav.mainnav >> text=Privacy").count() == 0
