"""Peak memory of one worker draining a backlog: N realistic messages (default 20 000) wait in a
Dovecot mailbox before a `triage run` worker (its own process, SQLite, the committed model, an
aiosmtpd sink) starts; the worker's resident memory is sampled every 0.2 s until every message has
a record and every acknowledgement went out, and its peak (the kernel's VmHWM) is reported with
the time taken.

Usage: python bench/backlog.py [--messages 20000] [--json]
"""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import tempfile
import time
from pathlib import Path

from harness import messages, start_worker, write_config
from servers import SmtpServer, start_dovecot


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    n = args.messages
    dovecot = start_dovecot()
    smtp = SmtpServer().start()
    try:
        mails = messages(n, "backlog")
        size = sum(len(m) for m in mails)
        with dovecot.client("backlog") as client:
            for start in range(0, n, 500):
                client.multiappend("INBOX", mails[start : start + 500])
        del mails
        with tempfile.TemporaryDirectory() as tmp:
            config = write_config(Path(tmp), dovecot, "backlog", smtp, poll_interval=5, outbox_interval=1)
            started = time.perf_counter()
            worker = start_worker(config, Path(tmp) / "worker.log")
            rss_start = _status_kb(worker.pid, "VmRSS")
            samples: list[tuple[float, int]] = []
            db = sqlite3.connect(f"{tmp}/triage.db")
            try:
                while True:
                    samples.append((time.perf_counter() - started, _status_kb(worker.pid, "VmRSS")))
                    done = db.execute("select count(*) from messages where moved_at is not null").fetchone()[0]
                    waiting = db.execute("select count(*) from acknowledgements "
                                         "where status in ('pending', 'sending')").fetchone()[0]
                    if done >= n and waiting == 0:
                        break
                    if worker.poll() is not None:
                        raise SystemExit(f"the worker exited: {(Path(tmp) / 'worker.log').read_text()[-2000:]}")
                    time.sleep(0.2)
                elapsed = time.perf_counter() - started
                peak = _status_kb(worker.pid, "VmHWM")
                sent = db.execute("select count(*) from acknowledgements where status = 'sent'").fetchone()[0]
            finally:
                db.close()
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=120)
        result = {
            "messages": n, "backlog_mb": round(size / 1e6, 1), "acknowledgements_sent": sent,
            "acks_at_sink": len(smtp.sink.received), "seconds": round(elapsed, 1),
            "msgs_per_s": round(n / elapsed, 1), "rss_after_start_mb": round(rss_start / 1024, 1),
            "rss_peak_mb": round(peak / 1024, 1),
            "rss_at_quarters_mb": [round(samples[int(len(samples) * q)][1] / 1024, 1) for q in (0.25, 0.5, 0.75)]
            + [round(samples[-1][1] / 1024, 1)],
        }
    finally:
        smtp.stop()
        dovecot.stop()
    print(json.dumps(result) if args.json else "\n".join(f"{k:>22}: {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
