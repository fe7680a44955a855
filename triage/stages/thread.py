"""Join a reply to its case: a case reference in the subject, or In-Reply-To/References naming one
of our acknowledgements, joins the case only when the sender is the case's complainant."""

from __future__ import annotations

import re
from collections.abc import Callable

from triage.addresses import REFERENCE
from triage.domain import Mail, Resolved, ThreadMatch
from triage.reasons import Code, Reason, reason

# (case id, complainant address) for a reference, or None when there is no such case.
CaseFinder = Callable[[str], tuple[int, str | None] | None]
# Our acknowledgement's Message-ID, `<ack.KL-2026-000042.0@lindendal.example>`, as a ticket system
# may pass it on: in any case, without angle brackets, its local part quoted, folded, amid text. Any
# domain: naming our reference this way makes a message a reply to us, which is never acknowledged.
_ACK_ID = re.compile(rf"ack\.({REFERENCE})\.\d{{1,9}}@[A-Z0-9]", re.IGNORECASE)


def _ack_references(mail: Mail) -> list[str]:
    """The references of ours in In-Reply-To, then in References from the newest, without repeats
    (blanks and quotes are taken out first: a fold or a quoted local part does not hide one)."""
    def found(*values: str) -> list[str]:
        return [m.upper() for m in _ACK_ID.findall(re.sub(r'[\s"]', "", " ".join(values)))]
    in_reply_to = found(mail.header("in-reply-to"), mail.in_reply_to)
    return in_reply_to + list(reversed(found(mail.header("references"), *mail.references)))


def references(resolved: Resolved, prefix: str) -> list[tuple[str, str]]:
    """Candidate (reference, how) pairs, most reliable first, without repeats."""
    mail = resolved.mail
    found = [(ref, "in-reply-to") for ref in _ack_references(mail)]
    pattern = re.compile(rf"(?<![A-Z0-9-]){re.escape(prefix)}-\d{{4}}-\d{{6,}}(?!\d)")
    found += [(m, "subject") for m in pattern.findall(mail.subject.upper())]
    unique: dict[str, str] = {}
    for ref, how in found:
        unique.setdefault(ref, how)
    return list(unique.items())


Notes = tuple[Reason, ...]


def find_thread(resolved: Resolved, prefix: str, find_case: CaseFinder) -> tuple[ThreadMatch | None, Notes]:
    """The case this message continues, or None with the reasons a named reference was not used."""
    notes = []
    for ref, how in references(resolved, prefix):
        case = find_case(ref)
        if case is None:
            notes.append(reason(Code.REFERENCE_UNKNOWN, reference=ref))
            continue
        case_id, complainant = case
        sender = resolved.complainant.addr if resolved.complainant else None
        if sender and complainant and sender == complainant.lower():
            return ThreadMatch(case_id=case_id, reference=ref, how=how), ()
        notes.append(_other_sender(ref, sender, complainant))
    return None, tuple(notes)


def _other_sender(ref: str, sender: str | None, complainant: str | None) -> Reason:
    """A reply to our mail from an address that is not the case's complainant. One from the
    complainant's own domain (a ticket system answering from `issue-12@` what went to `issue-11@`)
    names that `domain`: the rate limit then counts the domain as one machine (`addresses.rate_key`)."""
    domain = sender.rpartition("@")[2] if sender else ""
    if domain and complainant and complainant.lower().rpartition("@")[2] == domain:
        return reason(Code.REFERENCE_OTHER_SENDER, reference=ref, sender=sender, domain=domain)
    return reason(Code.REFERENCE_OTHER_SENDER, reference=ref, sender=sender or "the sender")


def answered(notes: Notes) -> str:
    """The reference of ours that a message answers without joining its case ('' when none): a
    reply to our mail from another address, or naming a reference of ours we do not know. Such a
    message is never acknowledged (a ticket system answering from a new address per ticket would
    loop with us for ever) and always goes to a person."""
    return next((str(n.params["reference"]) for n in notes
                 if n.code in (Code.REFERENCE_OTHER_SENDER, Code.REFERENCE_UNKNOWN)), "")
