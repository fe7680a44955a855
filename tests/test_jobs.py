"""Long jobs (retraining) run in `triage run`, not in the web process: the web UI queues them, the
worker claims and runs them, and a job a stopped process left `running` is failed at start-up."""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import corpus_sample, write_config
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from web_site import ADMIN, ROOT

from triage import config, demo
from triage.services import jobs
from triage.services.deps import Deps, build
from triage.store import jobs as store
from triage.store import migrate, repo, users
from triage.store.models import AuditLog, Job
from triage.training import registry
from triage.web import create_app
from triage.worker import run_forever


def _worker_site(tmp_path: Path) -> tuple[config.Settings, sessionmaker[Session], Path]:
    """The demo site with its own copy of the current model version (retraining writes beside it)."""
    models = tmp_path / "models"
    version = registry.current_version(ROOT / "models")
    assert version is not None
    shutil.copytree(ROOT / "models" / version, models / version)
    (models / "CURRENT").write_text(version + "\n")
    corpus_sample(models / "corpus", ROOT / "models" / "corpus", 3)  # a third: the job is tested, not the model
    path = demo.create(tmp_path / "site")
    # two folds: the job's behaviour is tested here, not the model's figures (a third of the time)
    path.write_text(path.read_text() + f'\n[model]\ndirectory = "{models}"\nfolds = 2\n', encoding="utf-8")
    settings = config.load(path)
    engine = repo.open_engine(settings.database.url)
    migrate.ensure_current(engine)
    return settings, repo.session_factory(engine), models


def _wait_for(sessions: sessionmaker[Session], job_id: int, done: Callable[[Job], bool], seconds: float) -> Job:
    deadline = time.monotonic() + seconds
    while True:
        with sessions() as s:
            job = s.get(Job, job_id)
            assert job is not None
        if done(job) or time.monotonic() > deadline:
            return job
        time.sleep(0.5)


def _token(client: FlaskClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match, path
    return match.group(1)


def _post_retrain(client: FlaskClient) -> int:
    """Log in as the administrator, press "Opnieuw trainen"; the id of the job the page then shows."""
    client.post("/login", data={"name": ADMIN[0], "password": ADMIN[1], "csrf_token": _token(client, "/login")})
    response = client.post("/admin/retrain", data={"csrf_token": _token(client, "/admin/models")})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_a_retrain_left_running_by_a_stopped_process_is_failed_at_start_up_and_a_new_one_runs(
        tmp_path: Path) -> None:
    settings, sessions, models = _worker_site(tmp_path)
    with sessions.begin() as s:  # what a web process or worker killed mid-training leaves behind
        stuck = Job(kind="retrain", status="running", progress=40, message="cross-validating the topic head",
                    started_by=ADMIN[0], started_at=repo.now() - timedelta(hours=2), result={})
        s.add(stuck)
        s.flush()
        stuck_id = stuck.id
        users.add(s, ADMIN[0], ADMIN[1], "admin")
    stop = threading.Event()
    worker = threading.Thread(target=run_forever, args=(build(settings, sessions), stop), name="triage-run",
                              daemon=True)
    worker.start()
    try:
        row = _wait_for(sessions, stuck_id, lambda job: job.status != "running", 30)
        assert (row.status, row.message) == ("failed", "afgebroken: het proces is gestopt")
        assert row.finished_at is not None

        new_id = _post_retrain(create_app(settings, sessions, testing=True).test_client())
        assert new_id != stuck_id
        row = _wait_for(sessions, new_id, lambda job: job.status in ("done", "failed"), 300)
        assert row.status == "done", row.message
        assert (models / row.result["version"] / "model.skops").exists()
    finally:
        stop.set()
        worker.join(120)


# --- the queue itself, on SQLite and PostgreSQL ---------------------------------------------

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at


def _deps(tmp_path: Path, db_url: str, worker: str = "worker-a", clock: Clock | None = None) -> Deps:
    settings = config.load(write_config(tmp_path, db_url, 'type = "maildir"\npath = "mail"'))
    engine = repo.open_engine(db_url)
    migrate.ensure_current(engine)
    return build(settings, repo.session_factory(engine), models=tmp_path / "models", clock=clock or Clock(),
                 worker_id=worker)


def _job(deps: Deps, job_id: int) -> Job:
    with deps.sessions() as s:
        job = s.get(Job, job_id)
        assert job is not None
        return job


def test_one_retrain_is_queued_however_many_administrators_press_at_once(tmp_path: Path, db_url: str) -> None:
    deps = _deps(tmp_path, db_url)
    barrier = threading.Barrier(8)

    def press(n: int) -> int:
        barrier.wait()
        return jobs.enqueue_retrain(deps, f"beheerder{n}")

    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(press, range(8)))
    assert len(ids) == 1
    with deps.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 1
        assert s.scalar(select(func.count()).where(AuditLog.action == "model.retrain_queued")) == 1
    assert jobs.job_for_page(deps, ids.pop()) == jobs.latest_job(deps)


def test_the_database_refuses_a_second_active_retrain_even_without_the_service(tmp_path: Path, db_url: str) -> None:
    deps = _deps(tmp_path, db_url)
    first = jobs.enqueue_retrain(deps, "beheerder")
    with deps.sessions.begin() as s:
        assert store.enqueue(s, jobs.RETRAIN, "ander", T0) == (first, False)
        assert store.enqueue(s, "other-kind", "ander", T0)[1]  # one per kind, not one in all
    with pytest.raises(IntegrityError), deps.sessions.begin() as s:
        s.add(Job(kind=jobs.RETRAIN, status="running", started_by="x", started_at=T0, result={}))


def test_two_workers_never_claim_the_same_job(tmp_path: Path, db_url: str) -> None:
    deps = _deps(tmp_path, db_url)
    with deps.sessions.begin() as s:
        for kind in ("a", "b", "c"):
            store.enqueue(s, kind, "beheerder", T0)
    barrier = threading.Barrier(6)

    def claim(n: int) -> int | None:
        barrier.wait()
        with deps.sessions.begin() as s:
            job = store.claim_next(s, f"worker-{n}", T0 + jobs.LEASE)
            return job.id if job is not None else None

    with ThreadPoolExecutor(6) as pool:
        claimed = [job_id for job_id in pool.map(claim, range(6)) if job_id is not None]
    assert sorted(claimed) == [1, 2, 3]
    with deps.sessions() as s:
        rows = list(s.scalars(select(Job)))
    assert all(j.status == "running" for j in rows) and len({j.claimed_by for j in rows}) == 3


def test_a_running_job_is_failed_only_once_its_lease_has_run_out(tmp_path: Path, db_url: str) -> None:
    clock = Clock()
    deps = _deps(tmp_path, db_url, clock=clock)
    job_id = jobs.enqueue_retrain(deps, "beheerder")
    with deps.sessions.begin() as s:
        assert store.claim_next(s, "gone-worker", T0 + jobs.LEASE) is not None
    clock.at = T0 + jobs.LEASE - timedelta(seconds=1)
    assert jobs.recover_stale_jobs(deps) == []  # its worker may still be training
    assert jobs.enqueue_retrain(deps, "ander") == job_id
    clock.at = T0 + jobs.LEASE + timedelta(seconds=1)
    assert jobs.recover_stale_jobs(deps) == [job_id]
    job = _job(deps, job_id)
    assert (job.status, job.message, job.finished_at) == ("failed", jobs.ABANDONED, clock.at)
    with deps.sessions.begin() as s:  # the gone worker comes back: its last word is refused
        assert not store.finish(s, job_id, "gone-worker", "done", "klaar", clock.at)
    assert jobs.enqueue_retrain(deps, "ander") != job_id


def _run_kind(deps: Deps, monkeypatch: pytest.MonkeyPatch, handler: jobs.Handler,
              stop: threading.Event | None = None) -> Job:
    monkeypatch.setitem(jobs.HANDLERS, "test", handler)
    with deps.sessions.begin() as s:
        job_id, _new = store.enqueue(s, "test", "beheerder", T0)
    assert jobs.run_due_jobs(deps, stop) == 1
    return _job(deps, job_id)


def test_progress_renews_the_lease_and_a_job_ends_done_with_its_result(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    deps = _deps(tmp_path, sqlite_url, clock=clock)
    seen: list[Any] = []

    def handler(deps: Deps, progress: jobs.Progress) -> tuple[str, dict[str, Any]]:
        clock.at = T0 + timedelta(minutes=5)
        progress(50, "halverwege")
        with deps.sessions() as s:
            seen.append(s.scalars(select(Job)).one())
        return "klaar", {"version": "v2"}

    job = _run_kind(deps, monkeypatch, handler)
    assert (seen[0].progress, seen[0].message, seen[0].claimed_until) == (50, "halverwege", clock.at + jobs.LEASE)
    assert seen[0].claimed_by == "worker-a"
    assert (job.status, job.progress, job.message, job.result, job.claimed_until) == \
        ("done", 100, "klaar", {"version": "v2"}, None)


def test_a_failing_job_is_failed_with_its_error_and_a_stopping_worker_abandons_its_job(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    deps = _deps(tmp_path, sqlite_url)

    def broken(_deps: Deps, _progress: jobs.Progress) -> tuple[str, dict[str, Any]]:
        raise OSError("schijf vol")

    job = _run_kind(deps, monkeypatch, broken)
    assert (job.status, job.message) == ("failed", "OSError: schijf vol")
    stop = threading.Event()

    def stopped_halfway(_deps: Deps, progress: jobs.Progress) -> tuple[str, dict[str, Any]]:
        stop.set()  # SIGTERM arrives while training
        progress(60, "bijna")
        raise AssertionError("a progress report after the stop must end the job")

    job = _run_kind(deps, monkeypatch, stopped_halfway, stop)
    assert (job.status, job.message) == ("failed", jobs.ABANDONED)


def test_a_queued_job_shows_in_de_wachtrij(tmp_path: Path) -> None:
    settings, sessions, models = _worker_site(tmp_path)
    with sessions.begin() as s:
        users.add(s, ADMIN[0], ADMIN[1], "admin")
    client = create_app(settings, sessions, testing=True).test_client()
    job_id = _post_retrain(client)  # no worker runs here: it stays queued
    page = client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert "in de wachtrij" in page and 'id="progress"' in page and 'http-equiv="refresh"' in page
    assert client.get(f"/admin/jobs/{job_id}.json").get_json()["status"] == "queued"
    models_page = client.get("/admin/models").get_data(as_text=True)
    assert "In de wachtrij" in models_page and "Er staat al een training in de wachtrij." in models_page
    assert _post_retrain(client) == job_id
    assert client.get("/admin/jobs/999.json").status_code == 404


def test_upgrading_fails_the_retrains_an_earlier_version_left_running(db_url: str) -> None:
    engine = repo.open_engine(db_url)
    migrate.upgrade(engine, "0003")
    with engine.begin() as conn:
        for status in ("running", "running", "done"):  # check-then-insert let two through
            conn.execute(text(
                "INSERT INTO jobs (kind, status, progress, message, started_by, started_at, result) VALUES "
                f"('retrain', '{status}', 40, '', 'beheerder', '2026-11-20 10:00:00+00:00', '{{}}')"))
    migrate.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status, message, finished_at FROM jobs ORDER BY id")).all()
    assert [(r.status, r.message) for r in rows] == [("failed", jobs.ABANDONED)] * 2 + [("done", "")]
    assert rows[0].finished_at is not None
    engine.dispose()
