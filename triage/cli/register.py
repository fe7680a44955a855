"""The `triage register` command: the complaints register (every organisation's, or some), searched
and filtered like the register page, written as CSV for Dutch Excel or as an Excel workbook."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from triage.cli import _settings, config_option, deps_for, friendly, main
from triage.errors import Invalid


@main.command("register")
@config_option
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write: FILE.csv or FILE.xlsx.")
@click.option("--organisation", "organisations", multiple=True, metavar="ID",
              help="Only this organisation's cases (repeat for more; default: every organisation).")
@click.option("--search", default="", help="Only cases with all these words (subject, messages, complainant).")
@click.option("--from", "start", default=None, metavar="YYYY-MM-DD", help="Received on or after this day.")
@click.option("--to", "end", default=None, metavar="YYYY-MM-DD", help="Received on or before this day.")
@click.option("--status", default="", help="A status (e.g. answered), or open / ended.")
@friendly
def register_command(config_path: Path, out: Path, organisations: tuple[str, ...], search: str, start: str | None,
                     end: str | None, status: str) -> None:
    """Write the register (Awb 9:12a) with Dutch column names, at most 100 000 cases, newest first."""
    from triage.services import register
    from triage.store.scope import EVERYTHING, Scope
    from triage.web.words import VALUES

    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise Invalid(f"--out {out}: write a .csv or an .xlsx file")
    deps = deps_for(_settings(config_path))
    unknown = sorted(set(organisations) - set(deps.settings.organisations))
    if unknown:
        raise Invalid(f"--organisation {unknown[0]!r} is not configured "
                      f"(configured: {', '.join(sorted(deps.settings.organisations))})")
    if status and status not in (*register.STATUS_GROUPS, *register.STATUSES):
        raise Invalid(f"--status {status!r}: use open, ended or one of {', '.join(register.STATUSES)}")
    query = register.Query(text=search, received_from=_day("--from", start), received_to=_day("--to", end),
                           status=status)
    scope = Scope(frozenset(organisations)) if organisations else EVERYTHING
    labels = register.Labels(values=VALUES)
    total = min(register.register_page(deps, query, scope).total, register.EXPORT_LIMIT)
    try:
        if out.suffix.lower() == ".csv":
            with out.open("w", encoding="utf-8", newline="") as handle:
                handle.writelines(register.export_csv(deps, query, scope, labels, "cli"))
        else:
            out.write_bytes(register.export_xlsx(deps, query, scope, labels, "cli"))
    except OSError as exc:
        raise Invalid(f"--out {out}: cannot write it: {exc.strerror or exc}") from None
    click.echo(f"wrote {total} case{'' if total == 1 else 's'} to {out}")


def _day(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(f"{option} {value!r}: write the day as YYYY-MM-DD, e.g. 2026-03-24") from None
