"""The `triage report` command: the yearly report (or one over any period) as a PDF or an HTML file."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from triage.cli import _settings, config_option, deps_for, friendly, main
from triage.errors import Invalid

if TYPE_CHECKING:
    from triage.services.report import Period

FORMATS = (".pdf", ".html")


@main.command("report")
@config_option
@click.option("--year", type=int, default=None, help="The calendar year (default: this year).")
@click.option("--from", "start", default=None, metavar="YYYY-MM-DD", help="First day of another period.")
@click.option("--to", "end", default=None, metavar="YYYY-MM-DD", help="Last day of that period (included).")
@click.option("--organisation", default=None, help="One organisation's id (default: every organisation).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write: .pdf or .html.")
@friendly
def report_command(config_path: Path, year: int | None, start: str | None, end: str | None,
                   organisation: str | None, out: Path) -> None:
    """Write the complaints report (Awb 9:12a) of a year or a period: figures, charts and themes,
    aggregates only, every count of 1 to 4 shown as "< 5"."""
    from triage.services import report
    from triage.services.cases import today
    from triage.store.scope import EVERYTHING

    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise Invalid(f"--out {out}: write a .pdf or an .html file")
    if not out.parent.is_dir():
        raise Invalid(f"--out {out}: the folder {out.parent} does not exist")
    settings = _settings(config_path)
    if organisation is not None and organisation not in settings.organisations:
        known = ", ".join(sorted(settings.organisations))
        raise Invalid(f"--organisation {organisation}: not an organisation in the config (known: {known})")
    asked = _period(year, start, end)  # checked before a database is opened (or created)
    deps = deps_for(settings)
    period = asked or report.Period.year(today(deps).year)
    built = report.build(deps, EVERYTHING, period, organisation)
    pages = 1
    if suffix == ".pdf":
        data, pages = report.pdf(built)
    else:
        data = built.html.encode("utf-8")
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise Invalid(f"--out {out}: cannot write: {exc.strerror or exc}") from None
    cases = built.figures.total
    pages_text = f" ({pages} page{'' if pages == 1 else 's'})" if suffix == ".pdf" else ""
    click.echo(f"wrote {out}: {built.period.label() if period.whole_year else _iso(period)}, {built.organisation}, "
               f"{cases} case{'' if cases == 1 else 's'}{pages_text}")


def _iso(period: Period) -> str:
    return f"{period.start.isoformat()} to {period.last.isoformat()}"


def _day(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(f"{option} {value!r}: write the day as YYYY-MM-DD, e.g. 2026-01-01") from None


def _period(year: int | None, start: str | None, end: str | None) -> Period | None:
    """The period the options ask for; None: this year."""
    from datetime import timedelta

    from triage.services.report import Period

    if (start is None) != (end is None):
        raise Invalid("give both --from and --to, or neither")
    if start is not None and end is not None:
        if year is not None:
            raise Invalid("give --year or --from/--to, not both")
        period = Period(_day("--from", start), _day("--to", end) + timedelta(days=1))
        if period.end <= period.start:
            raise Invalid(f"--to {end} comes before --from {start}")
        return period
    if year is None:
        return None
    if not 1900 <= year <= 9998:
        raise Invalid(f"--year {year}: not a year")
    return Period.year(year)
