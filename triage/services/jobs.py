"""Long jobs (retraining): the web UI queues one, a worker (`triage run`) claims and runs it under
a lease that a heartbeat and every progress report renew, and fails the running jobs whose worker
is gone (its lease ran out). Pages read a job as a plain `JobView`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from triage.errors import ServerError
from triage.logs import Outage, get_logger
from triage.services.deps import Deps
from triage.store import jobs as store
from triage.store import repo
from triage.store.models import Job

log = get_logger("triage.jobs")

RETRAIN = "retrain"
LEASE = timedelta(seconds=60)  # a worker that stopped without a word loses its job this long after
HEARTBEAT = 15.0  # seconds between lease renewals while a job runs
INTERVAL = 3.0  # seconds between the worker's looks for queued jobs
ABANDONED = "afgebroken: het proces is gestopt"

Progress = Callable[[int, str], None]
# A job's work: reports progress, returns the message and the result its page shows.
Handler = Callable[[Deps, Progress], tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class JobView:
    id: int
    kind: str
    status: str  # queued, running, done, failed
    progress: int
    message: str
    started_by: str
    started_at: datetime
    finished_at: datetime | None
    result: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, job: Job) -> JobView:
        return cls(job.id, job.kind, job.status, job.progress, job.message, job.started_by, job.started_at,
                   job.finished_at, dict(job.result or {}))


class Stopped(Exception):
    """The worker is stopping, or another worker failed the job after its lease ran out."""


def _retrain(deps: Deps, progress: Progress) -> tuple[str, dict[str, Any]]:
    from triage.training.retrain import comparison, retrain  # scikit-learn: only where it trains

    result = retrain(deps.sessions, deps.models / "corpus", deps.models, progress=progress,
                     folds=deps.settings.model.folds)
    return (f"versie {result.version} getraind in {result.seconds:.0f} s",
            {"version": result.version, "comparison": comparison(result), "worse": result.worse,
             "corrections": result.card.get("corrections_included", 0),
             "joint": {"new": result.joint[0], "current": result.joint[1]},
             "heldout": (result.card.get("heldout") or {}).get("joint")})


HANDLERS: dict[str, Handler] = {RETRAIN: _retrain}


def enqueue_retrain(deps: Deps, user: str) -> int:
    """Queue a retrain for the worker; when one is queued or running already, its id instead."""
    with deps.sessions.begin() as session:
        job_id, new = store.enqueue(session, RETRAIN, user, deps.clock())
        if new:
            repo.audit(session, "model.retrain_queued", deps.clock(), actor=user, job=job_id)
    return job_id


def job_for_page(deps: Deps, job_id: int) -> JobView | None:
    with deps.sessions() as session:
        job = store.get(session, job_id)
        return JobView.of(job) if job is not None else None


def latest_job(deps: Deps, kind: str = RETRAIN) -> JobView | None:
    with deps.sessions() as session:
        job = store.latest(session, kind)
        return JobView.of(job) if job is not None else None


def recover_stale_jobs(deps: Deps) -> list[int]:
    """Fail the running jobs whose worker is gone (their lease ran out); their ids."""
    with deps.sessions.begin() as session:
        ids = store.fail_stale(session, deps.clock(), ABANDONED)
        for job_id in ids:
            repo.audit(session, "job.abandoned", deps.clock(), job=job_id)
    for job_id in ids:
        log.warning("job_abandoned", job=job_id, note="its worker stopped before finishing it")
    return ids


def run_due_jobs(deps: Deps, stop: threading.Event | None = None) -> int:
    """Fail stale jobs, then claim and run queued jobs one after another until none is left (or
    `stop` is set); how many ran."""
    stop = stop or threading.Event()
    recover_stale_jobs(deps)
    ran = 0
    while not stop.is_set():
        with deps.sessions.begin() as session:
            job = store.claim_next(session, deps.worker_id, deps.clock() + LEASE)
            claimed = (job.id, job.kind) if job is not None else None
        if claimed is None:
            break
        _run(deps, *claimed, stop)
        ran += 1
    return ran


def _run(deps: Deps, job_id: int, kind: str, stop: threading.Event) -> None:
    log.info("job_started", job=job_id, kind=kind)
    result: dict[str, Any] | None = None
    try:
        with _Lease(deps, job_id, stop) as lease:
            handler = HANDLERS.get(kind)
            if handler is None:
                raise ValueError(f"unknown job kind {kind!r} (queued by another version?)")
            message, result = handler(deps, lease.progress)
        status = store.DONE
    except Stopped:
        status, message = store.FAILED, ABANDONED
    except Exception as exc:  # shown on the job page; the worker goes on
        log.exception("job_failed", job=job_id, kind=kind)
        status, message = store.FAILED, f"{type(exc).__name__}: {exc}"
    with deps.sessions.begin() as session:
        if not store.finish(session, job_id, deps.worker_id, status, message, deps.clock(), result):
            log.warning("job_lost", job=job_id, note="another worker failed it after its lease ran out")
            return
    log.info("job_finished", job=job_id, kind=kind, status=status)


class _Lease:
    """While a job runs: renews its lease every HEARTBEAT seconds from a thread (training may go
    longer than the lease between two progress reports) and with every progress report; a report
    raises `Stopped` when the worker is stopping or the job is no longer this worker's."""

    def __init__(self, deps: Deps, job_id: int, stop: threading.Event) -> None:
        self.deps, self.job_id, self.stop = deps, job_id, stop
        self.lost = False
        self.over = threading.Event()
        self.beat = threading.Thread(target=self._beat, name=f"job-{job_id}-lease", daemon=True)

    def __enter__(self) -> _Lease:
        self.beat.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.over.set()
        self.beat.join()

    def progress(self, percent: int, message: str) -> None:
        if self.stop.is_set() or self.lost:
            raise Stopped
        self._renew(percent, message)

    def _beat(self) -> None:
        while not self.over.wait(HEARTBEAT):
            self._renew()

    def _renew(self, percent: int | None = None, message: str | None = None) -> None:
        try:
            with self.deps.sessions.begin() as session:
                mine = store.renew(session, self.job_id, self.deps.worker_id, self.deps.clock() + LEASE, percent,
                                   message)
        except SQLAlchemyError as exc:  # the next renewal tries again; the lease outlasts a few misses
            log.warning("job_renew_failed", job=self.job_id, error=(str(exc).splitlines() or [""])[0])
            return
        if not mine:
            self.lost = True


class Runner:
    """The worker's scheduled job: `run_due_jobs`, with a lost database logged once (and once
    when it is back), never per retry."""

    def __init__(self, deps: Deps, stop: threading.Event) -> None:
        self.deps, self.stop = deps, stop
        self.outage = Outage(log, "jobs")

    def __call__(self) -> None:
        try:
            run_due_jobs(self.deps, self.stop)
        except (SQLAlchemyError, ServerError) as exc:
            self.outage.failed(exc, "queued jobs wait; will retry")
            return
        self.outage.ok()
