"""A local Maildir as a mailbox: the embedded default. Folders are Maildir++ sub-folders.

The folders are created as needed (`cur`, `new`, `tmp` and the `maildirfolder` mark); messages
move with one atomic rename each, so a crash never leaves a message in two places. A file system
that refuses (full, read-only, a path that is not a Maildir) raises ServerError: the daemon logs
it as an outage and the messages stay where they are.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from triage.errors import ServerError
from triage.mailboxes.base import Fetched

_SUBDIRS = ("cur", "new", "tmp")
# A delivered file's name starts with its arrival: seconds, and in the usual forms (Python's mailbox,
# Dovecot, Courier) ".M" and the microseconds, not zero-padded: "1701.M99..." came before "1701.M100...".
_ARRIVAL = re.compile(r"(\d+)\.(?:[A-Za-z0-9_]*?M(\d+))?")


def arrival_order(name: str) -> tuple[int, int, str]:
    """Sort key that puts Maildir keys in the order they arrived (unknown forms last, by name)."""
    match = _ARRIVAL.match(name)
    if match is None:
        return (1 << 62, 0, name)
    return (int(match.group(1)), int(match.group(2) or 0), name)


class MaildirBox:
    source_folder = "INBOX"

    def __init__(self, path: Path, batch_size: int = 200) -> None:
        self.path = Path(path)
        self.batch_size = batch_size
        self._open = False
        self._hashes: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256

    def __enter__(self) -> Self:
        with self._failing("cannot be opened"):
            if self.path.exists() and not self.path.is_dir():
                raise ServerError(f"maildir {self.path} is a file, not a Maildir folder: point the mailbox's "
                                  "path at a Maildir (a folder with cur/, new/ and tmp/)")
            missing = [sub for sub in _SUBDIRS if not (self.path / sub).is_dir()]
            if missing and self.path.is_dir() and any(self.path.iterdir()):
                raise ServerError(f"maildir {self.path} is not a Maildir (no {'/, '.join(missing)}/): point the "
                                  "mailbox's path at a Maildir, or at a new or empty folder")
            _make(self.path)
        self._open = True
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._open = False

    @contextlib.contextmanager
    def _failing(self, what: str) -> Iterator[None]:
        """An OSError of the file system (ENOSPC, EACCES, EROFS, ...) as one ServerError line."""
        try:
            yield
        except OSError as exc:
            raise ServerError(f"maildir {self.path} {what}: {exc.strerror or exc}"
                              + (f" ({exc.filename})" if exc.filename else "")) from None

    def _dir(self, folder: str, create: bool = False) -> Path:
        if folder.upper() == "INBOX":
            return self.path
        assert self._open, "use the mailbox as a context manager"
        path = self.path / f".{folder.replace('/', '.')}"
        if create:
            with self._failing(f"cannot create folder {folder}"):
                _make(path)
                if not (path / "maildirfolder").exists():
                    (path / "maildirfolder").touch()
        return path

    def _files(self, folder: str) -> dict[str, Path]:
        base = self._dir(folder)
        files: dict[str, Path] = {}
        for sub in ("new", "cur"):
            try:
                entries = os.scandir(base / sub)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise ServerError(f"maildir {self.path}: {base / sub} cannot be read: {exc.strerror}") from None
            with entries:
                for entry in entries:
                    if not entry.name.startswith(".") and entry.is_file():
                        files[entry.name.split(":", 1)[0]] = Path(entry.path)
        return files

    def uidvalidity(self, folder: str) -> int:
        return 0  # Maildir keys never change

    def uids(self, folder: str) -> list[str]:
        return sorted(self._files(folder), key=arrival_order)  # first come, first answered

    def fetch(self, folder: str, uids: Sequence[str]) -> Iterator[Fetched]:
        files = self._files(folder)
        for uid in uids:
            path = files.get(uid)
            if path is None:
                continue  # moved away by someone else meanwhile
            try:
                raw = path.read_bytes()
                arrived = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise ServerError(f"maildir {self.path}: {path} cannot be read: {exc.strerror}") from None
            yield Fetched(uid=uid, raw=raw, internaldate=arrived)

    def move(self, folder: str, uids: Sequence[str], target: str) -> None:
        files = self._files(folder)
        dest = self._dir(target, create=True) / "cur"
        for uid in uids:
            path = files.get(uid)
            if path is None:
                continue
            name = path.name if ":" in path.name else f"{path.name}:2,"
            try:
                os.rename(path, dest / name)
            except FileNotFoundError:
                if path.exists():
                    raise ServerError(f"maildir {self.path}: {dest} is gone") from None
                # moved away by someone else meanwhile
            except OSError as exc:
                raise ServerError(f"maildir {self.path}: cannot move {path.name} to {target}: {exc.strerror}") from None

    def delete_matching(self, folder: str, message_id: str, sha256: str, day: date | None = None) -> int:
        """Remove the files of `folder` whose bytes have `sha256` (every file is hashed once per
        mailbox session; the Message-ID and day are not needed to find them here)."""
        if folder.upper() != "INBOX" and not self._dir(folder).is_dir():
            return 0
        deleted = 0
        for path in self._files(folder).values():
            if self._sha256(path) != sha256:
                continue
            with self._failing(f"cannot delete {path.name} from {folder}"), contextlib.suppress(FileNotFoundError):
                path.unlink()
                deleted += 1
        return deleted

    def _sha256(self, path: Path) -> str | None:
        with self._failing(f"{path} cannot be read"):
            try:
                info = path.stat()
                key = (str(path), info.st_size, info.st_mtime_ns)
                if key not in self._hashes:
                    self._hashes[key] = hashlib.sha256(path.read_bytes()).hexdigest()
            except FileNotFoundError:
                return None  # moved away by someone else meanwhile
        return self._hashes[key]

    def supports_idle(self) -> bool:
        return False  # a Maildir is polled

    def wait_for_mail(self, folder: str, seconds: float, stop: threading.Event) -> bool:
        stop.wait(seconds)
        return False


def _make(path: Path) -> None:
    """A Maildir folder with its three sub-folders (the owner's only, as `mailbox` makes them); what
    is there already is left alone."""
    for sub in _SUBDIRS:
        (path / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
