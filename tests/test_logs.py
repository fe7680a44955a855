"""Structured logs: a real poll logged in JSON mode is one object per line with every field its own
key; in text mode the same events are `event=<code> key=value` lines after the stdlib prefix that
tests/test_faults.py and operators grep; records of other libraries go through the same renderer."""

from __future__ import annotations

import json
import logging
import mailbox
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import deps_for, sessions_for, settings_for, write_config
from mails import plain

from triage import logs
from triage.services.poll import Poller
from triage.services.send import log as outbox_log


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """`logs.configure` replaces the root handlers (pytest's own among them): put them back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in (*logs.NOISY, "mailparser")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


def _poll_one_message(tmp_path: Path, sqlite_url: str) -> None:
    settings = settings_for(write_config(tmp_path, sqlite_url, 'type = "maildir"\npath = "mail"\n'))
    mailbox.Maildir(tmp_path / "mail", create=True).add(plain(1))
    poller = Poller(deps_for(settings, sessions_for(settings)), settings.organisations["debrug"], threading.Event())
    result = poller.poll()
    assert result is not None and result.moved == 1


def _log_an_outage_and_a_foreign_record() -> None:
    outage = logs.Outage(outbox_log, "send")
    outage.failed(ConnectionRefusedError(111, "Connection refused"), "acknowledgements wait; will retry")
    outage.ok()
    logging.getLogger("apscheduler.executors.default").warning("Run time of job %r was missed by %s", "poll", "0:01")
    try:
        raise ValueError("no model")
    except ValueError:
        outbox_log.exception("job_failed", job=7, kind="retrain")


def test_json_mode_writes_one_object_per_line_with_each_field_its_own_key(
        tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("INFO", "json")
    _poll_one_message(tmp_path, sqlite_url)
    _log_an_outage_and_a_foreign_record()
    lines = capsys.readouterr().err.splitlines()
    entries = [json.loads(line) for line in lines]  # every line, third-party ones too, is one JSON object
    by_event = {e["event"]: e for e in entries}

    message = by_event["message"]
    assert message["logger"] == "triage.pipeline" and message["level"] == "info"
    assert message["reference"] == "KL-2026-000001" and message["disposition"] == "review"
    assert isinstance(message["reason"], str) and message["uid"]
    poll = by_event["poll"]
    assert poll["organisation"] == "debrug" and poll["moved"] == 1 and poll["review"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", poll["timestamp"])

    failed = by_event["send_failed"]
    assert failed["level"] == "error" and failed["logger"] == "triage.outbox"
    assert failed["error"] == "[Errno 111] Connection refused" and failed["note"] == "acknowledgements wait; will retry"
    assert by_event["send_recovered"]["after_s"] == 0
    foreign = by_event["Run time of job 'poll' was missed by 0:01"]
    assert foreign["logger"] == "apscheduler.executors.default" and foreign["level"] == "warning"
    job = by_event["job_failed"]
    assert job["job"] == 7 and job["kind"] == "retrain" and job["exception"].startswith("Traceback")
    assert "ValueError: no model" in job["exception"]


def test_text_mode_writes_greppable_key_value_lines(
        tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("INFO", "text")
    _poll_one_message(tmp_path, sqlite_url)
    _log_an_outage_and_a_foreign_record()
    err = capsys.readouterr().err
    prefix = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
    assert re.search(rf"^{prefix} INFO triage\.pipeline event=message uid=\S+ reference=KL-2026-000001 "
                     r"disposition=review reason='[^\n]+' sender=\S+$", err, re.M), err
    assert re.search(rf"^{prefix} INFO triage\.pipeline event=poll organisation=debrug review=1 moved=1$", err, re.M)
    assert re.search(rf"^{prefix} ERROR triage\.outbox event=send_failed error='\[Errno 111\] Connection refused' "
                     r"note='acknowledgements wait; will retry'$", err, re.M)
    assert re.search(rf"^{prefix} INFO triage\.outbox event=send_recovered after_s=0$", err, re.M)
    assert re.search(rf"^{prefix} WARNING apscheduler\.executors\.default "
                     r"event=\"Run time of job 'poll' was missed by 0:01\"$", err, re.M)
    # a traceback follows its event's line, as stdlib logging prints it
    assert re.search(rf"^{prefix} ERROR triage\.outbox event=job_failed job=7 kind=retrain\nTraceback ", err, re.M)


def test_a_value_with_line_breaks_stays_on_its_line() -> None:
    line = logs.render({"event": "ack_refused", "reference": "KL-2026-000001", "error": "451 busy\r\n451 later",
                        "retry": True, "sender": None, "empty": ""})
    assert line == (r"event=ack_refused reference=KL-2026-000001 error='451 busy\r\n451 later' retry=True "
                    "sender=- empty=''")


def test_caplog_records_read_as_key_value_text(caplog: pytest.LogCaptureFixture) -> None:
    """Without `configure` (as in most tests) events still reach stdlib logging; a record's
    message is the text line, so `"event=ack_refused" in r.getMessage()` holds."""
    with caplog.at_level(logging.WARNING, logger="triage.outbox"):
        outbox_log.warning("ack_refused", reference="KL-2026-000001", recipient="a@example.net",
                           error="550 no such user", retry=False)
        outbox_log.info("ack_sent", reference="KL-2026-000001", recipient="a@example.net")  # below the level
    assert [r.getMessage() for r in caplog.records] == [
        "event=ack_refused reference=KL-2026-000001 recipient=a@example.net error='550 no such user' retry=False"]
    assert caplog.records[0].levelno == logging.WARNING and caplog.records[0].name == "triage.outbox"
