"""An IMAP mailbox through imapclient: UIDs within UIDVALIDITY, BODY.PEEK[] fetches in batches,
MOVE where the server has it and COPY + \\Deleted + UID EXPUNGE where it does not."""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any, Self

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from triage.config import ImapMailbox as ImapSettings
from triage.config import tls_context
from triage.errors import ServerError
from triage.logs import get_logger
from triage.mailboxes.base import Fetched

log = get_logger(__name__)
NETWORK_ERRORS = (OSError, socket.timeout, ssl.SSLError, IMAPClientError)


class ImapBox:
    def __init__(self, settings: ImapSettings, password: str | None = None) -> None:
        self.settings = settings
        self.source_folder = settings.folder
        self.batch_size = settings.batch_size
        self._password = password
        self._client: IMAPClient | None = None
        self._delimiter = "/"
        self._selected: str | None = None
        self._known_folders: set[str] = set()

    @property
    def server(self) -> str:
        return f"IMAP server {self.settings.host}:{self.settings.effective_port}"

    def __enter__(self) -> Self:
        s = self.settings
        password = self._password if self._password is not None else s.password()
        context = tls_context(s.verify_certificate)
        try:
            client = IMAPClient(s.host, port=s.effective_port, ssl=s.security == "tls",
                                ssl_context=context, timeout=s.timeout)
        except NETWORK_ERRORS as exc:
            raise ServerError(f"{self.server} is unreachable: {exc}") from None
        try:
            if s.security == "starttls":
                client.starttls(context)
            client.login(s.user, password)
            client.normalise_times = False
            self._delimiter = self._find_delimiter(client)
        except NETWORK_ERRORS as exc:
            _quiet_logout(client)
            raise ServerError(f"{self.server} refused login for {s.user}: {_text(exc)}") from None
        self._client = client
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._client is not None:
            _quiet_logout(self._client)
        self._client = None
        self._selected = None

    @staticmethod
    def _find_delimiter(client: IMAPClient) -> str:
        try:
            personal = client.namespace().personal
            if personal and personal[0][1]:
                return str(personal[0][1])
        except IMAPClientError:
            pass
        folders = client.list_folders("", "")
        if folders and folders[0][1]:
            delim = folders[0][1]
            return delim.decode() if isinstance(delim, bytes) else str(delim)
        return "/"

    @property
    def client(self) -> IMAPClient:
        if self._client is None:
            raise RuntimeError("use the IMAP mailbox as a context manager")
        return self._client

    def _name(self, folder: str) -> str:
        return folder if folder.upper() == "INBOX" else folder.replace("/", self._delimiter)

    def _call(self, what: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except NETWORK_ERRORS as exc:
            raise ServerError(f"{self.server}: {what} failed: {_text(exc)}") from None

    def _select(self, folder: str) -> dict[bytes, Any]:
        info: dict[bytes, Any] = self._call(f"SELECT {folder}", self.client.select_folder, self._name(folder))
        self._selected = folder
        return info

    def supports_idle(self) -> bool:
        return bool(self._call("CAPABILITY", self.client.has_capability, "IDLE"))

    def wait_for_mail(self, folder: str, seconds: float, stop: threading.Event) -> bool:
        """IMAP IDLE on `folder` for up to `seconds` (checked every second so that `stop`, an
        Event, ends it quickly). True as soon as the server reports new mail (EXISTS or RECENT)."""
        self._select(folder)
        client = self.client
        self._call("IDLE", client.idle)
        closed = False
        try:
            waited = 0.0
            while waited < seconds and not stop.is_set():
                responses = self._call("IDLE", client.idle_check, 1.0)
                waited += 1.0
                if not responses and self._closed() or any(r[:1] == (b"BYE",) for r in responses
                                                           if isinstance(r, tuple)):
                    closed = True
                    raise ServerError(f"{self.server}: the connection was closed while idling")
                if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses if isinstance(r, tuple)):
                    return True
            return False
        finally:
            if not closed:
                self._call("DONE", client.idle_done)

    def _closed(self) -> bool:
        """Whether the server has closed the connection: idle_check() swallows end-of-file, so peek
        at the socket (a duplicate of its descriptor, which also works under TLS)."""
        own = self.client.socket()
        probe = socket.socket(own.family, own.type, fileno=os.dup(own.fileno()))
        try:
            probe.setblocking(False)
            return probe.recv(1, socket.MSG_PEEK) == b""
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True
        finally:
            probe.close()

    def uidvalidity(self, folder: str) -> int:
        return int(self._select(folder)[b"UIDVALIDITY"])

    def uids(self, folder: str) -> list[str]:
        if self._selected != folder:
            self._select(folder)
        found = self._call("UID SEARCH", self.client.search, ["NOT", "DELETED"])
        return [str(u) for u in sorted(found)]

    def fetch(self, folder: str, uids: Sequence[str]) -> Iterator[Fetched]:
        size = self.settings.batch_size
        for start in range(0, len(uids), size):
            chunk = [int(u) for u in uids[start : start + size]]
            if self._selected != folder:
                self._select(folder)
            data = self._call("UID FETCH", self.client.fetch, chunk, ["BODY.PEEK[]", "INTERNALDATE"])
            for uid in chunk:
                item = data.get(uid)
                if not item or b"BODY[]" not in item:
                    continue  # expunged meanwhile
                arrived = item.get(b"INTERNALDATE")
                if isinstance(arrived, datetime) and arrived.tzinfo is None:
                    arrived = arrived.replace(tzinfo=UTC)
                yield Fetched(uid=str(uid), raw=bytes(item[b"BODY[]"]), internaldate=arrived)

    def ensure_folder(self, folder: str) -> None:
        if folder in self._known_folders:
            return
        name = self._name(folder)
        if not self._call("LIST", self.client.folder_exists, name):
            self._call(f"CREATE {folder}", self.client.create_folder, name)
            with contextlib.suppress(IMAPClientError):  # subscribing is a courtesy to mail clients
                self.client.subscribe_folder(name)
            log.info("folder_created", server=self.settings.host, folder=folder)
        self._known_folders.add(folder)

    def move(self, folder: str, uids: Sequence[str], target: str) -> None:
        if not uids:
            return
        self.ensure_folder(target)
        if self._selected != folder:
            self._select(folder)
        ids = [int(u) for u in uids]
        if self.client.has_capability("MOVE"):
            self._call(f"UID MOVE to {target}", self.client.move, ids, self._name(target))
            return
        self._call(f"UID COPY to {target}", self.client.copy, ids, self._name(target))
        self._call("UID STORE \\Deleted", self.client.add_flags, ids, [b"\\Deleted"])
        if self.client.has_capability("UIDPLUS"):
            self._call("UID EXPUNGE", self.client.uid_expunge, ids)
        # Without UIDPLUS a plain EXPUNGE would also remove what a person flagged: leave the
        # copies flagged \Deleted (they are no longer listed) for the server to expunge.

    def delete_matching(self, folder: str, message_id: str, sha256: str, day: date | None = None) -> int:
        """SEARCH by Message-ID (else by arrival day, else all), FETCH BODY.PEEK[] of the hits, and
        \\Deleted + UID EXPUNGE only those whose bytes have `sha256`. Without UIDPLUS the matches
        stay flagged \\Deleted (a plain EXPUNGE would also remove what a person flagged)."""
        if not self._call("LIST", self.client.folder_exists, self._name(folder)):
            return 0
        self._select(folder)
        if message_id and message_id.isascii():  # SEARCH without CHARSET takes ASCII only
            criteria: list[Any] = ["NOT", "DELETED", "HEADER", "Message-ID", message_id]
        elif day is not None:  # SEARCH ON compares dates in the server's zone: a day either side
            criteria = ["NOT", "DELETED", "SINCE", day - timedelta(days=1), "BEFORE", day + timedelta(days=2)]
        else:
            criteria = ["NOT", "DELETED"]
        hits = [str(u) for u in sorted(self._call("UID SEARCH", self.client.search, criteria))]
        ids = [int(f.uid) for f in self.fetch(folder, hits) if f.sha256 == sha256]
        if not ids:
            return 0
        self._call("UID STORE \\Deleted", self.client.add_flags, ids, [b"\\Deleted"])
        if self.client.has_capability("UIDPLUS"):
            self._call("UID EXPUNGE", self.client.uid_expunge, ids)
        log.info("messages_deleted", server=self.settings.host, folder=folder, count=len(ids))
        return len(ids)


def _text(exc: BaseException) -> str:
    msg = exc.args[0] if exc.args else str(exc)
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    return " ".join(str(msg).split()) or type(exc).__name__


def _quiet_logout(client: IMAPClient) -> None:
    with contextlib.suppress(Exception):  # the connection may already be gone
        client.logout()
