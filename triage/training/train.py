"""Train, cross-validate, compare with the current model, and evaluate on a labelled folder."""

from __future__ import annotations

import hashlib
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from triage.addresses import OwnAddresses
from triage.stages.forwards import resolve
from triage.stages.parse import parse
from triage.stages.screen import screen
from triage.training import corpus, registry
from triage.training.features import rows
from triage.training.model import (
    FOLDS,
    HEADS,
    Classifier,
    HeadReport,
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
    unseen: np.ndarray  # rows the current model was not trained on (corrections made since)
    from_root: int  # how many of `examples` (the first ones) are the corpus itself, not corrections

    def mask(self, name: str) -> np.ndarray:
        kind = self.labels["kind"]
        if name == "formality":
            return np.asarray(kind == "complaint")
        if name == "language":
            return np.asarray(self.labels["language"] != "")
        return np.isin(kind, HUMAN)

    def head(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        mask = self.mask(name)
        return self.x[mask], self.labels[name][mask]


def read(root: Path, extra: Sequence[Path] = (), unseen: Sequence[Path] = ()) -> Data:
    """The corpus at `root` plus folders of the same format (exported staff corrections); the rows
    of the `unseen` folders are marked as new to the current model."""
    examples = corpus.load(root)
    from_root = len(examples)
    new = [False] * len(examples)
    for folder in extra:
        found = corpus.load(folder)
        examples += found
        new += [folder in unseen] * len(found)
    pairs = [corpus.own_words(example) for example in examples]
    labels = {
        "kind": np.array([e.kind for e in examples], dtype=object),
        "topic": np.array([e.topic for e in examples], dtype=object),
        "formality": np.array([e.formality for e in examples], dtype=object),
        "language": np.array([e.language for e in examples], dtype=object),
    }
    return Data(examples, rows(pairs), labels, np.array(new, dtype=bool), from_root)


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
    worse: list[str] = field(default_factory=list)  # heads on which the new version scored lower


@dataclass(frozen=True)
class TrainOptions:
    """How to train: `force` promotes even when a head is worse; `promote` False leaves the choice
    to an administrator; `extra` folders (staff corrections in the corpus format) are trained on
    with the corpus, `unseen` ones are withheld from the current version in the comparison;
    `current` is the current version when the caller has loaded it already."""

    force: bool = False
    version: str | None = None
    extra: Sequence[Path] = ()
    promote: bool = True
    progress: Callable[[int, str], None] | None = None
    unseen: Sequence[Path] = ()
    card_extra: dict[str, Any] = field(default_factory=dict)
    current: Classifier | None = None
    folds: int = FOLDS


Comparison = dict[str, tuple[float, float | None]]


def train(root: Path, models: Path, options: TrainOptions | None = None) -> TrainResult:
    """Cross-validate, fit and save a new version; promote it when no head is worse than the current
    model on the same folds (or `force`), unless `promote` is False (the admin decides later).

    On each fold the current version's pipeline is trained without the `unseen` folders
    (corrections made since it was trained) and the new one with them, and both are scored on the
    same held-out rows: the comparison says whether the corrections (and any change in the code)
    helped."""
    opts = options or TrainOptions()
    started = time.perf_counter()
    progress = opts.progress or (lambda _percent, _message: None)
    progress(2, "reading the corpus")
    data = read(root, opts.extra, opts.unseen)
    current = opts.current if opts.current is not None else _current(models)
    reports, comparison = _cross_validate(data, current, progress, opts.folds)
    progress(88, "fitting the new version on all messages")
    classifier = _fit(data, {h: r.threshold for h, r in reports.items()})
    worse = [h for h, (new, old) in comparison.items() if old is not None and new < old - 1e-9]
    version = opts.version or datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    card = _card(root, data, reports, current, worse, {"folds": opts.folds, **opts.card_extra})
    progress(96, "saving the new version")
    registry.save(classifier, models, version, card)
    promoted = opts.promote and (opts.force or not worse)
    if promoted:
        registry.promote(models, version)
    progress(100, "done")
    return TrainResult(version, card, promoted, comparison, time.perf_counter() - started, worse)


def _current(models: Path) -> Classifier | None:
    try:
        return registry.load(models)
    except registry.ModelError:
        return None


def _cross_validate(data: Data, current: Classifier | None, progress: Callable[[int, str], None],
                    folds: int = FOLDS) -> tuple[dict[str, HeadReport], Comparison]:
    """Per head, the new pipeline's cross-validated report, and its macro-F1 beside the current
    version's on the same folds."""
    reports, comparison = {}, {}
    for n, head in enumerate(HEADS):
        progress(5 + 20 * n, f"cross-validating the {head} head against the current model")
        x, y = data.head(head)
        classes = sorted(set(y))
        predicted, confidence = cross_validate(make_pipeline, x, y, folds)
        reports[head] = report(y, predicted, confidence, classes)
        old = None
        if current is not None and head in current.heads:
            old_pred, old_conf = cross_validate(lambda h=head: current.pipeline(h), x, y, folds,
                                                withhold=data.unseen[data.mask(head)])
            old = report(y, old_pred, old_conf, classes).macro_f1
        comparison[head] = (reports[head].macro_f1, old)
    return reports, comparison


def _fit(data: Data, thresholds: dict[str, float]) -> Classifier:
    """The new version fitted on every message: shared features, one classifier per head."""
    human = np.isin(data.labels["kind"], HUMAN)
    features = compact(make_features().fit(data.x[human]))
    heads = {}
    for head in HEADS:
        x, y = data.head(head)
        heads[head] = make_classifier().fit(features.transform(x), y)
    return Classifier(features=features, heads=heads, thresholds=thresholds)


def _card(root: Path, data: Data, reports: dict[str, HeadReport], current: Classifier | None, worse: list[str],
          extra: dict[str, Any]) -> dict[str, Any]:
    corrections = len(data.examples) - data.from_root
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "corpus": str(root),
        "corpus_hash": corpus_hash(root, data.examples),
        "corpus_size": len(data.examples) - corrections,
        "corrections_included": corrections,
        "folds": FOLDS,
        "heads": {h: r.as_dict() for h, r in reports.items()},
        "thresholds": {h: r.threshold for h, r in reports.items()},
        "compared_with": current.version if current else None,
        "worse": worse,
        **extra,
    }


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
