"""Outages under a running `triage run`: the SMTP server down, the IMAP server restarted, the
database unreachable for a minute. Each time the worker waits, moves no mail it has not committed,
logs the outage once (and once when it is over), and catches up: every message becomes exactly
one record and every acknowledgement is sent exactly once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import daemon_config, imap_mailbox, sessions_for, settings_for, unavailable
from servers import Dovecot, SmtpServer, TcpProxy, start_dovecot
from sqlalchemy import func, select
from test_workers import _messages

from triage.store import repo
from triage.store.models import Acknowledgement, Message

DB_OUTAGE = 60.0  # seconds: "the database unreachable for a minute"


@pytest.fixture
def own_dovecot() -> Iterator[Dovecot]:
    """A Dovecot of this test's own, since the test restarts it."""
    try:
        server = start_dovecot()
    except (FileNotFoundError, RuntimeError) as exc:
        unavailable(f"Dovecot cannot run here: {exc}")
        return
    yield server
    server.stop()


def _wait(what: str, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.2)


def _events(log: Path) -> Counter[str]:
    return Counter(re.findall(r"event=(\w+)", log.read_text(encoding="utf-8", errors="replace")))


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_smtp_down_imap_restarted_database_cut_for_a_minute(tmp_path: Path, pg_url: str, own_dovecot: Dovecot,
                                                              smtp_server: SmtpServer) -> None:
    dovecot, user = own_dovecot, "outages"
    pg_port = int(re.search(r":(\d+)/", pg_url).group(1))  # type: ignore[union-attr]
    proxy = TcpProxy(pg_port)
    url = re.sub(r":\d+/", f":{proxy.port}/", pg_url, count=1)
    path = daemon_config(tmp_path, url, smtp_server, {"outage": imap_mailbox(dovecot, user, batch_size=10)})
    sessions_for(settings_for(path))  # the schema, through the proxy
    engine = repo.open_engine(pg_url)  # the test itself looks at the database directly
    sessions = repo.session_factory(engine)
    mail = _messages(60, "outage")

    def records() -> int:
        with sessions() as s:
            return s.scalar(select(func.count()).select_from(Message).where(Message.moved_at.is_not(None))) or 0

    def acknowledged(n: int) -> Callable[[], bool]:
        """All acknowledgements of the first n messages out: none waits, the sink has each sent one."""
        def check() -> bool:
            with sessions() as s:
                statuses = Counter(s.scalars(select(Acknowledgement.status)))
            return (records() == n and not statuses["pending"] and not statuses["sending"]
                    and len(smtp_server.sink.received) == statuses["sent"] > 0)
        return check

    log_path = tmp_path / "worker.log"
    log = log_path.open("w")
    worker = subprocess.Popen([sys.executable, "-m", "triage.cli", "run", "--config", str(path)], cwd=tmp_path,
                              env=dict(os.environ, PYTHONUNBUFFERED="1"), stdout=log, stderr=log)
    try:
        _wait("the worker started", lambda: "event=started" in log_path.read_text())

        # 1. The SMTP server is down: mail is filed and moved, the acknowledgements wait.
        smtp_server.stop()
        dovecot.append(user, mail[:20])
        _wait("20 messages filed and moved", lambda: records() == 20 and not dovecot.uids(user))
        _wait("the send job noticed", lambda: _events(log_path)["send_failed"] == 1)
        time.sleep(2)  # several send runs fail meanwhile
        assert not smtp_server.sink.received
        smtp_server.start()
        _wait("the acknowledgements sent", acknowledged(20))

        # 2. The IMAP server restarts (down for 3 s): idle and poll reconnect, new mail comes in.
        dovecot.halt()
        time.sleep(3)
        dovecot.restart()
        dovecot.append(user, mail[20:40])
        _wait("40 messages filed", lambda: records() == 40 and not dovecot.uids(user))
        _wait("the acknowledgements sent", acknowledged(40))
        _wait("idle reconnected", lambda: _events(log_path)["idle_recovered"] == 1, timeout=30)

        # 3. The database is unreachable for a minute: mail arrives and stays in the inbox untouched.
        proxy.cut()
        dovecot.append(user, mail[40:60])
        deadline = time.monotonic() + DB_OUTAGE
        while time.monotonic() < deadline:
            assert len(dovecot.uids(user)) == 20, "mail moved while its record could not be committed"
            time.sleep(2)
        events = _events(log_path)
        assert events["poll_failed"] == 2 and events["send_failed"] == 2, events
        proxy.restore()
        _wait("60 messages filed", lambda: records() == 60 and not dovecot.uids(user))
        _wait("the acknowledgements sent", acknowledged(60))
        _wait("the outbox listener is back", lambda: _events(log_path)["listen_recovered"] == 1, timeout=20)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        finally:
            log.close()
            proxy.cut()
    assert worker.returncode == 0
    with sessions() as s:
        messages = list(s.scalars(select(Message)))
        rows = list(s.scalars(select(Acknowledgement)))
    assert len(messages) == 60 and len({m.message_id for m in messages}) == 60
    assert all(m.disposition in ("filed", "review", "ignored") for m in messages)
    answered = [m for m in messages if m.disposition != "ignored"]  # machine mail in the corpus is never answered
    assert len(answered) >= 50 and len(rows) == len(answered) and all(r.status == "sent" for r in rows)
    received = Counter(m["Message-ID"] for m in smtp_server.sink.messages())
    assert set(received) == {r.message_id for r in rows} and set(received.values()) == {1}
    # Each outage is logged once when it starts and once when it is over, not per retry.
    events = _events(log_path)
    print(f"\nlog events: { {k: v for k, v in events.items() if 'fail' in k or 'recover' in k} }")
    assert events["send_failed"] == 2 and events["send_recovered"] == 2  # SMTP down, then the database
    assert events["poll_failed"] == 2 and events["poll_recovered"] == 2  # IMAP restart, then the database
    assert events["idle_failed"] == 1 and events["idle_recovered"] == 1  # the IMAP restart
    assert events["listen_failed"] == 1 and events["listen_recovered"] == 1  # LISTEN/NOTIFY: the database
    assert "Traceback" not in log_path.read_text()
