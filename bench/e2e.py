"""End to end against the raw I/O floor, in one run: N realistic messages in a Dovecot mailbox,
acknowledgements to an aiosmtpd sink.

  (a) floor: a plain imapclient batched fetch of the N messages, plus plain smtplib sending of N
      small mails over one connection to the sink;
  (b) the daemon: `triage run` in its own process, as deployed (one worker, SQLite, the committed
      model), from the start of its first poll (its `event=started` line) until the last
      acknowledgement reached the sink.

Usage: python bench/e2e.py --messages 1000 [--json]
"""

from __future__ import annotations

import signal
import smtplib
import tempfile
import time
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from harness import append, arguments, messages, report, servers, start_worker, wait_drained, write_config


def _started_at(log: Path) -> float:
    """The wall-clock time of the worker's `event=started` line (its first poll starts then)."""
    for line in log.read_text(errors="replace").splitlines():
        if "event=started" in line:
            return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
    raise RuntimeError("no event=started in the worker's log")


def main() -> None:
    args = arguments(__doc__ or "", 1000)
    n = args.messages
    with servers() as (dovecot, smtp):
        mails = messages(n, "bench")
        floor_user, user = "floor", "daemon"
        for who in (floor_user, user):
            append(dovecot, who, mails)
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
        smtp.sink.times.clear()
        # (b) the daemon
        with tempfile.TemporaryDirectory() as tmp:
            config = write_config(Path(tmp), dovecot, user, smtp)
            log = Path(tmp) / "worker.log"
            worker = start_worker(config, log)
            try:
                sent = wait_drained(Path(tmp), n, worker)
            finally:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=60)
            daemon_s = max(smtp.sink.times) - _started_at(log)
        result = {
            "messages": n, "acknowledgements_sent": sent, "acks_at_sink": len(smtp.sink.received),
            "floor_fetch_s": round(fetch_s, 2), "floor_send_s": round(send_s, 2),
            "floor_msgs_per_s": round(n / floor_s, 1), "daemon_s": round(daemon_s, 2),
            "daemon_msgs_per_s": round(n / daemon_s, 1), "ratio_daemon_to_floor": round(daemon_s / floor_s, 2),
        }
    report(result, args.json)


if __name__ == "__main__":
    main()
