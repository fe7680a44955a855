"""Is a sender of our own domain really one of us? Read the receiving server's verdict.

A message may only speak for the organisation (a staff forward unwrapped to its original sender, a
Reply-To followed) when the receiving server's `Authentication-Results` (RFC 8601), written under
one of the organisation's configured authserv-ids, says DMARC or DKIM passed for the sender's own
domain, one of the organisation's domains exactly; or when the sender is one of the configured
staff addresses and the organisation has declared that its server enforces DMARC; and only when the
message has exactly one From field with exactly one mailbox (what DMARC checked). `authres` parses
the headers. The receiving server prepends its headers and strips the ones that claim its authserv-id
(matching the raw text: RFC 8601 values are never RFC 2047-encoded, so an encoded one is not ours), so
ours are the unbroken run of Authentication-Results at the top, each with our authserv-id; an
attacker can only add his own below them, and the first header of another id ends the run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import authres

from triage.addresses import OwnAddresses
from triage.domain import Mail

_AUTHSERV_ID = re.compile(r"^\s*([^\s;()]+)")
_FEATURES = authres.all_features()
_MAX_HEADERS, _MAX_LENGTH = 8, 3000


def _our_headers(mail: Mail, authserv_ids: frozenset[str]) -> Iterator[list[Any]]:
    """The results of each Authentication-Results header in the run of ours at the top, topmost
    first (raw values: see `parse`). A header of another id (another server's verdict, a sender's
    claim, an encoded word) ends the run, and so does one of ours that cannot be read: what lies
    below is not trusted. A server writes a few short ones; more, or longer, are a sender's."""
    seen = 0
    for name, value in mail.headers:
        if name != "authentication-results":
            continue
        found = _AUTHSERV_ID.match(value)
        if not found or found.group(1).lower() not in authserv_ids:
            return
        seen += 1
        if seen > _MAX_HEADERS or len(value) > _MAX_LENGTH:
            return
        try:
            parsed = _FEATURES.parse_value(value)
        except Exception:  # authres raises SyntaxError and others on what it cannot read
            return
        yield list(parsed.results)


def _property(result: Any, kind: str, name: str) -> str:
    return next((str(p.value) for p in result.properties if p.type == kind and p.name == name), "").lower()


def _dkim_domain(result: Any) -> str:
    """The signing domain: header.d, else the domain of header.i (Gmail writes only header.i)."""
    return _property(result, "header", "d") or _property(result, "header", "i").rpartition("@")[2]


def _first(headers: list[list[Any]], method: str) -> list[Any] | None:
    """The results for `method` in the topmost header of ours that reports it, or None."""
    for results in headers:
        found = [r for r in results if str(r.method).lower() == method]
        if found:
            return found
    return None


def authenticated(mail: Mail, own: OwnAddresses) -> str:
    """How the sender was verified as one of the organisation's own: 'dmarc', 'dkim', 'staff', or
    '' when it was not. A DMARC verdict of our server decides alone when there is one: a failed
    DMARC is rescued neither by a DKIM pass written further down nor by the staff list."""
    sender = mail.sender
    if sender is None or mail.from_count != 1:  # DMARC checks one From mailbox; with more, which one?
        return ""
    domain = sender.addr.rpartition("@")[2]
    if domain not in own.domains:  # exactly: a sub-domain is not ours unless it is listed (nor are staff)
        return ""
    headers = list(_our_headers(mail, own.authserv_ids)) if own.authserv_ids else []
    dmarc = _first(headers, "dmarc")
    if dmarc is not None:
        passed = all(str(r.result).lower() == "pass" and _property(r, "header", "from") == domain for r in dmarc)
        return "dmarc" if passed else ""
    if own.dmarc_enforced and sender.addr in own.staff:
        return "staff"
    dkim = _first(headers, "dkim") or []
    signed = any(str(r.result).lower() == "pass" and _dkim_domain(r) == domain for r in dkim)
    return "dkim" if signed else ""
