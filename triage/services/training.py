"""Training and judging model versions as the shells ask for it: check the corpus, train on it,
evaluate a version on a labelled folder, list the versions, retrain with staff corrections now."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage.services.deps import Deps
from triage.training import registry
from triage.training.corpus import CheckReport, check
from triage.training.retrain import retrain
from triage.training.train import TrainOptions, TrainResult, evaluate, train


@dataclass(frozen=True)
class Versions:
    active: str | None
    cards: list[dict[str, Any]]


def check_corpus(root: Path, cosine: float, ngram: int) -> CheckReport:
    """Problems in labels.csv and near-duplicate pairs (TF-IDF cosine, or shared word runs)."""
    return check(root, cosine=cosine, ngram=ngram)


def train_corpus(root: Path, models: Path, force: bool = False, heldout: Path | None = None) -> TrainResult:
    """Cross-validate and save a new version; promote it unless it is worse (or `force`)."""
    return train(root, models, TrainOptions(force=force, heldout=heldout))


def evaluate_folder(data: Path, models: Path, version: str | None = None) -> dict[str, Any]:
    """Per-head and joint figures of a version (default: the current one) on a labelled folder,
    with the grouped figures its card keeps from training."""
    classifier = registry.load(models, version)
    results = evaluate(data, classifier)
    card = classifier.card
    if card.get("evaluation") == "grouped by writer":
        results["grouped"] = {"heads": card.get("heads", {}), "joint": card.get("joint", {})}
    return results


def versions(models: Path) -> Versions:
    return Versions(registry.current_version(models), registry.versions(models))


def retrain_now(deps: Deps, corpus: Path | None = None) -> TrainResult:
    """Train on the corpus plus every staff correction, in this process; not promoted."""
    return retrain(deps.sessions, corpus or deps.models / "corpus", deps.models, folds=deps.settings.model.folds)
