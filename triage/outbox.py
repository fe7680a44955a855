"""The ways out for acknowledgements: SMTP (implicit TLS, STARTTLS or plain, optional login) or a
pickup folder. A transport raises ServerError when it cannot deliver anything (not the message's
fault) and Refused when the server rejects one message; `triage.services.send` decides what follows.
"""

from __future__ import annotations

import contextlib
import logging
import os
import smtplib
import ssl
import tempfile
from pathlib import Path
from typing import Protocol

from triage import idn
from triage.config import Settings, Smtp, tls_context
from triage.errors import Refused, ServerError
from triage.reasons import Code, english, reason

log = logging.getLogger("triage.outbox")


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
        sender, recipient = _envelope(mail_from, rcpt_to)
        try:
            options = self._utf8_options(sender, recipient, raw)
            self.conn.sendmail(sender, [recipient], raw, mail_options=options)
        except smtplib.SMTPRecipientsRefused as exc:
            code, message = next(iter(exc.recipients.values()))
            raise Refused(f"{code} {message.decode(errors='replace')}", permanent=code >= 500) from None
        except smtplib.SMTPResponseException as exc:
            raise Refused(f"{exc.smtp_code} {_text(exc.smtp_error)}",
                          permanent=exc.smtp_code >= 500) from None
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            raise ServerError(f"SMTP server {self.settings.describe()} dropped the connection: {exc}") from None

    def _utf8_options(self, sender: str, recipient: str, raw: bytes) -> list[str]:
        """["SMTPUTF8"] when an address or the header needs it (RFC 6531); Refused when the server
        does not offer it."""
        if (sender + recipient).isascii() and raw.split(b"\r\n\r\n", 1)[0].isascii():
            return []
        assert self.conn is not None
        self.conn.ehlo_or_helo_if_needed()
        if self.conn.has_extn("smtputf8"):
            return ["SMTPUTF8"]
        why = reason(Code.NO_SMTPUTF8, address=recipient)
        raise Refused(english(why), permanent=True, reason=why)


def _envelope(mail_from: str, rcpt_to: str) -> tuple[str, str]:
    """MAIL FROM and RCPT TO with their domains in A-labels; an address whose domain cannot be
    written so is refused here, for good."""
    try:
        return idn.envelope(mail_from), idn.envelope(rcpt_to)
    except ValueError:
        why = reason(Code.UNDELIVERABLE, address=rcpt_to[:80])
        raise Refused(english(why), permanent=True, reason=why) from None


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
        """Write the file under a temporary name and rename it: a reader never sees half a mail. A
        write that fails (a full disk) leaves no temporary file and raises ServerError."""
        name = "".join(c if c.isalnum() or c in "-." else "_" for c in _message_id(raw).strip("<>")) or "ack"
        tmp: str | None = None
        try:
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
            with os.fdopen(fd, "wb") as out:
                out.write(raw)
            os.replace(tmp, self.folder / f"{name}.eml")
        except OSError as exc:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            raise ServerError(f"cannot write into the pickup folder {self.folder}: "
                              f"{exc.strerror or exc}") from None


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
