"""Mailbox adapters behind one protocol: IMAP (imapclient) and a local Maildir."""

from __future__ import annotations

from triage.config import ImapMailbox as ImapSettings
from triage.config import Organisation
from triage.mailboxes.base import Fetched, Mailbox
from triage.mailboxes.imap import ImapBox
from triage.mailboxes.maildir import MaildirBox

__all__ = ["Fetched", "Mailbox", "open_mailbox"]


def open_mailbox(org: Organisation) -> Mailbox:
    """The adapter for an organisation's mailbox settings (not yet connected: use `with`)."""
    box = org.mailbox
    if isinstance(box, ImapSettings):
        return ImapBox(box)
    return MaildirBox(box.path, batch_size=box.batch_size)
