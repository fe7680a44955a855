"""A full disk under the pickup folder or the Maildir: the daemon's jobs log it once as an outage
(and once when it is over), leave no temporary file behind, lose nothing, and catch up.

The disk is a 64 KB tmpfs with few inodes where the test may mount one (root); everywhere, and
also as root, the same tests run against a fake: ENOSPC from the calls the adapters write with,
for paths on the "disk" only."""

from __future__ import annotations

import errno
import logging
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import deps_for, sessions_for, settings_for, unavailable, write_config
from mails import plain
from sqlalchemy import select

from triage.errors import ModelError
from triage.services.poll import Poller
from triage.services.send import Sender
from triage.store.models import Acknowledgement, Message
from triage.training import registry

_AS_ROOT = [] if os.geteuid() == 0 else ["sudo", "-n"]  # mounting needs root, as installing the test servers does
ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class Disk:
    """A small file system at `root` that fill() makes full and free() empties again."""

    def __init__(self, root: Path, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root, self.kind, self.monkeypatch = root, kind, monkeypatch
        root.mkdir()
        self.full = False
        if kind == "tmpfs":
            mount = [*_AS_ROOT, "mount", "-t", "tmpfs", "-o", "size=64k,nr_inodes=48", "tmpfs", str(root)]
            if subprocess.run(mount, capture_output=True).returncode != 0:
                unavailable("cannot mount a tmpfs here (neither root nor passwordless sudo)")
        else:
            self._fake()

    def _fake(self) -> None:
        def on_disk(path: Any) -> bool:
            return self.full and str(path).startswith(str(self.root))

        real_mkdir, real_fdopen = os.mkdir, os.fdopen

        def mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
            if on_disk(path):
                raise ENOSPC
            real_mkdir(path, *args, **kwargs)

        def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
            file = real_fdopen(fd, *args, **kwargs)
            if on_disk(os.readlink(f"/proc/self/fd/{fd}")):
                def write(_data: bytes) -> int:
                    raise ENOSPC
                file.write = write
            return file

        self.monkeypatch.setattr(os, "mkdir", mkdir)
        self.monkeypatch.setattr(os, "fdopen", fdopen)

    def fill(self, inodes: bool = True) -> None:
        """No block left (and no inode, unless told otherwise)."""
        self.full = True
        if self.kind != "tmpfs":
            return
        fd = os.open(self.root / ".filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        try:
            for n in range(10_000 if inodes else 0):
                (self.root / f".inode-{n}").touch()
        except OSError:
            pass

    def free(self) -> None:
        self.full = False
        for path in self.root.glob(".filler") if self.kind == "tmpfs" else ():
            path.unlink()
        for path in self.root.glob(".inode-*") if self.kind == "tmpfs" else ():
            path.unlink()

    def files(self) -> list[str]:
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*")
                      if p.is_file() and not p.name.startswith((".filler", ".inode-")))

    def close(self) -> None:
        if self.kind == "tmpfs":
            subprocess.run([*_AS_ROOT, "umount", str(self.root)], check=True)


@pytest.fixture(params=["tmpfs", "fake"])
def disk(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Disk]:
    found = Disk(tmp_path / "disk", request.param, monkeypatch)
    yield found
    monkeypatch.undo()
    found.close()


def _setup(tmp_path: Path, sqlite_url: str, maildir: Path, top: str = "") -> Any:
    settings = settings_for(write_config(tmp_path, sqlite_url, f'type = "maildir"\npath = "{maildir}"', top=top))
    return deps_for(settings, sessions_for(settings))


def _deliver(maildir: Path, count: int) -> None:
    (maildir / "new").mkdir(parents=True, exist_ok=True)
    for sub in ("cur", "tmp"):
        (maildir / sub).mkdir(exist_ok=True)
    for n in range(1, count + 1):
        (maildir / "new" / f"1764{n:06d}.M{n}P1.mailhost").write_bytes(plain(
            n, f"Bewoner {n} <bewoner{n}@example.net>", f"Lekkage in de badkamer, melding {n}",
            f"Goedemorgen,\n\nSinds de storm van vorige week lekt het plafond van mijn badkamer (Dorpsstraat {n}). "
            "Wanneer komt er iemand kijken?\n\nMet vriendelijke groet\n"))


def _events(caplog: pytest.LogCaptureFixture, event: str) -> int:
    return sum(f"event={event} " in r.getMessage() + " " for r in caplog.records)


def test_a_full_pickup_folder_is_one_outage_and_no_acknowledgement_is_lost(
        tmp_path: Path, sqlite_url: str, disk: Disk, caplog: pytest.LogCaptureFixture) -> None:
    maildir, pickup = tmp_path / "mail", disk.root / "outbox"
    _deliver(maildir, 2)
    deps = _setup(tmp_path, sqlite_url, maildir, top=f'[outbox]\npickup_directory = "{pickup}"')
    Poller(deps, deps.settings.organisation("debrug"), threading.Event()).poll()
    pickup.mkdir()
    disk.fill(inodes=False)  # a temporary file can be made, but not written
    sender = Sender(deps)
    with caplog.at_level(logging.INFO, logger="triage.outbox"):
        for _ in range(3):  # three intervals of the send job
            assert sender.run() is None
        assert _events(caplog, "send_failed") == 1 and _events(caplog, "send_still_failing") == 0
        assert "Traceback" not in caplog.text and "No space left on device" in caplog.text
        assert disk.files() == []  # no temporary file left behind
        with deps.sessions() as s:
            assert [(a.status, a.attempts) for a in s.scalars(select(Acknowledgement))] == [("pending", 0)] * 2
        disk.free()
        result = sender.run()
    assert result is not None and result.sent == 2
    assert _events(caplog, "send_recovered") == 1
    assert [name.startswith("outbox/ack.KL-") and name.endswith(".eml") for name in disk.files()] == [True, True]


def test_a_full_maildir_is_one_outage_and_the_mail_stays_in_the_inbox(
        tmp_path: Path, sqlite_url: str, disk: Disk, caplog: pytest.LogCaptureFixture) -> None:
    maildir = disk.root / "mail"
    _deliver(maildir, 3)
    deps = _setup(tmp_path, sqlite_url, maildir)
    poller = Poller(deps, deps.settings.organisation("debrug"), threading.Event())
    disk.fill()
    with caplog.at_level(logging.INFO, logger="triage.pipeline"):
        for _ in range(3):  # three intervals: the filing folders cannot be made
            assert poller.poll() is None
        assert _events(caplog, "poll_failed") == 1
        assert "Traceback" not in caplog.text and "No space left on device" in caplog.text
        assert sorted(p.parent.name for p in maildir.glob("*/*")) == ["new"] * 3  # nothing moved, nothing lost
        assert not any(maildir.glob("tmp/*"))
        with deps.sessions() as s:  # committed once, moved later: no record twice
            assert len(s.scalars(select(Message)).all()) == 3
        disk.free()
        result = poller.poll()
    assert result is not None and result.moved == 3
    assert _events(caplog, "poll_recovered") == 1
    assert not any(maildir.glob("new/*")) and len(list(maildir.glob(".*/cur/*"))) == 3


@pytest.mark.parametrize("disk", ["tmpfs"], indirect=True)  # the fake disk does not intercept Path.write_text
def test_a_promotion_on_a_full_disk_keeps_current_and_leaves_no_temporary_file(disk: Disk) -> None:
    models = disk.root / "models"
    for version in ("20261101-090000", "20261121-003549"):
        (models / version).mkdir(parents=True)
        (models / version / "model.skops").write_bytes(b"PK")  # promote() checks only that it is there
    (models / "CURRENT").write_text("20261101-090000\n")
    disk.fill(inodes=False)
    with pytest.raises(ModelError, match="No space left on device; 20261121-003549 is not promoted"):
        registry.promote(models, "20261121-003549")
    assert (models / "CURRENT").read_text() == "20261101-090000\n"
    assert sorted(p.name for p in models.iterdir()) == ["20261101-090000", "20261121-003549", "CURRENT"]
