"""The `triage` command: a thin shell over config, services, store, pipeline and worker.

This module holds the main group and what its commands share (options, `friendly`, settings, engine,
`deps_for`); the commands live in `mail` (mailbox and daemon), `models` (corpus, training,
classifying) and `users` (review UI, accounts, corrections). Every user mistake (config,
unreachable server) is one line on stderr and exit code 2.

Only click is imported up front, so that `triage --help` is quick: pydantic, SQLAlchemy, alembic
and scikit-learn are imported by the commands that use them.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from triage import logs
from triage.errors import TriageError

if TYPE_CHECKING:  # scikit-learn takes 0.6 s to import: only the commands that classify load it
    from sqlalchemy.orm import Session, sessionmaker

    from triage.config import Settings
    from triage.services.deps import Deps
    from triage.training.model import Classifier

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_CONFIG = "triage.toml"  # triage.config.DEFAULT_CONFIG, not imported from there: pydantic is slow to load

config_option = click.option(
    "--config", "config_path", default=DEFAULT_CONFIG, show_default=True,
    type=click.Path(dir_okay=False, path_type=Path), help="The TOML configuration file.",
)


def friendly(fn: F) -> F:
    """Turn TriageError (and database errors) into one line on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TriageError as exc:
            click.echo(f"triage: error: {exc}", err=True)
            sys.exit(2)
        except Exception as exc:
            if not _is_database_error(exc):
                raise
            orig = getattr(exc, "orig", None)
            first = (str(orig if orig is not None else exc).strip().splitlines() or ["error"])[0]
            click.echo(f"triage: error: database: {first}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def _is_database_error(exc: Exception) -> bool:
    """An SQLAlchemy error, found without importing SQLAlchemy: a command that never loaded it
    cannot have raised one."""
    sa_exc = sys.modules.get("sqlalchemy.exc")
    return sa_exc is not None and isinstance(exc, sa_exc.SQLAlchemyError)


def _settings(path: Path) -> Settings:
    from triage import config as config_mod

    settings = config_mod.load(path)
    logs.configure(settings.logging.level, settings.logging.format)
    return settings


def _sessions(settings: Settings) -> sessionmaker[Session]:
    """Sessions on the configured database, its schema created if it is empty (and said so)."""
    from triage.services.setup import open_sessions

    sessions, created = open_sessions(settings)
    if created:
        click.echo(f"created the database schema in {created}", err=True)
    return sessions


def deps_for(settings: Settings, models: Path | None = None, *, database: bool = True) -> Deps:
    """The services' dependencies for a command: `models` overrides the config's model folder; with
    `database=False` (a command that must not need one) no database is opened or created."""
    from sqlalchemy.orm import sessionmaker

    from triage.services.deps import build

    sessions = _sessions(settings) if database else sessionmaker()  # unbound: no queries
    deps = build(settings, sessions, models=models)

    def current() -> Classifier | None:  # scikit-learn is imported only by a command that classifies
        from triage.services.models import load_current

        return load_current(deps)

    return dataclasses.replace(deps, classifier=current)


def daemon_deps(settings: Settings) -> Deps:
    """Dependencies for commands that file mail: the current model, swapped when CURRENT changes."""
    from triage.services.deps import build
    from triage.services.models import CurrentModel, load_current

    deps = build(settings, _sessions(settings))
    classifier = load_current(deps)
    if classifier is None:
        click.echo("no classification model yet: every new case goes to review (run `triage train`)", err=True)
    return dataclasses.replace(deps, classifier=CurrentModel(deps.models, classifier).get)


models_option = click.option("--models", "models", default=None, type=click.Path(file_okay=False, path_type=Path),
                             help="The models folder (default: the config's [model] directory where the command "
                             "reads a config, else ./models, else the one beside the package).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="klachten-triage")
def main() -> None:
    """klachten-triage: fetch, screen, file and acknowledge the mail of a complaints mailbox."""
    logs.configure("WARNING")  # commands that read a config file apply its [logging] settings


from triage.cli import cases, digest, mail, models, privacy, purge, register, report, users  # noqa: E402  (registers their commands on `main`)

__all__ = ["cases", "config_option", "deps_for", "digest", "friendly", "main", "mail", "models", "models_option",
           "privacy", "purge", "register", "report",
           "users"]
