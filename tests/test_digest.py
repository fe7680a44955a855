"""The daily digest: each handler's and coordinator's one mail a working day, queued once per address
and day however many workers race for it, and sent by the send job; the `triage digest` command."""

from __future__ import annotations

import dataclasses
import email
import email.message
import email.policy
import re
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import deps_for as build_deps
from conftest import sessions_for, settings_for, smtp_table
from servers import SmtpServer
from sqlalchemy import select, text

from triage.cli import main
from triage.dates import AMSTERDAM
from triage.procedure import Action
from triage.services import digest
from triage.services.cases import Actor, Request, perform
from triage.services.send import send_once
from triage.stages import letters
from triage.store import cases as case_store
from triage.store.models import Acknowledgement, Case, Digest, Membership, User
from triage.store.scope import EVERYTHING
from triage.worker import run_forever

THURSDAY = date(2026, 12, 3)
REF = re.compile(r"\b(?:KL|LD)-2026-\d{6}\b")
CONFIG = """
[database]
url = "{db_url}"

{top}
[web]
public_url = "https://klachten.debrug.example/"

[organisations.debrug]
name = "Woonstichting De Brug"
reference_prefix = "KL"
addresses = ["klachten@debrug.example"]
domains = ["debrug.example"]

[organisations.debrug.procedure]
coordinator = "Coördinator <Coordinator@debrug.example>"
digest_time = "08:00"
due_soon = 5

[organisations.debrug.mailbox]
type = "maildir"
path = "mail/debrug"

[organisations.linde]
name = "Gemeente Lindendal"
reference_prefix = "LD"
addresses = ["klachten@lindendal.example"]
domains = ["lindendal.example"]

[organisations.linde.procedure]
digest_time = "09:00"

[organisations.linde.mailbox]
type = "maildir"
path = "mail/linde"
"""
# What each address is told on THURSDAY (see `world`): the handler's own cases, the coordinator's
# unassigned and overdue ones; bert's case needs nothing, dirk has no address.
EXPECTED = {
    "anna@debrug.example": {"KL-2026-000001", "KL-2026-000002", "KL-2026-000009", "LD-2026-000001"},
    "carla@debrug.example": {"KL-2026-000006", "KL-2026-000004", "KL-2026-000001", "KL-2026-000007"},
    "coordinator@debrug.example": {"KL-2026-000004", "KL-2026-000001", "KL-2026-000007"},
    "root@debrug.example": {"KL-2026-000004", "KL-2026-000001", "KL-2026-000007", "LD-2026-000002"},
}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMSTERDAM).astimezone(UTC)


def make_deps(tmp_path: Path, db_url: str, clock: datetime, top: str = "") -> Any:
    path = tmp_path / "triage.toml"
    path.write_text(CONFIG.format(db_url=db_url, top=top), encoding="utf-8")
    settings = settings_for(path)
    return dataclasses.replace(build_deps(settings, sessions_for(settings)), clock=lambda: clock)


def _case(org: str, seq: int, due: date, kind: str = "question", received: date = date(2026, 11, 26),
          **fields: Any) -> Case:
    prefix = {"debrug": "KL", "linde": "LD"}[org]
    moment = datetime(received.year, received.month, received.day, 9, tzinfo=UTC)
    return Case(organisation=org, reference=f"{prefix}-2026-{seq:06d}", year=2026, seq=seq,
                status=fields.pop("status", "new"), subject=f"Zaak {seq}", complainant=f"klager{seq}@example.org",
                kind=kind, formality="formal" if kind == "complaint" else None, received_at=moment,
                created_at=moment, due_date=due, term="6 weeks" if kind == "complaint" else "5 working days",
                **fields)


def _user(session: Any, name: str, role: str, organisations: tuple[str, ...], email: str | None,
          active: bool = True) -> None:
    """An account as the digest reads it (nobody logs in here: no argon2 hashing, a second a test saved)."""
    session.add(User(name=name, password_hash="-", role=role, email=email, active=active, failed_logins=0,
                     created_at=datetime(2026, 11, 1, tzinfo=UTC), all_organisations=False,
                     memberships=[Membership(organisation=org) for org in organisations]))
    session.flush()


def world(deps: Any) -> None:
    """Users and cases of two organisations; handlers assigned through the procedure service."""
    with deps.sessions.begin() as session:
        _user(session, "anna", "staff", ("debrug", "linde"), "Anna@debrug.example")
        _user(session, "bert", "staff", ("debrug",), "bert@debrug.example")
        _user(session, "carla", "coordinator", ("debrug",), "carla@debrug.example")
        _user(session, "dirk", "staff", ("debrug",), None)
        _user(session, "eva", "staff", ("debrug",), "eva@debrug.example", active=False)
        _user(session, "root", "admin", (), "root@debrug.example")
        session.add_all([
            _case("debrug", 1, date(2026, 12, 1)),  # overdue
            _case("debrug", 2, date(2026, 12, 8), kind="complaint"),  # due soon, extension still possible
            _case("debrug", 3, date(2027, 1, 20)),  # nothing to say
            _case("debrug", 4, date(2027, 1, 20)),  # without a handler
            _case("debrug", 5, date(2027, 1, 20)),  # anna's, nothing to say
            _case("debrug", 6, date(2026, 12, 10)),  # due on the 5th working day
            _case("debrug", 7, date(2026, 11, 30)),  # overdue, its handler has no address
            _case("debrug", 8, date(2026, 11, 2), status="answered", handler="anna"),  # ended
            _case("debrug", 9, date(2026, 12, 18), kind="complaint", received=date(2026, 11, 6)),  # 9:8 ends 4 Dec
            _case("linde", 1, date(2027, 1, 20), unread_since=datetime(2026, 12, 2, 10, tzinfo=UTC)),
            _case("linde", 2, date(2027, 1, 20)),  # without a handler
        ])
    coordinator = Actor("carla", "coordinator", EVERYTHING)
    for reference, handler in [("KL-2026-000001", "anna"), ("KL-2026-000002", "anna"), ("KL-2026-000003", "bert"),
                               ("KL-2026-000005", "anna"), ("KL-2026-000006", "carla"), ("KL-2026-000007", "dirk"),
                               ("KL-2026-000009", "anna"), ("LD-2026-000001", "anna")]:
        perform(deps, reference, coordinator, Request(Action.ASSIGN, handler=handler))


def queued(deps: Any) -> dict[str, list[Acknowledgement]]:
    with deps.sessions() as session:
        rows = session.scalars(select(Acknowledgement).where(Acknowledgement.kind == "digest")).all()
        found: dict[str, list[Acknowledgement]] = {}
        for row in rows:
            found.setdefault(row.recipient, []).append(row)
        return found


def body(row: Acknowledgement) -> str:
    assert row.raw is not None
    message = email.message_from_bytes(row.raw, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def references(row: Acknowledgement) -> set[str]:
    return set(REF.findall(body(row)))


@pytest.fixture
def deps(tmp_path: Path, sqlite_url: str) -> Any:
    """The world on SQLite; what the database adds (its keys, locks and races) is tested on both below."""
    made = make_deps(tmp_path, sqlite_url, at(THURSDAY, 9, 30))
    world(made)
    return made


@pytest.fixture
def both(tmp_path: Path, db_url: str) -> Any:
    """The world on SQLite and on PostgreSQL."""
    made = make_deps(tmp_path, db_url, at(THURSDAY, 9, 30))
    world(made)
    return made


def test_each_recipient_gets_one_digest_with_exactly_their_cases(both: Any) -> None:
    deps = both
    result = digest.run(deps)
    rows = queued(deps)
    assert {a: len(r) for a, r in rows.items()} == dict.fromkeys(EXPECTED, 1)
    assert {a: references(r[0]) for a, r in rows.items()} == EXPECTED
    outcomes = {o.address: o for o in result.recipients}
    assert outcomes["bert@debrug.example"].status == "skipped" and "eva@debrug.example" not in outcomes
    assert {a for a, o in outcomes.items() if o.status == "sent"} == set(EXPECTED)
    assert all(rows[a][0].case_id is None and outcomes[a].cases == len(EXPECTED[a]) for a in EXPECTED)


def test_a_handler_who_coordinates_gets_one_mail_with_both_parts(deps: Any) -> None:
    digest.run(deps)
    [row] = queued(deps)["carla@debrug.example"]
    text_ = body(row)
    assert text_.index("Uw zaken") < text_.index("KL-2026-000006") < text_.index("Als coördinator")
    assert text_.index("Als coördinator") < text_.index("KL-2026-000004")
    with deps.sessions() as session:
        own = session.scalars(select(Case).where(Case.reference == "KL-2026-000006")).one()
        assert f"https://klachten.debrug.example/case/{own.id}" in text_


def test_the_configured_coordinator_address_of_a_user_gets_one_mail(deps: Any) -> None:
    with deps.sessions.begin() as session:
        session.scalars(select(User).where(User.name == "carla")).one().email = "COORDINATOR@debrug.example"
    result = digest.run(deps)
    rows = queued(deps)
    assert len(rows["coordinator@debrug.example"]) == 1 and "carla@debrug.example" not in rows
    assert references(rows["coordinator@debrug.example"][0]) == EXPECTED["carla@debrug.example"]
    assert [o.name for o in result.recipients if o.address == "coordinator@debrug.example"] == ["carla"]


def test_the_handler_is_told_of_an_ending_extension_and_9_8_notice(deps: Any) -> None:
    result = digest.run(deps, dry_run=True)
    [anna] = [o for o in result.recipients if o.address == "anna@debrug.example"]
    assert "verdagen kan tot en met dinsdag 8 december 2026" in anna.text
    assert "9:8-bericht uiterlijk vrijdag 4 december 2026" in anna.text
    assert "Nieuwe post van de klager (1)" in anna.text and "Gemeente Lindendal" in anna.text


def test_running_again_the_same_day_queues_nothing_new(both: Any) -> None:
    deps = both
    digest.run(deps)
    again = digest.run(deps)
    assert {o.address for o in again.recipients if o.status == "already"} == set(EXPECTED)
    assert {a: len(r) for a, r in queued(deps).items()} == dict.fromkeys(EXPECTED, 1)
    next_day = digest.run(dataclasses.replace(deps, clock=lambda: at(THURSDAY + timedelta(days=1), 9, 30)))
    assert next_day.count("sent") == len(EXPECTED)
    assert {a: len(r) for a, r in queued(deps).items()} == dict.fromkeys(EXPECTED, 2)


def test_a_dry_run_writes_nothing(deps: Any) -> None:
    result = digest.run(deps, dry_run=True)
    assert {o.address for o in result.recipients if o.status == "dry_run"} == set(EXPECTED)
    assert queued(deps) == {}
    with deps.sessions() as session:
        assert session.scalars(select(Digest)).all() == []


@pytest.mark.parametrize("day", [date(2026, 12, 5), date(2026, 12, 25), date(2026, 5, 5)],
                         ids=["saturday", "christmas", "liberation-day"])
def test_no_digest_on_a_day_that_is_not_a_working_day(deps: Any, day: date) -> None:
    result = digest.run(dataclasses.replace(deps, clock=lambda: at(day, 10)))
    assert result.organisations == () and result.recipients == []
    assert queued(deps) == {}


def test_nothing_before_digest_time_and_everything_after(deps: Any) -> None:
    early = digest.run(dataclasses.replace(deps, clock=lambda: at(THURSDAY, 7, 59)))
    assert queued(deps) == {} and early.count("waiting") == len(EXPECTED)
    # 08:30: De Brug's time has come, Lindendal's (09:00) not: who has Lindendal's cases waits for it
    half = digest.run(dataclasses.replace(deps, clock=lambda: at(THURSDAY, 8, 30)))
    assert set(queued(deps)) == {"carla@debrug.example", "coordinator@debrug.example"}
    assert {o.address for o in half.recipients if o.status == "waiting"} == {"anna@debrug.example",
                                                                             "root@debrug.example"}
    late = digest.run(dataclasses.replace(deps, clock=lambda: at(THURSDAY, 16, 45)))  # a worker that was down
    assert {o.address for o in late.recipients if o.status == "sent"} == {"anna@debrug.example",
                                                                          "root@debrug.example"}
    assert {a: len(r) for a, r in queued(deps).items()} == dict.fromkeys(EXPECTED, 1)


def test_racing_workers_queue_one_digest_per_recipient(tmp_path: Path, pg_url: str) -> None:
    first = make_deps(tmp_path, pg_url, at(THURSDAY, 9, 30))
    world(first)
    (tmp_path / "second").mkdir()
    workers = [first, make_deps(tmp_path / "second", pg_url, at(THURSDAY, 9, 30))]  # its own engine and sessions
    start = threading.Barrier(len(workers))
    results: list[digest.DigestResult] = []

    def work(deps: Any) -> None:
        start.wait()
        results.append(digest.run(deps))

    threads = [threading.Thread(target=work, args=(d,)) for d in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(results) == 2
    for address in EXPECTED:
        statuses = sorted(o.status for r in results for o in r.recipients if o.address == address)
        assert statuses == ["already", "sent"], address
    assert {a: len(r) for a, r in queued(first).items()} == dict.fromkeys(EXPECTED, 1)


def test_a_worker_whose_key_is_taken_at_commit_counts_it_as_already_sent(tmp_path: Path, pg_url: str) -> None:
    """The other worker's (recipient, day) row is not yet committed when this one looks: this one's
    insert waits for it and then fails; its outbox row goes with it."""
    deps = make_deps(tmp_path, pg_url, at(THURSDAY, 9, 30))
    world(deps)
    org = deps.settings.organisations["debrug"]
    other = deps.sessions()
    other.begin()
    written = letters.digest(org, "anna@debrug.example", "anna", THURSDAY, {}, deps.clock())
    case_store.record_digest(other, "anna@debrug.example", THURSDAY, "debrug", written, 4, deps.clock())
    other.flush()
    results: list[digest.DigestResult] = []
    thread = threading.Thread(target=lambda: results.append(digest.run(deps)))
    thread.start()
    with deps.sessions() as watcher:
        for _ in range(600):  # until the run waits on the other worker's uncommitted key
            waiting = watcher.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                          "AND datname = current_database()"))
            watcher.rollback()
            if waiting:
                break
            threading.Event().wait(0.05)
    assert waiting, "the run never reached the insert"
    other.commit()
    other.close()
    thread.join(60)
    [anna] = [o for o in results[0].recipients if o.address == "anna@debrug.example"]
    assert anna.status == "already"
    assert len(queued(deps)["anna@debrug.example"]) == 1


def test_the_send_job_delivers_each_digest_once_marked_auto_generated(tmp_path: Path, db_url: str,
                                                                        smtp_server: SmtpServer) -> None:
    deps = make_deps(tmp_path, db_url, at(THURSDAY, 9, 30), top=smtp_table(smtp_server))
    world(deps)
    digest.run(deps)
    digest.run(deps)
    first = send_once(deps)
    again = send_once(deps)
    assert first.sent == len(EXPECTED) and again.sent == 0
    messages = smtp_server.sink.messages()
    assert sorted(str(m["To"]).rpartition("<")[2].rstrip(">").lower() for m in messages) == sorted(EXPECTED)
    assert all(m["Auto-Submitted"] == "auto-generated" for m in messages)
    assert all(m["From"] for m in messages) and {m["Message-ID"] for m in messages} == {
        r[0].message_id for r in queued(deps).values()}
    with deps.sessions() as session:
        assert {r.status for r in session.scalars(select(Acknowledgement))} == {"sent"}


def test_the_worker_queues_and_sends_the_digests_at_its_start(tmp_path: Path, sqlite_url: str,
                                                               smtp_server: SmtpServer) -> None:
    """A worker started after digest_time (it was down at 08:00) sends that day's digests at once."""
    deps = make_deps(tmp_path, sqlite_url, at(THURSDAY, 14, 0), top=smtp_table(smtp_server))
    world(deps)
    for org in ("debrug", "linde"):
        for sub in ("cur", "new", "tmp"):
            (tmp_path / "mail" / org / sub).mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    worker = threading.Thread(target=run_forever, args=(deps, stop), daemon=True)
    worker.start()
    try:
        for _ in range(1200):
            if len(smtp_server.sink.received) >= len(EXPECTED):
                break
            stop.wait(0.05)
    finally:
        stop.set()
        worker.join(60)
    rcpts = sorted(to for _from, tos, _raw in smtp_server.sink.received for to in tos)
    assert rcpts == sorted(EXPECTED)


def _cli(tmp_path: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["digest", "--config", str(tmp_path / "triage.toml"), *args])


def test_the_command_queues_once_and_prints_a_line_per_recipient(deps: Any, tmp_path: Path) -> None:
    dry = _cli(tmp_path, "--date", THURSDAY.isoformat(), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "anna@debrug.example (anna): would get 4 cases" in dry.stdout and "    KL-2026-000009" in dry.stdout
    assert queued(deps) == {}
    done = _cli(tmp_path, "--date", THURSDAY.isoformat())
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert len(lines) == 5 and "bert@debrug.example (bert): nothing to say, no digest" in lines
    assert "coordinator@debrug.example (" not in done.stdout
    assert "coordinator@debrug.example: queued, 3 cases" in lines
    again = _cli(tmp_path, "--date", THURSDAY.isoformat())
    assert "anna@debrug.example (anna): already queued for 2026-12-03, 4 cases" in again.stdout
    assert {a: len(r) for a, r in queued(deps).items()} == dict.fromkeys(EXPECTED, 1)


def test_the_command_says_a_holiday_is_no_working_day(deps: Any, tmp_path: Path) -> None:
    result = _cli(tmp_path, "--date", "2026-12-25")
    assert result.exit_code == 0 and "not a working day" in result.stdout and queued(deps) == {}


def test_the_command_refuses_a_malformed_date_in_one_line(deps: Any, tmp_path: Path) -> None:
    result = _cli(tmp_path, "--date", "3-12-2026")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "YYYY-MM-DD" in result.stderr



def test_check_config_states_each_organisations_digest(tmp_path: Path, sqlite_url: str) -> None:
    make_deps(tmp_path, sqlite_url, at(THURSDAY, 9))
    result = CliRunner().invoke(main, ["check-config", "--offline", "--config", str(tmp_path / "triage.toml")])
    assert result.exit_code == 0, result.output
    assert ("debrug: digest each working day from 08:00 (due soon: 5 working days); coordinators: "
            "coordinator@debrug.example and coordinator/admin users") in result.stdout
    assert "linde: digest each working day from 09:00" in result.stdout


def test_the_command_has_help() -> None:
    result = CliRunner().invoke(main, ["digest", "--help"])
    assert result.exit_code == 0 and "--date" in result.stdout and "--dry-run" in result.stdout


def test_a_reply_to_an_ended_case_is_news_for_its_handler_and_else_for_the_coordinator(deps: Any) -> None:
    """anna answered KL-8 and the complainant wrote back: anna hears of it; an ended case nobody
    handled (KL-3, closed without handler) goes to the coordinators instead."""
    with deps.sessions.begin() as session:
        answered = session.scalars(select(Case).where(Case.reference == "KL-2026-000008")).one()
        answered.unread_since = datetime(2026, 12, 2, 15, tzinfo=UTC)
        dropped = session.scalars(select(Case).where(Case.reference == "KL-2026-000004")).one()
        dropped.status, dropped.unread_since = "not_a_complaint", datetime(2026, 12, 2, 16, tzinfo=UTC)
    digest.run(deps)
    rows = queued(deps)
    assert "KL-2026-000008" in references(rows["anna@debrug.example"][0])
    assert "Nieuwe post van de klager" in body(rows["anna@debrug.example"][0])
    coordinator = body(rows["coordinator@debrug.example"][0])
    assert "Nieuwe post bij een afgeronde zaak zonder behandelaar" in coordinator
    assert "KL-2026-000004" not in coordinator.split("Nieuwe post bij")[0]  # ended: no longer "zonder behandelaar"
