"""Register search speed: N cases with their messages (varied Dutch text from a vocabulary), bulk
inserted through the real schema (migrations, search triggers), then the register's server-side work
for a page (count + page of 50 + the handler list, as `triage.services.register.register_page`)
timed for a common word, a rare word, a search with filters, no search sorted by due date, and
the count alone, against a floor measured in the same run: fetching 50 cases by primary key.

Usage: .venv/bin/python bench/bench_register.py [--cases 100000] [--runs 7] [--no-postgres] [--json]

SQLite in a temporary folder; PostgreSQL too when reachable (TRIAGE_TEST_PG, default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres), in a throwaway database dropped afterwards.
The goal (issue 15): under 300 ms server time per search with 100 000 cases.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from triage.store import migrate, repo
from triage.store import register as store
from triage.store.models import Case, Message, RawBlob
from triage.store.register import Query
from triage.store.scope import Scope

PG_ADMIN = os.environ.get("TRIAGE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SCOPE = Scope(frozenset({"bench"}))
COMMON, RARE = "gemeente", "zwembadpas"
VOCABULARY = """de het een en gemeente van in op te dat is voor met niet aan er maar om ook als bij nog wel door naar
uit over dan zijn heb wordt werd al mijn ons onze uw u wij ik zij hun geen meer heel erg graag sinds
klacht klachten melding vraag brief mail telefoon balie loket afspraak medewerker behandeling antwoord
reactie termijn week weken maand dagen gisteren vandaag morgen steeds nooit opnieuw eerder later
lekkage water plafond badkamer keuken dak kozijn schimmel vocht kapot reparatie monteur onderhoud
huur huurverhoging servicekosten afrekening rekening factuur betaling incasso aanmaning boete
parkeren parkeervergunning vergunning aanvraag besluit bezwaar uitkering toeslag afval container
ophalen straat stoep verlichting lantaarnpaal riool geluidsoverlast buren overlast hond fiets
onbeschoft vriendelijk wachttijd wachtlijst bereikbaar teruggebeld beloofd vergeten kwijt fout
verkeerd onjuist adres naam geboortedatum formulier website inloggen digid storing bus tram
zorg thuiszorg wijkteam jeugdzorg school leerlingenvervoer subsidie sportpark zwembad bibliotheek"""
WORDS = VOCABULARY.split()
NAMES = ("Jan de Vries", "Fatima el Amrani", "Piet Jansen", "Karin Smit", "Zoë Çelik", "Henk Bakker",
         "Anouk Verbeek", "Mohamed Yılmaz", "Sanne de Boer", "Kees van Dijk", "Ingrid Mulder", "Daan Visser")
HANDLERS = ("anouk", "bert", "chantal", "dirk", "esra", "femke", "gijs", "hanna")
STATUSES = (("answered", 40), ("resolved", 15), ("question_answered", 15), ("in_progress", 10), ("new", 6),
            ("needs_review", 4), ("withdrawn", 3), ("not_handled", 2), ("forwarded", 2), ("merged", 3))
START = datetime(2025, 1, 1, 8, tzinfo=UTC)


def _weights() -> list[float]:
    """Zipf-like word frequencies: the common word (fifth) is in most messages; the rare word is in
    none (it is added by hand to one message in 2 000)."""
    return [1 / (rank + 8) for rank in range(len(WORDS))]


def _case_rows(rng: random.Random, first: int, n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    weights, statuses = _weights(), [s for s, w in STATUSES for _ in range(w)]
    words = WORDS
    cases, messages = [], []
    for case_id in range(first, first + n):
        received = START + timedelta(minutes=rng.randrange(0, 700 * 24 * 60))
        status, name = rng.choice(statuses), rng.choice(NAMES)
        address = f"{name.split()[0].lower()}.{case_id}@example.nl"
        subject = " ".join(rng.choices(words, weights, k=rng.randint(3, 7))).capitalize()
        ended = status not in ("in_progress", "new", "needs_review", "merged")
        due = (received + timedelta(days=42)).date()
        cases.append({
            "id": case_id, "organisation": "bench" if case_id % 10 else "other", "reference": f"KL-{case_id:07d}",
            "year": received.year, "seq": case_id, "status": status, "complainant": address,
            "complainant_name": name, "subject": subject, "kind": rng.choice(("complaint", "question")),
            "topic": rng.choice(("product", "service", "staff")), "formality": rng.choice(("formal", "informal")),
            "received_at": received, "created_at": received, "due_date": due,
            "handler": rng.choice(HANDLERS) if status != "new" else None, "urgent": rng.random() < 0.01,
            "on_time": (rng.random() < 0.8) if ended else None,
            "ended_on": due - timedelta(days=rng.randint(-10, 30)) if ended else None})
        for k in range(rng.choice((1, 1, 1, 2, 2, 3))):
            body = rng.choices(words, weights, k=rng.randint(40, 160))
            if rng.random() < 0.0005:
                body.insert(rng.randrange(len(body)), RARE)
            messages.append({
                "id": case_id * 4 + k, "organisation": cases[-1]["organisation"], "mailbox": "bench:INBOX",
                "uidvalidity": 1, "uid": str(case_id * 4 + k), "sha256": "0" * 64, "size": 1000,
                "subject": ("Re: " if k else "") + subject, "sender": address, "complainant": address,
                "received_at": received, "fetched_at": received, "text": " ".join(body).capitalize() + ".",
                "disposition": "filed" if k == 0 else "joined", "case_id": case_id})
    return cases, messages


def fill(engine: Engine, n: int, seed: int = 15) -> float:
    """N cases and their messages, inserted in batches through Core (executemany); seconds taken."""
    rng, started = random.Random(seed), time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(RawBlob), [{"sha256": "0" * 64, "size": 0, "data": b""}])
    for first in range(1, n + 1, 5000):
        cases, messages = _case_rows(rng, first, min(5000, n + 1 - first))
        with engine.begin() as conn:
            conn.execute(insert(Case), cases)
            conn.execute(insert(Message), messages)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


def serve(sessions: sessionmaker[Session], query: Query) -> int:
    """What the server does for one register page; the total it found."""
    with sessions() as s:
        total = store.count(s, query, SCOPE)
        store.page(s, query, SCOPE, found=total)
        store.handlers(s, SCOPE)
    return total


QUERIES: dict[str, Callable[[sessionmaker[Session]], object]] = {
    f"common word ({COMMON})": lambda ss: serve(ss, Query(text=COMMON)),
    f"rare word ({RARE})": lambda ss: serve(ss, Query(text=RARE)),
    "two words": lambda ss: serve(ss, Query(text="lekkage plafond")),
    "search + filters": lambda ss: serve(ss, Query(text="huur", status="ended", kind="complaint",
                                                   received_from=date(2025, 6, 1), sort="due")),
    "name, page 3": lambda ss: serve(ss, Query(text="Jansen", page=3)),
    "no search, by due date": lambda ss: serve(ss, Query(sort="due", descending=False)),
    "no search, by handler": lambda ss: serve(ss, Query(sort="handler")),
    "count only": lambda ss: _count(ss, Query()),
}


def _count(sessions: sessionmaker[Session], query: Query, scope: Scope = SCOPE) -> int:
    with sessions() as s:
        return store.count(s, query, scope)


def floor(sessions: sessionmaker[Session], n: int) -> None:
    ids = list(range(10, min(n, 5000), 97))[:50]
    with sessions() as s:
        list(s.execute(select(*store._COLUMNS).where(Case.id.in_(ids))))


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm the caches: a page is asked for again and again
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(url: str, n: int, runs: int, reuse: bool = False) -> dict[str, Any]:
    engine = repo.open_engine(url)
    if reuse:
        seconds, n = 0.0, _count(repo.session_factory(engine), Query(), Scope(everything=True))
    else:
        migrate.upgrade(engine)
        seconds = fill(engine, n)
    sessions = repo.session_factory(engine)
    base = median_ms(lambda: floor(sessions, n), runs)
    result: dict[str, Any] = {"database": engine.dialect.name, "cases": n, "fill_s": round(seconds, 1),
                              "floor_ms": round(base, 2)}
    for name, fn in QUERIES.items():
        ms = median_ms(lambda fn=fn: fn(sessions), runs)  # type: ignore[misc]
        result[name] = {"ms": round(ms, 1), "ratio": round(ms / base, 1), "found": fn(sessions)}
    engine.dispose()
    return result


@contextmanager
def pg_database() -> Iterator[str | None]:
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001 - any driver or connection error: no PostgreSQL here
        print(f"PostgreSQL not reachable ({type(exc).__name__}); SQLite only")
        yield None
        return
    name = f"bench_register_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def show(result: dict[str, Any]) -> None:
    print(f"\n{result['database']}: {result['cases']} cases (filled in {result['fill_s']} s), "
          f"floor (50 cases by primary key) {result['floor_ms']} ms")
    for name in QUERIES:
        r = result[name]
        print(f"  {name:<32} {r['ms']:>8.1f} ms  x{r['ratio']:<7} found {r['found']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--reuse", metavar="URL", help="measure a database an earlier fill left (no fill)")
    args = parser.parse_args()
    if args.reuse:
        show(measure(args.reuse, 0, args.runs, reuse=True))
        return
    results = []
    with tempfile.TemporaryDirectory() as folder:
        results.append(measure(f"sqlite:///{Path(folder) / 'bench.db'}", args.cases, args.runs))
    if not args.no_postgres:
        with pg_database() as url:
            if url is not None:
                results.append(measure(url, args.cases, args.runs))
    if args.json:
        print(json.dumps(results))
        return
    for result in results:
        show(result)


if __name__ == "__main__":
    main()
