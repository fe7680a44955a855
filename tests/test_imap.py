"""Polling a real Dovecot: identity by UID and UIDVALIDITY, commit then move, batches, no MOVE."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import deps_for, imap_mailbox, sessions_for, settings_for, write_config
from mails import plain
from sqlalchemy import func, select

from triage.mailboxes import open_mailbox
from triage.mailboxes.imap import ImapBox
from triage.services.poll import run_once
from triage.store import repo
from triage.store.models import AuditLog, Case, Message


def _poll(settings, sessions):  # type: ignore[no-untyped-def]
    org = settings.organisations["debrug"]
    with open_mailbox(org) as box:
        return run_once(deps_for(settings, sessions), org, box)


def _counts(sessions) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return s.scalar(select(func.count(Message.id))), s.scalar(select(func.count(Case.id)))


@pytest.fixture
def setup(dovecot, tmp_path, db_url):  # type: ignore[no-untyped-def]
    user = dovecot.new_user()
    settings = settings_for(write_config(tmp_path, db_url, imap_mailbox(dovecot, user, batch_size=4)))
    return dovecot, user, settings, sessions_for(settings)


def test_seen_message_is_processed_and_unseen_one_stays_unseen(setup) -> None:
    server, user, settings, sessions = setup
    server.append(user, [plain(1)], flags=(b"\\Seen",))
    server.append(user, [plain(2)])
    result = _poll(settings, sessions)
    assert sum(result.counts.values()) == 2
    assert server.uids(user) == []
    with server.client(user) as c:
        c.select_folder("Triage/Review", readonly=True)
        flags = c.get_flags(c.search("ALL"))
    seen = sorted(b"\\Seen" in f for f in flags.values())
    assert seen == [False, True], "BODY.PEEK[] must not mark the unseen message \\Seen"


def test_second_poll_changes_nothing(setup) -> None:
    server, user, settings, sessions = setup
    server.append(user, [plain(n) for n in range(6)])
    _poll(settings, sessions)
    assert _counts(sessions) == (6, 6)
    again = _poll(settings, sessions)
    assert sum(again.counts.values()) == 0 and again.moved == 0
    assert _counts(sessions) == (6, 6)


def test_crash_after_commit_before_move_is_finished_by_the_next_run(setup, monkeypatch) -> None:
    server, user, settings, sessions = setup
    server.append(user, [plain(n) for n in range(3)])

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt("power cut between commit and move")

    monkeypatch.setattr(ImapBox, "move", crash)
    with pytest.raises(KeyboardInterrupt):
        _poll(settings, sessions)
    assert _counts(sessions) == (3, 3) and len(server.uids(user)) == 3
    monkeypatch.undo()
    result = _poll(settings, sessions)
    assert sum(result.counts.values()) == 0 and result.moved == 3
    assert _counts(sessions) == (3, 3)
    assert server.uids(user) == [] and len(server.uids(user, "Triage/Review")) == 3


def test_crash_after_the_move_before_it_was_recorded_is_confirmed_by_the_next_run(setup, monkeypatch) -> None:
    server, user, settings, sessions = setup
    server.append(user, [plain(n) for n in range(3)])

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt("killed after the server moved the mail, before the record said so")

    monkeypatch.setattr(repo, "mark_moved", crash)
    with pytest.raises(KeyboardInterrupt):
        _poll(settings, sessions)
    assert server.uids(user) == [] and len(server.uids(user, "Triage/Review")) == 3
    with sessions() as s:
        assert s.scalar(select(func.count(Message.id)).where(Message.moved_at.is_(None))) == 3
    monkeypatch.undo()
    result = _poll(settings, sessions)
    assert sum(result.counts.values()) == 0 and result.moved == 0
    with sessions() as s:
        assert s.scalar(select(func.count(Message.id)).where(Message.moved_at.is_(None))) == 0
        assert s.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "message.move_confirmed")) == 3
    assert _counts(sessions) == (3, 3) and len(server.uids(user, "Triage/Review")) == 3


def test_crash_in_the_middle_of_a_batch_loses_and_doubles_nothing(setup, monkeypatch) -> None:
    server, user, settings, sessions = setup
    server.append(user, [plain(n) for n in range(10)])
    import triage.services.poll as poll

    real, calls = poll.handle, {"n": 0}

    def crashing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 6:  # second batch of four, second message
            raise KeyboardInterrupt("killed mid-batch")
        return real(*args, **kwargs)

    monkeypatch.setattr(poll, "handle", crashing)
    with pytest.raises(KeyboardInterrupt):
        _poll(settings, sessions)
    assert _counts(sessions) == (5, 5)
    assert len(server.uids(user)) == 6  # first batch moved; the committed 5th waits for its move
    monkeypatch.undo()
    _poll(settings, sessions)
    assert _counts(sessions) == (10, 10)
    assert server.uids(user) == [] and len(server.uids(user, "Triage/Review")) == 10
    with sessions() as s:
        refs = s.scalars(select(Case.reference)).all()
    assert len(set(refs)) == 10


def test_uidvalidity_change_neither_refiles_nor_skips(setup, monkeypatch) -> None:
    server, user, settings, sessions = setup
    server.append(user, [plain(n) for n in range(3)])
    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt("crash before the move")

    monkeypatch.setattr(ImapBox, "move", crash)  # filed, but left in the inbox
    with pytest.raises(KeyboardInterrupt):
        _poll(settings, sessions)
    monkeypatch.undo()
    assert _counts(sessions) == (3, 3)
    maildir: Path = server.maildir(user)
    (maildir / "dovecot-uidlist").unlink()  # the server renumbers: a new UIDVALIDITY
    shutil.rmtree(maildir / "dovecot.index.cache", ignore_errors=True)
    for f in maildir.glob("dovecot.index*"):
        f.unlink()
    server.append(user, [plain(100)])
    result = _poll(settings, sessions)
    assert _counts(sessions) == (4, 4), "old mail must not be filed again, new mail must not be skipped"
    assert result.counts["review"] == 1
    assert server.uids(user) == [] and len(server.uids(user, "Triage/Review")) == 4


def test_backlog_is_fetched_in_batches(setup, monkeypatch) -> None:
    server, user, settings, sessions = setup
    server.append(user, [plain(n) for n in range(11)])
    sizes: list[int] = []
    from imapclient import IMAPClient

    real_fetch = IMAPClient.fetch

    def spy(self, messages, data, modifiers=None):  # type: ignore[no-untyped-def]
        if b"BODY.PEEK[]" in [d.encode() if isinstance(d, str) else d for d in data]:
            sizes.append(len(messages))
        return real_fetch(self, messages, data, modifiers)

    monkeypatch.setattr(IMAPClient, "fetch", spy)
    _poll(settings, sessions)
    assert sizes == [4, 4, 3]
    assert _counts(sessions) == (11, 11)


def test_server_without_move_uses_copy_and_uid_expunge(dovecot_nomove, tmp_path, sqlite_url) -> None:
    user = dovecot_nomove.new_user()
    settings = settings_for(write_config(tmp_path, sqlite_url, imap_mailbox(dovecot_nomove, user)))
    sessions = sessions_for(settings)
    dovecot_nomove.append(user, [plain(n) for n in range(5)])
    with dovecot_nomove.client(user) as c:
        assert not c.has_capability("MOVE")
    _poll(settings, sessions)
    assert dovecot_nomove.uids(user) == []
    with dovecot_nomove.client(user) as c:
        c.select_folder("INBOX", readonly=True)
        assert c.search("ALL") == [], "the copied originals must be expunged, not just flagged"
    assert len(dovecot_nomove.uids(user, "Triage/Review")) == 5


def test_duplicate_bytes_are_recorded_as_a_duplicate(setup) -> None:
    server, user, settings, sessions = setup
    server.append(user, [plain(7)])
    _poll(settings, sessions)
    server.append(user, [plain(7)])
    result = _poll(settings, sessions)
    assert result.counts == {"duplicate": 1}
    assert _counts(sessions) == (2, 1)
    assert len(server.uids(user, "Triage/Ignored")) == 1
