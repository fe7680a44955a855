"""Latency with IMAP IDLE: a `triage run` worker (its own process, SQLite, the committed model)
idles on a Dovecot mailbox; 100 messages are appended 200 ms apart, and for each the time from
its APPEND until its acknowledgement reached the aiosmtpd sink is measured. Polling is set to an
hour and the send job's interval to a minute, so only IDLE and the send wake-up can be fast.

Usage: python bench/latency.py [--messages 100] [--gap 0.2] [--json]
"""

from __future__ import annotations

import signal
import statistics
import tempfile
import time
from email.parser import BytesHeaderParser
from pathlib import Path

from harness import arguments, messages, report, servers, start_worker, write_config


def main() -> None:
    args = arguments(__doc__ or "", 100, gap=(float, 0.2, "seconds between appends"))
    appended: dict[str, float] = {}  # Message-ID -> time.time() when APPEND returned
    with servers() as (dovecot, smtp), tempfile.TemporaryDirectory() as tmp:
        config = write_config(Path(tmp), dovecot, "latency", smtp, poll_interval=3600, outbox_interval=60)
        worker = start_worker(config, Path(tmp) / "worker.log")
        try:
            time.sleep(2)  # the IDLE session is up
            headers = BytesHeaderParser()
            with dovecot.client("latency") as client:
                for raw in messages(args.messages, "latency"):
                    client.append("INBOX", raw)
                    appended[str(headers.parsebytes(raw)["Message-ID"])] = time.time()
                    time.sleep(args.gap)
            time.sleep(5)  # the last acknowledgements
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
        latencies = []
        for (_from, _to, raw), at in zip(smtp.sink.received, smtp.sink.times, strict=True):
            original = str(BytesHeaderParser().parsebytes(raw)["In-Reply-To"] or "").strip()
            if original in appended:
                latencies.append((at - appended[original]) * 1000)
        latencies.sort()
        if not latencies:
            raise SystemExit("no acknowledgement arrived: see the worker's log")
        result = {
            "messages": args.messages, "gap_ms": args.gap * 1000, "acknowledged": len(latencies),
            "p50_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))], 1),
            "max_ms": round(latencies[-1], 1), "min_ms": round(latencies[0], 1),
        }
    report(result, args.json)


if __name__ == "__main__":
    main()
