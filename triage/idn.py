"""International mail addresses (RFC 6530-6532), pure.

The domain of an address travels as IDNA 2008 A-labels (`exämple.nl` -> `xn--exmple-cua.nl`, the
`idna` package; Python's own codec is IDNA 2003). An address whose local part is ASCII then needs
nothing of the server, in the envelope or in the header. A local part that is not ASCII
(`jöhn@…`) can only go to a server that offers SMTPUTF8, with the address in UTF-8 in the header.
Every address read is put in one form at once (`canonical`, applied by `domain.Address`), so that
two spellings of one mailbox are never two recipients.
"""

from __future__ import annotations

import idna


def ascii_domain(domain: str) -> str | None:
    """The domain as A-labels; None when it is no valid international domain name."""
    if domain.isascii():
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return None


def unicode_domain(domain: str) -> str:
    """The domain as U-labels (`xn--exmple-cua.nl` -> `exämple.nl`); as given when it is none."""
    try:
        return str(idna.decode(domain))
    except (idna.IDNAError, UnicodeError):
        return domain


def canonical_domain(domain: str) -> str:
    """The one form a domain is compared, counted and stored in: A-labels in lower case, UTS 46
    mapping first (full-width letters, an ideographic full stop, upper case and zero-width
    characters give the name they stand for). A domain that is no valid international name is kept
    as written, in lower case: it is refused later as undeliverable."""
    if domain.isascii():
        return domain.lower()
    return (ascii_domain(domain) or domain).lower()


def canonical(addr: str) -> str:
    """An address in its one form (see `canonical_domain`), the local part lower-cased: every
    spelling of the same mailbox is one recipient for the rate limit, the own-address check,
    storage and threading."""
    local, at, domain = addr.rpartition("@")
    return f"{local.lower()}@{canonical_domain(domain)}" if at else addr.lower()


def needs_smtputf8(addr: str) -> bool:
    """Only a server with SMTPUTF8 can take this address: its local part is not ASCII."""
    return not addr.rpartition("@")[0].isascii()


def envelope(addr: str) -> str:
    """The address for MAIL FROM / RCPT TO: the domain as A-labels. ValueError when the domain
    cannot be written so."""
    local, at, domain = addr.rpartition("@")
    encoded = ascii_domain(domain) if at else addr
    if encoded is None:
        raise ValueError(f"{domain!r} is not a valid international domain name")
    return f"{local}@{encoded}" if at else addr


def header_form(addr: str) -> str:
    """The address for To:, as the envelope has it: ASCII whenever the local part is (so the
    message needs no SMTPUTF8), else as given, in UTF-8 (RFC 6532)."""
    if needs_smtputf8(addr):  # in UTF-8 anyway: the domain as people read it
        local, _, domain = addr.rpartition("@")
        return f"{local}@{unicode_domain(domain)}"
    try:
        return envelope(addr)
    except ValueError:
        return addr
