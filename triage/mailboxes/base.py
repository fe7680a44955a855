"""The Mailbox protocol: list, fetch and move messages by a stable UID within a UIDVALIDITY."""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Protocol, Self


@dataclass(frozen=True)
class Fetched:
    uid: str
    raw: bytes
    internaldate: datetime | None  # arrival in the mailbox, tz-aware

    @functools.cached_property
    def sha256(self) -> str:
        """The content's identity (with the mailbox's UID, the other half of a message's)."""
        return hashlib.sha256(self.raw).hexdigest()


class Mailbox(Protocol):
    """A source of mail. Folder names use '/' as hierarchy separator; adapters translate."""

    source_folder: str
    batch_size: int  # messages fetched, committed and moved together

    def __enter__(self) -> Self: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def uidvalidity(self, folder: str) -> int:
        """The folder's UIDVALIDITY: UIDs are stable while it stays the same."""
        ...

    def uids(self, folder: str) -> list[str]:
        """All message UIDs in the folder, oldest first."""
        ...

    def fetch(self, folder: str, uids: Sequence[str]) -> Iterator[Fetched]:
        """Yield the messages' raw bytes without marking them \\Seen, in bounded batches."""
        ...

    def move(self, folder: str, uids: Sequence[str], target: str) -> None:
        """Move messages to `target` (created when missing). Never deletes mail."""
        ...

    def delete_matching(self, folder: str, message_id: str, sha256: str, day: date | None = None) -> int:
        """Delete for good the messages in `folder` whose bytes have this sha256, found by their
        Message-ID, else by their arrival `day` (within a day either side), else among all;
        how many went. A missing folder holds none. The retention purge and erasure use it."""
        ...

    def supports_idle(self) -> bool:
        """Whether `wait_for_mail` can tell of new mail as it arrives (IMAP IDLE)."""
        ...

    def wait_for_mail(self, folder: str, seconds: float, stop: threading.Event) -> bool:
        """Wait up to `seconds` (or until `stop` is set); True as soon as new mail is reported."""
        ...
