"""End to end against the raw I/O floor, in one run: N realistic messages in a Dovecot mailbox,
acknowledgements to an aiosmtpd sink.

  (a) floor: a plain imapclient batched fetch of the N messages, plus plain smtplib sending of N
      small mails over one connection to the sink;
  (b) the daemon: from the start of a poll until the last acknowledgement reached the sink
      (one worker, SQLite, the committed model).

Usage: python bench/e2e.py --messages 1000 [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers import SmtpServer, start_dovecot  # noqa: E402
from test_workers import _messages  # noqa: E402

from triage import config  # noqa: E402
from triage.store import migrate, repo  # noqa: E402
from triage.training import registry  # noqa: E402
from triage.worker import run_forever  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    n = args.messages
    dovecot = start_dovecot()
    smtp = SmtpServer().start()
    try:
        mails = _messages(n, "bench")
        floor_user, user = "floor", "daemon"
        for who in (floor_user, user):
            for start in range(0, n, 200):
                dovecot.append(who, mails[start : start + 200])
        # (a) the floor
        started = time.perf_counter()
        with dovecot.client(floor_user) as client:
            client.select_folder("INBOX", readonly=True)
            uids = client.search(["ALL"])
            for start in range(0, len(uids), 200):
                client.fetch(uids[start : start + 200], ["BODY.PEEK[]"])
        fetch_s = time.perf_counter() - started
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", smtp.port) as conn:
            for i in range(n):
                msg = EmailMessage()
                msg["From"], msg["To"], msg["Subject"] = "klachten@bench.example", f"r{i}@example.nl", f"ack {i}"
                msg.set_content("Ontvangstbevestiging.\n")
                conn.send_message(msg)
        send_s = time.perf_counter() - started
        floor_s = fetch_s + send_s
        smtp.sink.received.clear()
        # (b) the daemon
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["TRIAGE_BENCH_IMAP_PASSWORD"] = "geheim-test-wachtwoord"
            path = Path(tmp) / "triage.toml"
            path.write_text(f"""
[database]
url = "sqlite:///{tmp}/triage.db"
[smtp]
host = "127.0.0.1"
port = {smtp.port}
security = "none"
[outbox]
interval = 0.2
batch = 500
[organisations.bench]
name = "Bench"
addresses = ["klachten@bench.example"]
poll_interval = 3600
[organisations.bench.mailbox]
type = "imap"
host = "127.0.0.1"
port = {dovecot.port}
security = "none"
user = "{user}"
password_env = "TRIAGE_BENCH_IMAP_PASSWORD"
batch_size = 200
""")
            settings = config.load(path)
            engine = repo.open_engine(settings.database.url)
            migrate.ensure_current(engine)
            sessions = repo.session_factory(engine)
            classifier = registry.load(ROOT / "models")
            stop = threading.Event()
            started = time.perf_counter()
            worker = threading.Thread(target=run_forever, args=(settings, sessions, stop, classifier), daemon=True)
            worker.start()
            with sessions() as s:
                from sqlalchemy import func, select

                from triage.store.models import Acknowledgement, Message

                while True:
                    done = s.scalar(select(func.count()).select_from(Message)) or 0
                    pending = s.scalar(select(func.count()).select_from(Acknowledgement).where(
                        Acknowledgement.status.in_(("pending", "sending")))) or 0
                    s.rollback()
                    if done >= n and pending == 0:
                        break
                    time.sleep(0.05)
                sent = s.scalar(select(func.count()).select_from(Acknowledgement).where(
                    Acknowledgement.status == "sent")) or 0
            daemon_s = time.perf_counter() - started
            stop.set()
            worker.join(timeout=60)
        result = {
            "messages": n, "acknowledgements_sent": sent, "acks_at_sink": len(smtp.sink.received),
            "floor_fetch_s": round(fetch_s, 2), "floor_send_s": round(send_s, 2),
            "floor_msgs_per_s": round(n / floor_s, 1), "daemon_s": round(daemon_s, 2),
            "daemon_msgs_per_s": round(n / daemon_s, 1), "ratio_daemon_to_floor": round(daemon_s / floor_s, 2),
        }
    finally:
        smtp.stop()
        dovecot.stop()
    print(json.dumps(result) if args.json else "\n".join(f"{k:>24}: {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
