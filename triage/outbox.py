"""The send job: claims due acknowledgements, delivers them over SMTP (implicit TLS, STARTTLS or
plain, optional login) or into a pickup folder, and records each result in its own transaction.

An unreachable server is nobody's fault: the claimed rows go back untouched and the job tries
again at its next run. A refusal counts as an attempt: 4xx is retried with exponential backoff,
5xx (or the last attempt) marks the row failed, which the case then shows.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from triage.config import Settings, Smtp, tls_context
from triage.errors import Outage, ServerError
from triage.store import acks, repo
from triage.store.models import Acknowledgement

log = logging.getLogger("triage.outbox")


class Refused(Exception):
    """The server refused this one message."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport(Protocol):
    def __enter__(self) -> Transport: ...

    def __exit__(self, *exc: object) -> None: ...

    def send(self, mail_from: str, rcpt_to: str, raw: bytes) -> None: ...


class SmtpTransport:
    """One SMTP connection for a whole batch. Raises ServerError when the server cannot be
    reached (or drops the connection), Refused when it rejects one message."""

    def __init__(self, settings: Smtp) -> None:
        self.settings = settings
        self.conn: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        return tls_context(self.settings.verify_certificate)

    def __enter__(self) -> SmtpTransport:
        s = self.settings
        try:
            if s.security == "tls":
                self.conn = smtplib.SMTP_SSL(s.host, s.effective_port, timeout=s.timeout, context=self._context())
            else:
                self.conn = smtplib.SMTP(s.host, s.effective_port, timeout=s.timeout)
                if s.security == "starttls":
                    self.conn.starttls(context=self._context())
            password = s.password()
            if s.user and password is not None:
                self.conn.login(s.user, password)
        except smtplib.SMTPAuthenticationError as exc:
            raise ServerError(f"SMTP server {s.describe()} refused the login: {exc.smtp_code} "
                              f"{_text(exc.smtp_error)}; check smtp.user and the password") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise ServerError(f"cannot reach SMTP server {s.describe()}: {exc or type(exc).__name__}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (OSError, smtplib.SMTPException):
                self.conn.close()

    def send(self, mail_from: str, rcpt_to: str, raw: bytes) -> None:
        assert self.conn is not None
        try:
            self.conn.sendmail(mail_from, [rcpt_to], raw)
        except smtplib.SMTPRecipientsRefused as exc:
            code, message = next(iter(exc.recipients.values()))
            raise Refused(f"{code} {message.decode(errors='replace')}", permanent=code >= 500) from None
        except smtplib.SMTPResponseException as exc:
            raise Refused(f"{exc.smtp_code} {_text(exc.smtp_error)}",
                          permanent=exc.smtp_code >= 500) from None
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            raise ServerError(f"SMTP server {self.settings.describe()} dropped the connection: {exc}") from None


class PickupTransport:
    """Writes each acknowledgement as an .eml file (named by its Message-ID) into a folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __enter__(self) -> PickupTransport:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ServerError(f"cannot create the pickup folder {self.folder}: {exc.strerror}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, mail_from: str, rcpt_to: str, raw: bytes) -> None:
        name = "".join(c if c.isalnum() or c in "-." else "_" for c in _message_id(raw).strip("<>")) or "ack"
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
        with os.fdopen(fd, "wb") as out:
            out.write(raw)
        os.replace(tmp, self.folder / f"{name}.eml")


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _message_id(raw: bytes) -> str:
    for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"message-id:"):
            return line[11:].strip().decode("ascii", "replace")
    return ""


def transport_for(settings: Settings) -> Transport | None:
    """The configured way out: the pickup folder if set, else SMTP, else None."""
    if settings.outbox.pickup_directory is not None:
        return PickupTransport(settings.outbox.pickup_directory)
    if settings.smtp is not None:
        return SmtpTransport(settings.smtp)
    return None


@dataclass
class SendResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    references: list[str] = field(default_factory=list)


def send_once(settings: Settings, sessions: sessionmaker[Session], transport: Transport,
              worker: str | None = None) -> SendResult:
    """Claim due rows and deliver them. Raises ServerError (after giving the rows back) when the
    server cannot be reached; the rows go out on a later run, each once."""
    worker = worker or repo.WORKER_ID
    result = SendResult()
    with sessions.begin() as session:
        claimed = [acks.Claimed.of(row) for row in acks.claim(session, worker, settings.outbox, repo.now())]
    if not claimed:
        return result
    done: set[int] = set()
    try:
        with transport:
            for item in claimed:
                _deliver(settings, sessions, transport, item, result)
                done.add(item.id)
    finally:
        left = [item.id for item in claimed if item.id not in done]
        if left:
            with sessions.begin() as session:
                acks.release(session, left, worker)
            result.released = len(left)
    return result


def _deliver(settings: Settings, sessions: sessionmaker[Session], transport: Transport, item: acks.Claimed,
             result: SendResult) -> None:
    try:
        transport.send(item.mail_from, item.rcpt_to, item.raw)
    except Refused as exc:
        with sessions.begin() as session:
            row = session.get(Acknowledgement, item.id)
            assert row is not None
            acks.mark_failed_attempt(session, row, str(exc), exc.permanent, settings.outbox, repo.now())
            failed = row.status == acks.FAILED
        result.failed += failed
        result.retried += not failed
        log.warning("event=ack_refused reference=%s recipient=%s error=%r %s", item.reference, item.rcpt_to,
                    str(exc), "gave up" if failed else "will retry")
        return
    with sessions.begin() as session:  # at once: from here to the commit is the documented window
        acks.mark_sent(session, item, repo.now())
    result.sent += 1
    result.references.append(item.reference)
    log.info("event=ack_sent reference=%s recipient=%s", item.reference, item.rcpt_to)


class Sender:
    """The send job of `triage run`: logs a lost server once, and once more when it is back."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.settings, self.sessions = settings, sessions
        self.outage = Outage(log, "send")
        self.worker = repo.WORKER_ID

    def run(self) -> SendResult | None:
        transport = transport_for(self.settings)
        if transport is None:
            return None
        try:
            result = send_once(self.settings, self.sessions, transport, self.worker)
        except (ServerError, SQLAlchemyError) as exc:
            self.outage.failed(exc, "acknowledgements wait; will retry")
            return None
        self.outage.ok()
        return result
