"""The Maildir mailbox hands out messages in the order they arrived, so that the first of several
messages (the one a rate limit lets through, the one a reply joins) is the first that came."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from pathlib import Path

from triage.mailboxes.maildir import MaildirBox, arrival_order


def test_keys_sort_by_arrival_not_by_their_text() -> None:
    # Python's mailbox and Dovecot write the microseconds without leading zeros.
    names = ["1764748800.M100000P7Q3.mx", "1764748800.M99999P7Q2.mx", "1764748799.M5P7Q1.mx", "odd-name"]
    assert sorted(names, key=arrival_order) == [
        "1764748799.M5P7Q1.mx", "1764748800.M99999P7Q2.mx", "1764748800.M100000P7Q3.mx", "odd-name"]


def test_a_maildir_lists_its_messages_first_come_first(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    subjects = ["eerste", "tweede", "derde", "vierde", "vijfde", "zesde", "zevende", "achtste"]
    keys = []
    for subject in subjects:
        msg = EmailMessage()
        msg["From"], msg["Subject"] = "anna@example.nl", subject
        msg.set_content("Goedemorgen, zie onderwerp.")
        keys.append(box.add(msg.as_bytes()))
    # Names that sort differently as text than by time, as when the microseconds gain a digit.
    for n, key in enumerate(keys):
        path = Path(box._path) / "new" / key
        path.rename(path.with_name(f"1764748800.M{[7, 80, 900, 1000, 20000, 300000, 999999, 9][n]}P1Q{n}.mx"))
    with MaildirBox(tmp_path / "mail") as opened:
        uids = opened.uids("INBOX")
        fetched = [f.raw for f in opened.fetch("INBOX", uids)]
    order = [bytes(raw).split(b"Subject: ")[1].split(b"\n")[0].decode() for raw in fetched]
    by_micro = sorted(range(8), key=lambda n: [7, 80, 900, 1000, 20000, 300000, 999999, 9][n])
    assert order == [subjects[n] for n in by_micro]
