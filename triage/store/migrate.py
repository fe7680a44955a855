"""Create and upgrade the database schema with the Alembic migrations shipped in the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from triage.errors import ConfigError

MIGRATIONS = Path(__file__).with_name("migrations")


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def ensure_current(engine: Engine) -> bool:
    """Upgrade an empty database; refuse an out-of-date one. Returns True if it created the schema."""
    rev = current(engine)
    if rev == head():
        return False
    if rev is None:
        tables = set(inspect(engine).get_table_names())
        if tables:
            raise ConfigError(
                f"database {engine.url.render_as_string(hide_password=True)} holds tables but no schema "
                "version: it is not a klachten-triage database; point [database].url elsewhere"
            )
        upgrade(engine)
        return True
    raise ConfigError(
        f"database schema is at revision {rev}, this version needs {head()}: run `triage db upgrade`"
    )
