"""The jobs table: queue a job (one queued or running job per kind, kept so by a partial unique
index, not by reading first), claim the oldest queued job under a lease, renew the lease with the
progress, finish a job, and fail the running jobs whose lease ran out. Every function takes an
open Session; none commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from triage.store.models import Job

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
ACTIVE = (QUEUED, RUNNING)
# Bulk UPDATEs: the rows they touch are read back by id, not kept in sync in the session.
BULK = {"synchronize_session": False}


def enqueue(session: Session, kind: str, user: str, at: datetime, message: str = "") -> tuple[int, bool]:
    """Queue a job of `kind` unless one is queued or running already: (its id, True when it is new).

    The INSERT comes first, in a SAVEPOINT: the unique index refuses a second active job of the
    kind (also one inserted at this moment by another process), and then the one there is returned."""
    while True:
        job = Job(kind=kind, status=QUEUED, progress=0, message=message, started_by=user, started_at=at, result={})
        try:
            with session.begin_nested():
                session.add(job)
            return job.id, True
        except IntegrityError:
            active = session.scalar(select(Job.id).where(Job.kind == kind, Job.status.in_(ACTIVE)))
            if active is not None:
                return active, False
            # it finished between our INSERT and this SELECT: queue ours after all


def claim_next(session: Session, worker: str, until: datetime) -> Job | None:
    """Take the oldest queued job for `worker`, leased until `until`; None when none is queued.

    PostgreSQL locks the candidate with FOR UPDATE SKIP LOCKED, so two workers never take (or wait
    for) the same row; SQLite, which has one writer at a time, relies on `status = 'queued'` being
    checked again by the UPDATE itself."""
    oldest = (select(Job.id).where(Job.status == QUEUED).order_by(Job.id).limit(1)
              .with_for_update(skip_locked=True).scalar_subquery())
    claimed = session.execute(
        update(Job).where(Job.id == oldest, Job.status == QUEUED)
        .values(status=RUNNING, claimed_by=worker, claimed_until=until).returning(Job.id),
        execution_options=BULK).scalar_one_or_none()
    return session.get(Job, claimed) if claimed is not None else None


def _mine(job_id: int, worker: str) -> ColumnElement[bool]:
    return and_(Job.id == job_id, Job.claimed_by == worker, Job.status == RUNNING)


def renew(session: Session, job_id: int, worker: str, until: datetime,
          progress: int | None = None, message: str | None = None) -> bool:
    """Extend `worker`'s lease on a running job (and record its progress). False when the job is
    no longer the worker's: another worker failed it as stale after the lease ran out."""
    values: dict[str, Any] = {"claimed_until": until}
    if progress is not None:
        values["progress"] = progress
    if message is not None:
        values["message"] = message
    result = session.execute(update(Job).where(_mine(job_id, worker)).values(**values), execution_options=BULK)
    return _count(result) == 1


def finish(session: Session, job_id: int, worker: str, status: str, message: str, at: datetime,
           result: dict[str, Any] | None = None) -> bool:
    """Mark `worker`'s running job done or failed; False (and nothing written) when it is not theirs."""
    values: dict[str, Any] = {"status": status, "message": message, "finished_at": at, "claimed_until": None}
    if status == DONE:
        values["progress"] = 100
    if result is not None:
        values["result"] = result
    return _count(session.execute(update(Job).where(_mine(job_id, worker)).values(**values),
                                  execution_options=BULK)) == 1


def fail_stale(session: Session, at: datetime, message: str) -> list[int]:
    """Fail the running jobs whose lease ran out before `at` (or that never had one: started by a
    version that ran jobs in the web process); their ids."""
    stale = or_(Job.claimed_until.is_(None), Job.claimed_until < at)
    return list(session.scalars(
        update(Job).where(Job.status == RUNNING, stale)
        .values(status=FAILED, message=message, finished_at=at, claimed_until=None).returning(Job.id),
        execution_options=BULK))


def get(session: Session, job_id: int) -> Job | None:
    return session.get(Job, job_id)


def latest(session: Session, kind: str) -> Job | None:
    return session.scalar(select(Job).where(Job.kind == kind).order_by(Job.id.desc()).limit(1))


def _count(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return result.rowcount
