"""Long jobs (retraining) run in `triage run`, not in the web process: the web UI queues them, the
worker claims and runs them, and a job a stopped process left `running` is failed at start-up."""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from web_site import ADMIN, ROOT

from triage import config, demo
from triage.store import migrate, repo, users
from triage.store.models import Job
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
    (models / "corpus").symlink_to(ROOT / "models" / "corpus")
    path = demo.create(tmp_path / "site")
    path.write_text(path.read_text() + f'\n[model]\ndirectory = "{models}"\n', encoding="utf-8")
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
    worker = threading.Thread(target=run_forever, args=(settings, sessions, stop), name="triage-run", daemon=True)
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
