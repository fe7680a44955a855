"""IMAP IDLE: with a poll interval of an hour, a message appended to the mailbox is filed and
acknowledged as soon as Dovecot reports it, because the worker idles on the mailbox and the
poll wakes the send job. A restarted IMAP server is reconnected to, and mail goes on flowing."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from conftest import deps_for, imap_mailbox, sessions_for, settings_for, smtp_table, write_config
from mails import plain
from servers import Dovecot, SmtpServer

from triage.worker import Wakeable, run_forever


def _wait(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_idle_brings_new_mail_in_without_waiting_for_the_poll(
        tmp_path: Path, sqlite_url: str, dovecot: Dovecot, smtp_server: SmtpServer) -> None:
    user = f"idle-{tmp_path.name[-10:]}"
    dovecot.append(user, [])  # creates the mailbox
    path = write_config(tmp_path, sqlite_url, imap_mailbox(dovecot, user),
                        extra="", top=smtp_table(smtp_server) + "[outbox]\ninterval = 3600\n")
    text = path.read_text().replace("poll_interval = 1", "poll_interval = 3600")
    path.write_text(text)
    settings = settings_for(path)
    sessions = sessions_for(settings)
    stop = threading.Event()
    worker = threading.Thread(target=run_forever, args=(deps_for(settings, sessions), stop), daemon=True)
    worker.start()
    try:
        time.sleep(3)  # the first poll (at start) is over and the worker idles
        for n in (1, 2):
            dovecot.append(user, [plain(n, sender=f"Bewoner {n} <bewoner.idle{n}@example.net>")])
            assert _wait(lambda n=n: len(smtp_server.sink.received) >= n, 30), \
                f"message {n} was not acknowledged: IDLE did not wake the poll and send jobs"
        assert dovecot.uids(user) == []
    finally:
        stop.set()
        worker.join(timeout=30)


def test_a_wake_up_while_the_job_runs_is_not_lost() -> None:
    """New mail reported while a poll runs (after it listed the inbox) gets a poll of its own at
    once; APScheduler alone would skip that wake-up and leave the mail until the next interval."""
    runs: list[int] = []
    job: Wakeable

    def poll() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            job.woken.set()  # IDLE reports mail while this first run is busy

    job = Wakeable(poll, threading.Event())
    job()
    assert runs == [0, 1]
    job()  # no wake-up this time: one run
    assert runs == [0, 1, 2]
