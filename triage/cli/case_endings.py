"""`triage case answer/close/reopen/merge/split`: the commands that end a case, open it again,
or join and part it (the rest of `triage case` is in `triage.cli.cases`)."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import click

from triage.cli import _settings, config_option, deps_for, friendly
from triage.cli.cases import (
    ENDINGS,
    JUDGEMENTS,
    NOT_HANDLED_GROUNDS,
    _letter,
    _perform,
    _status,
    as_option,
    case,
)


@case.command("answer")
@click.argument("ref")
@click.option("--text-file", "text_file", type=click.File("r", encoding="utf-8"), required=True, metavar="F",
              help="The text of the answer ('-': standard input); the letter is composed around it.")
@click.option("--judgement", type=click.Choice(JUDGEMENTS), default=None,
              help="A formal complaint's judgement: founded, partly_founded, unfounded or no_judgement.")
@click.option("--preview", is_flag=True, help="Print the letter as the complainant will read it; send nothing.")
@as_option
@config_option
@friendly
def case_answer(ref: str, text_file: IO[str], judgement: str | None, preview: bool, as_user: str | None,
                config_path: Path) -> None:
    """Send the written answer (the letter around the text, as in the browser), or --preview it."""
    from triage.procedure import Action
    from triage.services import case_info, cases

    request = cases.Request(Action.ANSWER, text=text_file.read(), judgement=judgement or "")
    if preview:
        deps = deps_for(_settings(config_path))
        click.echo(cases.preview(deps, ref, case_info.actor(deps, as_user), request))
        return
    done = _perform(config_path, as_user, ref, request)
    click.echo(f"{done.reference}: beantwoord ({_status(done)}){_letter(done)}")


@case.command("close")
@click.argument("ref")
@click.option("--ending", type=click.Choice(ENDINGS), required=True, help="How the case ends.")
@click.option("--note", default="", help="Why, for the file (and the notice, where one goes out).")
@click.option("--ground", type=click.Choice(NOT_HANDLED_GROUNDS), default=None,
              help="With --ending not_handled: the ground of Awb 9:8.")
@click.option("--to", "to", default="", metavar="ORG", help="With --ending forwarded: who the case went to.")
@as_option
@config_option
@friendly
def case_close(ref: str, ending: str, note: str, ground: str | None, to: str, as_user: str | None,  # noqa: PLR0913
               config_path: Path) -> None:
    """Close a case without a written answer (resolved, not handled, forwarded, withdrawn, ...)."""
    from triage.domain import CaseStatus
    from triage.procedure import Action
    from triage.services.cases import Request

    request = Request(Action.CLOSE, ending=CaseStatus(ending), note=note, ground=ground or "", to=to)
    done = _perform(config_path, as_user, ref, request)
    click.echo(f"{done.reference}: afgesloten als {_status(done)}{_letter(done)}")


@case.command("reopen")
@click.argument("ref")
@click.option("--reason", required=True, help="Why the ended case is opened again (for the file).")
@as_option
@config_option
@friendly
def case_reopen(ref: str, reason: str, as_user: str | None, config_path: Path) -> None:
    """Open an ended case again (a coordinator or administrator)."""
    from triage.procedure import Action
    from triage.services.cases import Request

    done = _perform(config_path, as_user, ref, Request(Action.REOPEN, note=reason))
    click.echo(f"{done.reference}: heropend ({_status(done)})")


@case.command("merge")
@click.argument("ref")
@click.option("--into", "into", required=True, metavar="EARLIER_REF", help="The earlier case this one joins.")
@as_option
@config_option
@friendly
def case_merge(ref: str, into: str, as_user: str | None, config_path: Path) -> None:
    """Join a case to an earlier one of the same complainant."""
    from triage.procedure import Action
    from triage.services.cases import Request

    done = _perform(config_path, as_user, ref, Request(Action.MERGE, into=into.strip().upper()))
    click.echo(f"{done.reference}: samengevoegd met {into.strip().upper()}")


@case.command("split")
@click.argument("ref")
@as_option
@config_option
@friendly
def case_split(ref: str, as_user: str | None, config_path: Path) -> None:
    """Part a merged case from the case it was joined to."""
    from triage.procedure import Action
    from triage.services.cases import Request

    done = _perform(config_path, as_user, ref, Request(Action.SPLIT))
    click.echo(f"{done.reference}: weer een zaak op zich ({_status(done)})")
