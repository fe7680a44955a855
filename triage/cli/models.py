"""Model commands: corpus check, train, evaluate, classify, models list/promote, retrain."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from triage.cli import _settings, config_option, deps_for, friendly, main, models_option
from triage.errors import ConfigError

if TYPE_CHECKING:
    from triage.config import Settings
    from triage.services.classify import ClassifiedFile
    from triage.services.deps import Deps


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

    from triage.services.training import check_corpus

    report = check_corpus(root, cosine, ngram)
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


@main.command()
@click.option("--corpus", "root", default="models/corpus", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="The labelled corpus folder.")
@click.option("--heldout", "heldout", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Messages by writers who wrote nothing in the corpus, only scored (default: heldout/ beside "
              "the corpus, when it exists).")
@click.option("--out", "out", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Where model versions live (default: as --models).")
@models_option
@click.option("--force", is_flag=True, help="Promote the new version even if a head is worse than the current one.")
@friendly
def train(root: Path, heldout: Path | None, out: Path | None, models: Path | None, force: bool) -> None:
    """Train a model version on the corpus, cross-validate it on folds grouped by writer, choose the
    joint gate, score the held-out writers, and promote it unless it is worse than the current one."""
    from triage.services.deps import models_folder as models_dir
    from triage.services.training import train_corpus

    directory = out or models_dir(models)
    result = train_corpus(root, directory, force, heldout)
    card = result.card
    click.echo(f"model {result.version}: {card['corpus_size']} messages by {card.get('writers', '?')} writers, "
               f"{card['folds']}-fold cross-validation grouped by writer, {result.seconds:.1f} s")
    click.echo("grouped folds (no writer on both sides):")
    for head, figures in card["heads"].items():
        new, old = result.comparison[head]
        versus = f" (current model: {old:.3f})" if old is not None else ""
        click.echo(f"  {head:<10} accuracy {figures['accuracy']:.3f}  macro-F1 {new:.3f}{versus}")
    new_joint, old_joint = result.joint
    click.echo("  " + joint_line(new_joint) + (f" (current model: {old_joint['auto_share']:.0%} filed at "
                                               f"{old_joint['joint_precision']:.1%})" if old_joint else ""))
    click.echo("  gate: " + gate_line(card.get("gate", {})))
    if "heldout" in card:
        _print_heldout(card["heldout"])
    if result.promoted:
        click.echo(f"promoted: {directory}/CURRENT -> {result.version}")
    else:
        click.echo(f"not promoted: worse than the current model on {', '.join(result.worse)} (use --force); "
                   f"kept as {result.version}")


def joint_line(joint: dict[str, Any]) -> str:
    """'joint: 62% filed automatically, 95.8% of them right on every head; 2 wrong term ...'."""
    return (f"joint: {joint['auto_share']:.0%} filed automatically ({joint['auto_filed']} of {joint['messages']}), "
            f"{joint['joint_precision']:.1%} of them right on every head; wrong kind or formality "
            f"{joint['costly_errors']}, wrong topic only {joint['topic_errors']}, formal complaints filed as "
            f"informal or question {joint['formal_missed']}")


def gate_line(gate: dict[str, float]) -> str:
    return ", ".join(f"{head} >= {value:.2f}" for head, value in gate.items())


def _print_heldout(results: dict[str, Any]) -> None:
    click.echo(f"held-out writers ({results.get('folder', '')}: {results['messages']} messages by "
               f"{results.get('writers', '?')} writers, never trained on):")
    for head, r in results["heads"].items():
        click.echo(f"  {head:<10} accuracy {r['accuracy']:.3f}  macro-F1 {r['macro_f1']:.3f}")
    if "joint" in results:
        click.echo("  " + joint_line(results["joint"]))


@main.command()
@click.option("--data", "data", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="A folder with labels.csv and the .eml files (default: the held-out set, heldout/ in the "
              "models folder).")
@models_option
@click.option("--version", "version", default=None, help="A model version (default: CURRENT).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@friendly
def evaluate(data: Path | None, models: Path | None, version: str | None, as_json: bool) -> None:
    """Score a model on a labelled folder (default: the held-out writers): per head accuracy, macro-F1,
    per-class figures and confusion; the joint figures of its gate; and its grouped figures from training."""
    import json

    from triage.services.deps import models_folder as models_dir
    from triage.services.training import evaluate_folder

    folder = models_dir(models)
    data = data or folder / "heldout"
    if not (data / "labels.csv").is_file():
        raise click.UsageError(f"{data} holds no labels.csv: give a labelled folder with --data")
    results = evaluate_folder(data, folder, version)
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False))
        return
    click.echo(f"model {results['model_version']} on {data}: {results['messages']} messages")
    grouped = results.get("grouped")
    if grouped:
        click.echo("from training, on folds grouped by writer:")
        for head, figures in grouped["heads"].items():
            click.echo(f"  {head:<10} macro-F1 {figures['macro_f1']:.3f}")
        if grouped.get("joint"):
            click.echo("  " + joint_line(grouped["joint"]))
    click.echo(f"on {data}:")
    for head, r in results["heads"].items():
        click.echo(f"\n{head}: accuracy {r['accuracy']:.3f}, macro-F1 {r['macro_f1']:.3f}; at threshold "
                   f"{r['threshold']:.2f}: {r['auto_share']:.0%} sure, {r['auto_accuracy']:.1%} of those right")
        for cls, m in r["per_class"].items():
            click.echo(f"  {cls:<10} precision {m['precision']:.3f}  recall {m['recall']:.3f}  n={m['support']}")
        click.echo("  confusion (rows true, columns predicted: " + ", ".join(r["classes"]) + ")")
        for cls, line in zip(r["classes"], r["confusion"], strict=True):
            click.echo(f"    {cls:<10} " + " ".join(f"{v:>5}" for v in line))
    if "joint" in results:
        click.echo("\n" + joint_line(results["joint"]))
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
    from triage.services.deps import models_folder as models_dir

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
    from triage.services.deps import models_folder as models_dir
    from triage.services.training import versions

    found = versions(models_dir(models))
    for card in found.cards:
        f1 = " ".join(f"{h}={r['macro_f1']:.3f}" for h, r in card.get("heads", {}).items())
        mark = "*" if card.get("version") == found.active else " "
        click.echo(f"{mark} {card.get('version')}  {card.get('created')}  n={card.get('corpus_size')}  {f1}")


@models.command("promote")
@click.argument("version")
@config_option
@models_option
@friendly
def models_promote(version: str, config_path: Path, models: Path | None) -> None:
    """Make VERSION the model in use (also rolls back to an older one). With a config file the
    promotion is written to the audit log, as one made in the web UI is."""
    from triage.services.models import promote

    if config_path.exists() or not _is_default(click.get_current_context(), "config_path"):
        deps = deps_for(_settings(config_path), models)
    else:
        deps = _models_only(models)
        click.echo(f"triage: note: no {config_path}: the promotion is not written to an audit log", err=True)
    promote(deps, version, actor="cli")
    click.echo(f"{deps.models}/CURRENT -> {version}")


def _models_only(models: Path | None) -> Deps:
    """Dependencies for a models folder without a configuration or database."""
    from sqlalchemy.orm import sessionmaker

    from triage.config import Settings
    from triage.services.deps import build

    return build(Settings.model_construct(organisations={}), sessionmaker(), models=models)


@main.command()
@config_option
@click.option("--corpus", "root", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="The corpus (default: corpus/ in the models folder).")
@models_option
@friendly
def retrain(config_path: Path, root: Path | None, models: Path | None) -> None:
    """Train a new version on the corpus plus all staff corrections; compare it with the current
    one on the same folds. It is not promoted: use `triage models promote VERSION`."""
    from triage.services.training import retrain_now

    result = retrain_now(deps_for(_settings(config_path), models), root)
    click.echo(f"version {result.version}: {result.card.get('corrections_included', 0)} correction(s) included, "
               f"{result.seconds:.0f} s")
    for head, (new, old) in result.comparison.items():
        click.echo(f"  {head:10} macro-F1 {new:.3f}" + (f"  (current {old:.3f})" if old is not None else ""))
    new_joint, old_joint = result.joint
    if new_joint:
        click.echo("  " + joint_line(new_joint) + (f" (current {old_joint['auto_share']:.0%} filed at "
                                                   f"{old_joint['joint_precision']:.1%})" if old_joint else ""))
    advice = f"worse on {', '.join(result.worse)}" if result.worse else "no head worse than the current model"
    click.echo(f"{advice}; promote it with: triage models promote {result.version}")


