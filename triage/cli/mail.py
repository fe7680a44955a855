"""Mailbox and daemon commands: check-config, db upgrade, poll, send, run, and the demo."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from triage import logs
from triage.cli import _settings, config_option, daemon_deps, deps_for, friendly, main
from triage.errors import ConfigError

if TYPE_CHECKING:
    from triage.config import Organisation, Settings
    from triage.services.poll import PollResult


def _with_secrets(config_path: Path) -> Settings:
    """The settings of a command that connects to servers: every secret must be set."""
    from triage.config import check_secrets

    settings = _settings(config_path)
    check_secrets(settings)
    return settings


@main.command("check-config")
@config_option
@click.option("--offline", is_flag=True, help="Check the file only; do not connect to servers.")
@friendly
def check_config(config_path: Path, offline: bool) -> None:
    """Validate a configuration file, its secrets, and (unless --offline) its servers."""
    from triage import config as config_mod

    settings = config_mod.load(config_path)
    config_mod.check_secrets(settings)
    config_mod.check_templates(settings)
    if not offline:
        from triage.services.setup import check_servers

        check_servers(settings)
    for org in settings.organisations.values():
        click.echo(f"{org.id}: {org.name}: {org.mailbox.describe()}" + ("" if offline else " (reachable)"))
        click.echo(f"{org.id}: {org.verification()}")
        click.echo(f"{org.id}: {_digest_plan(org)}")
        click.echo(f"{org.id}: {_retention_plan(org)}")
    if settings.smtp is not None:
        click.echo(f"acknowledgements: {settings.smtp.describe()}" + ("" if offline else " (reachable)"))
    from datetime import datetime

    from triage.dates import AMSTERDAM
    from triage.stages.terms import decree_warning

    warning = decree_warning(datetime.now(AMSTERDAM).date())
    if warning:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"{config_path}: OK")


def _retention_plan(org: Organisation) -> str:
    r = org.retention
    mailbox = "also deleted from the mailbox" if r.delete_from_mailbox else "the mailbox is left alone"
    privacy = (f"acknowledgements link {org.acknowledge.privacy_url}" if org.acknowledge.privacy_url
               else "no privacy statement linked (acknowledge.privacy_url)")
    return (f"personal data kept {r.personal_data_months} months after a case ended, machine mail "
            f"{r.machine_mail_days} days, handled quarantine {r.quarantine_days} days ({mailbox}); {privacy}")


def _digest_plan(org: Organisation) -> str:
    procedure, users = org.procedure, "coordinator/admin users with an e-mail address"
    coordinators = f"{procedure.coordinator} and {users}" if procedure.coordinator else f"{users} only"
    return (f"digest each working day from {procedure.digest_time} (due soon: {procedure.due_soon} working days); "
            f"coordinators: {coordinators}")


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@config_option
@friendly
def db_upgrade(config_path: Path) -> None:
    """Create or upgrade the database schema to the newest version."""
    from triage.services.setup import upgrade

    before, now = upgrade(_settings(config_path))
    click.echo(f"database at revision {now} (was {before or 'empty'})")


@main.command()
@config_option
@click.option("--once/--loop", default=True, show_default=True,
              help="Run one cycle and exit, or keep polling like `triage run`.")
@friendly
def poll(config_path: Path, once: bool) -> None:
    """Poll every organisation's mailbox: fetch, parse, screen and file new mail."""
    deps = daemon_deps(_with_secrets(config_path))
    if not once:
        from triage.worker import run_forever

        run_forever(deps)
        return
    from triage.services.poll import poll_all

    started = time.perf_counter()
    results = poll_all(deps)
    elapsed = time.perf_counter() - started
    for result in results:
        click.echo(_summary(result))
    click.echo(f"done in {elapsed:.2f} s")


def _summary(result: PollResult) -> str:
    if result.busy:
        return f"{result.organisation}: another worker is polling this mailbox right now; left to it"
    total = sum(result.counts.values())
    parts = ", ".join(f"{n} {k}" for k, n in sorted(result.counts.items()))
    stopped = " (stopped early)" if result.stopped else ""
    return f"{result.organisation}: {total} message(s){': ' + parts if parts else ''}; {result.moved} moved{stopped}"


@main.command()
@config_option
@click.option("--once/--loop", default=True, show_default=True,
              help="Send what is due and exit, or keep sending every [outbox] interval until SIGTERM.")
@friendly
def send(config_path: Path, once: bool) -> None:
    """Send the acknowledgements that are due (`triage run` does this every [outbox] interval)."""
    settings = _with_secrets(config_path)
    if settings.smtp is None and settings.outbox.pickup_directory is None:
        raise ConfigError("nothing to send with: add an [smtp] table (or [outbox] pickup_directory) to "
                          f"{config_path}")
    deps = deps_for(settings)
    if not once:
        from triage.worker import run_forever

        run_forever(deps, poll=False)
        return
    from triage.services.send import send_once

    result = send_once(deps)
    click.echo(f"{result.sent} sent, {result.retried} to retry, {result.failed} failed")


@main.command()
@config_option
@friendly
def run(config_path: Path) -> None:
    """Run the daemon: poll every mailbox at its interval until SIGTERM or SIGINT."""
    settings = _with_secrets(config_path)
    deps = daemon_deps(settings)
    from triage.config import ImapMailbox

    for org in settings.organisations.values():
        if isinstance(org.mailbox, ImapMailbox):
            with deps.mailbox(org):
                pass  # fail fast, in one line, on a wrong host or password
    from triage.worker import run_forever

    run_forever(deps, threading.Event())


@main.command()
@click.option("--dir", "directory", default="triage-demo", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Where to create the demo.")
@friendly
def demo(directory: Path) -> None:
    """Create a demo folder (config, SQLite, a Maildir of example mail), poll it once, show the outcome."""
    from triage import config as config_mod
    from triage import demo as demo_mod
    from triage.services.poll import poll_all
    from triage.services.send import send_once

    config_path = demo_mod.create(directory)
    settings = config_mod.load(config_path)
    logs.configure("WARNING")
    deps = daemon_deps(settings)
    results = poll_all(deps)
    for result in results:
        click.echo(_table(result))
        click.echo(_summary(result))
    assert settings.outbox.pickup_directory is not None
    sent = send_once(deps)
    outbox = settings.outbox.pickup_directory
    click.echo(f"\n{sent.sent} acknowledgement(s) written to {outbox}/ (no SMTP server in the demo), e.g.:")
    for path in sorted(outbox.glob("*.eml"))[:3]:
        click.echo(f"  {path}")
    click.echo(f"\nThe demo lives in {directory}/: the filed mail is in {directory}/mail/.Triage.*, the "
               f"database in {directory}/triage.db.\nPoll it again with: triage poll --once --config "
               f"{config_path}")
    password = demo_mod.add_account(deps)
    click.echo(_next_steps(config_path, outbox, password))


def _next_steps(config_path: Path, outbox: Path, password: str) -> str:
    from datetime import date

    from triage.demo import ACCOUNT, ACCOUNT_EMAIL

    return f"""
Take a complaint through the procedure in the browser:
  1. triage serve --config {config_path}
  2. open http://127.0.0.1:8080/ and log in as {ACCOUNT} / {password}
     (a coordinator of Gemeente Lindendal; digest address {ACCOUNT_EMAIL})
  3. open a case, assign it (to {ACCOUNT}), hold or skip the hearing of a formal complaint,
     extend the term once, and answer it
  4. triage send --once --config {config_path}
     writes each letter (extension notice, answer) as an .eml file into {outbox}/

The register, the yearly report and privacy:
  5. in the browser: Register (search, filter, export to Excel) and Jaarverslag (the report, as PDF)
  6. triage report --year {date.today().year} --config {config_path} --out jaarverslag.pdf
  7. triage purge --dry-run --config {config_path}
  8. triage privacy export ADDRESS --config {config_path} --out export.zip
     triage privacy erase ADDRESS --reason TEXT [--force] --config {config_path}"""


def _table(result: PollResult) -> str:
    headers = ("reference", "disposition", "complainant (or sender)", "subject", "reason")
    widths = (15, 11, 30, 38, 60)
    rows = [(r.reference or "-", r.label, r.complainant or f"({r.sender or 'no sender'})", r.subject or "-",
             r.reason or "-") for r in result.rows]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(_fit(c, w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [line(headers), line(tuple("-" * w for w in widths))]
    out += [line(row) for row in rows]
    return "\n".join(out)


def _fit(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"
