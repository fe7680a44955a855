"""register search: one full-text document per case (its subject, its complainant's address and name,
and the subject, addresses and text of its messages), kept up to date by triggers, so that a privacy
purge or erasure blanking those columns with ordinary updates takes the words out of the index too

SQLite: an FTS5 table `case_search` (rowid = the case's id; unicode61 with diacritics removed).
PostgreSQL: a table `case_search` (case_id, doc tsvector with the 'dutch' configuration) with a GIN
index. Neither is an ORM model: `triage.store.register` reads them, the triggers write them.
Also an index on cases.received_at, the register's default order.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 21:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A document holds at most this many characters (a tsvector must stay under 1 MB).
LIMIT = 200_000

# --- SQLite ---------------------------------------------------------------------------------------

_SQLITE_REFRESH = """
DELETE FROM case_search WHERE rowid = {cid};
INSERT INTO case_search (rowid, subject, complainant, body)
SELECT c.id, coalesce(c.subject, ''), coalesce(c.complainant, '') || ' ' || coalesce(c.complainant_name, ''),
       substr(coalesce((SELECT group_concat(coalesce(m.subject, '') || ' ' || coalesce(m.sender, '') || ' '
                                            || coalesce(m.complainant, '') || ' ' || coalesce(m.text, ''), ' ')
                        FROM messages m WHERE m.case_id = c.id), ''), 1, {limit})
FROM cases c WHERE c.id = {cid};
"""


def _sqlite_trigger(name: str, event: str, refresh: Sequence[str], when: str = "") -> str:
    body = "".join(_SQLITE_REFRESH.format(cid=cid, limit=LIMIT) for cid in refresh)
    return f"CREATE TRIGGER {name} AFTER {event} FOR EACH ROW {when} BEGIN {body} END"


_SQLITE = [
    "CREATE VIRTUAL TABLE case_search USING fts5(subject, complainant, body, "
    "tokenize = 'unicode61 remove_diacritics 2')",
    _sqlite_trigger("case_search_case_insert", "INSERT ON cases", ["new.id"]),
    _sqlite_trigger("case_search_case_update", "UPDATE OF subject, complainant, complainant_name ON cases",
                    ["new.id"]),
    "CREATE TRIGGER case_search_case_delete AFTER DELETE ON cases FOR EACH ROW BEGIN "
    "DELETE FROM case_search WHERE rowid = old.id; END",
    _sqlite_trigger("case_search_message_insert", "INSERT ON messages", ["new.case_id"],
                    "WHEN new.case_id IS NOT NULL"),
    _sqlite_trigger("case_search_message_update", "UPDATE OF subject, text, sender, complainant, case_id ON messages",
                    ["new.case_id"], "WHEN new.case_id IS NOT NULL"),
    _sqlite_trigger("case_search_message_moved", "UPDATE OF case_id ON messages", ["old.case_id"],
                    "WHEN old.case_id IS NOT NULL AND old.case_id IS NOT new.case_id"),
    _sqlite_trigger("case_search_message_delete", "DELETE ON messages", ["old.case_id"],
                    "WHEN old.case_id IS NOT NULL"),
    # the cases there are now
    "INSERT INTO case_search (rowid, subject, complainant, body) "
    "SELECT c.id, coalesce(c.subject, ''), coalesce(c.complainant, '') || ' ' || coalesce(c.complainant_name, ''), "
    "substr(coalesce((SELECT group_concat(coalesce(m.subject, '') || ' ' || coalesce(m.sender, '') || ' ' "
    "|| coalesce(m.complainant, '') || ' ' || coalesce(m.text, ''), ' ') FROM messages m WHERE m.case_id = c.id), ''), "
    f"1, {LIMIT}) FROM cases c",
    "INSERT INTO case_search (case_search) VALUES ('optimize')",
]

# --- PostgreSQL -----------------------------------------------------------------------------------

# An address counts as the whole address (the parser's email token) and as its words: "devries".
_PG_DOC = f"""
to_tsvector('dutch', left(concat_ws(' ', c.subject, c.complainant, translate(c.complainant, '@.-_+', '     '),
    c.complainant_name,
    (SELECT string_agg(concat_ws(' ', m.subject, m.sender, translate(m.sender, '@.-_+', '     '), m.complainant,
                                 m.text), ' ' ORDER BY m.id)
     FROM messages m WHERE m.case_id = c.id)), {LIMIT}))
"""

_PG = [
    "CREATE TABLE case_search (case_id integer NOT NULL, doc tsvector NOT NULL, "
    "CONSTRAINT pk_case_search PRIMARY KEY (case_id), CONSTRAINT fk_case_search_case_id_cases "
    "FOREIGN KEY (case_id) REFERENCES cases (id) ON DELETE CASCADE)",
    "CREATE INDEX ix_case_search_doc ON case_search USING gin (doc)",
    f"""CREATE FUNCTION case_search_refresh(cid integer) RETURNS void LANGUAGE sql AS $$
        INSERT INTO case_search (case_id, doc) SELECT c.id, {_PG_DOC} FROM cases c WHERE c.id = cid
        ON CONFLICT (case_id) DO UPDATE SET doc = excluded.doc
    $$""",
    """CREATE FUNCTION case_search_case() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM case_search_refresh(NEW.id);
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION case_search_message() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'DELETE' AND NEW.case_id IS NOT NULL THEN
            PERFORM case_search_refresh(NEW.case_id);
        END IF;
        IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.case_id IS DISTINCT FROM NEW.case_id) THEN
            IF OLD.case_id IS NOT NULL THEN
                PERFORM case_search_refresh(OLD.case_id);
            END IF;
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER case_search_case AFTER INSERT OR UPDATE OF subject, complainant, complainant_name ON cases "
    "FOR EACH ROW EXECUTE FUNCTION case_search_case()",
    "CREATE TRIGGER case_search_message AFTER INSERT OR DELETE OR UPDATE OF subject, text, sender, complainant, "
    "case_id ON messages FOR EACH ROW EXECUTE FUNCTION case_search_message()",
    f"INSERT INTO case_search (case_id, doc) SELECT c.id, {_PG_DOC} FROM cases c",
]


def upgrade() -> None:
    # the register's default order: the newest first
    op.create_index(op.f('ix_cases_received_at'), 'cases', ['received_at'], unique=False)
    name = op.get_bind().dialect.name
    for statement in _SQLITE if name == "sqlite" else _PG if name == "postgresql" else []:
        op.execute(statement)


def downgrade() -> None:
    op.drop_index(op.f('ix_cases_received_at'), table_name='cases')
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("case_insert", "case_update", "case_delete", "message_insert", "message_update",
                        "message_moved", "message_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS case_search_{trigger}")
        op.execute("DROP TABLE IF EXISTS case_search")
    elif op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_search_message ON messages")
        op.execute("DROP TRIGGER IF EXISTS case_search_case ON cases")
        op.execute("DROP TABLE IF EXISTS case_search")
        op.execute("DROP FUNCTION IF EXISTS case_search_message()")
        op.execute("DROP FUNCTION IF EXISTS case_search_case()")
        op.execute("DROP FUNCTION IF EXISTS case_search_refresh(integer)")
