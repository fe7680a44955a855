"""One organisation: its mailbox, folders, handling terms, acknowledgement settings and own addresses."""

from __future__ import annotations

import email.utils
import re
from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, field_validator, model_validator

from triage.addresses import OwnAddresses
from triage.config.servers import ImapMailbox, Mailbox, _Strict
from triage.stages.terms import Calendar, Term

_AUTHSERV_ID = re.compile(r"[^\s;()\"=]+")  # RFC 8601: a token (a host name, usually)


class Folders(_Strict):
    filed: str = "Triage/Filed"
    review: str = "Triage/Review"
    ignored: str = "Triage/Ignored"
    quarantine: str = "Triage/Quarantine"


def _term(value: str) -> str:
    if Term.parse(value).amount < 1:  # parse raises ValueError with what to write instead
        raise ValueError(f"{value!r} is not a term: a term is at least 1 day")
    return value


TermText = Annotated[str, AfterValidator(_term)]


class Terms(_Strict):
    """Handling terms per class (LABELS.md defaults) and extra days off beyond the public holidays."""

    formal_complaint: TermText = "6 weeks"
    formal_extension: TermText = "4 weeks"
    informal_complaint: TermText = "10 working days"
    question: TermText = "5 working days"
    # Messages that another procedure governs (triage.stages.special): its term, for the review
    # queue and the case's due date; never stated in the acknowledgement.
    woo: TermText = "4 weeks"  # Woo art. 4.4: a decision on a Woo-verzoek
    avg: TermText = "1 month"  # AVG art. 12 lid 3: an answer to a data subject's request
    bezwaar: TermText = "1 working day"  # Awb art. 6:15: forward an objection to the right body at once
    ingebrekestelling: TermText = "2 weeks"  # Awb art. 4:17: the penalty runs two weeks after a notice of default
    extra_holidays: tuple[date, ...] = ()

    def term(self, name: str) -> Term:
        return Term.parse(getattr(self, name))

    def calendar(self) -> Calendar:
        return Calendar.with_extra(self.extra_holidays)


class Acknowledge(_Strict):
    """The acknowledgement mail: sender, contact, where to turn afterwards, limits."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    enabled: bool = True
    from_: str | None = Field(default=None, alias="from")  # default: the first of `addresses`
    reply_to: str | None = None
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    handler: str = ""  # who handles formal complaints; empty: "a colleague who was not involved"
    appeal_name: str = "de Nationale ombudsman"
    appeal_name_en: str = "the National Ombudsman"
    appeal_url: str = "https://www.nationaleombudsman.nl"
    appeal_term: str = "binnen een jaar na deze brief"  # when the complainant must turn there, as the answer says it
    appeal_term_en: str = "within one year of this letter"
    privacy_url: str = ""  # the organisation's privacy statement, linked from every acknowledgement
    templates: Path | None = None  # a folder with nl/… and en/… templates that override ours
    max_age_days: Annotated[float, Field(strict=True, gt=0)] = 7.0  # older mail (a backlog) is filed, not acknowledged
    per_recipient_per_day: Annotated[int, Field(strict=True, ge=1)] = 3
    # above this many in an hour (the whole organisation), acknowledgements wait for a person
    per_organisation_per_hour: Annotated[int, Field(strict=True, ge=1)] = 60

    @field_validator("from_", "reply_to")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and "@" not in email.utils.parseaddr(value)[1]:
            raise ValueError(f"{value!r} is not an e-mail address (write 'Name <klachten@example.nl>')")
        return value


class Retention(_Strict):
    """How long personal data is kept (AVG art. 5 lid 1 e): `triage purge` (the worker runs it daily)
    removes it once expired and keeps an anonymous record for the yearly figures."""

    personal_data_months: Annotated[int, Field(strict=True, ge=1, le=1200)] = 24  # after a case ended
    machine_mail_days: Annotated[int, Field(strict=True, ge=1, le=36500)] = 30  # ignored mail and duplicates
    quarantine_days: Annotated[int, Field(strict=True, ge=1, le=36500)] = 90  # after a quarantined message was handled
    # Also delete the expired messages from the organisation's mailbox folders (IMAP or Maildir).
    # Default false: the mailbox is left alone, its retention is the mail administrator's.
    delete_from_mailbox: bool = False


class Procedure(_Strict):
    """After intake: who coordinates, when the daily digest goes out, how far ahead it looks."""

    coordinator: str | None = None  # the coordinator's address: the digest of unassigned and overdue cases
    digest_time: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] = "08:00"  # Europe/Amsterdam
    due_soon: Annotated[int, Field(strict=True, ge=0, le=30)] = 5  # working days ahead the digest looks

    @field_validator("coordinator")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and "@" not in email.utils.parseaddr(value)[1]:
            raise ValueError(f"{value!r} is not an e-mail address (write 'klachtencoordinator@example.nl')")
        return email.utils.parseaddr(value)[1].lower() if value is not None else None


class Organisation(_Strict):
    id: str = ""  # filled from the table key
    name: str
    reference_prefix: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{0,9}$")] = "KL"
    addresses: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    # How mail from our own domains is known to be genuine (see triage.stages.authenticity).
    authserv_id: tuple[str, ...] = ()  # the receiving server's Authentication-Results id(s)
    dmarc_enforced: bool = False  # that server rejects mail from our domains that fails DMARC
    staff: tuple[str, ...] = ()  # exact addresses trusted as forwarders when dmarc_enforced
    poll_interval: Annotated[float, Field(strict=True, ge=1)] = 60.0
    mailbox: Mailbox
    folders: Folders = Folders()
    terms: Terms = Terms()
    acknowledge: Acknowledge = Acknowledge()
    procedure: Procedure = Procedure()
    retention: Retention = Retention()

    @model_validator(mode="after")
    def _sender(self) -> Organisation:
        if self.acknowledge.enabled and not self.ack_from():
            raise ValueError("acknowledge.from is missing: set it, or list the organisation's address under "
                             "addresses, or set acknowledge.enabled = false")
        return self

    @field_validator("authserv_id", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value  # one id or a list of them

    @field_validator("authserv_id")
    @classmethod
    def _id_tokens(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not _AUTHSERV_ID.fullmatch(value):
                raise ValueError(f"{value!r} is not an authserv-id: write the name your mail server puts first "
                                 "in its Authentication-Results headers, e.g. \"mx.example.nl\"")
        return tuple(v.lower() for v in values)

    @model_validator(mode="after")
    def _staff(self) -> Organisation:
        for addr in self.staff:
            domain = addr.rpartition("@")[2]
            if "@" not in addr or not addr.partition("@")[0]:
                raise ValueError(f"staff: {addr!r} is not an e-mail address (write 'j.jansen@example.nl')")
            if domain not in self.domains:
                raise ValueError(f"staff: {addr} is not on one of the organisation's domains {list(self.domains)}: "
                                 "dmarc_enforced can only vouch for our own domains")
        if self.dmarc_enforced and not self.staff:
            raise ValueError("dmarc_enforced = true trusts only the exact addresses under staff: list them")
        return self

    def ack_from(self) -> str:
        """The From of acknowledgements: configured, else the organisation's first address."""
        if self.acknowledge.from_:
            return self.acknowledge.from_
        if self.addresses:
            return email.utils.formataddr((self.name, self.addresses[0]))
        if isinstance(self.mailbox, ImapMailbox) and "@" in self.mailbox.user:  # the klachten@ mailbox itself
            return email.utils.formataddr((self.name, self.mailbox.user.lower()))
        return ""

    @field_validator("addresses", "domains", "staff")
    @classmethod
    def _lower(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.strip().lower() for v in values)

    def verification(self) -> str:
        """How mail from our own domains is verified, in one line for `check-config`."""
        ways = []
        if self.authserv_id:
            ways.append("Authentication-Results of " + ", ".join(self.authserv_id))
        if self.dmarc_enforced:
            ways.append(f"{len(self.staff)} staff address(es) under enforced DMARC")
        if not ways:
            return ("own mail not verified (no authserv_id, no staff with dmarc_enforced): staff forwards "
                    "and our form's Reply-To go to review")
        return "own mail verified by " + " or ".join(ways)

    def own(self) -> OwnAddresses:
        """Our addresses and domains, as the stages need them."""
        addresses = set(self.addresses)
        for value in (self.acknowledge.from_, self.acknowledge.reply_to):  # our own mail must never loop
            if value:
                addresses.add(email.utils.parseaddr(value)[1].lower())
        return OwnAddresses(frozenset(addresses), frozenset(self.domains), authserv_ids=frozenset(self.authserv_id),
                            staff=frozenset(self.staff), dmarc_enforced=self.dmarc_enforced)
