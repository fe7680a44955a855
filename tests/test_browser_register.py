"""The register in a real browser (issue 15): Playwright drives Debian's Chromium against the demo
site served by waitress. A member of staff opens the register from the menu, searches a word of a
message, filters by kind, sorts by reference both ways, opens a case from a row, and downloads the
Excel export of the filtered register, which openpyxl reads back. Takes the screenshot "register"."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from servers import free_port
from test_browser import DIALOGS, _page, _shot, browser  # noqa: F401 (the module-scoped browser fixture)
from web_site import STAFF, URGENT_SUBJECT, Site, build

from triage.web import create_app


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield build(tmp_path_factory.mktemp("browser-register"), monkeypatch)


@pytest.fixture(scope="module")
def base_url(site: Site) -> Iterator[str]:
    from waitress.server import create_server

    server = create_server(create_app(site.settings, site.sessions, models=site.models), host="127.0.0.1",
                           port=free_port(), threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


def _references(page: Any) -> list[str]:
    return [r.get_attribute("data-reference") for r in page.locator("tr.queue-row").all()]


def test_staff_search_filter_sort_open_and_export_the_register(browser: Any, base_url: str,  # noqa: F811
                                                               site: Site) -> None:
    urgent = site.case_of(URGENT_SUBJECT)
    page = _page(browser, base_url, STAFF)
    page.click("nav.mainnav >> text=Register")
    page.wait_for_url(f"{base_url}/register")
    everything = page.locator("tr.queue-row").count()
    assert everything > 10 and "1–" in page.locator("#register-position").inner_text()

    page.fill("#r-q", "trappenhuis")  # a word of the message's text and subject
    page.keyboard.press("Enter")
    page.wait_for_url("**/register?q=trappenhuis**")
    rows = page.locator("tr.queue-row")
    assert rows.count() == 1 and rows.first.get_attribute("data-href") == f"/case/{urgent}"
    assert "Spoed" in rows.first.inner_text()

    page.fill("#r-q", "")
    page.select_option("#r-kind", "complaint")
    page.click("button:has-text('Zoeken')")
    page.wait_for_url("**kind=complaint**")
    complaints = page.locator("tr.queue-row")
    assert 0 < complaints.count() < everything
    assert all(text.startswith("Klacht /") for text in page.locator("td.labels").all_inner_texts())

    page.click("th >> text=Kenmerk")  # first click: ascending
    page.wait_for_url("**sort=reference**")
    ascending = _references(page)
    assert ascending == sorted(ascending)
    page.click("th >> text=Kenmerk")  # again: descending, filters kept
    page.wait_for_url("**order=desc**")
    assert _references(page) == sorted(ascending, reverse=True) and "kind=complaint" in page.url
    _shot(page, "register")

    with page.expect_download() as download:
        page.click("text=Exporteren als Excel")
    assert download.value.suggested_filename.startswith("register-")
    sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active  # a path without .xlsx
    assert sheet is not None
    rows_read = list(sheet.iter_rows(values_only=True))
    assert rows_read[0][:4] == ("Kenmerk", "Organisatie", "Ontvangen", "Soort")
    assert [r[0] for r in rows_read[1:]] == sorted(ascending, reverse=True)
    assert {r[3] for r in rows_read[1:]} == {"klacht"}

    first = page.locator("tr.queue-row").first
    reference = first.get_attribute("data-reference")
    first.locator("td.ref a").click()
    page.wait_for_url(f"{base_url}/case/*")
    assert reference in page.content()
    assert not DIALOGS
