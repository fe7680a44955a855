"""Robustness on ~1 270 real e-mails written by others (../shared/corpus, used in tests only)."""

from __future__ import annotations

import mailbox
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import shared_corpus, unavailable, write_config
from sqlalchemy import create_engine, func, select

from triage.addresses import OwnAddresses
from triage.stages.forwards import resolve
from triage.stages.parse import parse
from triage.stages.screen import screen
from triage.store.models import Message

OWN = OwnAddresses(frozenset({"klachten@debrug.example"}), frozenset({"debrug.example"}))
SKIP_NAMES = {"MANIFEST.tsv", "SOURCES.md", "REMOVED_DUPLICATES.tsv"}


def corpus_files() -> list[Path]:
    root = shared_corpus()
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name not in SKIP_NAMES and p.parent != root)


@pytest.fixture(scope="module")
def files() -> list[Path]:
    found = corpus_files()
    if not found:
        unavailable(f"the shared corpus is absent at {shared_corpus()}")
    return found


def test_every_corpus_message_goes_through_the_stages(files: list[Path]) -> None:
    assert len(files) > 1000
    failures = []
    machine = 0
    for path in files:
        try:
            resolved = resolve(parse(path.read_bytes()), OWN)
            machine += screen(resolved).machine
        except Exception as exc:  # collect every failure, then report them all at once
            failures.append(f"{path.relative_to(shared_corpus())}: {type(exc).__name__}: {exc}")
    assert failures == []
    assert machine > 200  # sisimai and bounceparser hold hundreds of bounces


def test_poll_once_over_the_whole_corpus(files: list[Path], tmp_path: Path) -> None:
    write_config(tmp_path, "sqlite:///triage.db", 'type = "maildir"\npath = "mail"\n')
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    for path in files:
        box.add(path.read_bytes())
    result = subprocess.run([sys.executable, "-m", "triage.cli", "poll", "--once"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(mailbox.Maildir(tmp_path / "mail", create=False)) == 0
    engine = create_engine(f"sqlite:///{tmp_path / 'triage.db'}")
    with engine.connect() as conn:
        total = conn.scalar(select(func.count(Message.id)))
        no_reason = conn.scalar(select(func.count(Message.id)).where(Message.reason == ""))
        dispositions = dict(conn.execute(select(Message.disposition, func.count()).group_by(Message.disposition)).all())
    assert total == len(files)
    assert no_reason == 0
    assert set(dispositions) <= {"review", "ignored", "quarantined", "duplicate", "joined", "filed"}
    print(dispositions)
