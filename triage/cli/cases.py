"""`triage case ...`: working a case from the command line (show, assign, contact, hearing, extend,
answer, close, reopen, merge, split). Each command parses its arguments, calls
`triage.services.cases` (or the read-only `case_info`) and prints one line; the rules are the
procedure's. A refusal is its Dutch sentence on stderr and exit code 2."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from triage.cli import _settings, config_option, deps_for, friendly, main

if TYPE_CHECKING:
    from triage.services.case_info import CaseInfo
    from triage.services.cases import Done, Request

DAY = click.DateTime(formats=["%Y-%m-%d"])
LETTERS = {"extension": "de verlengingsbrief", "consent": "de brief over het uitstel", "answer": "de antwoordbrief",
           "not_handled": "het bericht dat de klacht niet in behandeling wordt genomen",
           "forwarded": "het bericht over het doorzenden"}
ENDINGS = ("resolved", "not_handled", "forwarded", "withdrawn", "question_answered", "not_a_complaint")
JUDGEMENTS = ("founded", "partly_founded", "unfounded", "no_judgement")
SKIP_GROUNDS = ("unfounded", "waived", "no_reply")
NOT_HANDLED_GROUNDS = ("handled_before", "over_a_year", "objection_possible", "court", "criminal", "trivial")

as_option = click.option("--as", "as_user", default=None, metavar="USER",
                         help="Act as this active user (their role and organisations apply); default: the CLI "
                         "acts as an administrator named 'cli' with every organisation.")


@main.group()
def case() -> None:
    """Work a case: show it, assign it, record the hearing, extend, answer, close, reopen, merge, split."""


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _long(day: date | None) -> str:
    from triage.dates import long_date

    return long_date(day, "nl") if day is not None else "–"


def _perform(config_path: Path, as_user: str | None, ref: str, request: Request) -> Done:
    from triage.services import case_info, cases

    deps = deps_for(_settings(config_path))
    return cases.perform(deps, ref, case_info.actor(deps, as_user), request)


def _letter(done: Done) -> str:
    if done.no_address:
        return "; er is geen adres om de brief naartoe te sturen"
    return f"; {LETTERS.get(done.letter, 'de brief')} staat in de outbox" if done.letter else ""


def _status(done: Done) -> str:
    from triage.procedure_text import STATES

    return STATES.get(done.status, done.status)


@case.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (ISO dates) instead of text.")
@as_option
@config_option
@friendly
def case_show(ref: str, as_json: bool, as_user: str | None, config_path: Path) -> None:
    """Show a case: its state, labels, dates, hearing, extension, letters and timeline."""
    from triage.services import case_info

    deps = deps_for(_settings(config_path))
    info = case_info.show(deps, ref, case_info.actor(deps, as_user))
    if as_json:
        click.echo(json.dumps(info.as_json(), ensure_ascii=False, indent=2, sort_keys=True))
        return
    for line in _show_lines(info):
        click.echo(line)


def _due_words(info: CaseInfo) -> str:
    if info.due is None:
        return "–"
    left = info.days_left
    if left is None or info.ended_on or info.answered_on:
        return _long(info.due)
    if left < 0:
        return f"{_long(info.due)} ({-left} {'dag' if left == -1 else 'dagen'} te laat)"
    return f"{_long(info.due)} (nog {left} {'dag' if left == 1 else 'dagen'})"


def _show_lines(info: CaseInfo) -> list[str]:
    from triage.dates import short_datetime

    who = f"{info.complainant_name} <{info.complainant}>" if info.complainant_name else info.complainant or "–"
    lines = [f"{info.reference}  {info.status_words} ({info.status})",
             f"  organisatie   {info.organisation}",
             f"  onderwerp     {info.subject}",
             f"  indeling      {info.kind or '–'} · {info.topic or '–'} · {info.formality or '–'}",
             f"  klager        {who}",
             f"  behandelaar   {info.handler or '–'}",
             f"  ontvangen     {short_datetime(info.received)}",
             f"  uiterlijk     {_due_words(info)}" + (f"  [{info.term}]" if info.term else ""),
             f"  horen         {info.hearing_words}" + (f" op {_long(info.hearing_date)}" if info.hearing_date
                                                         else "")]
    if info.extensions:
        lines.append(f"  verdaagd      van {_long(info.due_before_extension)}")
    if info.consent_date:
        lines.append(f"  instemming    van de klager op {_long(info.consent_date)}")
    if info.ended_on or info.answered_on:
        on_time = {True: "op tijd", False: "te laat", None: ""}[info.on_time]
        lines.append(f"  afgerond      {_long(info.answered_on or info.ended_on)} {on_time}".rstrip()
                     + (f", oordeel {info.judgement}" if info.judgement else ""))
    if info.merged_into:
        lines.append(f"  samengevoegd  met {info.merged_into}")
    if info.draft:
        lines.append("  concept       er staat een onverzonden antwoord klaar")
    lines.append("brieven:")
    lines += [f"  {short_datetime(a.created)}  {a.kind:12} {a.status:10} {a.recipient}" for a in info.letters]
    lines.append("tijdlijn:")
    for event in info.timeline:
        detail = " ".join(f"{k}={v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)}"
                          for k, v in sorted(event.detail.items()) if v not in ("", None, [], {}))
        lines.append(f"  {short_datetime(event.at)}  {event.actor:12} {event.action:24} {detail}".rstrip())
    return lines


@case.command("assign")
@click.argument("ref")
@click.argument("user", required=False)
@click.option("--none", "unassign", is_flag=True, help="Take the handler off (the same as USER '-').")
@as_option
@config_option
@friendly
def case_assign(ref: str, user: str | None, unassign: bool, as_user: str | None, config_path: Path) -> None:
    """Give a case a handler (USER), or take the handler off (USER '-' or --none)."""
    from triage.procedure import Action
    from triage.services.cases import Request

    if (unassign and user not in (None, "-")) or (not unassign and not user):
        raise click.UsageError("give either a USER ('-' for nobody) or --none")
    handler = "" if unassign or user == "-" else str(user)
    done = _perform(config_path, as_user, ref, Request(Action.ASSIGN, handler=handler))
    click.echo(f"{done.reference}: behandelaar is nu {handler}" if handler
               else f"{done.reference}: zonder behandelaar ({_status(done)})")


@case.command("contact")
@click.argument("ref")
@click.option("--note", required=True, help="What was said (a phone call, a meeting); it goes into the file.")
@as_option
@config_option
@friendly
def case_contact(ref: str, note: str, as_user: str | None, config_path: Path) -> None:
    """Record contact with the complainant (a phone call, a meeting)."""
    from triage.procedure import Action
    from triage.services.cases import Request

    done = _perform(config_path, as_user, ref, Request(Action.CONTACT, note=note))
    click.echo(f"{done.reference}: contact vastgelegd")


@case.command("hearing")
@click.argument("ref")
@click.option("--planned", type=DAY, default=None, metavar="DATE", help="Plan the hearing on this day.")
@click.option("--held", is_flag=True, help="The hearing was held (give its --report).")
@click.option("--report", type=click.File("r", encoding="utf-8"), default=None, metavar="FILE",
              help="The report of the hearing ('-': standard input).")
@click.option("--on", "held_on", type=DAY, default=None, metavar="DATE", help="The day it was held (default today).")
@click.option("--skipped", type=click.Choice(SKIP_GROUNDS), default=None, metavar="REASON",
              help="No hearing (Awb 9:10 lid 2): unfounded, waived or no_reply.")
@click.option("--note", default="", help="A note for the file.")
@as_option
@config_option
@friendly
def case_hearing(ref: str, planned: datetime | None, held: bool, report: IO[str] | None,  # noqa: PLR0913
                 held_on: datetime | None, skipped: str | None, note: str, as_user: str | None,
                 config_path: Path) -> None:
    """Record the hearing of a formal complaint: --planned DATE, --held --report FILE, or --skipped REASON."""
    from triage.procedure import Action
    from triage.procedure_text import SKIP_GROUNDS as SKIP_WORDS
    from triage.services.cases import Request

    if sum((planned is not None, held, skipped is not None)) != 1:
        raise click.UsageError("give one of --planned DATE, --held --report FILE, --skipped REASON")
    if planned is not None:
        done = _perform(config_path, as_user, ref, Request(Action.PLAN_HEARING, on=_day(planned), note=note))
        click.echo(f"{done.reference}: horen gepland op {_long(_day(planned))}")
    elif held:
        text = report.read() if report is not None else ""
        done = _perform(config_path, as_user, ref, Request(Action.HOLD_HEARING, text=text, on=_day(held_on),
                                                           note=note))
        click.echo(f"{done.reference}: horen gehouden; het verslag staat in het dossier")
    else:
        done = _perform(config_path, as_user, ref, Request(Action.SKIP_HEARING, ground=str(skipped), note=note))
        click.echo(f"{done.reference}: afgezien van horen: {SKIP_WORDS.get(str(skipped), skipped)}")


@case.command("extend")
@click.argument("ref")
@click.option("--note", default="", help="Why (it goes into the letter and the file).")
@click.option("--consent-date", type=DAY, default=None, metavar="DATE",
              help="A further delay: the day the complainant agreed to it in writing (Awb 9:11 lid 3).")
@click.option("--until", type=DAY, default=None, metavar="DATE", help="With --consent-date: the new due date.")
@as_option
@config_option
@friendly
def case_extend(ref: str, note: str, consent_date: datetime | None, until: datetime | None, as_user: str | None,
                config_path: Path) -> None:
    """Extend a formal complaint's term once (Awb 9:11 lid 2), or further with the complainant's consent."""
    from triage.procedure import Action
    from triage.services.cases import Request

    if consent_date is None and until is None:
        done = _perform(config_path, as_user, ref, Request(Action.EXTEND, note=note))
        click.echo(f"{done.reference}: verdaagd tot {_long(done.due)}{_letter(done)}")
        return
    request = Request(Action.EXTEND_WITH_CONSENT, note=note, consent=_day(consent_date), until=_day(until))
    done = _perform(config_path, as_user, ref, request)
    click.echo(f"{done.reference}: met instemming van de klager uitgesteld tot {_long(done.due)}{_letter(done)}")


from triage.cli import case_endings  # noqa: E402,F401  (answer, close, reopen, merge, split)
