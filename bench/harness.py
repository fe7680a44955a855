"""What the benchmarks share: a config for one organisation on a Dovecot mailbox and an aiosmtpd
sink, realistic mail, and a `triage run` worker in its own process."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers import PASSWORD, Dovecot, SmtpServer, start_dovecot  # noqa: E402
from test_workers import _messages  # noqa: E402

messages = _messages  # the training corpus, each copy with its own sender and Message-ID


def write_config(folder: Path, dovecot: Dovecot, user: str, smtp: SmtpServer, *, poll_interval: float = 3600,
                 outbox_interval: float = 0.2, batch_size: int = 200) -> Path:
    """One organisation on `user`'s Dovecot mailbox, SQLite in `folder`, acknowledgements to `smtp`."""
    os.environ["TRIAGE_BENCH_IMAP_PASSWORD"] = PASSWORD
    path = folder / "triage.toml"
    path.write_text(f"""
[database]
url = "sqlite:///{folder}/triage.db"

[smtp]
host = "127.0.0.1"
port = {smtp.port}
security = "none"

[outbox]
interval = {outbox_interval}
batch = 500

[model]
directory = "{ROOT / 'models'}"

[organisations.bench]
name = "Bench"
addresses = ["klachten@bench.example"]
poll_interval = {poll_interval}

[organisations.bench.acknowledge]
per_organisation_per_hour = 100000  # the benchmark sends every acknowledgement; none waits for a person

[organisations.bench.mailbox]
type = "imap"
host = "127.0.0.1"
port = {dovecot.port}
security = "none"
user = "{user}"
password_env = "TRIAGE_BENCH_IMAP_PASSWORD"
batch_size = {batch_size}
""", encoding="utf-8")
    return path


def start_worker(config: Path, log: Path) -> subprocess.Popen[bytes]:
    """`triage run` in its own process, as deployed; returns once it has started."""
    out = log.open("wb")
    worker = subprocess.Popen([sys.executable, "-m", "triage.cli", "run", "--config", str(config)],
                              cwd=config.parent, stdout=out, stderr=out, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    deadline = time.monotonic() + 60
    while b"event=started" not in log.read_bytes():
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"triage run did not start: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.05)
    return worker


def append(dovecot: Dovecot, user: str, mails: list[bytes], chunk: int = 500) -> None:
    """MULTIAPPEND in chunks: fast enough for 20 000 messages."""
    with dovecot.client(user) as client:
        for start in range(0, len(mails), chunk):
            client.multiappend("INBOX", mails[start : start + chunk])


def wait_drained(folder: Path, n: int, worker: subprocess.Popen[bytes],
                 sample: Callable[[], None] = lambda: None) -> int:
    """Wait until the worker's SQLite database holds n moved messages and no acknowledgement is
    waiting; `sample` runs every 0.05 s meanwhile. Returns the number of acknowledgements sent."""
    db = sqlite3.connect(f"{folder}/triage.db", timeout=30)
    try:
        while True:
            sample()
            done = db.execute("select count(*) from messages where moved_at is not null").fetchone()[0]
            waiting = db.execute("select count(*) from acknowledgements "
                                 "where status in ('pending', 'sending')").fetchone()[0]
            if done >= n and waiting == 0:
                return int(db.execute("select count(*) from acknowledgements where status = 'sent'").fetchone()[0])
            if worker.poll() is not None:
                raise SystemExit(f"the worker exited: {(folder / 'worker.log').read_text()[-2000:]}")
            time.sleep(0.05)
    finally:
        db.close()


def arguments(doc: str, messages: int, **extra: tuple[type, object, str]) -> argparse.Namespace:
    """--messages N, --json and the benchmark's own options (name: (type, default, help))."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--messages", type=int, default=messages)
    for name, (kind, default, text) in extra.items():
        parser.add_argument(f"--{name}", type=kind, default=default, help=text)
    parser.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    return parser.parse_args()


@contextlib.contextmanager
def servers() -> Iterator[tuple[Dovecot, SmtpServer]]:
    """A Dovecot and an aiosmtpd sink of the benchmark's own, stopped afterwards."""
    dovecot = start_dovecot()
    smtp = SmtpServer().start()
    try:
        yield dovecot, smtp
    finally:
        smtp.stop()
        dovecot.stop()


def report(result: dict[str, object], as_json: bool) -> None:
    width = max(len(k) for k in result)
    print(json.dumps(result) if as_json else "\n".join(f"{k:>{width}}: {v}" for k, v in result.items()))
