"""A hostile message set: a 100 MB attachment, 10 000 MIME parts, rfc822 nested 200 deep, a 1 MB
header, NUL bytes and invalid charsets. One `triage poll --once` must file or quarantine every one
of them, with a reason, without exhausting memory or stalling the batch."""

from __future__ import annotations

import base64
import mailbox
import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import write_config
from sqlalchemy import select

from triage import config
from triage.store import repo
from triage.store.models import Message

HEAD = (b"From: Piet Jansen <piet@example.nl>\r\nTo: klachten@debrug.example\r\n"
        b"Date: Mon, 2 Nov 2026 09:00:00 +0100\r\nMIME-Version: 1.0\r\n")


def _huge_attachment() -> bytes:
    chunk = base64.encodebytes(os.urandom(57 * 1000))  # 76-char lines, as mail programs write them
    body = chunk * (100 * 1024 * 1024 // len(chunk) + 1)
    return (HEAD + b"Subject: Foto's van de lekkage\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
            b"Content-Type: text/plain\r\n\r\nZie de bijlage, de lekkage is nog steeds niet verholpen.\r\n--b\r\n"
            b"Content-Type: application/octet-stream; name=lekkage.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + body + b"\r\n--b--\r\n")


def _many_parts() -> bytes:
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\ndeel %d\r\n" % i for i in range(10_000))
    head = HEAD + b"Subject: Tienduizend delen\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
    return head + parts + b"--b--\r\n"


def _nested() -> bytes:
    inner = HEAD + b"Subject: binnenste\r\nContent-Type: text/plain\r\n\r\nDe kern van het bericht.\r\n"
    for depth in range(200):
        inner = (HEAD + b"Subject: laag %d\r\nContent-Type: message/rfc822\r\n\r\n" % depth) + inner
    return inner


def _big_header() -> bytes:
    return HEAD + b"Subject: Lange kop\r\nX-Junk: " + b"a" * (1024 * 1024) + b"\r\n\r\nKorte tekst.\r\n"


def _nul_bytes() -> bytes:
    return HEAD + b"Subject: Nul\x00bytes\r\nContent-Type: text/plain\r\n\r\nMijn klacht\x00\x00 over de\x00 huur.\r\n"


def _bad_charset() -> bytes:
    return (HEAD + b"Subject: =?x-unknown?Q?Klacht_=E9=E9n?=\r\n"
            b"Content-Type: text/plain; charset=\"x-does-not-exist\"\r\n\r\n"
            b"De verwarming doet het niet: \xe9\xe9n week al \xff\xfe kapot.\r\n")


HOSTILE = {"huge": _huge_attachment, "parts": _many_parts, "nested": _nested, "header": _big_header,
           "nul": _nul_bytes, "charset": _bad_charset}


def test_hostile_mail_is_filed_or_quarantined_without_exhausting_memory(tmp_path: Path) -> None:
    path = write_config(tmp_path, "sqlite:///triage.db", 'type = "maildir"\npath = "mail"\nbatch_size = 10\n')
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    sizes = {}
    for name, make in HOSTILE.items():
        raw = make()
        sizes[name] = len(raw)
        box.add(raw)
        del raw
    box.add(HEAD + b"Subject: Gewone klacht\r\n\r\nDe lift is alweer kapot, al drie weken.\r\n")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", (
        "import resource, sys\n"
        "from triage.cli import main\n"
        "try:\n"
        "    main(['poll', '--once'])\n"
        "except SystemExit as e:\n"
        "    code = e.code\n"
        "print('maxrss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
        "sys.exit(code)\n")], cwd=tmp_path, capture_output=True, text=True, timeout=280)
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-2000:]
    maxrss_mb = int(result.stdout.split("maxrss_kb")[1].split()[0]) / 1024
    print(f"hostile set: {seconds:.1f} s, peak RSS {maxrss_mb:.0f} MB")
    assert maxrss_mb < 1500, f"peak memory {maxrss_mb:.0f} MB for a {sizes['huge'] / 1e6:.0f} MB message"
    assert seconds < 240
    settings = config.load(path)
    with repo.session_factory(repo.open_engine(settings.database.url))() as s:
        messages = list(s.scalars(select(Message)))
    assert len(messages) == len(HOSTILE) + 1
    for msg in messages:
        assert msg.disposition in ("filed", "review", "quarantined", "ignored"), msg.subject
        assert msg.reason, f"no reason recorded for {msg.subject!r}"
    huge = next(m for m in messages if m.size == sizes["huge"])
    assert "over the size limit" in huge.reason  # filed from its head, sent to review
    assert not box.keys(), "a message was left in the inbox"
