"""Out-of-fold predictions of every head at once, on folds grouped by writer.

Messages by one writer share a style (openings, closings, pet phrases, the organisations they
write to). When one writer's messages are on both sides of a split, the model is tested on a voice
it has learnt and looks better than it will be on a stranger's mail. Here a writer's messages are
all in one fold (`StratifiedGroupKFold`, stratified by the label combination), and each fold fits
the shared features and all heads on the other writers only: the predictions say how the model does
on writers it never saw, for each head and for the case as a whole (`gate.Outcomes`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import StratifiedGroupKFold

from triage.errors import CorpusError
from triage.training.gate import Outcomes
from triage.training.model import SEED

HEADS = ("kind", "topic", "formality", "language")


def splits(strata: np.ndarray, groups: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index pairs in which no group is on both sides."""
    writers = len(set(groups.tolist()))
    if writers < 2:
        raise CorpusError("an evaluation grouped by writer needs messages by at least two writers "
                          "(labels.csv column `writer`, or one folder per writer)")
    splitter = StratifiedGroupKFold(n_splits=min(folds, writers), shuffle=True, random_state=seed)
    return [(train, test) for train, test in splitter.split(np.zeros(len(strata)), strata, groups)]


def applies(head: str, labels: dict[str, np.ndarray]) -> np.ndarray:
    """The rows a head learns from and is scored on: formality on complaints, language where known."""
    if head == "formality":
        return np.asarray(labels["kind"] == "complaint")
    if head == "language":
        return np.asarray(labels["language"] != "")
    return np.ones(len(labels["kind"]), dtype=bool)


@dataclass
class OutOfFold:
    """Every human message predicted by a model that did not see its writer."""

    labels: dict[str, np.ndarray]
    predicted: dict[str, np.ndarray]
    confidence: dict[str, np.ndarray]
    p_complaint: np.ndarray
    p_formal: np.ndarray  # P(formal | complaint), from the formality head

    def outcomes(self) -> Outcomes:
        """The case as the pipeline files it: a predicted question is informal for sure."""
        complaint = self.predicted["kind"] == "complaint"
        formality = np.where(complaint, self.predicted["formality"], "informal").astype(object)
        return Outcomes.of(self.labels, dict(self.predicted, formality=formality),
                           dict(self.confidence, formality=np.where(complaint, self.confidence["formality"], 1.0),
                                not_formal=1.0 - self.p_complaint * self.p_formal))


@dataclass(frozen=True)
class Recipe:
    """How to make unfitted features and a head's classifier (a new pipeline, or a version's)."""

    features: Callable[[], ColumnTransformer]
    head: Callable[[str], object | None]  # None: this recipe has no such head (an older version)


def out_of_fold(x: np.ndarray, labels: dict[str, np.ndarray], groups: np.ndarray, folds: int, recipe: Recipe,
                withhold: np.ndarray | None = None, seed: int = SEED) -> OutOfFold:
    """Predictions of every head for every row of `x` (human messages), each by features and heads
    fitted on the other writers' folds. Rows marked in `withhold` are never trained on."""
    n = len(x)
    predicted = {h: np.empty(n, dtype=object) for h in HEADS}
    confidence = {h: np.zeros(n) for h in HEADS}
    p_complaint, p_formal = np.zeros(n), np.zeros(n)
    strata = np.array([f"{k}/{t}/{f}" for k, t, f in zip(labels["kind"], labels["topic"], labels["formality"],
                                                              strict=True)], dtype=object)
    for train, test in splits(strata, groups, folds, seed):
        if withhold is not None:
            train = train[~withhold[train]]
        features = recipe.features().fit(x[train])
        seen, unseen = features.transform(x[train]), features.transform(x[test])
        for head in HEADS:
            rows = applies(head, labels)[train]
            y = labels[head][train][rows]
            model = recipe.head(head)
            if model is None or len(set(y.tolist())) < 2:
                continue  # no such head, or a fold without two of its classes (tiny sets): unpredicted
            model.fit(seen[rows], y)  # type: ignore[attr-defined]
            proba = model.predict_proba(unseen)  # type: ignore[attr-defined]
            classes = list(model.classes_)  # type: ignore[attr-defined]
            best = proba.argmax(axis=1)
            predicted[head][test] = np.asarray(classes, dtype=object)[best]
            confidence[head][test] = proba[np.arange(len(test)), best]
            if head == "kind":
                p_complaint[test] = proba[:, classes.index("complaint")] if "complaint" in classes else 0.0
            if head == "formality":
                p_formal[test] = proba[:, classes.index("formal")] if "formal" in classes else 0.0
    return OutOfFold(labels, predicted, confidence, p_complaint, p_formal)
