"""Shared fixtures: real Dovecot servers, SQLite and PostgreSQL databases, settings factories.

Under CI=true a missing server fails the test; elsewhere the test is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from argon2 import PasswordHasher, profiles  # noqa: E402
from servers import NO_MOVE_CAPABILITIES, Dovecot, SmtpServer, start_dovecot  # noqa: E402

from triage import config  # noqa: E402
from triage.store import migrate, repo, users  # noqa: E402

# Passwords hashed with argon2's own profile for tests (`profiles.CHEAPEST`) in this process: the
# suite logs in hundreds of times, and what it tests is the flow, not argon2's cost (0.2 s a hash
# here). `real_password_hashing` restores the shipped parameters where the cost is the point.
SHIPPED_HASHER = users._HASHER
users._HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)
users._DUMMY = users._HASHER.hash("not a password anyone has")

IN_CI = os.environ.get("CI") == "true"
ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
PG_ADMIN_URL = os.environ.get("TRIAGE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


# The longest files first (as measured with --durations): `scripts/test` runs xdist with
# `--dist loadfile --no-loadscope-reorder`, which hands files to whichever worker is free in
# collection order; a long file handed out last would run on alone while the other worker idles.
LONGEST_FIRST = ("test_cli.py", "test_model.py", "test_workers.py", "test_faults.py", "test_browser.py",
                 "test_outages.py", "test_web.py", "test_jobs.py", "test_corpus.py", "test_edges.py",
                 "test_ack_loops.py", "test_web_review.py", "test_web_sessions.py", "test_ack_e2e.py",
                 "test_config.py", "test_trust_e2e.py", "test_cases_service.py", "test_organisations.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


@pytest.fixture
def real_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "_HASHER", SHIPPED_HASHER)
    monkeypatch.setattr(users, "_DUMMY", SHIPPED_HASHER.hash("not a password anyone has"))


def unavailable(reason: str) -> None:
    """Skip outside CI; fail under CI=true, where every server must be there."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: nothing may be skipped)")
    pytest.skip(reason)


def shared_corpus() -> Path:
    return Path(os.environ.get("TRIAGE_SHARED", ROOT.parent / "shared")) / "corpus"


def _start(capability: str | None) -> Iterator[Dovecot]:
    try:
        server = start_dovecot(capability)
    except (FileNotFoundError, RuntimeError) as exc:
        unavailable(f"Dovecot cannot run here: {exc}")
        return
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    yield from _start(None)


@pytest.fixture(scope="session")
def dovecot_nomove() -> Iterator[Dovecot]:
    yield from _start(NO_MOVE_CAPABILITIES)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a free loopback port, plain, in this process."""
    try:
        server = SmtpServer().start()
    except (ImportError, OSError, RuntimeError) as exc:
        unavailable(f"aiosmtpd cannot run here: {exc}")
        return
    yield server
    server.stop()


def smtp_table(server: SmtpServer) -> str:
    return f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\n'


@pytest.fixture(scope="session")
def pg_server() -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # any driver or connection error means: no PostgreSQL here
        unavailable(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
    finally:
        engine.dispose()
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    with pg_database(pg_server) as url:
        yield url


@contextlib.contextmanager
def pg_database(pg_server: str) -> Iterator[str]:
    """A fresh PostgreSQL database (its URL), dropped on leaving."""
    from sqlalchemy import create_engine, text

    name = "triage_test_" + uuid.uuid4().hex[:10]
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield pg_server.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'triage.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'triage.db'}"


# The colleague of fixtures/cli/staff-forward.eml, trusted as an organisation whose server enforces
# DMARC declares it (`extra` of write_config): without it a staff forward is not unwrapped.
TRUSTED_STAFF = 'dmarc_enforced = true\nstaff = ["j.bakker@debrug.example"]'


def write_config(tmp_path: Path, db_url: str, mailbox: str, extra: str = "", top: str = "") -> Path:
    """A config file with one organisation 'debrug' and the given [mailbox] table body; `extra`
    goes into the organisation's table, `top` before it (e.g. an [smtp] table)."""
    path = tmp_path / "triage.toml"
    path.write_text(f"""
[database]
url = "{db_url}"

{top}

[organisations.debrug]
name = "Woonstichting De Brug"
reference_prefix = "KL"
addresses = ["klachten@debrug.example", "info@debrug.example"]
domains = ["debrug.example"]
poll_interval = 1
{extra}

[organisations.debrug.mailbox]
{mailbox}
""", encoding="utf-8")
    return path


def daemon_config(tmp_path: Path, db_url: str, smtp: SmtpServer, mailboxes: dict[str, str],
                  outbox: str = "interval = 0.5\nbackoff = 0.5", processing: str = "lease_seconds = 30") -> Path:
    """A config for `triage run` processes: one organisation per entry of `mailboxes` (its id ->
    its [mailbox] table body, e.g. from imap_mailbox()), acknowledgements to `smtp`, INFO logs."""
    orgs = "".join(f"""
[organisations.{org}]
name = "Organisatie {org}"
reference_prefix = "{org.upper()}"
addresses = ["klachten@{org}.example"]
domains = ["{org}.example"]
poll_interval = 1

[organisations.{org}.acknowledge]
per_organisation_per_hour = 100000  # load tests: every acknowledgement goes out, none waits for a person

[organisations.{org}.mailbox]
{mailbox}""" for org, mailbox in mailboxes.items())
    path = tmp_path / "triage.toml"
    path.write_text(f"""
[database]
url = "{db_url}"

{smtp_table(smtp)}
[outbox]
{outbox}

[processing]
{processing}

[logging]
level = "INFO"
{orgs}""", encoding="utf-8")
    return path


def imap_mailbox(server: Dovecot, user: str, batch_size: int = 50) -> str:
    os.environ["TRIAGE_TEST_IMAP_PASSWORD"] = "geheim-test-wachtwoord"
    return (f'type = "imap"\nhost = "{server.host}"\nport = {server.port}\nsecurity = "none"\n'
            f'user = "{user}"\npassword_env = "TRIAGE_TEST_IMAP_PASSWORD"\nbatch_size = {batch_size}\n')


def settings_for(path: Path) -> config.Settings:
    return config.load(path)


def sessions_for(settings: config.Settings):  # type: ignore[no-untyped-def]
    engine = repo.open_engine(settings.database.url)
    migrate.ensure_current(engine)
    return repo.session_factory(engine)


def deps_for(settings: config.Settings, sessions, classifier=None, models: Path | None = None):  # type: ignore[no-untyped-def]
    """The services' dependencies as `triage run` wires them, with a fixed classifier."""
    from triage.services.deps import build, fixed

    return build(settings, sessions, models=models, classifier=fixed(classifier))


def corpus_sample(target: Path, source: Path, every: int) -> Path:
    """Every `every`th labelled message of `source` (a corpus folder) in a folder of its own, its mail
    the source's: what retraining tests train on, where the job is tested and not the model's
    figures (all writers stay, a third of the time)."""
    import csv

    with (source / "labels.csv").open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields, rows = list(reader.fieldnames or []), list(reader)[::every]
    target.mkdir(parents=True)
    (target / "mail").symlink_to(source / "mail")
    with (target / "labels.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return target
