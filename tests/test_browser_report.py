"""The yearly report page in a real browser (Playwright, Debian's Chromium, the app served by waitress)
over the demo organisation's cases: the year's report inside the app, another period chosen with the
date fields, a period without cases, the PDF downloaded and read back, and bad dates refused in Dutch.
One test: the site takes ~20 s to build, and each xdist worker would build its own. Takes docs/web's report shot."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from servers import free_port
from test_browser import _page, _shot, browser  # noqa: F401 (the module-scoped browser fixture)
from web_site import STAFF, Site, build

from triage.web import create_app


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield build(tmp_path_factory.mktemp("browser-report"), monkeypatch)


@pytest.fixture(scope="module")
def base_url(site: Site) -> Iterator[str]:
    from waitress.server import create_server

    server = create_server(create_app(site.settings, site.sessions, models=site.models), host="127.0.0.1",
                           port=free_port(), threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


def test_the_years_report_another_period_the_pdf_and_bad_dates(browser: Any, base_url: str) -> None:  # noqa: F811
    year = date.today().year  # the demo's mail arrives today
    page = _page(browser, base_url, STAFF)
    page.click("nav.mainnav >> text=Jaarverslag")
    page.wait_for_url(f"{base_url}/report")
    title = page.locator("article.report h1")
    assert title.inner_text() == f"Klachtenjaarverslag {year} — Gemeente Lindendal"
    assert "verbetering van de dienstverlening" in page.locator("article.report").inner_text()
    assert page.locator("#chart-months").count() == 1 and page.locator("#key-figures td.n").count() > 10
    _shot(page, "report")

    page.fill("#r-from", "2019-01-01")
    page.fill("#r-to", "2019-03-31")
    page.click("#report-period button[type=submit]")
    page.wait_for_url("**/report?from=2019-01-01&to=2019-03-31*")
    assert title.inner_text() == "Klachtenverslag 1 januari 2019 tot en met 31 maart 2019 — Gemeente Lindendal"
    assert page.locator("#no-cases").inner_text() == "Geen klachten of vragen in deze periode."

    page.fill("#r-from", f"{year}-01-01")
    page.fill("#r-to", date.today().isoformat())
    page.click("#report-period button[type=submit]")
    page.wait_for_url(f"**/report?from={year}-01-01*")
    assert page.locator("#no-cases").count() == 0
    with page.expect_download() as info:
        page.click("#download-pdf")
    download = info.value
    assert download.suggested_filename == f"klachtenverslag-{year}-01-01_{date.today().isoformat()}.pdf"
    reader = PdfReader(io.BytesIO(Path(download.path()).read_bytes()))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Klachtenverslag 1 januari" in text and "Gemeente Lindendal" in text and "Kerncijfers" in text
    assert "Pagina 1 van" in text

    response = page.goto(f"{base_url}/report?from=2026-05-01&to=2026-01-01")
    assert response is not None and response.status == 400
    assert page.locator("#report-error").inner_text() == "De einddatum ligt voor de begindatum."
    assert page.locator("article.report").count() == 0
