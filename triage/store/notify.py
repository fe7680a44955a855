"""PostgreSQL LISTEN/NOTIFY for the outbox: a new pending row, written by any process (a worker,
`triage serve` queueing a corrected acknowledgement), wakes every worker's send job at once."""

from __future__ import annotations

import threading
from collections.abc import Callable

from triage.logs import Outage, get_logger
from triage.store.acks import CHANNEL

log = get_logger("triage.worker")


class OutboxListener:
    """LISTENs on its own connection and calls `wake` for every notification. A lost connection
    is retried with backoff and logged once; the send interval stays the fallback."""

    def __init__(self, url: str, stop: threading.Event, wake: Callable[[], None]) -> None:
        self.url, self.stop, self.wake = url, stop, wake
        self.outage = Outage(log, "listen")

    def run(self) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        conninfo = make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)
        backoff = 1.0
        while not self.stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.outage.ok()
                    backoff = 1.0
                    self.wake()  # rows written while nobody listened
                    while not self.stop.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            self.wake()
            except psycopg.Error as exc:
                self.outage.failed(exc, "new acknowledgements wait for the send interval; retrying")
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)  # cheap to retry; back within 10 s of the database
