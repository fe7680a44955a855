"""Review UI and account commands: serve, user add/list/orgs/email/disable/password, corrections export."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from triage.cli import _sessions, _settings, config_option, deps_for, friendly, main
from triage.errors import ConfigError


@main.command()
@config_option
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="The port to listen on.")
@click.option("--threads", default=8, show_default=True, type=int, help="Worker threads of the WSGI server.")
@friendly
def serve(config_path: Path, host: str, port: int, threads: int) -> None:
    """Serve the review web UI with waitress (a production WSGI server)."""
    settings = _settings(config_path)
    sessions = _sessions(settings)
    from waitress import serve as waitress_serve

    from triage.web import create_app
    from triage.web.config import exposure_warning

    app = create_app(settings, sessions)
    warning = exposure_warning(settings, host)
    if warning:
        click.echo(warning, err=True)
    click.echo(f"review UI on http://{host}:{port}/ (stop with Ctrl-C)", err=True)
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="klachten-triage")
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}; pass another --port") from None


@main.group()
def user() -> None:
    """Accounts for the review web UI."""


main.add_command(user, "users")
ORG_OPTION = click.option("--org", "organisations", multiple=True, metavar="ID",
                          help="An organisation (its id in the config) whose cases the account sees; repeatable.")
ALL_OPTION = click.option("--all-organisations", is_flag=True,
                          help="The account sees every organisation, also ones configured later.")


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["staff", "coordinator", "admin"]), required=True,
              help="staff review and handle cases; a coordinator may also reopen ended ones; admin also manages "
              "users and models.")
@click.option("--email", default=None, metavar="ADDRESS", help="Where the account's daily digest goes.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of asking.")
@ORG_OPTION
@ALL_OPTION
@config_option
@friendly
def user_add(name: str, role: str, email: str | None, password_stdin: bool, organisations: tuple[str, ...],
             all_organisations: bool, config_path: Path) -> None:
    """Add an account (the password is asked twice, or read from stdin). Staff see only the
    organisations given with --org (or all with --all-organisations); admins see all."""
    settings = _settings(config_path)
    from triage.services import accounts

    deps = deps_for(settings)
    accounts.email_address(email)  # a bad address is refused before the password is asked
    added = accounts.add(deps, name, _password(password_stdin), role, organisations, all_organisations, email=email)
    click.echo(f"added {role} {name}" + (f" <{added.email}>" if added.email else ""))
    if role != "admin" and not organisations and not all_organisations:
        click.echo(f"{name} sees no organisation yet: give them one with `triage user orgs {name} --org ID`",
                   err=True)


@user.command("orgs")
@click.argument("name")
@ORG_OPTION
@ALL_OPTION
@config_option
@friendly
def user_orgs(name: str, organisations: tuple[str, ...], all_organisations: bool, config_path: Path) -> None:
    """Set the organisations an account sees (replacing its earlier ones)."""
    from triage.services import accounts

    accounts.set_organisations(deps_for(_settings(config_path)), name, organisations, all_organisations, "cli")
    click.echo(f"{name} sees " + ("every organisation" if all_organisations else ", ".join(organisations) or "none"))


@user.command("email")
@click.argument("name")
@click.argument("address", required=False)
@click.option("--clear", is_flag=True, help="Take the account's e-mail address off (no digest any more).")
@config_option
@friendly
def user_email(name: str, address: str | None, clear: bool, config_path: Path) -> None:
    """Set the e-mail address an account's daily digest goes to (or take it off with --clear)."""
    if bool(address) == clear:
        raise click.UsageError("give either an ADDRESS or --clear")
    from triage.services import accounts

    stored = accounts.set_email(deps_for(_settings(config_path)), name, None if clear else address, actor="cli")
    click.echo(f"{name} gets mail at {stored}" if stored else f"{name} has no e-mail address any more")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("password", hide_input=True, confirmation_prompt=True))


@user.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of asking.")
@config_option
@friendly
def user_password(name: str, password_stdin: bool, config_path: Path) -> None:
    """Give an account a new password (asked twice, or read from stdin); its sessions end."""
    settings = _settings(config_path)
    from triage.services import accounts

    accounts.set_password(deps_for(settings), name, _password(password_stdin), actor="cli")
    click.echo(f"new password set for {name}; its sessions have ended")


@user.command("list")
@config_option
@friendly
def user_list(config_path: Path) -> None:
    """List the accounts."""
    from triage.services import accounts

    for u in accounts.all_accounts(deps_for(_settings(config_path))):
        state = "active" if u.active else "disabled"
        last = u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "never"
        orgs = ("all organisations" if u.all_organisations or u.role == "admin"
                else ", ".join(u.organisations) or "no organisation")
        click.echo(f"{u.name:20} {u.role:11} {state:9} last login {last:16}  {u.email or '-':30}  {orgs}")


@user.command("disable")
@click.argument("name")
@config_option
@friendly
def user_disable(name: str, config_path: Path) -> None:
    """Stop an account from logging in and end its sessions (its corrections stay)."""
    from triage.services import accounts

    accounts.block_user(deps_for(_settings(config_path)), name, actor="cli")
    click.echo(f"disabled {name}")


@main.group()
def corrections() -> None:
    """Staff corrections."""


@corrections.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@config_option
@friendly
def corrections_export(directory: Path, config_path: Path) -> None:
    """Write corrected cases in the corpus format (labels.csv + mail/*.eml) for a human check."""
    from triage.services import review

    count = review.export_corrections(deps_for(_settings(config_path)), directory)
    click.echo(f"{count} corrected case(s) written to {directory}/ (labels.csv and mail/)")


