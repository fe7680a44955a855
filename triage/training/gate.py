"""The joint gate: when is a case, as a whole, likely enough right to be filed without a person?

A filed case is right only when its kind (which decides the answer and the term), its formality
(the procedure: hearing, 6 weeks) and its topic (who handles it) are all right. The gate is four
numbers chosen together on out-of-fold predictions grouped by writer: a threshold on each head's
confidence, and a floor on the probability that a case the model does not call a formal complaint
is none (`not_formal`: 1 - P(complaint) x P(formal | complaint)), because a formal complaint filed
as informal or as a question loses its procedure without anyone noticing.

Errors are weighed by what they cost: the chosen gate files as many cases as it can while at
least `TARGET` of them are right on every head and at most `COSTLY` of them have a wrong kind or
formality (a wrong topic a handler reroutes; a wrong term or procedure is a broken promise).
Precision is judged by its Wilson lower bound, so a gate that is right on a few lucky cases does
not win over one that is right on many.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

TARGET = 0.95  # auto-filed cases right on kind, topic and formality together
COSTLY = 0.01  # auto-filed cases with the wrong kind or formality, at most (a wrong topic: up to TARGET)
Z = 1.0  # the Wilson bound's z: one standard error below the measured precision
GATE_HEADS = ("kind", "topic", "formality", "not_formal")
_GRID = (0.0, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99)
_NOT_FORMAL_GRID = (0.0, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99)
NEVER = 1.01  # a threshold no confidence reaches: everything to review


@dataclass(frozen=True)
class Outcomes:
    """Per message: true and predicted labels, the confidences of the predictions, and
    `not_formal` (the probability that the message is not a formal complaint). For a question the
    formality is 'informal' on both sides, as LABELS.md has it."""

    truth: dict[str, np.ndarray]  # kind, topic, formality
    predicted: dict[str, np.ndarray]
    confidence: dict[str, np.ndarray]  # kind, topic, formality, not_formal

    @classmethod
    def of(cls, labels: dict[str, np.ndarray], predicted: dict[str, np.ndarray],
           confidence: dict[str, np.ndarray]) -> Outcomes:
        """From corpus labels and the pipeline's predictions (a predicted question already informal)."""
        truth_formality = np.where(labels["kind"] == "complaint", labels["formality"], "informal")
        return cls({"kind": labels["kind"], "topic": labels["topic"], "formality": truth_formality},
                   {h: predicted[h] for h in ("kind", "topic", "formality")},
                   {h: confidence[h] for h in ("kind", "topic", "formality", "not_formal")})

    def __len__(self) -> int:
        return len(self.truth["kind"])

    def subset(self, mask: np.ndarray) -> Outcomes:
        return Outcomes({h: v[mask] for h, v in self.truth.items()}, {h: v[mask] for h, v in self.predicted.items()},
                        {h: v[mask] for h, v in self.confidence.items()})

    @property
    def right(self) -> dict[str, np.ndarray]:
        return {h: np.asarray(self.truth[h] == self.predicted[h]) for h in ("kind", "topic", "formality")}

    @property
    def formal(self) -> np.ndarray:
        return np.asarray((self.truth["kind"] == "complaint") & (self.truth["formality"] == "formal"))

    @property
    def called_formal(self) -> np.ndarray:
        return np.asarray((self.predicted["kind"] == "complaint") & (self.predicted["formality"] == "formal"))


def sure(outcomes: Outcomes, gate: dict[str, float]) -> np.ndarray:
    """Which messages the gate files automatically."""
    conf, called_formal = outcomes.confidence, outcomes.called_formal
    complaint = outcomes.predicted["kind"] == "complaint"
    return np.asarray((conf["kind"] >= gate.get("kind", NEVER)) & (conf["topic"] >= gate.get("topic", NEVER))
                      & (~complaint | (conf["formality"] >= gate.get("formality", NEVER)))
                      & (called_formal | (conf["not_formal"] >= gate.get("not_formal", 0.0))))


def wilson_lower(hits: int, n: int, z: float = Z) -> float:
    """The lower end of the Wilson score interval of hits/n."""
    if n == 0:
        return 0.0
    p = hits / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


@dataclass(frozen=True)
class JointFigures:
    """What a gate does on a set of messages."""

    messages: int
    auto_filed: int
    auto_share: float
    joint_precision: float  # auto-filed cases right on every head
    costly_errors: int  # auto-filed cases with the wrong kind or formality
    topic_errors: int  # auto-filed cases right but for the topic
    formal_missed: int  # formal complaints auto-filed as informal or as a question
    wrong_term: int  # auto-filed cases whose kind or formality gives another term than theirs

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def figures(outcomes: Outcomes, gate: dict[str, float]) -> JointFigures:
    filed = sure(outcomes, gate)
    right = outcomes.right
    all_right = right["kind"] & right["topic"] & right["formality"]
    costly = ~right["kind"] | ~right["formality"]
    n = int(filed.sum())
    return JointFigures(
        messages=len(outcomes), auto_filed=n, auto_share=n / len(outcomes) if len(outcomes) else 0.0,
        joint_precision=float(all_right[filed].mean()) if n else 0.0,
        costly_errors=int((costly & filed).sum()),
        topic_errors=int((filed & ~costly & ~right["topic"]).sum()),
        formal_missed=int((filed & outcomes.formal & ~outcomes.called_formal).sum()),
        wrong_term=int((filed & costly).sum()),
    )


def choose(outcomes: Outcomes, target: float = TARGET, costly: float = COSTLY, z: float = Z) -> dict[str, float]:
    """The gate that files the most messages while the Wilson lower bound of its joint precision
    reaches `target` and its share of costly errors stays at most `costly`. Ties go to the gate
    with fewer costly errors, then to the stricter one. When no gate qualifies, nothing is filed."""
    right = outcomes.right
    all_right = right["kind"] & right["topic"] & right["formality"]
    bad = ~right["kind"] | ~right["formality"]
    conf = outcomes.confidence
    complaint = outcomes.predicted["kind"] == "complaint"
    called_formal = outcomes.called_formal
    masks = {
        "kind": [(t, conf["kind"] >= t) for t in _GRID],
        "topic": [(t, conf["topic"] >= t) for t in _GRID],
        "formality": [(t, ~complaint | (conf["formality"] >= t)) for t in _GRID],
        "not_formal": [(t, called_formal | (conf["not_formal"] >= t)) for t in _NOT_FORMAL_GRID],
    }
    best: tuple[int, int, float] | None = None
    chosen = dict.fromkeys(GATE_HEADS, NEVER)
    for tk, mk in masks["kind"]:
        for tt, mt in masks["topic"]:
            both = mk & mt
            if best is not None and int(both.sum()) < best[0]:
                continue  # stricter gates cannot file more
            for tf, mf in masks["formality"]:
                three = both & mf
                for tn, mn in masks["not_formal"]:
                    filed = three & mn
                    n = int(filed.sum())
                    if n == 0 or (best is not None and n < best[0]):
                        continue
                    errors = int((bad & filed).sum())
                    if errors > costly * n or wilson_lower(int((all_right & filed).sum()), n, z) < target:
                        continue
                    strictness = tk + tt + tf + tn
                    key = (n, -errors, strictness)
                    if best is None or key > best:
                        best, chosen = key, {"kind": tk, "topic": tt, "formality": tf, "not_formal": tn}
    return chosen
