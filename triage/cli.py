"""The `triage` command: a thin shell over config, store, pipeline and worker.

Every user mistake (config, unreachable server) is one line on stderr and exit code 2.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from triage import config as config_mod
from triage import logs
from triage.config import ImapMailbox, Settings
from triage.errors import ConfigError, TriageError
from triage.store import migrate, repo

if TYPE_CHECKING:  # scikit-learn takes 0.6 s to import: only the commands that classify load it
    from triage.pipeline import PollResult
    from triage.services.classify import ClassifiedFile
    from triage.services.deps import Deps
    from triage.training.model import Classifier

F = TypeVar("F", bound=Callable[..., Any])

config_option = click.option(
    "--config", "config_path", default=config_mod.DEFAULT_CONFIG, show_default=True,
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
        except SQLAlchemyError as exc:
            orig = getattr(exc, "orig", None)
            first = (str(orig if orig is not None else exc).strip().splitlines() or ["error"])[0]
            click.echo(f"triage: error: database: {first}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def _settings(path: Path) -> Settings:
    settings = config_mod.load(path)
    logs.configure(settings.logging.level, settings.logging.format)
    return settings


def _engine(settings: Settings, create: bool = True) -> Engine:
    engine = repo.open_engine(settings.database.url)
    if create and migrate.ensure_current(engine):
        click.echo(f"created the database schema in {engine.url.render_as_string(hide_password=True)}",
                   err=True)
    return engine


def deps_for(settings: Settings, models: Path | None = None, *, database: bool = True) -> Deps:
    """The services' dependencies for a command: `models` overrides the config's model folder; with
    `database=False` (a command that must not need one) no database is opened or created."""
    from sqlalchemy.orm import sessionmaker

    from triage.services.deps import Deps
    from triage.training.registry import load_for_run, models_dir

    directory = models_dir(models or settings.model.directory)
    sessions = repo.session_factory(_engine(settings)) if database else sessionmaker()  # unbound: no queries
    return Deps(settings=settings, sessions=sessions, worker_id=repo.WORKER_ID, models=directory,
                classifier=lambda: load_for_run(directory))


def _classifier(settings: Settings) -> Classifier | None:
    from triage.training.registry import load_for_run

    classifier = load_for_run(settings.model.directory)
    if classifier is None:
        click.echo("no classification model yet: every new case goes to review (run `triage train`)", err=True)
    return classifier


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="klachten-triage")
def main() -> None:
    """klachten-triage: fetch, screen, file and acknowledge the mail of a complaints mailbox."""
    logs.configure("WARNING")  # commands that read a config file apply its [logging] settings


@main.command("check-config")
@config_option
@click.option("--offline", is_flag=True, help="Check the file only; do not connect to servers.")
@friendly
def check_config(config_path: Path, offline: bool) -> None:
    """Validate a configuration file, its secrets, and (unless --offline) its servers."""
    settings = config_mod.load(config_path)
    config_mod.check_secrets(settings)
    if not offline:
        repo.open_engine(settings.database.url).dispose()
        from triage.mailboxes import open_mailbox

        for org in settings.organisations.values():
            with open_mailbox(org) as box:
                box.uidvalidity(box.source_folder)
        if settings.smtp is not None and settings.outbox.pickup_directory is None:
            from triage.outbox import SmtpTransport

            with SmtpTransport(settings.smtp):
                pass
    for org in settings.organisations.values():
        click.echo(f"{org.id}: {org.name}: {org.mailbox.describe()}" + ("" if offline else " (reachable)"))
    if settings.smtp is not None:
        click.echo(f"acknowledgements: {settings.smtp.describe()}" + ("" if offline else " (reachable)"))
    click.echo(f"{config_path}: OK")


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@config_option
@friendly
def db_upgrade(config_path: Path) -> None:
    """Create or upgrade the database schema to the newest version."""
    settings = _settings(config_path)
    engine = repo.open_engine(settings.database.url)
    before = migrate.current(engine)
    migrate.upgrade(engine)
    click.echo(f"database at revision {migrate.head()} (was {before or 'empty'})")


@main.command()
@config_option
@click.option("--once/--loop", default=True, show_default=True,
              help="Run one cycle and exit, or keep polling like `triage run`.")
@friendly
def poll(config_path: Path, once: bool) -> None:
    """Poll every organisation's mailbox: fetch, parse, screen and file new mail."""
    settings = _settings(config_path)
    config_mod.check_secrets(settings)
    sessions = repo.session_factory(_engine(settings))
    classifier = _classifier(settings)
    if not once:
        from triage.worker import run_forever

        run_forever(settings, sessions, classifier=classifier)
        return
    from triage.worker import poll_all

    started = time.perf_counter()
    results = poll_all(settings, sessions, classifier=classifier)
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
    settings = _settings(config_path)
    config_mod.check_secrets(settings)
    from triage.outbox import send_once, transport_for

    transport = transport_for(settings)
    if transport is None:
        raise ConfigError("nothing to send with: add an [smtp] table (or [outbox] pickup_directory) to "
                          f"{config_path}")
    sessions = repo.session_factory(_engine(settings))
    if not once:
        from triage.worker import run_forever

        run_forever(settings, sessions, poll=False)
        return
    result = send_once(settings, sessions, transport)
    click.echo(f"{result.sent} sent, {result.retried} to retry, {result.failed} failed")


@main.command()
@config_option
@friendly
def run(config_path: Path) -> None:
    """Run the daemon: poll every mailbox at its interval until SIGTERM or SIGINT."""
    settings = _settings(config_path)
    config_mod.check_secrets(settings)
    engine = _engine(settings)
    classifier = _classifier(settings)
    from triage.mailboxes import open_mailbox

    for org in settings.organisations.values():
        if isinstance(org.mailbox, ImapMailbox):
            with open_mailbox(org):
                pass  # fail fast, in one line, on a wrong host or password
    from triage.worker import run_forever

    run_forever(settings, repo.session_factory(engine), threading.Event(), classifier)


@main.command()
@click.option("--dir", "directory", default="triage-demo", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Where to create the demo.")
@friendly
def demo(directory: Path) -> None:
    """Create a demo folder (config, SQLite, a Maildir of example mail), poll it once, show the outcome."""
    from triage import demo as demo_mod
    from triage.worker import poll_all

    config_path = demo_mod.create(directory)
    settings = config_mod.load(config_path)
    logs.configure("WARNING")
    sessions = repo.session_factory(_engine(settings))
    results = poll_all(settings, sessions, classifier=_classifier(settings))
    for result in results:
        click.echo(_table(result))
        click.echo(_summary(result))
    from triage.outbox import send_once, transport_for

    transport = transport_for(settings)
    assert transport is not None and settings.outbox.pickup_directory is not None
    sent = send_once(settings, sessions, transport)
    outbox = settings.outbox.pickup_directory
    click.echo(f"\n{sent.sent} acknowledgement(s) written to {outbox}/ (no SMTP server in the demo), e.g.:")
    for path in sorted(outbox.glob("*.eml"))[:3]:
        click.echo(f"  {path}")
    click.echo(f"\nThe demo lives in {directory}/: the filed mail is in {directory}/mail/.Triage.*, the "
               f"database in {directory}/triage.db.\nPoll it again with: triage poll --once --config "
               f"{config_path}")


@main.group()
def corpus() -> None:
    """Commands for the labelled training corpus."""


@corpus.command("check")
@click.option("--corpus", "root", default="models/corpus", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="The corpus folder (labels.csv + .eml).")
@click.option("--cosine", default=0.8, show_default=True, help="Flag pairs at least this TF-IDF-similar.")
@click.option("--ngram", default=14, show_default=True, help="Flag pairs sharing this many words in a row.")
@friendly
def corpus_check(root: Path, cosine: float, ngram: int) -> None:
    """Validate labels.csv and flag near-duplicate messages; exit 1 when anything is flagged."""
    from collections import Counter

    from triage.training.corpus import check

    report = check(root, cosine=cosine, ngram=ngram)
    combos = Counter(e.combination for e in report.examples)
    languages = Counter(e.language or "?" for e in report.examples)
    click.echo(f"{root}: {len(report.examples)} labelled messages")
    for combo, count in sorted(combos.items()):
        click.echo(f"  {combo:<28} {count:>5}")
    click.echo("  languages: " + ", ".join(f"{k} {v}" for k, v in sorted(languages.items())))
    for problem in report.problems:
        click.echo(f"problem: {problem}")
    for a, b, why in report.near_duplicates:
        click.echo(f"near-duplicate: {a} ~ {b} ({why})")
    if report.clean:
        click.echo("clean: no problems, no near-duplicates")
        return
    click.echo(f"{len(report.problems)} problem(s), {len(report.near_duplicates)} near-duplicate pair(s)", err=True)
    sys.exit(1)


models_option = click.option("--models", "models", default=None, type=click.Path(file_okay=False, path_type=Path),
                             help="The models folder (default: ./models, else the one beside the package).")


@main.command()
@click.option("--corpus", "root", default="models/corpus", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="The labelled corpus folder.")
@click.option("--out", "out", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Where model versions live (default: as --models).")
@models_option
@click.option("--force", is_flag=True, help="Promote the new version even if a head is worse than the current one.")
@friendly
def train(root: Path, out: Path | None, models: Path | None, force: bool) -> None:
    """Train a model version on the corpus, cross-validate it, and promote it unless a head got worse."""
    from triage.training.registry import models_dir
    from triage.training.train import train as train_model

    directory = out or models_dir(models)
    result = train_model(root, directory, force=force)
    click.echo(f"model {result.version}: {result.card['corpus_size']} messages, "
               f"{result.card['folds']}-fold cross-validation, {result.seconds:.1f} s")
    for head, figures in result.card["heads"].items():
        new, old = result.comparison[head]
        versus = f" (current model: {old:.3f})" if old is not None else ""
        click.echo(f"  {head:<10} accuracy {figures['accuracy']:.3f}  macro-F1 {new:.3f}{versus}  threshold "
                   f"{figures['threshold']:.2f}: {figures['auto_share']:.0%} sure, {figures['auto_accuracy']:.1%} "
                   "right")
    if result.promoted:
        click.echo(f"promoted: {directory}/CURRENT -> {result.version}")
    else:
        click.echo(f"not promoted: a head is worse than the current model (use --force); kept as {result.version}")


@main.command()
@click.option("--data", "data", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="A folder with labels.csv and the .eml files.")
@models_option
@click.option("--version", "version", default=None, help="A model version (default: CURRENT).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@friendly
def evaluate(data: Path, models: Path | None, version: str | None, as_json: bool) -> None:
    """Score a model on a labelled folder: per head accuracy, macro-F1, per-class figures, confusion."""
    import json

    from triage.training.registry import load, models_dir
    from triage.training.train import evaluate as evaluate_model

    results = evaluate_model(data, load(models_dir(models), version))
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False))
        return
    click.echo(f"model {results['model_version']} on {data}: {results['messages']} messages")
    for head, r in results["heads"].items():
        click.echo(f"\n{head}: accuracy {r['accuracy']:.3f}, macro-F1 {r['macro_f1']:.3f}; at threshold "
                   f"{r['threshold']:.2f}: {r['auto_share']:.0%} sure, {r['auto_accuracy']:.1%} of those right")
        for cls, m in r["per_class"].items():
            click.echo(f"  {cls:<10} precision {m['precision']:.3f}  recall {m['recall']:.3f}  n={m['support']}")
        click.echo("  confusion (rows true, columns predicted: " + ", ".join(r["classes"]) + ")")
        for cls, line in zip(r["classes"], r["confusion"], strict=True):
            click.echo(f"    {cls:<10} " + " ".join(f"{v:>5}" for v in line))
    click.echo(f"\nauto-filed: {results['auto_filed_share']:.0%} of messages, all three heads right on "
               f"{results['auto_filed_all_heads_right']:.1%} of those")
    if "screen" in results:
        sc = results["screen"]
        click.echo(f"machine mail: {sc['machine_messages']} messages, {sc['machine_caught']:.0%} caught by the "
                   f"screen; human mail flagged as machine: {sc['human_flagged_as_machine']:.1%}")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@config_option
@click.option("--organisation", "org_id", default=None, metavar="ID",
              help="The organisation whose addresses mark a forward as staff's (needed if the config has several).")
@models_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@friendly
def classify(files: tuple[Path, ...], config_path: Path, org_id: str | None, models: Path | None,
             as_json: bool) -> None:
    """Classify .eml files as the daemon would: labels, confidences, language, complainant, review or not.

    Forwards by the organisation's own addresses are unwrapped: the original is classified. Without
    a config file (only when --config is not given) nobody's forward is unwrapped."""
    from triage.services.classify import classify_files, classify_files_without_config
    from triage.training.registry import models_dir

    if not config_path.exists() and _is_default(click.get_current_context(), "config_path"):
        rows = classify_files_without_config(models_dir(models), files)
        click.echo(f"triage: note: no {config_path}: forwards by staff were not unwrapped (pass --config)", err=True)
    else:
        settings = _settings(config_path)
        rows = classify_files(deps_for(settings, models, database=False), _organisation_id(settings, org_id), files)
    for row in rows:
        click.echo(_classified_json(row) if as_json else _classified_line(row))


def _is_default(ctx: click.Context, name: str) -> bool:
    return ctx.get_parameter_source(name) is click.core.ParameterSource.DEFAULT


def _organisation_id(settings: Settings, org_id: str | None) -> str | None:
    """The --organisation to use: as given; none needed when the config has one organisation."""
    if org_id is None and len(settings.organisations) > 1:
        raise ConfigError(f"{settings.path} has several organisations ({', '.join(sorted(settings.organisations))})"
                          ": pass --organisation ID")
    return org_id


def _classified_json(row: ClassifiedFile) -> str:
    import json

    return json.dumps({"file": str(row.file), **row.labels._asdict(), "language": row.language,
                       "confidence": row.confidence, "review": row.review, "model_version": row.model_version,
                       "complainant": row.complainant, "disposition": row.disposition, "reason": row.reason},
                      ensure_ascii=False)


def _classified_line(row: ClassifiedFile) -> str:
    labels = "/".join(row.labels)
    if row.model_version is None:
        return f"{row.file}: {labels} review ({row.disposition}: {row.reason})"
    conf = " ".join(f"{h}={v:.2f}" for h, v in row.confidence.items())
    return (f"{row.file}: {labels} lang={row.language} {conf} {'review' if row.review else 'sure'} "
            f"complainant={row.complainant or '-'}")


@main.group()
def models() -> None:
    """List and promote model versions."""


@models.command("list")
@models_option
@friendly
def models_list(models: Path | None) -> None:
    """List model versions with their cross-validated macro-F1 per head."""
    from triage.training.registry import current_version, models_dir, versions

    directory = models_dir(models)
    active = current_version(directory)
    for card in versions(directory):
        f1 = " ".join(f"{h}={r['macro_f1']:.3f}" for h, r in card.get("heads", {}).items())
        mark = "*" if card.get("version") == active else " "
        click.echo(f"{mark} {card.get('version')}  {card.get('created')}  n={card.get('corpus_size')}  {f1}")


@models.command("promote")
@click.argument("version")
@models_option
@friendly
def models_promote(version: str, models: Path | None) -> None:
    """Make VERSION the model in use (also rolls back to an older one)."""
    from triage.training.registry import load, models_dir, promote

    directory = models_dir(models)
    load(directory, version)  # refuse to promote a model that would not load
    promote(directory, version)
    click.echo(f"{directory}/CURRENT -> {version}")


@main.command()
@config_option
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="The port to listen on.")
@click.option("--threads", default=8, show_default=True, type=int, help="Worker threads of the WSGI server.")
@friendly
def serve(config_path: Path, host: str, port: int, threads: int) -> None:
    """Serve the review web UI with waitress (a production WSGI server)."""
    settings = _settings(config_path)
    engine = _engine(settings)
    from waitress import serve as waitress_serve

    from triage.web import create_app

    app = create_app(settings, repo.session_factory(engine))
    click.echo(f"review UI on http://{host}:{port}/ (stop with Ctrl-C)", err=True)
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="klachten-triage")
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}; pass another --port") from None


@main.group()
def user() -> None:
    """Accounts for the review web UI."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["staff", "admin"]), required=True, help="staff reviews; admin also "
              "manages users and models.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of asking.")
@config_option
@friendly
def user_add(name: str, role: str, password_stdin: bool, config_path: Path) -> None:
    """Add an account (the password is asked twice, or read from stdin)."""
    settings = _settings(config_path)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    from triage.store import users

    with repo.session_factory(_engine(settings)).begin() as session:
        users.add(session, name, password, role)
    click.echo(f"added {role} {name}")


@user.command("list")
@config_option
@friendly
def user_list(config_path: Path) -> None:
    """List the accounts."""
    from triage.store import users

    with repo.session_factory(_engine(_settings(config_path)))() as session:
        for u in users.all_users(session):
            state = "active" if u.active else "disabled"
            last = u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "never"
            click.echo(f"{u.name:20} {u.role:6} {state:9} last login {last}")


@user.command("disable")
@click.argument("name")
@config_option
@friendly
def user_disable(name: str, config_path: Path) -> None:
    """Stop an account from logging in (its corrections stay)."""
    from triage.store import users

    with repo.session_factory(_engine(_settings(config_path))).begin() as session:
        users.disable(session, name)
    click.echo(f"disabled {name}")


@main.command()
@config_option
@click.option("--corpus", "root", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="The corpus (default: corpus/ in the models folder).")
@models_option
@friendly
def retrain(config_path: Path, root: Path | None, models: Path | None) -> None:
    """Train a new version on the corpus plus all staff corrections; compare it with the current
    one on the same folds. It is not promoted: use `triage models promote VERSION`."""
    from triage.training.registry import models_dir
    from triage.training.retrain import retrain as run_retrain

    settings = _settings(config_path)
    directory = models_dir(models or settings.model.directory)
    sessions = repo.session_factory(_engine(settings))
    result = run_retrain(sessions, root or directory / "corpus", directory)
    click.echo(f"version {result.version}: {result.card.get('corrections_included', 0)} correction(s) included, "
               f"{result.seconds:.0f} s")
    for head, (new, old) in result.comparison.items():
        click.echo(f"  {head:10} macro-F1 {new:.3f}" + (f"  (current {old:.3f})" if old is not None else ""))
    advice = f"worse on {', '.join(result.worse)}" if result.worse else "no head worse than the current model"
    click.echo(f"{advice}; promote it with: triage models promote {result.version}")


@main.group()
def corrections() -> None:
    """Staff corrections."""


@corrections.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@config_option
@friendly
def corrections_export(directory: Path, config_path: Path) -> None:
    """Write corrected cases in the corpus format (labels.csv + mail/*.eml) for a human check."""
    from triage.store import review

    with repo.session_factory(_engine(_settings(config_path)))() as session:
        count = review.export_corrections(session, directory)
    click.echo(f"{count} corrected case(s) written to {directory}/ (labels.csv and mail/)")


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


if __name__ == "__main__":
    main()
