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
from sklearn.base import clone

from triage.addresses import OwnAddresses
from triage.stages.forwards import resolve
from triage.stages.parse import parse
from triage.stages.screen import screen
from triage.training import corpus, gate, registry
from triage.training.features import rows
from triage.training.grouped import OutOfFold, Recipe, applies, out_of_fold
from triage.training.model import (
    FOLDS,
    HEADS,
    Classifier,
    HeadReport,
    choose_threshold,
    compact,
    make_classifier,
    make_features,
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
    writers: np.ndarray  # who wrote each example: grouped folds keep a writer on one side

    @property
    def human(self) -> np.ndarray:
        return np.isin(self.labels["kind"], HUMAN)

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
    writers = np.array([e.writer for e in examples], dtype=object)
    return Data(examples, rows(pairs), labels, np.array(new, dtype=bool), from_root, writers)


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
    worse: list[str] = field(default_factory=list)  # heads on which the new version scored lower ("joint": filed less)
    joint: tuple[dict[str, Any], dict[str, Any] | None] = ({}, None)  # grouped joint figures: new, current


@dataclass(frozen=True)
class TrainOptions:
    """How to train: `force` promotes even when a head is worse; `promote` False leaves the choice
    to an administrator; `extra` folders (staff corrections in the corpus format) are trained on
    with the corpus, `unseen` ones are withheld from the current version in the comparison;
    `current` is the current version when the caller has loaded it already; `heldout` is a
    labelled folder by writers who wrote nothing in the corpus, never trained on, only reported
    (default: `heldout/` beside the corpus folder, when there is one)."""

    force: bool = False
    version: str | None = None
    extra: Sequence[Path] = ()
    promote: bool = True
    progress: Callable[[int, str], None] | None = None
    unseen: Sequence[Path] = ()
    card_extra: dict[str, Any] = field(default_factory=dict)
    current: Classifier | None = None
    folds: int = FOLDS
    heldout: Path | None = None


Comparison = dict[str, tuple[float, float | None]]
JOINT_SLACK = 0.02  # a new version that files this much less of the grouped folds than the current is worse


def heldout_folder(root: Path, given: Path | None = None) -> Path | None:
    """The held-out set: `given`, else `heldout/` beside the corpus when it holds labels."""
    if given is not None:
        return given
    default = root.parent / "heldout"
    return default if (default / "labels.csv").is_file() else None


def train(root: Path, models: Path, options: TrainOptions | None = None) -> TrainResult:
    """Cross-validate on folds grouped by writer, choose the joint gate, fit and save a new version;
    promote it when no head is worse than the current model on the same folds and it files no less
    (or `force`), unless `promote` is False (the admin decides later).

    On each fold the current version's pipeline is trained without the `unseen` folders
    (corrections made since it was trained) and the new one with them, and both are scored on the
    same held-out writers: the comparison says whether the corrections (and any change in the code)
    helped."""
    opts = options or TrainOptions()
    started = time.perf_counter()
    progress = opts.progress or (lambda _percent, _message: None)
    progress(2, "reading the corpus")
    data = read(root, opts.extra, opts.unseen)
    current = opts.current if opts.current is not None else _current(models)
    progress(5, "cross-validating the new version, grouped by writer")
    new_oof = _out_of_fold(data, opts.folds)
    old_oof = None
    if current is not None:
        progress(35, "cross-validating the current version on the same folds")
        old_oof = _out_of_fold(data, opts.folds, current)
    progress(65, "choosing the joint gate")
    chosen, joint = _gate(new_oof)
    old_joint = _gate(old_oof)[1] if old_oof is not None else None
    reports = _reports(new_oof, chosen)
    comparison: Comparison = {h: (reports[h].macro_f1, _reports(old_oof, chosen)[h].macro_f1 if old_oof else None)
                              for h in HEADS}
    progress(75, "fitting the new version on all messages")
    classifier = _fit(data, chosen)
    worse = [h for h, (new, old) in comparison.items() if old is not None and new < old - 1e-9]
    if old_joint is not None and joint["auto_share"] < old_joint["auto_share"] - JOINT_SLACK:
        worse.append("joint")
    heldout = heldout_folder(root, opts.heldout)
    extra: dict[str, Any] = {"folds": opts.folds, **opts.card_extra}
    if heldout is not None:
        progress(85, "scoring the held-out writers")
        extra["heldout"] = dict(evaluate(heldout, classifier), folder=str(heldout))
    version = opts.version or datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    card = _card(root, data, reports, current, worse, dict(extra, joint=joint, gate=chosen,
                                                            writers=len(set(data.writers[data.human].tolist()))))
    progress(96, "saving the new version")
    registry.save(classifier, models, version, card)
    promoted = opts.promote and (opts.force or not worse)
    if promoted:
        registry.promote(models, version)
    progress(100, "done")
    return TrainResult(version, card, promoted, comparison, time.perf_counter() - started, worse,
                       (joint, old_joint))


def _current(models: Path) -> Classifier | None:
    try:
        return registry.load(models)
    except registry.ModelError:
        return None


def _out_of_fold(data: Data, folds: int, current: Classifier | None = None) -> OutOfFold:
    """Out-of-fold predictions of the human messages on folds grouped by writer: of a new pipeline,
    or of the current version's (trained without the corrections made since it was)."""
    human = data.human
    labels = {h: v[human] for h, v in data.labels.items()}
    if current is None:
        return out_of_fold(data.x[human], labels, data.writers[human], folds,
                           Recipe(make_features, lambda _head: make_classifier()))
    return out_of_fold(data.x[human], labels, data.writers[human], folds,
                       Recipe(lambda: clone(current.features),
                              lambda head: clone(current.heads[head]) if head in current.heads else None),
                       withhold=data.unseen[human])


def _gate(oof: OutOfFold | None) -> tuple[dict[str, float], dict[str, Any]]:
    """The joint gate chosen on out-of-fold outcomes (plus the language head's own threshold), and
    what it does there."""
    assert oof is not None
    outcomes = oof.outcomes()
    chosen = gate.choose(outcomes)
    known = applies("language", oof.labels)
    language = oof.predicted["language"][known]
    chosen["language"] = round(choose_threshold(oof.confidence["language"][known],
                                                language == oof.labels["language"][known]), 4) if known.any() else 1.01
    return chosen, gate.figures(outcomes, chosen).as_dict()


def _reports(oof: OutOfFold, chosen: dict[str, float]) -> dict[str, HeadReport]:
    """Per head: out-of-fold figures on the rows it applies to, at its threshold in the gate."""
    out = {}
    for head in HEADS:
        rows = applies(head, oof.labels)
        y = oof.labels[head][rows]
        classes = sorted(set(y.tolist()))
        predicted = np.array([p if p is not None else "" for p in oof.predicted[head][rows]], dtype=object)
        out[head] = report(y, predicted, oof.confidence[head][rows], classes, threshold=chosen.get(head, 1.01))
    return out


def _fit(data: Data, thresholds: dict[str, float]) -> Classifier:
    """The new version fitted on every message: shared features, one classifier per head."""
    human = data.human
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
        "evaluation": "grouped by writer",
        "heads": {h: r.as_dict() for h, r in reports.items()},
        "thresholds": dict(extra.get("gate", {})),
        "compared_with": current.version if current else None,
        "worse": worse,
        **extra,
    }


def evaluate(root: Path, classifier: Classifier) -> dict[str, Any]:
    """Per-head and joint figures of `classifier` on a labelled folder, at the classifier's gate."""
    data = read(root)
    kind = data.labels["kind"]
    human = data.human
    results: dict[str, Any] = {"messages": len(kind), "model_version": classifier.version, "heads": {}}
    predictions = classifier.predict(data.x[human]) if human.any() else []
    for head in HEADS:
        y = data.labels[head][human]
        keep = applies(head, {h: v[human] for h, v in data.labels.items()})
        if not keep.any():
            continue
        said = [p["formality_head"] if head == "formality" else (p[head], p["confidence"][head]) for p in predictions]
        predicted = np.array([label for label, _ in said], dtype=object)[keep]
        confidence = np.array([value for _, value in said])[keep]
        classes = sorted(set(y[keep].tolist()) | set(predicted.tolist()))
        results["heads"][head] = report(y[keep], predicted, confidence, classes,
                                        threshold=classifier.threshold(head)).as_dict()
    if predictions:
        outcomes = _outcomes(predictions, {h: v[human] for h, v in data.labels.items()})
        joint = gate.figures(outcomes, {h: classifier.threshold(h) for h in gate.GATE_HEADS})
        results["joint"] = joint.as_dict()
        results["writers"] = len(set(data.writers[human].tolist()))
    machine = kind == "machine"
    if machine.any():
        own = OwnAddresses(frozenset(), frozenset())
        flagged = [screen(resolve(parse(e.file.read_bytes()), own)).machine for e in data.examples]
        flags = np.array(flagged, dtype=bool)
        results["screen"] = {"machine_messages": int(machine.sum()),
                             "machine_caught": float(flags[machine].mean()),
                             "human_flagged_as_machine": float(flags[human].mean()) if human.any() else 0.0}
    return results


def _outcomes(predictions: list[dict[str, Any]], labels: dict[str, np.ndarray]) -> gate.Outcomes:
    return gate.Outcomes.of(labels, {h: np.array([p[h] for p in predictions], dtype=object)
                                     for h in ("kind", "topic", "formality")},
                            {h: np.array([p["confidence"][h] for p in predictions])
                             for h in ("kind", "topic", "formality", "not_formal")})
