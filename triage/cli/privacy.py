"""The `triage privacy` commands: `export` writes everything stored about an address into a ZIP
(an access request, AVG art. 15); `erase` shows what an erasure would remove, asks for a
confirmation (`--yes` skips it), refuses cases still open unless `--force`, and erases (art. 17)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from triage.cli import _settings, config_option, deps_for, friendly, main

if TYPE_CHECKING:
    from triage.services.privacy import Plan

organisation_option = click.option("--organisation", "organisation", default=None, metavar="ID",
                                   help="Only this organisation's data (default: every organisation).")


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@main.group("privacy")
def privacy_group() -> None:
    """Access requests and erasure of one e-mail address (AVG art. 15 and 17)."""


@privacy_group.command("export")
@config_option
@click.argument("address")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="The ZIP file to write.")
@organisation_option
@friendly
def export_command(config_path: Path, address: str, out: Path, organisation: str | None) -> None:
    """Write everything stored about ADDRESS (cases, messages, letters, with an index) to a ZIP."""
    from triage.errors import Invalid
    from triage.services import privacy

    if out.is_dir():
        raise Invalid(f"--out {out} is a folder: give a file name, such as inzage.zip")
    deps = deps_for(_settings(config_path))
    made = privacy.access_export(deps, address, "cli", organisation, out=out)
    if made.path is None:
        click.echo(f"nothing found about {privacy.checked_address(address)}: nothing exported")
        return
    click.echo(f"wrote {out}: {_n(made.cases, 'case')}, {_n(made.messages, 'message')}, "
               f"{_n(made.letters, 'letter')}")


def show(plan: Plan) -> None:
    """The plan as the confirmation shows it: one line per case, then the totals."""
    click.echo(f"about {plan.address}:")
    for case in plan.cases:
        state = "OPEN " if case.open else ""
        click.echo(f"  {case.reference}  {case.received:%Y-%m-%d}  {state}{case.status}  "
                   f"{_n(case.messages, 'message')}, {_n(case.letters, 'letter')}")
    click.echo(f"will erase {_n(len(plan.cases), 'case')}, {_n(plan.messages, 'message')} "
               f"({plan.other_messages} outside those cases), {_n(plan.letters, 'letter')}; "
               "kept anonymously: reference, dates, labels, ending")


@privacy_group.command("erase")
@config_option
@click.argument("address")
@click.option("--reason", "reason", default="", help="Why (recorded in the audit log; the address is not).")
@click.option("--force", is_flag=True, help="Also erase cases that are still open.")
@click.option("--yes", "yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
@organisation_option
@friendly
def erase_command(config_path: Path, address: str, reason: str, force: bool, yes: bool,  # noqa: PLR0913
                  organisation: str | None) -> None:
    """Erase everything stored about ADDRESS, keeping an anonymous record of its cases."""
    from triage.errors import Invalid
    from triage.services import privacy

    addr = privacy.checked_address(address)
    if not reason.strip():
        raise Invalid("give the reason for the erasure with --reason TEXT (it is recorded, the address is not)")
    deps = deps_for(_settings(config_path))

    def confirm(plan: Plan) -> bool:
        show(plan)
        return yes or click.confirm("erase all of this for good?", default=False, abort=True)

    done = privacy.erase(deps, addr, reason, "cli", force=force, organisation=organisation, confirm=confirm)
    if done.plan.empty:
        click.echo(f"nothing found about {addr}: nothing erased")
        return
    line = (f"erased {addr}: {_n(done.cases, 'case')} anonymised, {_n(done.messages, 'message')} and "
            f"{_n(done.letters, 'letter')} removed")
    if done.forced and done.plan.open_cases:
        line += f" ({len(done.plan.open_cases)} of them open, forced)"
    if done.from_mailbox:
        line += f"; {done.from_mailbox} deleted from the mailbox"
    click.echo(line)
    if not done.compacted:
        click.echo("the database file could not be compacted now (a reader held it): the erased data is zeroed; "
                   "the next erasure compacts it", err=True)
