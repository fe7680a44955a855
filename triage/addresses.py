"""Our own addresses and who counts as one recipient: the organisation's addresses and domains
(and how mail from them is verified), the Message-ID of our acknowledgements, and the rate limit's
key for an address. Pure values, in the one form of `triage.idn.canonical`."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from triage.idn import canonical, canonical_domain


@dataclass(frozen=True)
class OwnAddresses:
    """What the forwards stage needs to know of the organisation: its addresses and domains, and
    how to tell that mail from them is genuine (see `triage.stages.authenticity`)."""

    addresses: frozenset[str]
    domains: frozenset[str]
    authserv_ids: frozenset[str] = frozenset()  # whose Authentication-Results we believe (lower-case)
    staff: frozenset[str] = frozenset()  # exact addresses trusted without them when `dmarc_enforced`
    dmarc_enforced: bool = False  # the receiving server rejects mail from our domains that fails DMARC

    def __post_init__(self) -> None:  # the one form of every address and domain, however configured
        object.__setattr__(self, "addresses", frozenset(map(canonical, self.addresses)))
        object.__setattr__(self, "domains", frozenset(map(canonical_domain, self.domains)))
        object.__setattr__(self, "staff", frozenset(map(canonical, self.staff)))

    def is_own(self, addr: str) -> bool:
        """One of ours, however it is spelled (full-width letters, U-labels or A-labels, case)."""
        addr = canonical(addr)
        domain = addr.rpartition("@")[2]
        return addr in self.addresses or any(domain == d or domain.endswith("." + d) for d in self.domains)


# A case reference: the organisation's prefix, the year and a number ("KL-2026-000042").
REFERENCE = r"[A-Z][A-Z0-9]{0,9}-\d{4}-\d{6,}"


def ack_message_id(reference: str, domain: str, nonce: str = "1") -> str:
    """The deterministic Message-ID of our acknowledgement for a case: recognisable in replies."""
    return f"<ack.{reference}.{nonce}@{domain}>"


# Local parts that a ticket system, helpdesk or other machine uses, often one per ticket: counted
# per domain by the rate limit. Digits count only as a run of five or more (a ticket or case
# number), so that jan1975@ and piet88@ at the same mail provider are still two people.
_MACHINE_LOCAL = re.compile(
    r"(?:.*[-_.])?(?:ticket|tickets|support|helpdesk|servicedesk|service[-_.]?desk|no[-_.]?reply|"
    r"do[-_.]?not[-_.]?reply|notifications?|case|cases|incident|request|requests|reply|replies|bounces?|"
    r"mailer[-_.]?daemon)(?:$|[-_.\d].*)|.*\d{5}.*|[\d\W_]+",
    re.IGNORECASE)


def rate_key(addr: str, machine_domains: Collection[str] = ()) -> str:
    """What the per-recipient rate limit counts: the address without its +tag (`jan+klacht@x` is
    `jan@x`), and for a machine-looking local part the whole domain (`*@vendor.example`): a
    ticket system answering from `ticket-123@`, `support+123@` counts as one recipient. So does a
    local part with a digit in one of `machine_domains` (where one address answered our mail to
    another: `issue-12@`, `t1234@`)."""
    local, _, domain = canonical(addr).rpartition("@")
    local = local.split("+", 1)[0]
    if not local or _MACHINE_LOCAL.fullmatch(local) or (domain in machine_domains and any(map(str.isdigit, local))):
        return f"*@{domain}"
    return f"{local}@{domain}"
