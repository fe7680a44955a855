"""Unwrap forwarded mail and decide whom to answer (the complainant).

Inline forwards from Outlook, Gmail, Apple Mail and Thunderbird (nl/en/de) and attached
`message/rfc822` parts are recognised. The original sender becomes the complainant only when the
forwarder is one of the organisation's own addresses and verified (`authenticity`); a `Reply-To`
is honoured only for a website form's no-reply sender or a verified sender of ours.
No library unwraps inline forwards in these languages, so the marker list lives here.
"""

from __future__ import annotations

import email.utils
import re
from datetime import datetime

import dateparser

from triage.addresses import OwnAddresses
from triage.domain import Address, Forward, Mail, Resolved
from triage.idn import canonical
from triage.reasons import Code, reason
from triage.stages.authenticity import authenticated
from triage.stages.budget import NEVER, Deadline
from triage.stages.parse import one_line, parse
from triage.stages.replies import first_part
from triage.stages.screen import is_machine_address

# A separator line that opens a forwarded message, and the client it comes from. No leading or
# trailing blank pattern here crosses a line end: `^[>\s]*` did, so from every line start of a run
# of n blank lines it rescanned the run (n² steps: 20 000 blank lines took 25 s).
_BLANKS = "".join(re.escape(c) for c in map(chr, range(0x3001)) if c.isspace() and c != "\n")  # \s but \n
_LEAD = rf"^[>{_BLANKS}]*+"  # quote marks and blanks before a separator, within its line (one class: fast)
_WS = r"[^\S\n]*"  # blanks within a line
_SEPARATORS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (via, re.compile(_LEAD + pattern, re.IGNORECASE | re.MULTILINE))
    for via, pattern in (
        ("outlook", rf"-{{3,}}{_WS}(?:oorspronkelijk bericht|original message|urspr[üu]ngliche nachricht|"
                    rf"message d'origine){_WS}-{{3,}}{_WS}$"),
        ("gmail", rf"-{{5,}}{_WS}(?:doorgestuurd bericht|forwarded message|weitergeleitete nachricht)"
                  rf"{_WS}-{{3,}}{_WS}$"),
        ("thunderbird", rf"-{{4,}}{_WS}(?:doorgestuurd bericht|forwarded message|weitergeleitete nachricht|"
                        rf"origineel bericht|original message){_WS}-{{4,}}{_WS}$"),
        ("apple", r"(?:begin doorgestuurd bericht|begin forwarded message|"
                  rf"anfang der weitergeleiteten nachricht|weitergeleitete nachricht){_WS}:{_WS}$"),
        ("outlook", rf"_{{10,}}{_WS}$"),
    )
)
_BARE_FROM = re.compile(_LEAD + r"\**(?:van|from|von)" + _WS + ":", re.IGNORECASE | re.MULTILINE)
_FORWARD_SUBJECT = re.compile(r"^\s*(?:(?:fwd?|fw|doorst|wg|tr|wtrlt|forward)\s*:\s*)+", re.IGNORECASE)
_REPLY_SUBJECT = re.compile(r"^\s*(?:(?:re|antw|aw|sv)\s*:\s*)+", re.IGNORECASE)
_HEADER_LINE = re.compile(  # matched on one line at a time
    _LEAD + r"(?:\*+\s*)?(van|from|von|verzonden|sent|gesendet|datum|date|aan|to|an|onderwerp|subject|betreff|"
    r"cc|kopie|bcc|reply-to|antwoord aan|antwort an|belangrijkheid|importance|wichtigkeit)\s*:\**\s*(.*)$",
    re.IGNORECASE,
)
_FIELD = {
    "van": "from", "from": "from", "von": "from",
    "verzonden": "date", "sent": "date", "gesendet": "date", "datum": "date", "date": "date",
    "onderwerp": "subject", "subject": "subject", "betreff": "subject",
}
_MAX_FIELD = 1000  # characters of a quoted header's value that are read: its patterns and dateparser see no more
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_DATE_SETTINGS = {
    "RETURN_AS_TIMEZONE_AWARE": True,
    "TIMEZONE": "Europe/Amsterdam",
    "DATE_ORDER": "DMY",
    "PREFER_DATES_FROM": "past",
}


def parse_address(value: str) -> Address | None:
    """'Naam <adres>', 'Naam [mailto:adres]', '"adres" <adres>' or a bare address."""
    value = one_line(value.replace("*", ""))
    found = _EMAIL.findall(value)
    if not found:
        return None
    addr = canonical(found[-1])  # as Address has it: the name is compared with it
    name = re.sub(r"[<\[(]?\s*(?:mailto:)?" + re.escape(found[-1]) + r"\s*[>\])]?", " ", value, flags=re.I)
    name = one_line(name).strip("\"' ,;")
    if canonical(name) == addr:
        name = ""
    return Address(addr=addr, name=name)


def parse_loose_date(value: str) -> datetime | None:
    """A date as mail clients write it in quoted headers, in Dutch, English or German."""
    value = one_line(value)
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
        if parsed.tzinfo is not None:
            return parsed
    except (TypeError, ValueError, IndexError):
        pass
    cleaned = re.sub(r"\b(?:om|at|um)\b", " ", value, flags=re.IGNORECASE)
    try:
        found: datetime | None = dateparser.parse(cleaned, languages=["nl", "en", "de"], settings=_DATE_SETTINGS)
        return found
    except (ValueError, OverflowError, TypeError):
        return None


def _header_block(lines: list[str]) -> tuple[dict[str, str], int]:
    """Read 'Van: … / Onderwerp: …' lines; return the fields and the index after the block."""
    fields: dict[str, str] = {}
    i, seen, last = 0, 0, ""
    while i < len(lines) and not lines[i].strip(" >") and seen == 0:
        i += 1  # blank lines before the block (Apple Mail)
    while i < len(lines):
        line = lines[i]
        match = _HEADER_LINE.match(line)
        if match:
            key = match.group(1).lower()
            last = _FIELD.get(key, key)
            fields.setdefault(last, match.group(2).strip()[:_MAX_FIELD])
            seen += 1
        elif not line.strip(" >"):
            break
        elif seen and last in ("to", "aan", "an", "cc", "kopie", "subject", "from"):
            fields[last] = f"{fields.get(last, '')} {line.strip(' >')}".strip()[:_MAX_FIELD]  # wrapped value
        else:
            break
        i += 1
    return fields, i


def _unquote(lines: list[str]) -> str:
    if lines and all(line.startswith(">") or not line.strip() for line in lines):
        lines = [re.sub(r"^> ?", "", line) for line in lines]
    return "\n".join(lines).strip()


def find_inline_forward(mail: Mail) -> Forward | None:
    """The first forwarded message written inline in the body, if any."""
    text = mail.text
    best: tuple[int, str, re.Match[str]] | None = None
    for via, pattern in _SEPARATORS:
        match = pattern.search(text)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), via, match)
    starts: list[tuple[str, int]] = []
    if best:
        starts.append((best[1], best[2].end()))
    if _FORWARD_SUBJECT.match(mail.subject):  # a bare header block with no separator line
        bare = _BARE_FROM.search(text)
        if bare:
            starts.append(("plain", bare.start()))
    for via, start in starts:
        lines = text[start:].lstrip("\r\n").split("\n")
        fields, end = _header_block(lines)
        if "from" not in fields and via in ("outlook", "plain"):
            continue  # a plain rule of underscores, or no header block
        body = _unquote(lines[end:])
        subject = one_line(fields.get("subject", "")) or _FORWARD_SUBJECT.sub("", mail.subject)
        return Forward(
            sender=parse_address(fields.get("from", "")),
            date=parse_loose_date(fields.get("date", "")),
            subject=subject,
            text=first_part(body) or body,
            via=via,
        )
    return None


def find_attached_forward(mail: Mail, deadline: Deadline = NEVER) -> Forward | None:
    """An attached message/rfc822 part, parsed as the original (while there is time)."""
    for raw in mail.rfc822_parts:
        if deadline.passed():
            return None
        try:
            inner = parse(raw, deadline=deadline)
        except Exception:  # an unreadable attachment is not a forward we can use
            continue
        if inner.sender or inner.text.strip():
            return Forward(
                sender=inner.sender,
                date=inner.date,
                subject=inner.subject,
                text=first_part(inner.text) or inner.text,
                via="rfc822",
            )
    return None


def resolve(mail: Mail, own: OwnAddresses, deadline: Deadline = NEVER) -> Resolved:
    """Decide whom the message is from: the sender, a forwarded original, or a Reply-To. Mail from
    our own domains speaks for us (a forward unwrapped, a Reply-To followed) only when verified.
    Once `deadline` has passed no forward is looked for."""
    sender = mail.sender
    forward = find_attached_forward(mail, deadline) or (None if deadline.passed() else find_inline_forward(mail))
    if sender is None or mail.from_count != 1:  # several From mailboxes: whose is it? none is trusted
        why = Code.NO_SENDER if sender is None else Code.FROM_SEVERAL
        return Resolved(mail, None, forward=forward, why=reason(why))
    verified = bool(authenticated(mail, own))
    if own.is_own(sender.addr) and forward:
        if not verified:  # filed as it stands, sent by the forwarder (ours: nobody to answer)
            return Resolved(mail, None, forward=forward, why=reason(Code.FORWARD_UNVERIFIED))
        original = forward.sender
        if original and not own.is_own(original.addr):
            return Resolved(mail, original, forwarded_by=sender, forward=forward,
                            why=reason(Code.FORWARDED_BY, address=sender.addr, via=forward.via))
        return Resolved(mail, None, forwarded_by=sender, forward=forward,
                        why=reason(Code.FORWARD_ORIGINAL_UNKNOWN))
    by_reply_to = _reply_to(mail, sender, own, verified, forward)
    if by_reply_to is not None:
        return by_reply_to
    if own.is_own(sender.addr):
        return Resolved(mail, None, forward=forward, why=reason(Code.FROM_OWN))
    return Resolved(mail, sender, forward=forward)


def _reply_to(mail: Mail, sender: Address, own: OwnAddresses, verified: bool,
              forward: Forward | None) -> Resolved | None:
    """What a Reply-To other than the sender decides, or None when it decides nothing. It is
    followed only for a no-reply sender (a website form) outside our domains, or a verified
    sender of ours; several addresses: nobody is answered, a person looks."""
    addresses = {a.addr for a in mail.reply_to_all} or ({mail.reply_to.addr} if mail.reply_to else set())
    if len(addresses) > 1:
        return Resolved(mail, None, forward=forward, why=reason(Code.REPLY_TO_SEVERAL))
    reply_to = mail.reply_to
    if reply_to is None or reply_to.addr == sender.addr:
        return None
    ours = own.is_own(sender.addr)
    if own.is_own(reply_to.addr):
        if is_machine_address(sender.addr) or ours:
            return Resolved(mail, None, forward=forward, why=reason(Code.REPLY_TO_OWN))
        return None
    if verified or (is_machine_address(sender.addr) and not ours):
        return Resolved(mail, reply_to, forward=forward, why=reason(Code.REPLY_TO, address=reply_to.addr))
    if ours:
        return Resolved(mail, None, forward=forward, why=reason(Code.REPLY_TO_UNVERIFIED))
    return Resolved(mail, sender, forward=forward, why=reason(Code.REPLY_TO_IGNORED, address=reply_to.addr))


def strip_subject_prefixes(subject: str) -> str:
    """'Re: Fwd: Doorst: x' -> 'x'."""
    previous = None
    while previous != subject:
        previous = subject
        subject = _REPLY_SUBJECT.sub("", _FORWARD_SUBJECT.sub("", subject))
    return subject.strip()
