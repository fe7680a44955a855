"""Anonymising a case and purging a message (triage.store.anonymise): content, addresses and raw
bytes go, a blob two messages share stays until both are purged, a waiting letter is suppressed,
audit rows keep no details, a second call changes nothing, and the same bytes arriving afterwards
are new mail, not a duplicate of what was purged."""

from __future__ import annotations

import dataclasses
import mailbox
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import deps_for, sessions_for, settings_for, write_config
from mails import plain
from sqlalchemy import select

from triage.mailboxes import open_mailbox
from triage.services.poll import run_once
from triage.store.anonymise import anonymise_case, purge_message
from triage.store.models import Acknowledgement, AuditLog, Case, Message, RawBlob

NOW = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)


@dataclasses.dataclass
class Box:
    deps: Any
    org: Any
    maildir: mailbox.Maildir

    def deliver(self, *raws: bytes) -> None:
        for raw in raws:
            self.maildir.add(raw)
        with open_mailbox(self.org) as opened:
            run_once(self.deps, self.org, opened)

    def messages(self, s: Any) -> list[Message]:
        return list(s.scalars(select(Message).order_by(Message.id)))


@pytest.fixture
def box(tmp_path: Path, db_url: str) -> Box:
    root = tmp_path / "mail"
    settings = settings_for(write_config(tmp_path, db_url, f'type = "maildir"\npath = "{root}"\n'))
    deps = dataclasses.replace(deps_for(settings, sessions_for(settings)), clock=lambda: NOW)
    return Box(deps, settings.organisations["debrug"], mailbox.Maildir(str(root), create=True))


def test_a_blob_two_messages_share_stays_until_both_are_purged(box: Box) -> None:
    box.deliver(plain(1))
    box.deliver(plain(1))  # the same bytes again: a duplicate
    with box.deps.sessions.begin() as s:
        first, dup = box.messages(s)
        assert dup.disposition == "duplicate" and dup.sha256 == first.sha256
        assert purge_message(s, dup, NOW) is True
        assert s.get(RawBlob, first.sha256).data == plain(1) and first.text
    with box.deps.sessions.begin() as s:
        first, dup = box.messages(s)
        assert purge_message(s, first, NOW) is True
    with box.deps.sessions() as s:
        blob = s.get(RawBlob, first.sha256)
        assert (blob.data, blob.size) == (b"", 0)


def test_anonymising_a_case_suppresses_its_waiting_letter_and_strips_its_audit_details(box: Box) -> None:
    box.deliver(plain(1, sender="Jan de Vries <jan@example.nl>"))
    with box.deps.sessions.begin() as s:
        (msg,) = box.messages(s)
        case = s.get(Case, msg.case_id)
        reference = case.reference
        (ack,) = s.scalars(select(Acknowledgement).where(Acknowledgement.case_id == case.id)).all()
        assert ack.status == "pending" and ack.raw and ack.recipient == "jan@example.nl"
        s.add(AuditLog(at=NOW, actor="marie", action="case.closed", organisation="debrug", case_id=case.id,
                       detail={"note": "Jan de Vries belde", "ending": "resolved"}))
        s.flush()
        assert anonymise_case(s, case, NOW, by="purge") == 1
    with box.deps.sessions() as s:
        case = s.scalars(select(Case)).one()
        assert (case.reference, case.subject, case.complainant, case.complainant_name) == (reference, "", None, "")
        ack = s.scalars(select(Acknowledgement)).one()
        assert (ack.status, ack.raw, ack.recipient, ack.subject) == ("suppressed", None, "", "")
        assert ack.reason == "personal data removed: retention period over"
        details = [a.detail for a in s.scalars(select(AuditLog).where(AuditLog.case_id == case.id))]
        assert {"ending": "resolved"} in details
        assert not any("jan@example.nl" in repr(d) or "Jan de Vries" in repr(d) or "note" in d for d in details)


def test_purging_a_loose_message_strips_its_audit_details(box: Box) -> None:
    box.deliver(b"Auto-Submitted: auto-replied\r\n" + plain(5, sender="Robot <robot@example.net>"))
    with box.deps.sessions.begin() as s:
        (msg,) = box.messages(s)
        assert msg.disposition == "ignored" and msg.case_id is None
        purge_message(s, msg, NOW)
    with box.deps.sessions() as s:
        (msg,) = box.messages(s)
        assert (msg.subject, msg.sender, msg.reason, msg.purged_at) == ("", None, "", NOW)
        rows = s.scalars(select(AuditLog).where(AuditLog.message_id == msg.id)).all()
        assert rows and all("reason" not in row.detail for row in rows)


def test_anonymising_twice_changes_nothing(box: Box) -> None:
    box.deliver(plain(1))
    with box.deps.sessions.begin() as s:
        case = s.scalars(select(Case)).one()
        assert anonymise_case(s, case, NOW, by="erasure") == 1
    later = datetime(2027, 1, 1, tzinfo=UTC)
    with box.deps.sessions.begin() as s:
        case = s.scalars(select(Case)).one()
        version = case.version
        assert anonymise_case(s, case, later, by="purge") == 0
        assert purge_message(s, box.messages(s)[0], later) is False
    with box.deps.sessions() as s:
        case = s.scalars(select(Case)).one()
        assert (case.anonymised_at, case.anonymised_by, case.version) == (NOW, "erasure", version)
        assert box.messages(s)[0].purged_at == NOW


def test_the_same_bytes_arriving_after_a_purge_are_new_mail_not_a_duplicate(box: Box) -> None:
    box.deliver(plain(1))
    with box.deps.sessions.begin() as s:
        anonymise_case(s, s.scalars(select(Case)).one(), NOW, by="erasure")
    box.deliver(plain(1))
    with box.deps.sessions() as s:
        old, new = box.messages(s)
        assert new.disposition == "review" and new.duplicate_of is None
        assert new.case_id is not None and new.case_id != old.case_id and new.subject == "Melding nummer 1"
        assert s.get(RawBlob, new.sha256).data == plain(1)  # the bytes are back for the new message
        assert s.get(Case, new.case_id).anonymised_at is None
