"""Retraining from the corpus plus staff corrections, as a job with progress a page can follow.

The corrections are exported in the corpus format to a temporary folder and trained on together
with the corpus; the new version is compared with the current one on the same folds and saved,
never promoted: an administrator decides (`triage models promote`, or the models page).
"""

from __future__ import annotations

import logging
import tempfile
import threading
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from triage.store import repo, review
from triage.store.models import Job
from triage.training import registry
from triage.training.model import Classifier
from triage.training.train import TrainResult, train

log = logging.getLogger("triage.retrain")


def retrain(sessions: sessionmaker[Session], corpus: Path, models: Path,
            progress: Any = None) -> TrainResult:
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
        return train(corpus, models, extra=extra, promote=False, progress=progress,
                     unseen=[new] if counts[new] else [], card_extra={"corrections_upto": last}, current=current)


def comparison(result: TrainResult) -> list[dict[str, Any]]:
    return [{"head": head, "new": new, "current": old} for head, (new, old) in result.comparison.items()]


def start_job(sessions: sessionmaker[Session], corpus: Path, models: Path, user: str) -> int:
    """Start retraining in a background thread; returns the job id whose row shows its progress."""
    with sessions.begin() as session:
        running = session.query(Job).filter(Job.kind == "retrain", Job.status == "running").first()
        if running is not None:
            return running.id
        job = Job(kind="retrain", status="running", progress=0, message="gestart", started_by=user,
                  started_at=repo.now(), result={})
        session.add(job)
        session.flush()
        job_id = job.id
        repo.audit(session, "model.retrain_started", repo.now(), actor=user, job=job_id)

    def update(percent: int, message: str) -> None:
        with sessions.begin() as s:
            row = s.get(Job, job_id)
            if row is not None:
                row.progress, row.message = percent, message

    def run() -> None:
        try:
            result = retrain(sessions, corpus, models, progress=update)
        except Exception as exc:  # shown on the job page; the web process goes on
            log.exception("event=retrain_failed job=%s", job_id)
            with sessions.begin() as s:
                row = s.get(Job, job_id)
                if row is not None:
                    row.status, row.message, row.finished_at = "failed", f"{type(exc).__name__}: {exc}", repo.now()
            return
        with sessions.begin() as s:
            row = s.get(Job, job_id)
            if row is not None:
                row.status, row.progress, row.finished_at = "done", 100, repo.now()
                row.message = f"versie {result.version} getraind in {result.seconds:.0f} s"
                row.result = {"version": result.version, "comparison": comparison(result), "worse": result.worse,
                              "corrections": result.card.get("corrections_included", 0)}

    threading.Thread(target=run, name=f"retrain-{job_id}", daemon=True).start()
    return job_id
