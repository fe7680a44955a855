"""A review site with real data for the web tests: the demo organisation's 36 messages plus a
hostile one and one that a simulated parser bug quarantines, polled by the real pipeline with the
committed model, acknowledgements written to the pickup folder, and two accounts; and a job runner
standing in for `triage run`, which runs the retraining the site queues."""

from __future__ import annotations

import mailbox
import shutil
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import corpus_sample, deps_for
from flask import Flask, request
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.wrappers import Response

from triage import config, demo, pipeline
from triage.services import jobs
from triage.services.deps import Deps
from triage.services.deps import build as build_deps
from triage.services.poll import poll_all
from triage.services.send import send_once
from triage.store import migrate, repo, users
from triage.store.models import Case, Message
from triage.training import registry

ROOT = Path(__file__).resolve().parent.parent
ADMIN, STAFF = ("beheerder", "beheer-wachtwoord-1"), ("medewerker", "medewerker-wachtwoord-1")
HOSTILE_SUBJECT = "Klacht <script>alert('subject')</script> over de balie"
HOSTILE_BODY = ("Geachte heer/mevrouw,\n\nDe medewerker aan de balie was onbeschoft. <script>alert('xss')</script>\n"
                "<img src=x onerror=\"alert('img')\">\n\nMet vriendelijke groet,\nKarin Smit\n")
BROKEN_SUBJECT = "Dit bericht laat de parser struikelen"
ATTACHMENTS = ROOT / "tests" / "fixtures" / "attachments"  # a nested forward; inline image and odd names
FORWARD_SUBJECT, ODD_NAMES_SUBJECT = "FW: Klacht over bouwhek Kerkstraat", "Waterschade na werkzaamheden riolering"
FORWARD_FILES = {  # the files of the nested forward: path -> (name, sha256 of the bytes written into it)
    "2.2": ("zażalenie.pdf", "0c8efd2c0ba448f219d4eed0abcb168bb18f6263a3f3c400ad94938b31b8a3fd"),
    "2.3": ("foto.jpg", "6595cf3069ac242bb0632bc3aa0bd68f028417d1cb534bcc21ea0d7dd7a46c9c"),
    "3": ("foto.jpg", "8f75cd3b496fc6e8c605fdba5caea2d9a6b54a73c0d43b77c38c910e2fbc490b"),
}


class JobRunner:
    """What `triage run` does beside the site: runs queued jobs in a thread, every 0.5 s and at
    once when woken. A context manager: stopped (and joined) on leaving it."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.stop, self.wake = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._loop, name="test-job-runner", daemon=True)

    def _loop(self) -> None:
        while not self.stop.is_set():
            jobs.run_due_jobs(self.deps, self.stop)
            self.wake.wait(0.5)
            self.wake.clear()

    def __enter__(self) -> JobRunner:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.wake.set()
        self.thread.join(timeout=300)

    def claimed(self, seconds: float = 30) -> None:
        """Wake the runner and wait until no job is left queued."""
        self.wake.set()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            latest = jobs.latest_job(self.deps)
            if latest is None or latest.status != "queued":
                return
            time.sleep(0.05)


def claim_at_once(app: Flask, runner: JobRunner) -> Flask:
    """The tests follow a job until it is no longer 'running': a POST that queues one returns once
    the runner has claimed it, as an idle worker would have by the time a person looks."""

    @app.after_request
    def claimed(response: Response) -> Response:
        if request.method == "POST" and request.endpoint == "admin.retrain":
            runner.claimed()
        return response

    return app


@dataclass
class Site:
    settings: config.Settings
    sessions: sessionmaker[Session]
    models: Path
    corpus: Path
    maildir: Path
    jobs: JobRunner

    def poll(self) -> None:
        poll_all(deps_for(self.settings, self.sessions, registry.load(self.models), self.models))

    def case_id(self, **where: str) -> int:
        with self.sessions() as s:
            q = select(Case.id)
            for key, value in where.items():
                q = q.where(getattr(Case, key) == value)
            found = s.scalars(q.order_by(Case.id)).first()
            assert found is not None, where
            return found

    def case_of(self, subject: str) -> int:
        """The case a message (by subject) was filed in."""
        with self.sessions() as s:
            found = s.scalar(select(Message.case_id).where(Message.subject == subject))
            assert found is not None, subject
            return found

    def message_id(self, subject: str) -> int:
        with self.sessions() as s:
            found = s.scalar(select(Message.id).where(Message.subject == subject))
            assert found is not None, subject
            return found


URGENT_SUBJECT = "Gaslucht in het trappenhuis Kastanjeplein 30"
URGENT_BODY = ("Goedemorgen, al sinds gisteravond ruik ik gas in het trappenhuis, bij de meterkast op de tweede "
               "verdieping. Ik heb het gisteren ook al telefonisch gemeld maar er is niemand gekomen. Er wonen hier "
               "kleine kinderen. Kan er vandaag iemand komen kijken?\n\nGerda Spaans, Kastanjeplein 30-12")


def _mail(subject: str, body: str, sender: str = "Karin Smit <karin.smit@example.nl>") -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "klachten@lindendal.example", subject
    msg["Message-ID"] = f"<{abs(hash(subject))}@example.nl>"
    msg.set_content(body)
    msg.add_attachment(b"%PDF-1.4 test\n", maintype="application", subtype="pdf", filename="foto-balie.pdf")
    return msg.as_bytes()


def build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    models = tmp_path / "models"  # a copy: retraining and promoting must not touch the repository's models
    version = registry.current_version(ROOT / "models")
    assert version is not None
    shutil.copytree(ROOT / "models" / version, models / version)
    (models / "CURRENT").write_text(version + "\n")
    # where `triage run` retrains from, and the writers it scores a retrain on: a third of each
    corpus_sample(models / "corpus", ROOT / "models" / "corpus", 3)
    corpus_sample(models / "heldout", ROOT / "models" / "heldout", 3)
    config_path = demo.create(tmp_path / "site")
    # two folds for the retrainings the web tests start: what is tested is the job and the pages
    config_path.write_text(config_path.read_text() + "\n[model]\nfolds = 2\n", encoding="utf-8")
    settings = config.load(config_path)
    box = mailbox.Maildir(tmp_path / "site" / "mail", create=False)
    box.add(_mail(HOSTILE_SUBJECT, HOSTILE_BODY))
    box.add(_mail(URGENT_SUBJECT, URGENT_BODY, sender="Gerda Spaans <g.spaans@example.nl>"))
    box.add(_mail(BROKEN_SUBJECT, "Hallo, dit is een gewone vraag over de openingstijden.",
                  sender="Piet <piet@example.nl>"))
    for fixture in sorted(ATTACHMENTS.glob("*.eml")):
        box.add(fixture.read_bytes())
    real_parse = pipeline.parse

    def parse(raw: bytes, **kwargs: object):  # type: ignore[no-untyped-def]
        if BROKEN_SUBJECT.encode() in raw:
            raise ValueError("simulated parser bug")
        return real_parse(raw, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "parse", parse)
    engine = repo.open_engine(settings.database.url)
    migrate.ensure_current(engine)
    sessions = repo.session_factory(engine)
    site = Site(settings, sessions, models, models / "corpus", tmp_path / "site" / "mail",
                JobRunner(build_deps(settings, sessions, models=models, worker_id="test-job-runner")))
    for _ in range(3):  # the broken message fails every attempt and stays in quarantine
        site.poll()
    monkeypatch.setattr(pipeline, "parse", real_parse)
    deps = deps_for(settings, sessions, models=models)
    assert deps.transport() is not None
    send_once(deps)
    with sessions.begin() as s:
        users.add(s, ADMIN[0], ADMIN[1], "admin")
        users.add(s, STAFF[0], STAFF[1], "staff", ["lindendal"])
    return site
