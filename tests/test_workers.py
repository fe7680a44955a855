"""Several workers against one PostgreSQL: mailbox leases (SKIP LOCKED, expiry, take-over), and
three `triage run` processes over two organisations' Dovecot mailboxes and one SMTP server while
1 000 messages arrive: every message becomes exactly one record, every acknowledgement is sent
exactly once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import ROOT, daemon_config, imap_mailbox, sessions_for, settings_for
from servers import Dovecot, SmtpServer
from sqlalchemy import func, select, update

from triage.store import migrate, repo
from triage.store.models import Acknowledgement, Case, MailboxState, Message


def test_a_lease_keeps_a_mailbox_to_one_worker_until_it_expires(db_url: str) -> None:
    engine = repo.open_engine(db_url)
    migrate.ensure_current(engine)
    sessions = repo.session_factory(engine)
    with sessions.begin() as s:
        assert repo.claim_lease(s, "org/INBOX", "org", "worker-a", 60, repo.now()) is None
    with sessions.begin() as s:
        assert repo.claim_lease(s, "org/INBOX", "org", "worker-b", 60, repo.now()) == "worker-a"
    with sessions.begin() as s:
        assert repo.claim_lease(s, "org/INBOX", "org", "worker-a", 60, repo.now()) is None  # a renewal
    with sessions.begin() as s:  # worker-a dies: its lease runs out
        s.execute(update(MailboxState).values(lease_until=repo.now() - timedelta(seconds=1)))
    with sessions.begin() as s:
        assert repo.claim_lease(s, "org/INBOX", "org", "worker-b", 60, repo.now()) is None
    with sessions.begin() as s:  # its renewal now fails:
        assert repo.claim_lease(s, "org/INBOX", "org", "worker-a", 60, repo.now()) == "worker-b"
        repo.release_lease(s, "org/INBOX", "worker-a")  # releasing what it no longer holds changes nothing
    with sessions.begin() as s:
        assert repo.claim_lease(s, "org/INBOX", "org", "worker-a", 60, repo.now()) == "worker-b"
        repo.release_lease(s, "org/INBOX", "worker-b")
    with sessions.begin() as s:
        assert repo.claim_lease(s, "org/INBOX", "org", "worker-a", 60, repo.now()) is None
    engine.dispose()


def test_a_locked_lease_row_is_skipped_not_waited_for(pg_url: str) -> None:
    engine = repo.open_engine(pg_url)
    migrate.ensure_current(engine)
    sessions = repo.session_factory(engine)
    with sessions.begin() as s:
        assert repo.claim_lease(s, "org/INBOX", "org", "worker-a", 60, repo.now()) is None
        s.execute(update(MailboxState).values(lease_until=repo.now() - timedelta(seconds=1)))
    holder = sessions()
    holder.begin()
    assert repo.claim_lease(holder, "org/INBOX", "org", "worker-a", 60, repo.now()) is None  # row locked, not committed
    started = time.monotonic()
    with sessions.begin() as s:
        assert repo.claim_lease(s, "org/INBOX", "org", "worker-b", 60, repo.now()) == "another worker"
    assert time.monotonic() - started < 2
    holder.rollback()
    holder.close()
    engine.dispose()


def _messages(n: int, org: str) -> list[bytes]:
    """Real-looking mail: the hand-written training corpus, each copy with its own sender, so that
    no rate limit or duplicate check hides a doubled acknowledgement."""
    corpus = sorted((ROOT / "models" / "corpus" / "mail").rglob("*.eml"))
    out = []
    for i in range(n):
        raw = corpus[i % len(corpus)].read_bytes()
        head, sep, body = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.partition(b"\n\n")
        head = re.sub(rb"(?im)^(from|reply-to|message-id):.*(\r?\n[ \t].*)*\r?\n?", b"", head + b"\n").rstrip()
        nl = b"\r\n" if b"\r\n" in raw else b"\n"
        extra = nl.join([f"From: Inwoner {org}-{i} <inwoner.{org}.{i}@example.nl>".encode(),
                         f"Message-ID: <{org}-{i}@load.example.nl>".encode()])
        out.append(head + nl + extra + sep + body)
    return out


def _config(tmp_path: Path, pg_url: str, dovecot: Dovecot, smtp: SmtpServer, users: dict[str, str]) -> Path:
    return daemon_config(tmp_path, pg_url, smtp, {org: imap_mailbox(dovecot, user) for org, user in users.items()})


@pytest.mark.timeout(600)
def test_three_workers_two_organisations_one_database_exactly_once(
        tmp_path: Path, pg_url: str, dovecot: Dovecot, smtp_server: SmtpServer) -> None:
    users = {"alfa": f"alfa-{tmp_path.name[-8:]}", "beta": f"beta-{tmp_path.name[-8:]}"}
    config = _config(tmp_path, pg_url, dovecot, smtp_server, users)
    settings = settings_for(config)
    sessions = sessions_for(settings)  # schema first, so that the workers do not race to create it
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    log_files = [tmp_path / f"worker-{n}.log" for n in range(3)]  # files, not pipes: a full pipe blocks a writer
    workers = [subprocess.Popen([sys.executable, "-m", "triage.cli", "run", "--config", str(config)], cwd=tmp_path,
                                env=env, stdout=subprocess.DEVNULL, stderr=path.open("w"), text=True)
               for path in log_files]
    per_org = int(os.environ.get("TRIAGE_LOAD_PER_ORG", "500"))
    try:
        def deliver(org: str) -> None:  # mail keeps arriving while the workers run
            batch = _messages(per_org, org)
            for start in range(0, per_org, 50):
                dovecot.append(users[org], batch[start : start + 50])
                time.sleep(0.2)

        senders = [threading.Thread(target=deliver, args=(org,)) for org in users]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join()
        deadline = time.monotonic() + float(os.environ.get("TRIAGE_LOAD_WAIT", "240"))
        while time.monotonic() < deadline:
            with sessions() as s:
                records = s.scalar(select(func.count()).select_from(Message)) or 0
                waiting = s.scalar(select(func.count()).select_from(Acknowledgement).where(
                    Acknowledgement.status.in_(("pending", "sending")))) or 0
            if records >= 2 * per_org and waiting == 0 and all(not dovecot.uids(u) for u in users.values()):
                break
            assert all(w.poll() is None for w in workers), "a worker died"
            time.sleep(1)
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=60)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()
        logs = [path.read_text() for path in log_files]
    assert all(w.returncode == 0 for w in workers), logs
    assert all(not dovecot.uids(u) for u in users.values()), "mail left in an inbox"
    with sessions() as s:
        messages = list(s.scalars(select(Message)))
        assert len(messages) == 2 * per_org
        assert Counter(m.disposition for m in messages)["duplicate"] == 0
        assert len({(m.mailbox, m.uid) for m in messages}) == len(messages)
        assert all(m.moved_at is not None for m in messages)
        cases = list(s.scalars(select(Case)))
        assert len({c.reference for c in cases}) == len(cases)
        assert sum(1 for m in messages if m.case_id is not None and m.disposition in ("filed", "review")) == len(cases)
        rows = list(s.scalars(select(Acknowledgement)))
        assert len(rows) == len(cases) and len({r.case_id for r in rows}) == len(rows)
        sent = {r.message_id for r in rows if r.status == "sent"}
        assert len(sent) > 0.9 * len(cases)
    received = Counter(m["Message-ID"] for m in smtp_server.sink.messages())
    doubled = [mid for mid, n in received.items() if n > 1]
    assert doubled == [], f"sent twice: {doubled[:5]}"
    assert set(received) == sent
    worked = [sum(1 for line in log.splitlines() if "event=message " in line) for log in logs]
    assert sum(worked) == 2 * per_org, worked  # no message was handled by two workers


@pytest.mark.timeout(120)
def test_a_row_written_by_another_process_wakes_the_send_job(tmp_path: Path, pg_url: str, dovecot: Dovecot,
                                                             smtp_server: SmtpServer) -> None:
    """PostgreSQL LISTEN/NOTIFY: `triage poll --once` (another process, like `triage serve` with a
    corrected acknowledgement) writes an outbox row; the running worker's send job, whose interval
    is an hour, sends it at once."""
    user = f"notify-{tmp_path.name[-8:]}"
    config = _config(tmp_path, pg_url, dovecot, smtp_server, {"gamma": user})
    text = config.read_text().replace("interval = 0.5", "interval = 3600").replace("poll_interval = 1",
                                                                                   "poll_interval = 3600")
    config.write_text(text.replace("[organisations.gamma.mailbox]", "[organisations.gamma.mailbox]\nidle = false"))
    sessions_for(settings_for(config))
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen([sys.executable, "-m", "triage.cli", "run", "--config", str(config)],
                                  cwd=tmp_path, env=env, stdout=out, stderr=out)
        try:
            deadline = time.monotonic() + 60
            while "event=started" not in log.read_text() or "event=poll " in log.read_text():
                assert time.monotonic() < deadline and worker.poll() is None, log.read_text()
                time.sleep(0.1)
            time.sleep(1)  # its first poll (an empty inbox) and first send run are over
            dovecot.append(user, _messages(1, "gamma"))
            subprocess.run([sys.executable, "-m", "triage.cli", "poll", "--once", "--config", str(config)],
                           cwd=tmp_path, env=env, check=True, capture_output=True)
            deadline = time.monotonic() + 20  # `poll --once` does not send; the worker's send interval is an hour
            while not smtp_server.sink.received:
                assert time.monotonic() < deadline, f"not woken: {log.read_text()[-2000:]}"
                time.sleep(0.1)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
    assert len(smtp_server.sink.received) == 1
    assert "event=ack_sent" in log.read_text() and "listen_failed" not in log.read_text()
