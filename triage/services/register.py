"""The complaints register (Awb 9:12a): a page of the cases a person may see for a `Query`, with the
total, and the same selection (every page, up to EXPORT_LIMIT rows) as CSV for Dutch Excel or as an
Excel workbook. A cell is never a formula: CSV cells that a spreadsheet would read as one get a
leading apostrophe, and workbook cells are written as text."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from triage.procedure_text import STATES
from triage.services.deps import Deps
from triage.store import register as store
from triage.store import repo
from triage.store.register import AMSTERDAM, NOBODY, PER_PAGE, SORTS, STATUS_GROUPS, STATUSES, TIMINGS, Query, Row
from triage.store.scope import Scope

__all__ = ["NOBODY", "PER_PAGE", "SORTS", "STATUS_GROUPS", "STATUSES", "TIMINGS", "Query", "Row"]
EXPORT_LIMIT = 100_000
# The export's columns: Dutch header, width in the workbook.
COLUMNS = (("Kenmerk", 16), ("Organisatie", 22), ("Ontvangen", 17), ("Soort", 10), ("Onderwerp", 16),
           ("Vorm", 11), ("Betreft", 40), ("Klager", 28), ("Behandelaar", 16), ("Status", 22), ("Uiterlijk", 12),
           ("Afgehandeld op", 14), ("Op tijd", 8), ("Spoed", 7), ("Geanonimiseerd", 15))
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Page:
    query: Query  # as asked, its page kept within the pages there are
    rows: list[Row]
    total: int  # cases found over every page
    pages: int
    handlers: list[str]  # who handles cases in scope (the handler filter's choices)
    organisations: dict[str, str]  # id -> name of the organisations in scope

    @property
    def first(self) -> int:
        """The number of the first row shown (1-based), 0 when nothing is."""
        return (self.query.page - 1) * PER_PAGE + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


@dataclass(frozen=True)
class Labels:
    """How an export writes codes: label values (complaint → klacht) and states, in Dutch."""

    values: Mapping[str, str] = field(default_factory=dict)
    states: Mapping[str, str] = field(default_factory=lambda: STATES)


def _organisations(deps: Deps, scope: Scope) -> dict[str, str]:
    return {org.id: org.name for org in deps.settings.organisations.values() if scope.allows(org.id)}


def register_page(deps: Deps, query: Query, scope: Scope) -> Page:
    """The page of the register the query asks for; a page past the last shows the last."""
    with deps.sessions() as session:
        total = store.count(session, query, scope)
        pages = max(1, math.ceil(total / PER_PAGE))
        query = replace(query, page=min(max(1, query.page), pages))
        rows = store.page(session, query, scope, found=total)
        handlers = store.handlers(session, scope)
    return Page(query, rows, total, pages, handlers, _organisations(deps, scope))


def _yes(value: bool | None) -> str:
    return "" if value is None else ("ja" if value else "nee")


def values(row: Row, labels: Labels, organisations: Mapping[str, str]) -> list[Any]:
    """A row's cells in the order of COLUMNS: text, dates and moments (in Amsterdam, without offset)."""
    def label(value: str | None) -> str:
        return labels.values.get(value, value) if value else ""

    return [row.reference, organisations.get(row.organisation, row.organisation),
            row.received.astimezone(AMSTERDAM).replace(tzinfo=None, second=0, microsecond=0),
            label(row.kind), label(row.topic), label(row.formality),
            "geanonimiseerd" if row.anonymised else row.subject,
            "geanonimiseerd" if row.anonymised else row.complainant, row.handler or "",
            labels.states.get(row.status, row.status), row.due, row.answered, _yes(row.on_time),
            "ja" if row.urgent else "", "ja" if row.anonymised else ""]


def _export_rows(deps: Deps, query: Query, scope: Scope, labels: Labels, actor: str,
                 form: str) -> Iterator[list[Any]]:
    """The export's rows; the audit log records who exported the register when, in which format
    and whether it was searched (not the words: they may name a person)."""
    organisations = _organisations(deps, scope)
    with deps.sessions.begin() as session:
        repo.audit(session, "register.exported", deps.clock(), actor=actor, format=form, searched=bool(query.text))
    with deps.sessions() as session:
        for row in store.rows(session, query, scope, EXPORT_LIMIT):
            yield values(row, labels, organisations)


def csv_cell(value: Any) -> str:
    """A value as CSV text: ISO dates, and a leading apostrophe before anything a spreadsheet would
    start a formula with (= + - @, a tab or a carriage return)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_csv(deps: Deps, query: Query, scope: Scope, labels: Labels, actor: str) -> Iterator[str]:
    """The register as CSV for Dutch Excel (UTF-8 with a BOM, ';' between cells), in chunks to stream."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([name for name, _ in COLUMNS])
    for n, cells in enumerate(_export_rows(deps, query, scope, labels, actor, "csv"), 1):
        writer.writerow([csv_cell(v) for v in cells])
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _xlsx_cell(sheet: Worksheet, value: Any) -> Any:
    """A value for the workbook: dates as they are (openpyxl gives them a date format), text without
    the control characters a workbook cannot hold, and never a formula: openpyxl would store a
    string that starts with "=" as one, so that is written as a text cell of its own."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not value.startswith("="):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def export_xlsx(deps: Deps, query: Query, scope: Scope, labels: Labels, actor: str) -> bytes:
    """The register as an Excel workbook: Dutch headers in a frozen row with a filter, real dates."""
    book = Workbook(write_only=True)
    sheet: Worksheet = book.create_sheet("Register")
    sheet.freeze_panes = "A2"
    for i, (_, width) in enumerate(COLUMNS, 1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.append([_xlsx_cell(sheet, name) for name, _ in COLUMNS])
    n = 1
    for cells in _export_rows(deps, query, scope, labels, actor, "xlsx"):
        sheet.append([_xlsx_cell(sheet, v) for v in cells])
        n += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{n}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def optimize_index(deps: Deps) -> None:
    """Merge the search index (SQLite), so that blanked words leave the database file."""
    with deps.sessions.begin() as session:
        store.optimize_index(session)

