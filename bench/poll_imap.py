"""Time `triage poll --once` over a Dovecot mailbox of N mixed messages against the raw floor.

Starts its own Dovecot (as the tests do), appends N messages (the demo mail, the stage fixtures
and, where present, ../shared/corpus, cycled and made unique), then measures in one run:
  floor: a plain imapclient batched BODY.PEEK[] fetch of all N messages;
  daemon: `triage poll --once` (SQLite), which fetches, parses, screens, files and moves them;
and checks that INBOX is empty, the database holds one record per message, and a second poll
changes nothing. Usage: python bench/poll_imap.py [--messages 500] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers import PASSWORD, start_dovecot  # noqa: E402


def sources() -> list[bytes]:
    files = sorted((ROOT / "triage" / "demo" / "mail").glob("*.eml"))
    files += sorted((ROOT / "tests" / "fixtures").rglob("*.eml"))
    corpus = Path(os.environ.get("TRIAGE_SHARED", ROOT.parent / "shared")) / "corpus"
    if corpus.is_dir():
        files += sorted(p for p in corpus.rglob("*") if p.is_file() and p.parent != corpus)
    return [p.read_bytes() for p in files]


def messages(n: int) -> list[bytes]:
    pool = sources()
    out = []
    for i in range(n):
        raw = pool[i % len(pool)]
        if i >= len(pool):  # a later copy gets its own bytes, so it is not a duplicate
            raw = f"X-Bench-Copy: {i}\r\n".encode() + raw
        out.append(raw)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    server = start_dovecot()
    work = Path(tempfile.mkdtemp(prefix="triage-bench-"))
    try:
        user = server.new_user()
        batch = messages(args.messages)
        with server.client(user) as c:
            for raw in batch:
                c.append("INBOX", raw)
        total_bytes = sum(len(m) for m in batch)

        started = time.perf_counter()  # the floor: fetch everything, do nothing with it
        with server.client(user) as c:
            c.select_folder("INBOX", readonly=True)
            uids = c.search("ALL")
            fetched = 0
            for i in range(0, len(uids), args.batch_size):
                data = c.fetch(uids[i : i + args.batch_size], ["BODY.PEEK[]"])
                fetched += sum(len(v[b"BODY[]"]) for v in data.values())
        floor = time.perf_counter() - started
        assert fetched >= total_bytes  # the server stores LF line ends as CRLF

        (work / "triage.toml").write_text(f"""
[database]
url = "sqlite:///triage.db"
[logging]
level = "WARNING"
[organisations.bench]
name = "Bench"
addresses = ["klachten@debrug.example"]
domains = ["debrug.example"]
[organisations.bench.mailbox]
type = "imap"
host = "127.0.0.1"
port = {server.port}
security = "none"
user = "{user}"
password_env = "TRIAGE_BENCH_PW"
batch_size = {args.batch_size}
""")
        env = dict(os.environ, TRIAGE_BENCH_PW=PASSWORD)
        cmd = [sys.executable, "-m", "triage.cli", "poll", "--once"]
        subprocess.run([sys.executable, "-m", "triage.cli", "db", "upgrade"], cwd=work, env=env, check=True,
                       capture_output=True)
        started = time.perf_counter()
        first = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
        daemon = time.perf_counter() - started
        if first.returncode:
            sys.exit(first.stderr)
        second = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
        with sqlite3.connect(work / "triage.db") as db:
            records = db.execute("select count(*) from messages").fetchone()[0]
            by = dict(db.execute("select disposition, count(*) from messages group by disposition").fetchall())
        result = {
            "messages": args.messages,
            "megabytes": round(total_bytes / 1e6, 2),
            "floor_seconds": round(floor, 3),
            "poll_seconds": round(daemon, 3),
            "floor_msgs_per_s": round(args.messages / floor, 1),
            "poll_msgs_per_s": round(args.messages / daemon, 1),
            "poll_in_process": first.stdout.strip().splitlines()[-1],  # without interpreter start-up
            "ratio_poll_over_floor": round(daemon / floor, 1),
            "inbox_left": len(server.uids(user)),
            "records": records,
            "dispositions": by,
            "second_poll": second.stdout.strip().splitlines()[0] if second.stdout else second.stderr,
        }
    finally:
        server.stop()
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
