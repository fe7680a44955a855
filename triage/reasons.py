"""Why a message, case or acknowledgement is what it is: a code with parameters, never prose.

Reasons are stored as codes (`[code, {param: value}]` in JSON columns) and rendered in one place
per language: English here (logs, the `reason` text column, the CLI), Dutch in `triage.web.words`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


class Code(enum.StrEnum):
    """Every reason the pipeline, the filing and the acknowledgement can give."""

    # how a message was decided
    LABELS = "labels"  # kind, topic, formality, model
    JOINED = "joined"  # reference, how
    MACHINE = "machine"  # rule, detail
    STAGE_FAILED = "stage_failed"  # stage
    DUPLICATE = "duplicate"  # of, reference
    BOUNCE_OF = "bounce_of"  # references
    # why a person must look
    NO_MODEL = "no_model"
    UNSURE = "unsure"  # heads: [[head, confidence, threshold], ...]
    NOBODY_TO_ANSWER = "nobody_to_answer"  # cause (one of the sender codes below)
    TOO_LARGE = "too_large"  # size
    REFERENCE_UNKNOWN = "reference_unknown"  # reference
    REFERENCE_OTHER_SENDER = "reference_other_sender"  # reference, sender
    NO_USABLE_TEXT = "no_usable_text"  # letters
    TIME_BUDGET = "time_budget"  # stage, seconds
    TOO_MANY_PARTS = "too_many_parts"  # limit
    UNKNOWN_WORDS = "unknown_words"  # words, known: distinct words, of them in the model's vocabulary
    OTHER_PROCEDURE = "other_procedure"  # procedure, words, term, due (YYYY-MM-DD): not the complaint procedure
    DANGER = "danger"  # danger, words: reports danger or a threat; urgent
    # who the complainant is (forwards stage)
    FORWARDED_BY = "forwarded_by"  # address, via
    FORWARD_ORIGINAL_UNKNOWN = "forward_original_unknown"
    REPLY_TO = "reply_to"  # address
    REPLY_TO_OWN = "reply_to_own"
    NO_SENDER = "no_sender"
    FROM_OWN = "from_own"
    FORWARD_UNVERIFIED = "forward_unverified"  # filed as it stands: the forwarder was not verified
    REPLY_TO_UNVERIFIED = "reply_to_unverified"  # Reply-To of an unverified sender of our own domain
    REPLY_TO_IGNORED = "reply_to_ignored"  # address: an outsider's Reply-To, not followed
    REPLY_TO_SEVERAL = "reply_to_several"  # nobody is answered
    FROM_SEVERAL = "from_several"  # several From mailboxes or fields: nobody is trusted or answered
    # why no acknowledgement goes out
    ACKS_OFF = "acks_off"
    NO_RECIPIENT = "no_recipient"
    UNDELIVERABLE = "undeliverable"  # address
    OWN_ADDRESS = "own_address"  # address
    MACHINE_ADDRESS = "machine_address"  # address
    BACKLOG = "backlog"  # received (YYYY-MM-DD), days
    RATE_LIMITED = "rate_limited"  # count, address
    RENDER_FAILED = "render_failed"  # error
    REPLY_TO_OUR_MAIL = "reply_to_our_mail"  # reference: it answers our mail (a loop if we answered back)
    # why an acknowledgement waits for a person
    HELD = "held"  # count, limit: the organisation's hourly limit was reached
    HELD_NOT_SENT = "held_not_sent"  # user: held, and a person decided it is not to be sent
    ANONYMISED = "anonymised"  # by: purge (retention) or erasure (on request): the case's data is gone
    # why an acknowledgement failed
    NO_SMTPUTF8 = "no_smtputf8"  # address


def _unsure(p: Mapping[str, Any]) -> str:
    return "unsure: " + ", ".join(f"{h} {c:.2f} < {t:.2f}" for h, c, t in p["heads"])


def _duplicate(p: Mapping[str, Any]) -> str:
    return f"identical bytes to message {p['of']}" + (f" of {p['reference']}" if p.get("reference") else "")


_ENGLISH: dict[Code, Any] = {
    Code.LABELS: "{kind}/{topic}/{formality} (model {model})",
    Code.JOINED: "reply in {reference} ({how})",
    Code.MACHINE: lambda p: f"{p['rule']}: {p['detail']}" if p.get("detail") else p["rule"],
    Code.STAGE_FAILED: "{stage} failed",
    Code.DUPLICATE: _duplicate,
    Code.BOUNCE_OF: lambda p: "bounce of the acknowledgement of " + ", ".join(p["references"]),
    Code.NO_MODEL: "no classification model",
    Code.UNSURE: _unsure,
    Code.OTHER_PROCEDURE: "another procedure: {procedure} (term {term}, due {due}; found “{words}”)",
    Code.DANGER: "urgent: reports danger ({danger}; found “{words}”)",
    Code.NOBODY_TO_ANSWER: lambda p: "nobody to answer: " + english(Reason(Code(p["cause"]))),
    Code.TOO_LARGE: "message of {size} bytes is over the size limit; only its head was read",
    Code.REFERENCE_UNKNOWN: "{reference} is not a case of ours",
    Code.REFERENCE_OTHER_SENDER: "names {reference} but {sender} is not its complainant",
    Code.NO_USABLE_TEXT: "no readable text ({letters} letters); not classified",
    Code.TIME_BUDGET: "reading took over {seconds:g} s (at {stage}); filed as read so far",
    Code.TOO_MANY_PARTS: "more than {limit} MIME parts; the rest of the message was not read",
    Code.UNKNOWN_WORDS: "the model knows {known} of its {words} distinct words: too few to file it on its own",
    Code.FORWARDED_BY: "forwarded by {address} ({via})",
    Code.FORWARD_ORIGINAL_UNKNOWN: "forwarded by staff, but the original sender is unknown or ours",
    Code.REPLY_TO: "answer goes to Reply-To {address}",
    Code.REPLY_TO_OWN: "Reply-To is one of our own addresses",
    Code.NO_SENDER: "no usable sender address",
    Code.FROM_OWN: "sent from one of our own addresses",
    Code.FORWARD_UNVERIFIED: "forwarded, sender not verified",
    Code.REPLY_TO_UNVERIFIED: "Reply-To not followed: the sender of our own domain is not verified",
    Code.REPLY_TO_IGNORED: "Reply-To {address} not followed: the sender is neither a form nor verified",
    Code.REPLY_TO_SEVERAL: "several Reply-To addresses",
    Code.FROM_SEVERAL: "several From addresses (or From fields): no sender is trusted",
    Code.ACKS_OFF: "acknowledgements are switched off for this organisation",
    Code.NO_RECIPIENT: "nobody to answer",
    Code.UNDELIVERABLE: lambda p: f"{p['address'][:80]!r} is not an address we can deliver to",
    Code.OWN_ADDRESS: "{address} is one of our own addresses",
    Code.MACHINE_ADDRESS: "{address} is a no-reply or system address",
    Code.BACKLOG: lambda p: f"received {p['received']}, more than {p['days']:g} days ago (backlog)",
    Code.RATE_LIMITED: "already {count} acknowledgements to {address} in 24 hours",
    Code.RENDER_FAILED: "could not write the acknowledgement: {error}",
    Code.REPLY_TO_OUR_MAIL: "answers our mail about {reference}: never acknowledged",
    Code.HELD: "{count} acknowledgements in the last hour, the limit is {limit}: waits for a person to release it",
    Code.HELD_NOT_SENT: "held over the hourly limit; {user} decided not to send it",
    Code.ANONYMISED: lambda p: "personal data removed: " + ("retention period over" if p.get("by") == "purge"
                                                            else "erased on request"),
    Code.NO_SMTPUTF8: "the SMTP server does not accept international addresses (no SMTPUTF8): {address}",
}


@dataclass(frozen=True)
class Reason:
    """One code with its parameters (JSON values: strings, numbers, lists)."""

    code: Code
    params: Mapping[str, Any] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.code, repr(sorted(self.params.items()))))

    def stored(self) -> list[Any]:
        return [self.code.value, dict(self.params)]

    @classmethod
    def load(cls, value: Any) -> Reason | None:
        """From its stored form; None for a code this version does not know."""
        try:
            return cls(Code(value[0]), dict(value[1]))
        except (ValueError, TypeError, IndexError, KeyError):
            return None


def reason(code: Code, **params: Any) -> Reason:
    return Reason(code, params)


def english(item: Reason) -> str:
    """The stable English text of one reason (logs, the database's text column, the CLI)."""
    form = _ENGLISH[item.code]
    return form(item.params) if callable(form) else str(form).format(**item.params)


def text(reasons: Iterable[Reason]) -> str:
    """Several reasons as one English line, '; ' between them."""
    return "; ".join(english(r) for r in reasons)


def stored(reasons: Iterable[Reason]) -> list[list[Any]]:
    return [r.stored() for r in reasons]


def loaded(value: Any) -> list[Reason]:
    """Reasons from a JSON column; unknown codes (a newer version wrote them) are left out."""
    found = [Reason.load(item) for item in value or ()]
    return [r for r in found if r is not None]
