"""What the benchmarks share: a config for one organisation on a Dovecot mailbox and an aiosmtpd
sink, realistic mail, and a `triage run` worker in its own process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers import PASSWORD, Dovecot, SmtpServer  # noqa: E402
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
