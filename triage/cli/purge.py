"""The `triage purge` command: remove the personal data whose retention period is over (the worker
does it daily); `--dry-run` lists what would go and changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from triage.cli import _settings, config_option, deps_for, friendly, main

if TYPE_CHECKING:
    from triage.services.purge import OrgPlan, OrgResult

SHOWN = 20  # case references listed per organisation


@main.command("purge")
@config_option
@click.option("--dry-run", is_flag=True, help="List what would go, per organisation; change nothing.")
@click.option("--organisation", "organisation", default=None, metavar="ID", help="Only this organisation.")
@friendly
def purge_command(config_path: Path, dry_run: bool, organisation: str | None) -> None:
    """Anonymise the cases ended longer ago than the retention period and purge expired machine
    mail, duplicates, handled quarantined messages and access-log rows (each organisation's
    [organisations.X.retention]). Reference, dates, labels and ending stay for the yearly figures."""
    from triage.services import purge

    deps = deps_for(_settings(config_path))
    if dry_run:
        found = purge.plan(deps, organisation=organisation)
        click.echo(f"dry run for {found.today.isoformat()}: nothing is changed")
        for org_plan in found.organisations:
            click.echo("\n".join(_planned(org_plan)))
        return
    result = purge.run(deps, organisation=organisation)
    for out in result.organisations:
        click.echo("\n".join(_done(out)))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _references(refs: list[str]) -> str:
    more = f", and {len(refs) - SHOWN} more" if len(refs) > SHOWN else ""
    return ", ".join(refs[:SHOWN]) + more


def _planned(p: OrgPlan) -> list[str]:
    r, c = p.retention, p.cutoffs
    refs = [f"{e.reference} (merged into {e.joined})" if e.joined else e.reference for e in p.cases]
    lines = [
        f"{p.organisation} ({p.name}):",
        f"  cases ended before {c.ended_before.isoformat()} ({r.personal_data_months} months): "
        + _plural(len(p.cases), "case") + (f": {_references(refs)}" if refs else ""),
        f"  machine mail and duplicates received before {c.machine_before.date().isoformat()} "
        f"({r.machine_mail_days} days): {_plural(p.count('machine'), 'message')}",
        f"  quarantined messages handled before {c.handled_before.date().isoformat()} "
        f"({r.quarantine_days} days): {_plural(p.count('quarantine'), 'message')}",
        f"  access log rows before {c.access_before.date().isoformat()}: {p.access_rows}",
    ]
    if r.delete_from_mailbox:
        lines.append("  mailbox: their copies would be deleted from the mailbox folders too")
    else:
        lines.append("  mailbox: left alone (retention.delete_from_mailbox = false)")
    return lines


def _done(out: OrgResult) -> list[str]:
    lines = [f"{out.organisation} ({out.name}): anonymised {_plural(len(out.cases), 'case')}"
             + (f" ({_references(out.cases)})" if out.cases else "")
             + f" with {_plural(out.case_messages, 'message')}; purged {_plural(out.messages, 'other message')}; "
             f"deleted {_plural(out.access_rows, 'access log row')}; " + _mailbox(out)]
    if out.left:  # the mailbox could not be reached
        lines.append(f"  mailbox unreachable: {_plural(out.left, 'item')} left for the next run ({out.error})")
    return lines


def _mailbox(out: OrgResult) -> str:
    if not out.delete_from_mailbox:
        return "mailbox left alone"
    return f"deleted {out.mailbox_deleted} cop{'y' if out.mailbox_deleted == 1 else 'ies'} from the mailbox"
