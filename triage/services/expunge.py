"""Deleting messages for good from an organisation's mailbox folders (the source folder and the
filed, review, ignored and quarantine folders): used by the retention purge and by an erasure on
request, only where the organisation's config allows it (`retention.delete_from_mailbox`). A copy is
deleted only when its bytes have the stored sha256, never on a matching Message-ID alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from triage.config import Organisation
from triage.logs import get_logger
from triage.services.deps import Deps

log = get_logger("triage.expunge")


@dataclass(frozen=True)
class Target:
    """One message to delete: its Message-ID (a hint to find it; "" when it had none) and the
    sha256 of its raw bytes (what decides). `day`, its arrival, finds one without Message-ID on IMAP."""

    message_id: str
    sha256: str
    day: date | None = None


def target(message_id: str, sha256: str, received_at: datetime | None) -> Target:
    """The target of a stored message (`received_at`: its INTERNALDATE, else its fetch time)."""
    return Target(message_id, sha256, received_at.astimezone(UTC).date() if received_at else None)


def folders(org: Organisation, source: str) -> list[str]:
    """The folders the product puts mail in, the source folder first, each once."""
    f = org.folders
    return list(dict.fromkeys((source, f.filed, f.review, f.ignored, f.quarantine)))


def expunge(deps: Deps, org: Organisation, targets: Sequence[Target]) -> int:
    """Delete the targets' copies from the organisation's folders; how many went. Opens the
    mailbox once; ServerError (or ConfigError: a missing password) when it cannot be reached, and
    then nothing more is tried. No targets: the mailbox is not opened."""
    unique = list(dict.fromkeys(targets))
    if not unique:
        return 0
    deleted = 0
    with deps.mailbox(org) as box:
        for folder in folders(org, box.source_folder):
            for t in unique:
                deleted += box.delete_matching(folder, t.message_id, t.sha256, t.day)
    log.info("mailbox_expunged", organisation=org.id, targets=len(unique), deleted=deleted)
    return deleted
