"""Sending acknowledgements: claim the due outbox rows, deliver them through the transport, and
record each result in its own transaction.

An unreachable server is nobody's fault: the claimed rows go back untouched and the job tries
again at its next run. A refusal counts as an attempt: 4xx is retried with exponential backoff,
5xx (or the last attempt) marks the row failed, which the case then shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from triage.errors import Refused, ServerError
from triage.logs import Outage, get_logger
from triage.outbox import Transport
from triage.services.deps import Deps
from triage.store import acks

log = get_logger("triage.outbox")


@dataclass
class SendResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    references: list[str] = field(default_factory=list)


def send_once(deps: Deps, transport: Transport | None = None) -> SendResult:
    """Claim due rows and deliver them. Raises ServerError (after giving the rows back) when the
    server cannot be reached; the rows go out on a later run, each once."""
    transport = transport or deps.transport()
    result = SendResult()
    if transport is None:
        return result
    with deps.sessions.begin() as session:
        claimed = [acks.Claimed.of(row) for row in acks.claim(session, deps.worker_id, deps.settings.outbox,
                                                              deps.clock())]
    if not claimed:
        return result
    done: set[int] = set()
    try:
        with transport:
            for item in claimed:
                _deliver(deps, transport, item, result)
                done.add(item.id)
    finally:
        left = [item.id for item in claimed if item.id not in done]
        if left:
            with deps.sessions.begin() as session:
                acks.release(session, left, deps.worker_id)
            result.released = len(left)
    return result


def _deliver(deps: Deps, transport: Transport, item: acks.Claimed, result: SendResult) -> None:
    try:
        transport.send(item.mail_from, item.rcpt_to, item.raw)
    except Refused as exc:
        with deps.sessions.begin() as session:
            failed = acks.mark_failed_attempt(session, item.id, str(exc), exc.permanent, deps.settings.outbox,
                                              deps.clock(), exc.reason)
        result.failed += failed
        result.retried += not failed
        log.warning(acks.action(item.kind, "refused").replace(".", "_"), reference=item.reference or None,
                    kind=item.kind, recipient=item.rcpt_to, error=str(exc), retry=not failed)
        return
    with deps.sessions.begin() as session:  # at once: from here to the commit is the documented window
        acks.mark_sent(session, item, deps.clock())
    result.sent += 1
    result.references.append(item.reference)
    log.info(acks.action(item.kind, "sent").replace(".", "_"), reference=item.reference or None, kind=item.kind,
             recipient=item.rcpt_to)


class Sender:
    """The send job of `triage run`: logs a lost server once, and once more when it is back."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.outage = Outage(log, "send")

    def run(self) -> SendResult | None:
        transport = self.deps.transport()
        if transport is None:
            return None
        try:
            result = send_once(self.deps, transport)
        except (ServerError, SQLAlchemyError) as exc:
            self.outage.failed(exc, "acknowledgements wait; will retry")
            return None
        self.outage.ok()
        return result
