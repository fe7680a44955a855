"""The thread stage: a reference in the subject or our acknowledgement's Message-ID in
In-Reply-To/References joins a case, but only for the case's own complainant."""

from __future__ import annotations

from dataclasses import replace

import pytest

from triage.addresses import ack_message_id
from triage.domain import Address, Resolved, ThreadMatch
from triage.reasons import text
from triage.stages.parse import parse
from triage.stages.thread import CaseFinder, find_thread, references

CASES = {"KL-2026-000042": (42, "anna@example.net")}


def _resolved(subject: str = "Re: Schimmel", sender: str = "anna@example.net", in_reply_to: str = "",
              refs: tuple[str, ...] = ()) -> Resolved:
    mail = parse(f"From: {sender}\r\nSubject: {subject}\r\n\r\nNog steeds schimmel.\r\n".encode())
    mail = replace(mail, in_reply_to=in_reply_to, references=refs)
    return Resolved(mail, Address(sender))



def thread(resolved: Resolved, prefix: str, find_case: CaseFinder) -> tuple[ThreadMatch | None, str]:
    """The stage's match, with its reasons as the English line the logs show."""
    match, notes = find_thread(resolved, prefix, find_case)
    return match, text(notes)


def test_reference_in_subject_joins() -> None:
    match, note = thread(_resolved("Re: Ontvangstbevestiging: Schimmel [KL-2026-000042]"), "KL", CASES.get)
    assert match is not None and match.case_id == 42 and match.how == "subject" and note == ""


def test_in_reply_to_our_acknowledgement_joins() -> None:
    ack = ack_message_id("KL-2026-000042", "debrug.example")
    match, _ = thread(_resolved(in_reply_to=ack), "KL", CASES.get)
    assert match is not None and match.how == "in-reply-to"
    match, _ = thread(_resolved(refs=("<x@y>", ack)), "KL", CASES.get)
    assert match is not None


def test_other_sender_does_not_join() -> None:
    match, note = thread(_resolved("[KL-2026-000042]", sender="kees@example.net"), "KL", CASES.get)
    assert match is None and "not its complainant" in note


def test_unknown_reference_and_other_prefix() -> None:
    match, note = thread(_resolved("KL-2026-000999"), "KL", CASES.get)
    assert match is None and "not a case of ours" in note
    assert references(_resolved("XKL-2026-000042 and DB-2026-000001"), "KL") == []


def test_lowercase_reference_is_found_once() -> None:
    found = references(_resolved("kl-2026-000042 / KL-2026-000042"), "KL")
    assert found == [("KL-2026-000042", "subject")]


OURS = "<ack.KL-2026-000042.0@lindendal.example>"


@pytest.mark.parametrize("headers", [
    f"In-Reply-To: {OURS.lower()}", f"In-Reply-To: {OURS.upper()}", f"In-Reply-To: {OURS.strip('<>')}",
    f"References: <12@helpdesk.example> {OURS.strip('<>')}", f"References: <12@helpdesk.example> (ons) {OURS}",
    'References: <"ack.KL-2026-000042.0"@lindendal.example>',
    "References: <ack.KL-2026-000042.0@\r\n lindendal.example>", f'In-Reply-To: Uw bericht van 3 december "{OURS}"',
    "References: " + " ".join(f"<r{i}@x>" for i in range(40)) + f" {OURS}",
    f"References: =?us-ascii?q?{OURS.replace('<', '=3C').replace('>', '=3E')}?=",
])
def test_our_acknowledgement_is_found_however_a_ticket_system_passes_its_id_on(headers: str) -> None:
    raw = (f"{headers}\r\nFrom: Helpdesk <issue-12@helpdesk.example>\r\n"
           "Subject: [ISSUE-12] Uw bericht is ontvangen\r\n\r\nWij hebben uw bericht ontvangen.\r\n").encode()
    mail = parse(raw)
    assert references(Resolved(mail, mail.sender), "KL") == [("KL-2026-000042", "in-reply-to")]
    match, note = thread(Resolved(mail, mail.sender), "KL", CASES.get)
    assert match is None and "issue-12@helpdesk.example is not its complainant" in note
