"""The whole flow on a Maildir: filing, threading, duplicates, quarantine with retries, process()."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest
from conftest import deps_for, sessions_for, settings_for, write_config
from mails import plain
from sqlalchemy import select

import triage.pipeline as pipeline
from triage.addresses import OwnAddresses
from triage.domain import Disposition
from triage.mailboxes import open_mailbox
from triage.pipeline import Context, process
from triage.services.poll import run_once
from triage.store.models import AuditLog, Case, Message, RawBlob

OWN = OwnAddresses(frozenset({"klachten@debrug.example"}), frozenset({"debrug.example"}),
                   staff=frozenset({"l.vermeulen@debrug.example"}), dmarc_enforced=True)


@pytest.fixture
def env(tmp_path: Path, db_url: str):  # type: ignore[no-untyped-def]
    settings = settings_for(write_config(tmp_path, db_url, 'type = "maildir"\npath = "mail"\nbatch_size = 3\n'))
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    return settings, sessions_for(settings), box


def _poll(settings, sessions):  # type: ignore[no-untyped-def]
    org = settings.organisations["debrug"]
    with open_mailbox(org) as box:
        return run_once(deps_for(settings, sessions), org, box)


def _folder(box: mailbox.Maildir, name: str) -> int:
    return len(box.get_folder(name)) if name in box.list_folders() else 0


def test_files_each_message_once_with_unique_references(env) -> None:  # type: ignore[no-untyped-def]
    settings, sessions, box = env
    for n in range(7):
        box.add(plain(n))
    result = _poll(settings, sessions)
    assert result.counts == {"review": 7} and result.moved == 7
    assert len(box) == 0 and _folder(box, "Triage.Review") == 7
    with sessions() as s:
        cases = s.scalars(select(Case).order_by(Case.id)).all()
        assert [c.reference for c in cases] == [f"KL-2026-{n:06d}" for n in range(1, 8)]
        assert all(c.status == "needs_review" for c in cases)
        message = s.scalars(select(Message)).first()
        assert message is not None and s.get(RawBlob, message.sha256) is not None
        assert s.scalars(select(AuditLog)).first() is not None
    assert sum(_poll(settings, sessions).counts.values()) == 0


def test_reply_joins_its_case_only_from_the_complainant(env) -> None:  # type: ignore[no-untyped-def]
    settings, sessions, box = env
    box.add(plain(1, sender="Anna <anna@example.net>", subject="Schimmel"))
    _poll(settings, sessions)
    box.add(plain(2, sender="Anna <ANNA@example.net>", subject="Re: Ontvangstbevestiging: Schimmel [KL-2026-000001]"))
    box.add(plain(3, sender="Kees <kees@example.net>", subject="Re: Schimmel [KL-2026-000001]"))
    result = _poll(settings, sessions)
    assert result.counts == {"joined": 1, "review": 1}
    with sessions() as s:
        first = s.scalars(select(Case).where(Case.reference == "KL-2026-000001")).one()
        assert len(first.messages) == 2
        stranger = s.scalars(select(Message).where(Message.sender == "kees@example.net")).one()
        assert stranger.case is not None and stranger.case.reference == "KL-2026-000002"
        assert "not its complainant" in stranger.reason
    assert _folder(box, "Triage.Filed") == 1


def test_machine_mail_is_ignored_with_its_reason(env) -> None:  # type: ignore[no-untyped-def]
    settings, sessions, box = env
    auto = plain(1, subject="Automatisch antwoord: Schimmel").replace(
        b"Subject:", b"Auto-Submitted: auto-replied\r\nSubject:")
    box.add(auto)
    result = _poll(settings, sessions)
    assert result.counts == {"ignored": 1}
    assert result.rows[0].reason == "auto-submitted: auto-replied"
    assert _folder(box, "Triage.Ignored") == 1


def test_identical_bytes_twice_is_a_duplicate(env) -> None:  # type: ignore[no-untyped-def]
    settings, sessions, box = env
    box.add(plain(4))
    box.add(plain(4))
    result = _poll(settings, sessions)
    assert result.counts == {"review": 1, "duplicate": 1}
    with sessions() as s:
        dup = s.scalars(select(Message).where(Message.disposition == "duplicate")).one()
        assert dup.duplicate_of is not None and dup.case_id is not None


def _break_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(raw: bytes, **kwargs: object) -> None:
        raise ValueError("simulated parser bug")

    monkeypatch.setattr(pipeline, "parse", broken)


def test_failing_message_is_quarantined_then_retried(env, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings, sessions, box = env
    box.add(plain(1))
    box.add(plain(2))
    _break_parse(monkeypatch)
    result = _poll(settings, sessions)
    assert result.counts == {"quarantined": 2}
    assert len(box) == 0 and _folder(box, "Triage.Quarantine") == 2
    with sessions() as s:
        m = s.scalars(select(Message)).first()
        assert m is not None and m.attempts == 1 and "simulated parser bug" in m.error
        assert m.reason == "parse failed"
    monkeypatch.undo()
    result = _poll(settings, sessions)
    assert result.counts == {"retried-review": 2}
    assert _folder(box, "Triage.Quarantine") == 0 and _folder(box, "Triage.Review") == 2
    with sessions() as s:
        assert all(m.case_id for m in s.scalars(select(Message)))


def test_retries_stop_after_three_attempts(env, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings, sessions, box = env
    box.add(plain(1))
    _break_parse(monkeypatch)
    for _ in range(5):
        _poll(settings, sessions)
    with sessions() as s:
        m = s.scalars(select(Message)).one()
        assert m.attempts == 3 and m.disposition == "quarantined"
    assert _folder(box, "Triage.Quarantine") == 1


def _ctx() -> Context:
    return Context(own=OWN, reference_prefix="KL", find_case=lambda ref: None)


def test_process_never_raises_on_garbage() -> None:
    for raw in (b"", b"\x00\xff" * 100, b"From: \r\n\r\n", b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x"):
        outcome = process(raw, _ctx())
        assert outcome.disposition in set(Disposition)


def test_oversized_message_goes_to_review_with_a_reason() -> None:
    raw = plain(1, body="x" * 5000)
    outcome = process(raw, Context(own=OWN, reference_prefix="KL", find_case=lambda r: None, max_bytes=2000))
    assert outcome.disposition == Disposition.REVIEW and "over the size limit" in outcome.reason


def test_staff_forward_files_the_original_sender(tmp_path: Path) -> None:
    raw = (Path(__file__).parent / "fixtures" / "forwards" / "gmail-nl.eml").read_bytes()
    outcome = process(raw, _ctx())
    assert outcome.resolved is not None and outcome.resolved.forwarded_by is not None
    assert outcome.resolved.complainant is not None
    assert not OWN.is_own(outcome.resolved.complainant.addr)


def test_long_addresses_and_nul_bytes_are_stored(env) -> None:  # type: ignore[no-untyped-def]
    settings, sessions, box = env
    local = "a" * 400
    box.add(plain(1, sender=f"{'N' * 300} <{local}@example.net>", body="lek\x00kage in de badkamer"))
    result = _poll(settings, sessions)
    assert result.counts == {"review": 1}
    with sessions() as s:
        m = s.scalars(select(Message)).one()
        assert m.sender is not None and len(m.sender) <= 320 and "\x00" not in m.text
