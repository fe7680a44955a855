"""The register's queries: every case within a `Scope`, filtered (period, labels, status, handler,
urgent, on time), searched in full text and sorted, a page of it, its count, or all of it for an export.

Full-text search reads the `case_search` document that migration 0011's triggers keep per case: FTS5 on
SQLite (words as typed, diacritics ignored, `word*` for a prefix), the 'dutch' configuration on
PostgreSQL (stemmed: "klachten" finds "klacht"; quotes for a phrase, `-word` to exclude one)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, Select, column, func, literal_column, select, table, text
from sqlalchemy.orm import Session

from triage import procedure
from triage.domain import CaseStatus
from triage.store.models import Case
from triage.store.scope import Scope

PER_PAGE = 50
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SORTS = ("received", "reference", "due", "status", "handler")
STATUS_GROUPS = {"open": procedure.OPEN, "ended": procedure.ENDINGS}
STATUSES = tuple(s.value for s in CaseStatus)
TIMINGS = ("on_time", "late")
NOBODY = "-"  # the handler filter for cases nobody handles
WALK = 2_000  # above this many matches, a page walks the cases in its order (see `search_clause`)
_SORT_COLUMNS: dict[str, Any] = {"received": Case.received_at, "reference": Case.reference, "due": Case.due_date,
                                 "status": Case.status, "handler": Case.handler}
_FTS = table("case_search", column("rowid", Integer))
_PG_SEARCH = table("case_search", column("case_id", Integer), column("doc"))
_WORDLIKE = re.compile(r"\w")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Query:
    """What a person asks of the register; every field optional ("" or None: no filter)."""

    text: str = ""  # full-text search over subject, messages and complainant
    received_from: date | None = None  # inclusive, a day in Europe/Amsterdam
    received_to: date | None = None  # inclusive
    kind: str = ""
    topic: str = ""
    formality: str = ""
    status: str = ""  # a CaseStatus value, or a group: "open", "ended"
    handler: str = ""  # a user name, or NOBODY
    urgent: bool = False  # only cases that report danger or a threat
    timing: str = ""  # "on_time" or "late": answered (ended) within the term or after it
    sort: str = "received"  # one of SORTS
    descending: bool = True
    page: int = 1


@dataclass(frozen=True)
class Row:
    """One case as the register shows it."""

    id: int
    organisation: str
    reference: str
    received: datetime
    kind: str | None
    topic: str | None
    formality: str | None
    subject: str
    complainant: str  # the name, else the address; "" for an anonymised case
    handler: str | None
    status: str
    due: date | None
    answered: date | None  # the day it was answered, else ended
    on_time: bool | None  # None: not ended (or ended without a term)
    urgent: bool
    anonymised: bool


_COLUMNS: tuple[Any, ...] = (
    Case.id, Case.organisation, Case.reference, Case.received_at, Case.kind, Case.topic, Case.formality, Case.subject,
    Case.complainant, Case.complainant_name, Case.handler, Case.status, Case.due_date, Case.answered_on,
    Case.ended_on, Case.on_time, Case.urgent, Case.anonymised_at)


def _row(r: Any) -> Row:
    anonymised = r.anonymised_at is not None
    who = "" if anonymised else (r.complainant_name or r.complainant or "")
    return Row(r.id, r.organisation, r.reference, r.received_at, r.kind, r.topic, r.formality,
               "" if anonymised else r.subject or "", who, r.handler, r.status, r.due_date,
               r.answered_on or r.ended_on, r.on_time, bool(r.urgent), anonymised)


def fts5_query(words: str) -> str:
    """A user's words as an FTS5 query: every word must occur, each as a quoted phrase (so that
    FTS5's operators and punctuation are plain text, and an address is its words in a row); a word
    ending in * matches as a prefix. Words without a letter or digit are left out."""
    parts = []
    for word in _CONTROL.sub(" ", words).split():
        prefix = word.endswith("*")
        word = word.rstrip("*")
        if _WORDLIKE.search(word):
            parts.append('"' + word.replace('"', '""') + '"' + ("*" if prefix else ""))
    return " ".join(parts)


def _match(words: str) -> ColumnElement[bool]:
    return literal_column("case_search").op("MATCH")(words)


def search_clause(dialect: str, words: str, walk: bool = False) -> ColumnElement[bool] | None:
    """The cases whose document matches `words`; None: nothing to search for. `walk`: many cases
    match, so SQLite should walk the cases in the page's order and check each against the matches
    ("id + 0" keeps it from looking every match up by its id and sorting them all)."""
    words = _CONTROL.sub(" ", words)  # PostgreSQL refuses a NUL in text; FTS5 would end the query there
    if not words.strip():
        return None
    if dialect == "postgresql":
        tsquery = func.websearch_to_tsquery(literal_column("'dutch'::regconfig"), words)
        return Case.id.in_(select(_PG_SEARCH.c.case_id).where(_PG_SEARCH.c.doc.op("@@")(tsquery)))
    query = fts5_query(words)
    if not query:
        return None
    return (Case.id + 0 if walk else Case.id).in_(select(_FTS.c.rowid).where(_match(query)))


def day_start(day: date) -> datetime:
    """Midnight at the start of `day` in Amsterdam."""
    return datetime.combine(day, time(0), AMSTERDAM)


def conditions(dialect: str, query: Query, scope: Scope, walk: bool = False) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a query within a scope (`walk`: see `search_clause`)."""
    found: list[ColumnElement[bool]] = [scope.clause(Case.organisation)]
    if query.received_from is not None:
        found.append(Case.received_at >= day_start(query.received_from))
    if query.received_to is not None:
        found.append(Case.received_at < day_start(query.received_to + timedelta(days=1)))
    found.extend(getattr(Case, name) == getattr(query, name) for name in ("kind", "topic", "formality")
                 if getattr(query, name))
    if query.status in STATUS_GROUPS:
        found.append(Case.status.in_(sorted(STATUS_GROUPS[query.status])))
    elif query.status:
        found.append(Case.status == query.status)
    if query.handler == NOBODY:
        found.append(Case.handler.is_(None))
    elif query.handler:
        found.append(Case.handler == query.handler)
    if query.urgent:
        found.append(Case.urgent.is_(True))
    if query.timing in TIMINGS:
        found.append(Case.on_time.is_(query.timing == "on_time"))
    search = search_clause(dialect, query.text, walk)
    if search is not None:
        found.append(search)
    return found


def _select(session: Session, query: Query, scope: Scope, found: int | None) -> Select[Any]:
    dialect = session.get_bind().dialect.name
    walk = found is None or found > WALK
    key = _SORT_COLUMNS.get(query.sort, Case.received_at)
    order = key.desc() if query.descending else key.asc()
    if key in (Case.due_date, Case.handler):  # none counts as the largest (as its index on PostgreSQL has it)
        order = order.nulls_first() if query.descending else order.nulls_last()
    tie = Case.id.desc() if query.descending else Case.id.asc()
    return select(*_COLUMNS).where(*conditions(dialect, query, scope, walk)).order_by(order, tie)


def count(session: Session, query: Query, scope: Scope) -> int:
    """How many cases the query finds (each once, merged cases too). On SQLite a search counts
    from the index's matches, each looked up by id."""
    dialect = session.get_bind().dialect.name
    words = fts5_query(query.text) if dialect == "sqlite" else ""
    if words:
        joined = _FTS.join(Case, Case.id == _FTS.c.rowid)
        others = conditions(dialect, replace(query, text=""), scope)
        stmt = select(func.count()).select_from(joined).where(_match(words), *others)
    else:
        stmt = select(func.count()).select_from(Case).where(*conditions(dialect, query, scope))
    return int(session.scalar(stmt) or 0)


def page(session: Session, query: Query, scope: Scope, per_page: int = PER_PAGE, found: int | None = None) -> list[Row]:
    """One page of the query's cases (page 1 is the first); `found`: their count, if known."""
    offset = (max(1, query.page) - 1) * per_page
    stmt = _select(session, query, scope, found).limit(per_page).offset(offset)
    return [_row(r) for r in session.execute(stmt)]


def rows(session: Session, query: Query, scope: Scope, limit: int) -> Iterator[Row]:
    """All the query's cases in its order, at most `limit`, read in batches (for an export)."""
    stmt = _select(session, query, scope, None).limit(limit)
    result = session.execute(stmt, execution_options={"yield_per": 1000})
    for r in result:
        yield _row(r)


def handlers(session: Session, scope: Scope) -> list[str]:
    """The names of everyone who handles (or handled) a case in scope. SQLite's DISTINCT skips along
    the handler index by itself; on PostgreSQL the index is walked one name at a time (a few seeks
    instead of reading every case)."""
    in_scope = scope.clause(Case.organisation)
    if session.get_bind().dialect.name == "sqlite":
        stmt = select(Case.handler).where(in_scope, Case.handler.is_not(None)).distinct().order_by(Case.handler)
        return [str(name) for name in session.scalars(stmt)]
    names: list[str] = []
    last = ""
    while (name := session.scalar(select(func.min(Case.handler)).where(Case.handler > last))) is not None:
        last = name
        if session.scalar(select(Case.id).where(Case.handler == name, in_scope).limit(1)):
            names.append(name)
    return names


def optimize_index(session: Session) -> None:
    """Merge the SQLite search index into one segment: FTS5 only marks a changed document's old words
    as deleted, so after blanking personal data they stay in the file until this merge (with the
    database's `secure_delete`, the freed pages are then zeroed). Nothing to do on PostgreSQL, whose
    index entries follow the row (VACUUM reclaims the old row versions)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("INSERT INTO case_search (case_search) VALUES ('optimize')"))
