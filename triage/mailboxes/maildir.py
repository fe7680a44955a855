"""A local Maildir as a mailbox: the embedded default. Folders are Maildir++ sub-folders.

Python's `mailbox` creates the folders; messages move with one atomic rename each, so a crash
never leaves a message in two places.
"""

from __future__ import annotations

import mailbox
import os
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from triage.errors import ServerError
from triage.mailboxes.base import Fetched


class MaildirBox:
    source_folder = "INBOX"

    def __init__(self, path: Path, batch_size: int = 200) -> None:
        self.path = Path(path)
        self.batch_size = batch_size
        self._root: mailbox.Maildir | None = None

    def __enter__(self) -> Self:
        try:
            self._root = mailbox.Maildir(self.path, factory=None, create=True)
        except OSError as exc:
            raise ServerError(f"maildir {self.path} cannot be opened: {exc.strerror}") from None
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._root = None

    def _dir(self, folder: str, create: bool = False) -> Path:
        if folder.upper() == "INBOX":
            return self.path
        name = folder.replace("/", ".")
        assert self._root is not None, "use the mailbox as a context manager"
        if create and name not in self._root.list_folders():
            self._root.add_folder(name)
        return self.path / f".{name}"

    def _files(self, folder: str) -> dict[str, Path]:
        base = self._dir(folder)
        files: dict[str, Path] = {}
        for sub in ("new", "cur"):
            try:
                entries = os.scandir(base / sub)
            except FileNotFoundError:
                continue
            with entries:
                for entry in entries:
                    if not entry.name.startswith(".") and entry.is_file():
                        files[entry.name.split(":", 1)[0]] = Path(entry.path)
        return files

    def uidvalidity(self, folder: str) -> int:
        return 0  # Maildir keys never change

    def uids(self, folder: str) -> list[str]:
        return sorted(self._files(folder))

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
            yield Fetched(uid=uid, raw=raw, internaldate=arrived)

    def move(self, folder: str, uids: Sequence[str], target: str) -> None:
        files = self._files(folder)
        dest = self._dir(target, create=True) / "cur"
        for uid in uids:
            path = files.get(uid)
            if path is None:
                continue
            name = path.name if ":" in path.name else f"{path.name}:2,"
            os.rename(path, dest / name)

    def supports_idle(self) -> bool:
        return False  # a Maildir is polled

    def wait_for_mail(self, folder: str, seconds: float, stop: threading.Event) -> bool:
        stop.wait(seconds)
        return False
