"""Classify one resolved message with the trained model: three heads, confidences, language,
and whether every head is sure enough to file the case without a person; and whether the text is
language the model knows at all, before its being sure may count."""

from __future__ import annotations

from collections.abc import Sequence

from sklearn.feature_extraction.text import TfidfVectorizer

from triage.domain import Prediction, Resolved
from triage.reasons import Code, Reason, reason
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


MIN_WORDS = 5  # distinct words a text needs before the model may file it on its own
# The share of those words the model learnt. Corpus mail the model had not seen (cross-validated)
# has at least 0.60, the demo mail 0.74; random letters, "test test", Lorem ipsum, English spam
# have 0.00-0.39.
MIN_KNOWN = 0.5
_HEAD = 20_000  # characters of subject and text looked at


def known_words(subject: str, text: str, vectorizer: TfidfVectorizer) -> tuple[int, int]:
    """The distinct words of subject and text as the model reads them (`Classifier.words`:
    lower-cased, of two letters or more; numbers are not words), and how many of them it knows."""
    tokens = vectorizer.build_tokenizer()(vectorizer.build_preprocessor()(f"{subject}\n{text}"[:_HEAD]))
    words = {t for t in tokens if not any(c.isdigit() for c in t)}
    vocabulary = vectorizer.vocabulary_
    return len(words), sum(1 for w in words if w in vocabulary)


def unfamiliar(subject: str, text: str, vectorizer: TfidfVectorizer) -> Reason | None:
    """Why the model's word is not enough for this text: too few distinct words, or too few of
    them words it knows (garbage, or a language it was not trained on). A person decides."""
    words, known = known_words(subject, text, vectorizer)
    if words >= MIN_WORDS and known >= MIN_KNOWN * words:
        return None
    return reason(Code.UNKNOWN_WORDS, words=words, known=known)

