"""Classify one resolved message with the trained model: three heads, confidences, language,
and whether every head is sure enough to file the case without a person."""

from __future__ import annotations

from collections.abc import Sequence

from triage.domain import Prediction, Resolved
from triage.training.features import rows
from triage.training.model import Classifier


def classify(resolved: Resolved, classifier: Classifier) -> Prediction:
    return classify_many([resolved], classifier)[0]


def classify_many(batch: Sequence[Resolved], classifier: Classifier) -> list[Prediction]:
    """Classify several messages in one call: scikit-learn's cost per call is far larger than
    its cost per message, so the pipeline classifies a fetched batch at once."""
    if not batch:
        return []
    results = classifier.predict(rows([(r.subject, r.text) for r in batch]))
    return [
        Prediction(
            kind=result["kind"], topic=result["topic"], formality=result["formality"],
            confidence=dict(result["confidence"]), model_version=classifier.version, sure=bool(result["sure"]),
            language=result.get("language", "nl"), unsure=result["unsure"],
        )
        for result in results
    ]


def doubts(prediction: Prediction, thresholds: dict[str, float]) -> list[str]:
    """The heads below their threshold (`prediction.unsure`), as 'kind 0.62 < 0.80'."""
    return [f"{head} {prediction.confidence.get(head, 0):.2f} < {thresholds.get(head, 1.01):.2f}"
            for head in prediction.unsure]
