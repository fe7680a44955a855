"""Alembic migrations upgrade a database that already holds cases, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text

from triage.store import migrate, repo


def test_upgrade_from_0001_keeps_existing_cases(db_url: str) -> None:
    engine = repo.open_engine(db_url)
    migrate.upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO cases (organisation, reference, year, seq, status, review_reason, complainant_name, "
            "subject, confidences, received_at, created_at) VALUES ('o', 'KL-2026-000001', 2026, 1, 'open', '', '', "
            "'s', '{}', '2026-03-24 10:00:00+00:00', '2026-03-24 10:00:00+00:00')"))
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head()
    with engine.connect() as conn:
        row = conn.execute(text("SELECT due_date, term, due_is_latest FROM cases")).one()
        assert (row.due_date, row.term, bool(row.due_is_latest)) == (None, "", False)
        assert conn.execute(text("SELECT count(*) FROM acknowledgements")).scalar() == 0
    engine.dispose()


def test_upgrade_to_organisation_scoping_keeps_existing_accounts_seeing_every_organisation(db_url: str) -> None:
    """Accounts from before 0007 saw every organisation's cases and still do; accounts added after
    it see only the organisations they are given."""
    from triage.store import users
    from triage.store.scope import EVERYTHING, Scope

    engine = repo.open_engine(db_url)
    migrate.upgrade(engine, "0005")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO users (name, password_hash, role, active, failed_logins, created_at) VALUES "
            "('oud-medewerker', 'x', 'staff', true, 0, '2026-03-24 10:00:00+00:00')"))
    migrate.upgrade(engine)
    sessions = repo.session_factory(engine)
    with sessions.begin() as s:
        assert users.scope_of(users.named(s, "oud-medewerker")) == EVERYTHING
        users.add(s, "nieuw", "nieuw-wachtwoord-1", "staff", ["lindendal"])
        users.add(s, "niemand", "niemand-wachtwoord-1", "staff")
    with sessions() as s:
        assert users.scope_of(users.named(s, "nieuw")) == Scope(frozenset({"lindendal"}))
        assert users.scope_of(users.named(s, "niemand")) == Scope()
    engine.dispose()
