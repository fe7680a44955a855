"""Small raw messages for plumbing tests (IMAP moves, batches, crashes): content does not matter here,
only that every message has distinct bytes. Stage tests use the hand-written files in fixtures/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime


def plain(n: int, sender: str = "", subject: str = "", body: str = "") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender or f"Bewoner {n} <bewoner{n}@example.net>"
    msg["To"] = "klachten@debrug.example"
    msg["Subject"] = subject or f"Melding nummer {n}"
    msg["Date"] = format_datetime(datetime(2026, 11, 2, 9, 0, tzinfo=UTC) + timedelta(minutes=n))
    msg["Message-ID"] = f"<melding-{n}@example.net>"
    msg.set_content(body or f"Dit is melding {n}. De kraan in de keuken lekt nog steeds.\n")
    return msg.as_bytes().replace(b"\n", b"\r\n")
