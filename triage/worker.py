"""The daemon's schedule: APScheduler 3 jobs poll every organisation's mailbox at its interval,
send due acknowledgements and letters, queue the daily digests and run the nightly retention purge
(03:30 Europe/Amsterdam), one run at a time per job, missed runs coalesced; IMAP IDLE and
PostgreSQL LISTEN wake them early. SIGTERM/SIGINT stop it after the message in hand.

Only scheduling lives here: what a job does is a service (`triage.services`).
"""

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

from triage.config import ImapMailbox, Organisation
from triage.errors import ConfigError, ServerError
from triage.logs import Outage, get_logger
from triage.services import digest, purge
from triage.services import jobs as long_jobs
from triage.services.deps import Deps
from triage.services.poll import Poller
from triage.services.send import Sender
from triage.store.notify import OutboxListener

log = get_logger("triage.worker")


class Idler:
    """Waits for new mail with IMAP IDLE on its own connection (opened through the same factory
    as the poll) and wakes the poll job as soon as it comes; polling at the interval stays the
    fallback. IDLE is re-issued every `idle_renew` seconds; a lost connection is retried with
    backoff and logged once, and once when it is back."""

    def __init__(self, deps: Deps, org: Organisation, stop: threading.Event, wake: Callable[[], None]) -> None:
        self.deps, self.org, self.stop, self.wake = deps, org, stop, wake
        self.outage = Outage(log, "idle", organisation=org.id)

    def run(self) -> None:
        settings = self.org.mailbox
        assert isinstance(settings, ImapMailbox)
        backoff = 1.0
        while not self.stop.is_set():
            try:
                with self.deps.mailbox(self.org) as box:
                    if not box.supports_idle():
                        log.info("idle_unsupported", organisation=self.org.id, poll_interval=self.org.poll_interval)
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


class Schedule:
    """The scheduler with its wakeable jobs."""

    def __init__(self, deps: Deps, stop: threading.Event) -> None:
        self.deps, self.stop = deps, stop
        # APScheduler skips a job woken while it runs (and says so); `Wakeable` runs it once more instead.
        logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
        self.scheduler = BackgroundScheduler(
            timezone="Europe/Amsterdam",
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.jobs: dict[str, Wakeable] = {}

    def wake(self, job_id: str) -> None:
        if job_id in self.jobs:
            self.jobs[job_id].woken.set()
        with contextlib.suppress(JobLookupError):
            self.scheduler.modify_job(job_id, next_run_time=self.deps.clock())

    def waker(self, job_id: str) -> Callable[[], None]:
        return functools.partial(self.wake, job_id)

    def add(self, job_id: str, fn: Callable[[], object], seconds: float) -> None:
        self.jobs[job_id] = Wakeable(fn, self.stop)
        self.scheduler.add_job(self.jobs[job_id], "interval", seconds=seconds, id=job_id, name=job_id,
                               next_run_time=self.deps.clock())


def _thread(name: str, target: Callable[[], None]) -> None:
    threading.Thread(target=target, name=name, daemon=True).start()


def _add_polls(schedule: Schedule, deps: Deps, stop: threading.Event, sending: bool) -> None:
    for org in deps.settings.organisations.values():
        # The acknowledgements of each committed batch go out at once, while the next batch is
        # parsed, not at the send job's next turn.
        poller = Poller(deps, org, stop, schedule.waker("send") if sending else None)

        def poll_then_send(poller: Poller = poller) -> None:
            result = poller.poll()
            if sending and result is not None and result.answered:
                schedule.wake("send")

        schedule.add(f"poll:{org.id}", poll_then_send, org.poll_interval)


def _add_digest(schedule: Schedule, deps: Deps, sending: bool) -> None:
    """The daily digest: each run (at start, then every 10 minutes) queues what is due (a working
    day, past digest_time) and not yet queued that day; the send job is woken for it."""
    digester = digest.Digester(deps)

    def digest_then_send() -> None:
        result = digester.run()
        if sending and result is not None and result.count("sent"):
            schedule.wake("send")

    schedule.add("digest", digest_then_send, digest.INTERVAL)


PURGE_AT = {"hour": 3, "minute": 30}  # Europe/Amsterdam, the scheduler's zone: a quiet hour


class Purger:
    """The purge job: an error (a lost database, anything unexpected) is logged and the worker goes
    on; what was not done is done by the next night's run."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def run(self) -> purge.Result | None:
        try:
            return purge.run(self.deps)
        except Exception as exc:  # a daily job must never stop the worker
            log.error("purge_failed", error=(str(exc).strip().splitlines() or [type(exc).__name__])[0],
                      kind=type(exc).__name__, note="the next run finishes the rest")
            return None


def _add_purge(schedule: Schedule, deps: Deps) -> None:
    """The retention purge once a day at PURGE_AT (coalesced, one run at a time, as every job)."""
    schedule.scheduler.add_job(Purger(deps).run, "cron", id="purge", name="purge", **PURGE_AT)


def run_forever(deps: Deps, stop: threading.Event | None = None, poll: bool = True) -> None:
    """Run the scheduler until SIGTERM/SIGINT (or `stop` is set); `poll=False` only sends."""
    stop = stop or threading.Event()
    _on_signals(stop)
    schedule = Schedule(deps, stop)
    sending = deps.transport() is not None
    if poll:
        _add_polls(schedule, deps, stop, sending)
    if not sending:
        log.warning("no_smtp", note="acknowledgements are written to the outbox table but not sent: add [smtp]")
    else:
        schedule.add("send", Sender(deps).run, deps.settings.outbox.interval)
    if poll:  # long jobs the web UI queued (retraining); the first run fails those a stopped worker left
        schedule.add("jobs", long_jobs.Runner(deps, stop), long_jobs.INTERVAL)
        _add_digest(schedule, deps, sending)
        _add_purge(schedule, deps)
    schedule.scheduler.start()
    if sending and deps.sessions.kw["bind"].dialect.name == "postgresql":
        _thread("outbox-listener", OutboxListener(deps.settings.database.url, stop, schedule.waker("send")).run)
    for org in deps.settings.organisations.values() if poll else ():
        if isinstance(org.mailbox, ImapMailbox) and org.mailbox.idle:
            _thread(f"idle-{org.id}", Idler(deps, org, stop, schedule.waker(f"poll:{org.id}")).run)
    log.info("started", organisations=",".join(deps.settings.organisations))
    try:
        while not stop.wait(1.0):
            pass
    finally:
        schedule.scheduler.shutdown(wait=True)
        log.info("stopped")


def _on_signals(stop: threading.Event) -> None:
    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping", signal=signal.Signals(signum).name, note="finishing the message in hand")
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
