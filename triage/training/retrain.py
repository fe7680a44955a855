"""Retraining from the corpus plus staff corrections, reporting progress (the worker runs it as a
job whose page shows that progress: triage.services.jobs).

The corrections are exported in the corpus format to a temporary folder and trained on together
with the corpus; the new version is compared with the current one on the same folds and saved,
never promoted: an administrator decides (`triage models promote`, or the models page).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from triage.store import review
from triage.training import registry
from triage.training.model import FOLDS, Classifier
from triage.training.train import TrainOptions, TrainResult, train


def retrain(sessions: sessionmaker[Session], corpus: Path, models: Path,
            progress: Any = None, folds: int = FOLDS) -> TrainResult:
    """Train a new version on `corpus` plus every corrected case; do not promote it. The current
    version is compared as if it had not seen the corrections made after it was trained."""
    try:
        current: Classifier | None = registry.load(models)
    except registry.ModelError:
        current = None
    upto = int(current.card.get("corrections_upto", 0)) if current else 0
    with tempfile.TemporaryDirectory(prefix="triage-corrections-") as tmp:
        seen, new = Path(tmp) / "seen", Path(tmp) / "new"
        with sessions() as session:
            last = review.last_correction_id(session)
            counts = {seen: review.export_corrections(session, seen, upto=upto),
                      new: review.export_corrections(session, new, since=upto)}
        extra = [folder for folder, n in counts.items() if n]
        options = TrainOptions(extra=extra, promote=False, progress=progress, unseen=[new] if counts[new] else [],
                               card_extra={"corrections_upto": last}, current=current, folds=folds)
        return train(corpus, models, options)


def comparison(result: TrainResult) -> list[dict[str, Any]]:
    return [{"head": head, "new": new, "current": old} for head, (new, old) in result.comparison.items()]
