"""The daemon: APScheduler 3 jobs poll every organisation's mailbox at its interval and send due
acknowledgements, one run at a time per job, missed runs coalesced; SIGTERM/SIGINT stop it after
the message in hand."""

from __future__ import annotations

import contextlib
import functools
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from triage import memory
from triage.config import ImapMailbox, Organisation, Settings
from triage.errors import ConfigError, Outage, ServerError
from triage.mailboxes import open_mailbox
from triage.outbox import Sender, transport_for
from triage.pipeline import PollResult, mailbox_key, run_once
from triage.services import jobs as long_jobs
from triage.services.deps import Deps
from triage.store import acks, repo
from triage.store.repo import now
from triage.training import registry
from triage.training.model import Classifier

log = logging.getLogger("triage.worker")


class CurrentModel:
    """The model `triage run` classifies with, swapped for another when models/CURRENT changes
    (an administrator promoted or rolled back a version); a version that fails to load is logged
    once and the one in hand stays."""

    def __init__(self, settings: Settings, classifier: Classifier | None) -> None:
        self.directory = registry.models_dir(settings.model.directory)
        self.classifier = classifier
        self.refused: str | None = None
        self.lock = threading.Lock()

    def get(self) -> Classifier | None:
        wanted = registry.current_version(self.directory)
        with self.lock:
            have = self.classifier.version if self.classifier else None
            if wanted is None or wanted == have or wanted == self.refused:
                return self.classifier
            try:
                self.classifier = registry.load(self.directory, wanted)
            except registry.ModelError as exc:
                log.error("event=model_refused version=%s error=%r (keeping %s)", wanted, str(exc), have)
                self.refused = wanted
                return self.classifier
            log.info("event=model_switched from=%s to=%s", have, wanted)
            return self.classifier


class Poller:
    """Polls one organisation; logs a lost server once, and once more when it is back."""

    def __init__(self, org: Organisation, sessions: sessionmaker[Session], settings: Settings,
                 stop: threading.Event, model: CurrentModel | None = None,
                 on_batch: Callable[[], None] | None = None) -> None:
        self.org, self.sessions, self.settings, self.stop = org, sessions, settings, stop
        self.on_batch = on_batch
        self.model = model or CurrentModel(settings, None)
        self.outage = Outage(log, "poll", f"organisation={org.id} ")

    def poll(self) -> PollResult | None:
        if self.stop.is_set():
            return None
        try:
            result = poll_org(self.org, self.sessions, self.settings, self.stop, self.model.get(), self.on_batch,
                              keep_rows=False)
            if result is None:
                return None
        except (ServerError, SQLAlchemyError) as exc:
            self.outage.failed(exc, "nothing is moved that is not committed; will retry")
            return None
        self.outage.ok()
        if result.counts or result.moved:
            log.info("event=poll organisation=%s %s moved=%d", self.org.id,
                     " ".join(f"{k}={v}" for k, v in sorted(result.counts.items())), result.moved)
        return result


class Idler:
    """Waits for new mail with IMAP IDLE on its own connection and wakes the poll job as soon as
    it comes (polling at the interval stays the fallback). Re-issues IDLE every `idle_renew`
    seconds; a lost connection is retried with backoff and logged once, and once when it is back."""

    def __init__(self, org: Organisation, stop: threading.Event, wake: Callable[[], None]) -> None:
        self.org, self.stop, self.wake = org, stop, wake
        self.outage = Outage(log, "idle", f"organisation={org.id} ")

    def run(self) -> None:
        from triage.mailboxes.imap import ImapBox

        settings = self.org.mailbox
        assert isinstance(settings, ImapMailbox)
        backoff = 1.0
        while not self.stop.is_set():
            try:
                with ImapBox(settings) as box:
                    if not box.supports_idle():
                        log.info("event=idle_unsupported organisation=%s (polling every %ss)", self.org.id,
                                 self.org.poll_interval)
                        return
                    self.outage.ok()
                    backoff = 1.0
                    while not self.stop.is_set():
                        if box.wait_for_mail(settings.folder, settings.idle_renew, self.stop):
                            self.wake()
            except (ServerError, ConfigError) as exc:
                self.outage.failed(exc, "retrying with backoff; polling goes on")
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 60.0)


class OutboxListener:
    """PostgreSQL only: LISTENs for new outbox rows, written by any process (this or another
    worker, `triage serve` sending a corrected acknowledgement), and wakes the send job at once.
    A lost connection is retried with backoff and logged once; the send interval stays the fallback."""

    def __init__(self, url: str, stop: threading.Event, wake: Callable[[], None]) -> None:
        self.url, self.stop, self.wake = url, stop, wake
        self.outage = Outage(log, "listen")

    def run(self) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        conninfo = make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)
        backoff = 1.0
        while not self.stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {acks.CHANNEL}")
                    self.outage.ok()
                    backoff = 1.0
                    self.wake()  # rows written while nobody listened
                    while not self.stop.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            self.wake()
            except psycopg.Error as exc:
                self.outage.failed(exc, "new acknowledgements wait for the send interval; retrying")
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)  # cheap to retry; back within 10 s of the database


def poll_org(org: Organisation, sessions: sessionmaker[Session], settings: Settings, stop: threading.Event,
             classifier: Classifier | None, on_batch: Callable[[], None] | None = None,
             keep_rows: bool = True) -> PollResult | None:
    """Poll one organisation's mailbox under a lease, so that of several workers (on one or more
    machines, one PostgreSQL) only one polls it at a time. None when another worker holds it.
    `on_batch` runs after each batch is committed and moved (the send job is woken there)."""
    seconds = settings.processing.lease_seconds
    with open_mailbox(org) as box:
        key = mailbox_key(org, box)
        with sessions.begin() as session:
            holder = repo.claim_lease(session, key, org.id, repo.WORKER_ID, seconds)
        if holder is not None:
            log.debug("event=mailbox_busy mailbox=%s holder=%s", key, holder)
            return None

        def renew() -> bool:  # after every batch
            memory.release()  # the batch's parsing garbage: a long backlog must not ratchet the RSS up
            if on_batch is not None:
                on_batch()
            with sessions.begin() as session:
                return repo.claim_lease(session, key, org.id, repo.WORKER_ID, seconds) is None

        try:
            return run_once(org, box, sessions, settings, stop, classifier, renew, keep_rows)
        finally:
            with sessions.begin() as session:
                repo.release_lease(session, key, repo.WORKER_ID)


def poll_all(settings: Settings, sessions: sessionmaker[Session], stop: threading.Event | None = None,
             classifier: Classifier | None = None) -> list[PollResult]:
    """One cycle over every organisation; server errors propagate (used by `poll --once`). A
    mailbox another worker is polling right now is left to it."""
    stop = stop or threading.Event()
    results = []
    for org in settings.organisations.values():
        result = poll_org(org, sessions, settings, stop, classifier)
        results.append(result if result is not None else PollResult(org.id, busy=True))
        if stop.is_set():
            break
    return results


class Wakeable:
    """A scheduled job that can be woken: a wake-up that comes while it runs (new mail reported
    after the poll listed the inbox) makes it run once more at once instead of being lost."""

    def __init__(self, fn: Callable[[], object], stop: threading.Event) -> None:
        self.fn, self.stop = fn, stop
        self.woken = threading.Event()

    def __call__(self) -> None:
        while not self.stop.is_set():
            self.woken.clear()
            self.fn()
            if not self.woken.is_set():
                return


def run_forever(settings: Settings, sessions: sessionmaker[Session], stop: threading.Event | None = None,
                classifier: Classifier | None = None, poll: bool = True) -> None:
    """Run the scheduler until SIGTERM/SIGINT (or `stop` is set); `poll=False` only sends."""
    stop = stop or threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("event=stopping signal=%s (finishing the message in hand)", signal.Signals(signum).name)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    # APScheduler skips a job woken while it runs (and says so); `Wakeable` runs it once more instead.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    scheduler = BackgroundScheduler(
        timezone="Europe/Amsterdam",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    model = CurrentModel(settings, classifier)
    sending = transport_for(settings) is not None

    jobs: dict[str, Wakeable] = {}

    def wake(job_id: str) -> None:
        if job_id in jobs:
            jobs[job_id].woken.set()
        with contextlib.suppress(JobLookupError):
            scheduler.modify_job(job_id, next_run_time=now())

    def add_job(job_id: str, name: str, fn: Callable[[], object], seconds: float) -> None:
        jobs[job_id] = Wakeable(fn, stop)
        scheduler.add_job(jobs[job_id], "interval", seconds=seconds, id=job_id, name=name, next_run_time=now())

    for org in settings.organisations.values() if poll else ():
        # The acknowledgements of each committed batch go out at once, while the next batch is
        # parsed, not at the send job's next turn.
        poller = Poller(org, sessions, settings, stop, model, functools.partial(wake, "send") if sending else None)

        def poll_then_send(poller: Poller = poller) -> None:
            result = poller.poll()
            if sending and result is not None and result.answered:
                wake("send")

        add_job(f"poll:{org.id}", f"poll {org.id}", poll_then_send, org.poll_interval)
    sender = Sender(settings, sessions)
    if not sending:
        log.warning("event=no_smtp (acknowledgements are written to the outbox table but not sent: add [smtp])")
    else:
        add_job("send", "send", sender.run, settings.outbox.interval)
    if poll:  # long jobs the web UI queued (retraining); the first run fails those a stopped worker left
        deps = Deps(settings, sessions, repo.WORKER_ID, registry.models_dir(settings.model.directory))
        add_job("jobs", "long jobs", long_jobs.Runner(deps, stop), long_jobs.INTERVAL)
    scheduler.start()
    if sending and sessions.kw["bind"].dialect.name == "postgresql":
        listener = OutboxListener(settings.database.url, stop, functools.partial(wake, "send"))
        threading.Thread(target=listener.run, name="outbox-listener", daemon=True).start()
    for org in settings.organisations.values() if poll else ():
        if isinstance(org.mailbox, ImapMailbox) and org.mailbox.idle:
            idler = Idler(org, stop, functools.partial(wake, f"poll:{org.id}"))
            threading.Thread(target=idler.run, name=f"idle-{org.id}", daemon=True).start()
    log.info("event=started organisations=%s", ",".join(settings.organisations))
    try:
        while not stop.wait(1.0):
            pass
    finally:
        scheduler.shutdown(wait=True)
        log.info("event=stopped")

