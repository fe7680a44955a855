"""Classify one resolved message with the trained model: three heads, confidences, language,
and whether every head is sure enough to file the case without a person."""

from __future__ import annotations

from triage.domain import Prediction, Resolved
from triage.training.features import rows
from triage.training.model import Classifier


def classify(resolved: Resolved, classifier: Classifier) -> Prediction:
    result = classifier.predict(rows([(resolved.subject, resolved.text)]))[0]
    return Prediction(
        kind=result["kind"], topic=result["topic"], formality=result["formality"],
        confidence=dict(result["confidence"]), model_version=classifier.version, sure=bool(result["sure"]),
        language=result.get("language", "nl"),
    )


def doubts(prediction: Prediction, thresholds: dict[str, float]) -> list[str]:
    """The heads below their threshold, as 'kind 0.62 < 0.80'."""
    return [f"{head} {prediction.confidence.get(head, 0):.2f} < {thresholds[head]:.2f}"
            for head in ("kind", "topic", "formality")
            if prediction.confidence.get(head, 0) < thresholds.get(head, 1.01)]
