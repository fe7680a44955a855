"""The `triage digest` command: the daily digest of one day, now (the worker sends it by itself)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from triage.cli import _settings, config_option, deps_for, friendly, main
from triage.errors import Invalid

if TYPE_CHECKING:
    from triage.services.digest import Outcome


@main.command("digest")
@config_option
@click.option("--date", "day", default=None, metavar="YYYY-MM-DD", help="The day of the digest (default: today).")
@click.option("--dry-run", is_flag=True, help="Print what each recipient would get; write nothing.")
@friendly
def digest_command(config_path: Path, day: str | None, dry_run: bool) -> None:
    """Queue the daily digest of a day now: one line per recipient. Each address gets one digest a
    day at most, whoever (the worker, this command) queues it first; `triage send` or `triage run`
    sends it."""
    from triage.services import digest
    from triage.services.cases import today

    deps = deps_for(_settings(config_path))
    result = digest.run(deps, _parse(day) if day is not None else today(deps), dry_run=dry_run)
    if not result.organisations:
        click.echo(f"{result.day.isoformat()}: not a working day for any organisation: no digest")
        return
    if not result.recipients:
        click.echo("nobody to send a digest to: no active user has an e-mail address and no "
                   "[organisations.X.procedure] coordinator is set")
    for outcome in result.recipients:
        click.echo(_line(outcome, result.day))
        if outcome.status == "dry_run":
            click.echo("".join(f"    {line}\n" if line else "\n" for line in outcome.text.splitlines()), nl=False)


def _parse(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(f"--date {value!r}: write the day as YYYY-MM-DD, e.g. 2026-12-03") from None


def _line(outcome: Outcome, day: date) -> str:
    cases = f"{outcome.cases} case{'' if outcome.cases == 1 else 's'}"
    words = {
        "sent": f"queued, {cases}",
        "already": f"already queued for {day.isoformat()}, {cases}",
        "skipped": "nothing to say, no digest",
        "waiting": f"waits for digest_time, {cases}",
        "dry_run": f"would get {cases} (dry run, nothing written)",
        "failed": f"FAILED: {outcome.text}",
    }
    who = f"{outcome.address} ({outcome.name})" if outcome.name else outcome.address
    return f"{who}: {words[outcome.status]}"
