"""Train, cross-validate, compare with the current model, and evaluate on a labelled folder."""

from __future__ import annotations

import hashlib
import platform
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from triage.domain import OwnAddresses
from triage.stages.forwards import resolve
from triage.stages.parse import parse
from triage.stages.screen import screen
from triage.training import corpus, registry
from triage.training.features import rows
from triage.training.model import (
    HEADS,
    Classifier,
    compact,
    cross_validate,
    make_classifier,
    make_features,
    make_pipeline,
    report,
)

HUMAN = ("complaint", "question")


@dataclass
class Data:
    examples: list[corpus.Example]
    x: np.ndarray  # all examples, machine included
    labels: dict[str, np.ndarray]

    def head(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        kind = self.labels["kind"]
        if name == "formality":
            mask = kind == "complaint"
        elif name == "language":
            mask = self.labels["language"] != ""
        else:
            mask = np.isin(kind, HUMAN)
        return self.x[mask], self.labels[name][mask]


def read(root: Path) -> Data:
    examples = corpus.load(root)
    pairs = [corpus.own_words(example) for example in examples]
    labels = {
        "kind": np.array([e.kind for e in examples], dtype=object),
        "topic": np.array([e.topic for e in examples], dtype=object),
        "formality": np.array([e.formality for e in examples], dtype=object),
        "language": np.array([e.language for e in examples], dtype=object),
    }
    return Data(examples, rows(pairs), labels)


def corpus_hash(root: Path, examples: list[corpus.Example]) -> str:
    digest = hashlib.sha256((root / "labels.csv").read_bytes())
    for example in sorted(examples, key=lambda e: str(e.file)):
        digest.update(hashlib.sha256(example.file.read_bytes()).digest())
    return digest.hexdigest()


@dataclass
class TrainResult:
    version: str
    card: dict[str, Any]
    promoted: bool
    comparison: dict[str, tuple[float, float | None]]  # head -> (new macro-F1, current macro-F1)
    seconds: float


def train(root: Path, models: Path, force: bool = False, version: str | None = None) -> TrainResult:
    started = time.perf_counter()
    data = read(root)
    try:
        current: Classifier | None = registry.load(models)
    except registry.ModelError:
        current = None
    reports, comparison = {}, {}
    for head in HEADS:
        x, y = data.head(head)
        classes = sorted(set(y))
        predicted, confidence = cross_validate(make_pipeline, x, y)
        reports[head] = report(y, predicted, confidence, classes)
        old = None
        if current is not None and head in current.heads:
            old_pred, old_conf = cross_validate(lambda h=head: current.pipeline(h), x, y)
            old = report(y, old_pred, old_conf, classes).macro_f1
        comparison[head] = (reports[head].macro_f1, old)
    human = np.isin(data.labels["kind"], HUMAN)
    features = compact(make_features().fit(data.x[human]))
    heads = {}
    for head in HEADS:
        x, y = data.head(head)
        heads[head] = make_classifier().fit(features.transform(x), y)
    worse = [h for h, (new, old) in comparison.items() if old is not None and new < old - 1e-9]
    version = version or datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    thresholds = {h: r.threshold for h, r in reports.items()}
    card: dict[str, Any] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "corpus": str(root),
        "corpus_hash": corpus_hash(root, data.examples),
        "corpus_size": len(data.examples),
        "corrections_included": 0,
        "folds": 5,
        "heads": {h: r.as_dict() for h, r in reports.items()},
        "thresholds": thresholds,
        "compared_with": current.version if current else None,
    }
    classifier = Classifier(features=features, heads=heads, thresholds=thresholds)
    registry.save(classifier, models, version, card)
    promoted = force or not worse
    if promoted:
        registry.promote(models, version)
    return TrainResult(version, card, promoted, comparison, time.perf_counter() - started)


def evaluate(root: Path, classifier: Classifier) -> dict[str, Any]:
    """Per-head figures of `classifier` on a labelled folder, at the classifier's thresholds."""
    data = read(root)
    kind = data.labels["kind"]
    human = np.isin(kind, HUMAN)
    results: dict[str, Any] = {"messages": len(kind), "model_version": classifier.version, "heads": {}}
    predictions = classifier.predict(data.x[human]) if human.any() else []
    for head in HEADS:
        y = data.labels[head][human]
        keep = y != "" if head == "language" else np.ones(len(y), dtype=bool)
        if not keep.any():
            continue
        predicted = np.array([p[head] for p in predictions], dtype=object)[keep]
        confidence = np.array([p["confidence"][head] for p in predictions])[keep]
        classes = sorted(set(y[keep]) | set(predicted))
        results["heads"][head] = report(y[keep], predicted, confidence, classes,
                                        threshold=classifier.thresholds.get(head, 1.01)).as_dict()
    sure = np.array([p["sure"] for p in predictions], dtype=bool)
    all_right = np.array([all(p[h] == data.labels[h][human][i] for h in ("kind", "topic", "formality"))
                          for i, p in enumerate(predictions)], dtype=bool)
    results["auto_filed_share"] = float(sure.mean()) if len(sure) else 0.0
    results["auto_filed_all_heads_right"] = float(all_right[sure].mean()) if sure.any() else 0.0
    machine = kind == "machine"
    if machine.any():
        own = OwnAddresses(frozenset(), frozenset())
        flagged = [screen(resolve(parse(e.file.read_bytes()), own)).machine for e in data.examples]
        flags = np.array(flagged, dtype=bool)
        results["screen"] = {"machine_messages": int(machine.sum()),
                             "machine_caught": float(flags[machine].mean()),
                             "human_flagged_as_machine": float(flags[human].mean()) if human.any() else 0.0}
    return results
