"""The classifier: one scikit-learn pipeline per head over [subject, text] rows.

Heads: kind (complaint/question), topic (product/service/staff), formality (formal/informal,
learnt from complaints only: a question is always informal) and language (nl/en). Each pipeline
is word and character n-gram TF-IDF over subject and text into a linear SVM whose scores are
calibrated to probabilities. The thresholds are one joint gate (`triage.training.gate`), chosen
on out-of-fold predictions grouped by writer (`triage.training.grouped`): a case is filed without a
person only when it is likely right as a whole. Tried and left out, each on the grouped folds: a
separate topic head for questions (2.6 points fewer cases filed at the same joint precision on 20
writers), isotonic calibration and C=1 or 2 (a point more filed on 20 writers, none on 25).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC

from triage.training.features import joined

HEADS = ("kind", "topic", "formality", "language")
TARGET_PRECISION = 0.95
FOLDS = 5
SEED = 20261120


def make_features() -> ColumnTransformer:
    return ColumnTransformer([
        ("words", Pipeline([
            ("join", FunctionTransformer(joined)),
            ("tfidf", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=40000,
                                      lowercase=True))]), [0, 1]),
        # Character 4-grams within words, hashed: as accurate on the corpus as a 3-5-gram vocabulary
        # of 80 000 terms (cross-validated), at a fifth of the cost per message and no vocabulary.
        ("chars", Pipeline([
            ("join", FunctionTransformer(joined)),
            ("hash", HashingVectorizer(analyzer="char_wb", ngram_range=(4, 4), n_features=2**17,
                                       alternate_sign=False, norm=None, lowercase=True)),
            ("tfidf", TfidfTransformer(sublinear_tf=True))]), [0, 1]),
    ])


def make_classifier() -> CalibratedClassifierCV:
    svm = LinearSVC(C=0.5, class_weight="balanced", dual="auto", max_iter=5000, random_state=SEED)
    return CalibratedClassifierCV(svm, cv=3, method="sigmoid", ensemble=False)


def compact(features: ColumnTransformer) -> ColumnTransformer:
    """Make fitted features small and quick to store: vocabulary values as plain ints (skops
    would write every NumPy scalar as an array of its own) and no list of pruned terms."""
    for _name, step, _cols in features.transformers_:
        for transformer in (step.named_steps.values() if isinstance(step, Pipeline) else [step]):
            if not isinstance(transformer, TfidfVectorizer):
                continue
            transformer.vocabulary_ = {term: int(i) for term, i in transformer.vocabulary_.items()}
            if hasattr(transformer, "stop_words_"):
                delattr(transformer, "stop_words_")
    return features


@dataclass
class HeadReport:
    """Cross-validated figures of one head."""

    classes: list[str]
    accuracy: float
    macro_f1: float
    per_class: dict[str, dict[str, float]]
    confusion: list[list[int]]
    threshold: float
    auto_share: float  # share of messages whose confidence reaches the threshold
    auto_accuracy: float  # accuracy on those

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def choose_threshold(confidence: np.ndarray, correct: np.ndarray, target: float = TARGET_PRECISION) -> float:
    """The lowest confidence at which the predictions at or above it are right `target` of the time."""
    order = np.argsort(-confidence)
    hits = np.cumsum(correct[order])
    precision = hits / np.arange(1, len(order) + 1)
    ok = np.nonzero(precision >= target)[0]
    if len(ok) == 0:
        return 1.01  # never sure: everything goes to review
    return float(confidence[order][ok[-1]])


def report(y: np.ndarray, predicted: np.ndarray, confidence: np.ndarray, classes: list[str],
           threshold: float | None = None) -> HeadReport:
    correct = predicted == y
    if threshold is None:
        threshold = choose_threshold(confidence, correct)
    sure = confidence >= threshold
    precision, recall, f1, support = precision_recall_fscore_support(y, predicted, labels=classes, zero_division=0)
    return HeadReport(
        classes=classes,
        accuracy=float(accuracy_score(y, predicted)),
        macro_f1=float(f1_score(y, predicted, labels=classes, average="macro", zero_division=0)),
        per_class={c: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                   for c, p, r, f, s in zip(classes, precision, recall, f1, support, strict=True)},
        confusion=confusion_matrix(y, predicted, labels=classes).tolist(),
        threshold=round(threshold, 4),
        auto_share=float(sure.mean()) if len(sure) else 0.0,
        auto_accuracy=float(correct[sure].mean()) if sure.any() else 0.0,
    )


@dataclass
class Classifier:
    """Shared features, one fitted classifier per head, and the heads' thresholds. The features
    are computed once per message for all heads; `predict` gives labels, confidences, sureness."""

    features: ColumnTransformer
    heads: dict[str, CalibratedClassifierCV]
    thresholds: dict[str, float]
    version: str = ""
    card: dict[str, Any] = field(default_factory=dict)

    def words(self) -> TfidfVectorizer:
        """The fitted word features: their tokenizer and vocabulary are the words the model knows."""
        vectorizer: TfidfVectorizer = self.features.named_transformers_["words"].named_steps["tfidf"]
        return vectorizer

    def predict(self, x: np.ndarray) -> list[dict[str, Any]]:
        """Labels and confidences per head; `not_formal` is the probability that the message is not
        a formal complaint (1 - P(complaint) x P(formal | complaint)). `unsure` names the parts of
        the joint gate (`gate.sure`) that the message does not pass."""
        matrix = self.features.transform(x)
        probs = {h: (list(m.classes_), m.predict_proba(matrix)) for h, m in self.heads.items()}
        out = []
        for i in range(len(x)):
            result: dict[str, Any] = {"confidence": {}}
            for head, (classes, proba) in probs.items():
                best = int(proba[i].argmax())
                result[head] = str(classes[best])
                result["confidence"][head] = round(float(proba[i][best]), 4)
            kinds, kind_proba = probs["kind"]
            forms, form_proba = probs["formality"]
            p_formal = (float(kind_proba[i][kinds.index("complaint")]) if "complaint" in kinds else 0.0) * \
                (float(form_proba[i][forms.index("formal")]) if "formal" in forms else 0.0)
            result["confidence"]["not_formal"] = round(1.0 - p_formal, 4)
            # the formality head's own word, scored on true complaints by `evaluate`
            result["formality_head"] = (result["formality"], result["confidence"]["formality"])
            if result["kind"] == "question":  # LABELS.md: questions are always informal
                result["formality"] = "informal"
                result["confidence"]["formality"] = 1.0
            called_formal = result["kind"] == "complaint" and result["formality"] == "formal"
            gate = ("kind", "topic", "formality") + (() if called_formal else ("not_formal",))
            result["unsure"] = tuple(h for h in gate if result["confidence"][h] < self.threshold(h))
            result["sure"] = not result["unsure"]
            out.append(result)
        return out

    def threshold(self, head: str) -> float:
        """A head's threshold; a model from before the joint gate has no `not_formal` floor."""
        return self.thresholds.get(head, 0.0 if head == "not_formal" else 1.01)
