"""Recognise machine mail (auto-replies, bounces, lists, no-reply senders) that must never be answered.

`screen(resolved)` returns a `Screening` with the first reason found, from the headers of RFC 3834,
RFC 2369/2919 and RFC 3464, the sender's local part, and out-of-office subjects in nl/en/de.
"""

from __future__ import annotations

import re

from triage.addresses import REFERENCE
from triage.domain import Mail, Resolved, Screening
from triage.reasons import Code, reason

_MACHINE_LOCALPART = re.compile(
    r"^(mailer[-_.]?daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply|donotreply|noreply[-_.].*|"
    r"bounces?|bounces?[-+].*|.*[-+.]noreply)$",
    re.IGNORECASE,
)
# Subjects that auto-responders put before (or instead of) the original subject.
_OOO_SUBJECT = re.compile(
    r"^\s*(?:"
    r"automatisch(?:e)? (?:antwoord|beantwoording|reactie)|afwezig(?:heids(?:melding|bericht))?\s*[:(\-]|"
    r"afwezigheidsmelding|niet aanwezig\s*[:(\-]|out of (?:the )?office|automatic reply|auto[- ]?reply|"
    r"autoresponse|auto[- ]?response|abwesenheitsnotiz|automatische antwort|abwesend\s*[:(\-]|"
    r"nicht im b[üu]ro|vacation reply|on vacation\s*[:(\-]|"
    r"undeliverable|undelivered mail|delivery status notification|mail delivery (?:failed|failure|system)|"
    r"returned mail|onbestelbaar|niet bezorgd|unzustellbar|nicht zustellbar|failure notice"
    r")",
    re.IGNORECASE,
)
_PRECEDENCE = {"bulk", "list", "junk"}


def is_machine_address(addr: str) -> bool:
    """True for MAILER-DAEMON, postmaster, noreply and similar senders nobody reads."""
    return bool(_MACHINE_LOCALPART.match(addr.partition("@")[0]))


def _auto_reply(mail: Mail) -> str:
    """RFC 3834 Auto-Submitted, and the X- headers that mail servers and clients use instead."""
    auto = mail.header("auto-submitted").strip().lower()
    if auto and not auto.startswith("no"):
        return f"auto-submitted: {auto.split(';')[0]}"
    if mail.has_header("x-autoreply") or mail.has_header("x-autorespond"):
        return "x-autoreply"
    suppress = mail.header("x-auto-response-suppress").strip()
    return f"x-auto-response-suppress: {suppress}" if suppress else ""


def _bulk(mail: Mail) -> str:
    """Bulk and list mail: Precedence, List-Id, or a list's unsubscribe and post addresses."""
    precedence = mail.header("precedence").strip().lower()
    if precedence in _PRECEDENCE:
        return f"precedence: {precedence}"
    if mail.has_header("list-id"):
        return f"list: {mail.header('list-id')[:80]}"
    return "list: list-post" if mail.has_header("list-unsubscribe") and mail.has_header("list-post") else ""


def _delivery_report(mail: Mail) -> str:
    """A delivery status notification (RFC 3464) or a server's own bounce header."""
    content_type = mail.header("content-type").lower()
    if mail.content_type == "multipart/report" or "report-type=delivery-status" in content_type:
        report = re.search(r"report-type=\"?([\w-]+)", content_type)
        return f"dsn: {report.group(1) if report else 'multipart/report'}"
    return "dsn: x-failed-recipients" if mail.has_header("x-failed-recipients") else ""


def _header_reason(resolved: Resolved) -> str:
    """The first header rule that marks the message as written by a machine, as 'rule: detail'."""
    return next((found for rule in (_auto_reply, _bulk, _delivery_report) if (found := rule(resolved.mail))), "")


def screen(resolved: Resolved) -> Screening:
    """Decide whether this message was written by a machine; say why."""
    rule = _header_reason(resolved)
    if rule:
        name, _, detail = rule.partition(": ")
        return Screening(machine=True, why=reason(Code.MACHINE, rule=name, detail=detail))
    sender, reply_to = resolved.mail.sender, resolved.mail.reply_to
    # A no-reply sender with a person in Reply-To is a website form, not a machine.
    if sender and is_machine_address(sender.addr) and (reply_to is None or is_machine_address(reply_to.addr)):
        return Screening(machine=True, why=reason(Code.MACHINE, rule="machine-sender", detail=sender.addr))
    if _OOO_SUBJECT.match(resolved.mail.subject):
        subject = resolved.mail.subject[:60]
        return Screening(machine=True, why=reason(Code.MACHINE, rule="out-of-office", detail=subject))
    return Screening(machine=False)


_ACK_ID = re.compile(rf"<ack\.{REFERENCE}\.\d+@[^<>\s]+>".encode())
_BOUNCE = re.compile(r"^(dsn|machine-sender: (mailer[-_.]?daemon|postmaster))|undeliver|onbestelbaar|niet bezorgd|"
                     r"returned mail|delivery|failure notice|unzustellbar|nicht zustellbar", re.IGNORECASE)


def bounced_acks(raw: bytes, screening: Screening) -> tuple[str, ...]:
    """The Message-IDs of our acknowledgements that a bounce reports as undeliverable."""
    if not screening.machine or not _BOUNCE.search(screening.reason):
        return ()
    found = dict.fromkeys(m.decode("ascii", "replace") for m in _ACK_ID.findall(raw[:5_000_000]))
    return tuple(found)[:10]
