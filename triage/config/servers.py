"""How the daemon reaches its servers: an IMAP mailbox or a local Maildir, the database, SMTP."""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from triage.errors import ConfigError


def tls_context(verify_certificate: bool) -> ssl.SSLContext:
    """The TLS context for an IMAP or SMTP connection; `verify_certificate = false` (a test server,
    a self-signed certificate) turns off the hostname and certificate checks."""
    context = ssl.create_default_context()
    if not verify_certificate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ImapMailbox(_Strict):
    type: Literal["imap"]
    host: str
    port: StrictInt | None = None
    security: Literal["tls", "starttls", "none"] = "tls"
    user: str
    password_env: str
    folder: str = "INBOX"
    batch_size: Annotated[int, Field(strict=True, ge=1, le=5000)] = 200
    timeout: Annotated[float, Field(strict=True, gt=0)] = 30.0
    verify_certificate: bool = True
    # Wait for new mail with IMAP IDLE where the server has it, and poll at once when it comes;
    # the IDLE command is re-issued every idle_renew seconds (servers drop it after 29 minutes).
    idle: bool = True
    idle_renew: Annotated[float, Field(strict=True, ge=10, le=1700)] = 600.0

    @property
    def effective_port(self) -> int:
        if self.port:
            return self.port
        return 993 if self.security == "tls" else 143

    def password(self) -> str:
        value = os.environ.get(self.password_env)
        if value is None:
            raise ConfigError(
                f"environment variable {self.password_env} is not set "
                f"(it holds the IMAP password for {self.user}@{self.host})"
            )
        return value

    def describe(self) -> str:
        return f"imap://{self.user}@{self.host}:{self.effective_port}/{self.folder}"


class MaildirMailbox(_Strict):
    type: Literal["maildir"]
    path: Path
    batch_size: Annotated[int, Field(strict=True, ge=1, le=5000)] = 200

    def describe(self) -> str:
        return f"maildir:{self.path}"


Mailbox = Annotated[ImapMailbox | MaildirMailbox, Field(discriminator="type")]


class Database(_Strict):
    url: str = "sqlite:///triage.db"


class Smtp(_Strict):
    host: str
    port: StrictInt | None = None
    security: Literal["tls", "starttls", "none"] = "starttls"
    user: str | None = None
    password_env: str | None = None
    timeout: Annotated[float, Field(strict=True, gt=0)] = 30.0
    verify_certificate: bool = True

    @property
    def effective_port(self) -> int:
        if self.port:
            return self.port
        return {"tls": 465, "starttls": 587, "none": 25}[self.security]

    def password(self) -> str | None:
        if not self.password_env:
            return None
        value = os.environ.get(self.password_env)
        if value is None:
            raise ConfigError(f"environment variable {self.password_env} is not set "
                              f"(it holds the SMTP password for {self.user}@{self.host})")
        return value

    def describe(self) -> str:
        return f"smtp://{self.user + '@' if self.user else ''}{self.host}:{self.effective_port} ({self.security})"
