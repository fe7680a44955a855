"""Peak memory of one worker draining a backlog: N realistic messages (default 20 000) wait in a
Dovecot mailbox before a `triage run` worker (its own process, SQLite, the committed model, an
aiosmtpd sink) starts; the worker's resident memory is sampled every 0.05 s until every message has
a record and every acknowledgement went out, and its peak (the kernel's VmHWM) is reported with
the time taken.

Usage: python bench/backlog.py [--messages 20000] [--json]
"""

from __future__ import annotations

import signal
import tempfile
import time
from pathlib import Path

from harness import append, arguments, messages, report, servers, start_worker, wait_drained, write_config


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def main() -> None:
    args = arguments(__doc__ or "", 20000)
    n = args.messages
    with servers() as (dovecot, smtp):
        mails = messages(n, "backlog")
        size = sum(len(m) for m in mails)
        append(dovecot, "backlog", mails)
        del mails
        with tempfile.TemporaryDirectory() as tmp:
            config = write_config(Path(tmp), dovecot, "backlog", smtp, poll_interval=5, outbox_interval=1)
            started = time.perf_counter()
            worker = start_worker(config, Path(tmp) / "worker.log")
            rss_start = _status_kb(worker.pid, "VmRSS")
            samples: list[tuple[float, int]] = []
            try:
                sent = wait_drained(Path(tmp), n, worker, lambda: samples.append(
                    (time.perf_counter() - started, _status_kb(worker.pid, "VmRSS"))))
                elapsed = time.perf_counter() - started
                peak = _status_kb(worker.pid, "VmHWM")
            finally:
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
    report(result, args.json)


if __name__ == "__main__":
    main()
