"""Polling a mailbox: finish unfinished moves, retry quarantined messages, then fetch, decide,
commit and move new mail batch by batch, under a lease so that one worker polls it at a time.

Commit, then move: a message leaves the inbox only after its record is committed, one
transaction per message; a crash anywhere means the next poll redoes the unfinished step.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from triage import memory
from triage.config import Organisation
from triage.domain import Disposition, Outcome, Rendered
from triage.errors import ServerError
from triage.logs import Outage, get_logger
from triage.mailboxes.base import Fetched, Mailbox
from triage.pipeline import Context, acknowledge, process, process_many
from triage.services.deps import Deps
from triage.store import acks, filing, repo
from triage.store.filing import Place

log = get_logger("triage.pipeline")
Pending = dict[str, list[tuple[str, int]]]  # target folder -> [(uid, message id)]


@dataclass
class PollResult:
    organisation: str
    counts: Counter[str] = field(default_factory=Counter)
    rows: list[filing.Filed] = field(default_factory=list)
    moved: int = 0
    stopped: bool = False
    busy: bool = False  # another worker was polling this mailbox
    answered: int = 0  # records that got a case (filed or review): the send job has work
    keep_rows: bool = True  # False in the daemon: a 20 000-message backlog need not stay in memory

    def add(self, filed: filing.Filed, label: str) -> None:
        self.counts[label] += 1
        self.answered += filed.disposition in (Disposition.FILED, Disposition.REVIEW)
        if self.keep_rows:
            self.rows.append(filed)


def mailbox_key(org: Organisation, box: Mailbox) -> str:
    return f"{org.id}/{box.source_folder}"


def context(deps: Deps, org: Organisation, session: Session) -> Context:
    """What the pure flow needs of the organisation, the clock and the store (its two questions:
    which case has this reference and whose is it; how many acknowledgements went to these
    addresses in the last 24 hours), asked in `session`."""
    parsing, now = deps.settings.parsing, deps.clock()

    def find_case(reference: str) -> tuple[int, str | None] | None:
        case = repo.case_by_reference(session, org.id, reference)
        return (case.id, case.complainant) if case else None

    def count_recent(addresses: set[str], machines: frozenset[str]) -> dict[str, int]:
        return acks.recent_counts(session, addresses, now, machines)

    def machine_domains(addresses: set[str]) -> frozenset[str]:
        return acks.machine_domains(session, addresses, now)

    def count_hour() -> int:
        return acks.hour_count(session, org.id, now)

    return Context(own=org.own(), reference_prefix=org.reference_prefix, find_case=find_case,
                   max_bytes=parsing.max_message_bytes, max_text_chars=parsing.max_text_chars,
                   time_budget=parsing.time_budget, max_parts=parsing.max_parts,
                   classifier=deps.classifier(), org=org, now=now, count_recent=count_recent,
                   count_hour=count_hour, machine_domains=machine_domains)


def writer(org: Organisation, outcome: Outcome, now: datetime) -> filing.AckWriter:
    """Renders the outcome's acknowledgement once the store has numbered its case."""
    def write(reference: str) -> Rendered:
        assert outcome.ack is not None
        return acknowledge(org, outcome.ack, reference, now)

    return write


def run_once(deps: Deps, org: Organisation, box: Mailbox, stop: threading.Event | None = None,
             renew: Callable[[], bool] | None = None, keep_rows: bool = True) -> PollResult:
    """One poll of an opened mailbox: finish unfinished moves, retry quarantined messages,
    then fetch, process, commit and move new mail batch by batch."""
    result = PollResult(org.id, keep_rows=keep_rows)
    place, uids, known = _open(deps, org, box)
    result.moved += _move(deps, box, box.source_folder, _committed_unmoved(known))
    retry_quarantined(deps, org, box, result)
    new = [u for u in uids if u not in known]
    for start in range(0, len(new), box.batch_size):
        _batch(deps, place, box, new[start : start + box.batch_size], result, stop)
        if stop is not None and stop.is_set():
            result.stopped = True
            break
        if renew is not None and not renew():  # another worker took the mailbox over: leave it to them
            log.warning("lease_lost", mailbox=place.key, note="stopping this poll")
            result.stopped = True
            break
    return result


def _open(deps: Deps, org: Organisation, box: Mailbox) -> tuple[Place, list[str], dict[str, tuple[int, str]]]:
    """Record the mailbox state; what is there, and which of it was committed before."""
    folder = box.source_folder
    place = Place(org, mailbox_key(org, box), box.uidvalidity(folder))
    uids = box.uids(folder)
    now = deps.clock()
    with deps.sessions.begin() as session:
        previous = repo.record_poll(session, place.key, org.id, place.uidvalidity, uids[-1] if uids else "", now)
        rows = repo.known_uids(session, place.key, place.uidvalidity, uids)
        known = {uid: (m.id, m.folder) for uid, m in rows.items()}
        confirmed = len(repo.confirm_moves(session, org.id, place.key, place.uidvalidity, set(uids), now))
    if confirmed:
        log.info("moves_confirmed", mailbox=place.key, count=confirmed, note="moved before a stop, recorded now")
    if previous is not None:
        log.warning("uidvalidity_changed", mailbox=place.key, old=previous, new=place.uidvalidity,
                    note="matching by content hash")
    return place, uids, known


def _committed_unmoved(known: dict[str, tuple[int, str]]) -> Pending:
    pending: Pending = defaultdict(list)
    for uid, (message_id, target) in known.items():
        pending[target].append((uid, message_id))
    return pending


def _batch(deps: Deps, place: Place, box: Mailbox, uids: list[str], result: PollResult,
           stop: threading.Event | None) -> None:
    """Fetch, decide together, commit one by one, then move what was committed."""
    fetched = list(box.fetch(box.source_folder, uids))
    outcomes = decide(deps, place.org, fetched)
    pending: Pending = defaultdict(list)
    for item, outcome in zip(fetched, outcomes, strict=True):
        filed = handle(deps, place, item, outcome)
        result.add(filed, filed.label)
        pending[filed.folder].append((item.uid, filed.message_id))
        if stop is not None and stop.is_set():
            break
    result.moved += _move(deps, box, box.source_folder, pending)


def decide(deps: Deps, org: Organisation, fetched: list[Fetched]) -> list[Outcome | None]:
    """The batch's outcomes, decided together; None for content the organisation has already
    (its record is a duplicate, nothing to decide). Reads only: thread lookups, the rate limit."""
    with deps.sessions() as session:
        known = repo.known_shas(session, org.id, [f.sha256 for f in fetched])
        todo = [f for f in fetched if f.sha256 not in known]
        ctx = context(deps, org, session)
        drafts = process_many([f.raw for f in todo], ctx, [f.internaldate or ctx.now for f in todo])
        held = sum(1 for d in drafts if d.ack is not None and d.ack.held is not None)
        if held and not acks.held_counts(session).get(org.id):  # the first held since the last release: warn once
            log.warning("acks_held", organisation=org.id, held=held,
                        limit=org.acknowledge.per_organisation_per_hour,
                        note="over the hourly limit: acknowledgements wait for a person (web queue)")
    decided = dict(zip((f.uid for f in todo), drafts, strict=True))
    return [decided.get(f.uid) for f in fetched]


def handle(deps: Deps, place: Place, fetched: Fetched, outcome: Outcome | None) -> filing.Filed:
    """Commit the record of one fetched message (one transaction) with the outcome decided for it
    with its batch; None for content the organisation has already (a duplicate, or a message the
    mailbox renumbered)."""
    now = deps.clock()
    with deps.sessions.begin() as session:
        first = repo.first_by_sha(session, place.org.id, fetched.sha256)
        if first is not None and first.moved_at is None and (first.mailbox, first.uidvalidity) != (
                place.key, place.uidvalidity):
            filed = filing.reidentify(session, first, place, fetched.uid, now)
        elif first is not None:
            filed = filing.file_duplicate(session, place, fetched, first, now)
        else:
            assert outcome is not None, "content decided as known has a record"  # records are never deleted
            filed = filing.file_new(session, place, fetched, outcome, writer(place.org, outcome, now), now)
    filed.log(log)
    return filed


def retry_quarantined(deps: Deps, org: Organisation, box: Mailbox, result: PollResult) -> None:
    """Process quarantined messages again from their stored bytes, up to the attempt limit;
    move the ones that now succeed out of the quarantine folder."""
    with deps.sessions() as session:
        ids = repo.retryable(session, org.id, deps.settings.processing.max_attempts)
    recovered: dict[str, list[tuple[str, int]]] = defaultdict(list)  # sha256 -> [(target, message id)]
    for message_id in ids:
        now = deps.clock()
        with deps.sessions.begin() as session:
            msg, raw = filing.stored_bytes(session, message_id)
            outcome = process(raw, context(deps, org, session), msg.received_at)
            filed = filing.refile(session, org, msg, outcome, writer(org, outcome, now), now)
        filed.log(log)
        result.add(filed, f"retried-{filed.disposition}")
        if filed.disposition != Disposition.QUARANTINED:
            recovered[filed.sha256].append((filed.folder, filed.message_id))
    if not recovered:
        return
    quarantine = org.folders.quarantine
    pending: Pending = defaultdict(list)
    for fetched in box.fetch(quarantine, box.uids(quarantine)):
        targets = recovered.get(fetched.sha256)
        if targets:
            target, message_id = targets.pop()
            pending[target].append((fetched.uid, message_id))
    _move(deps, box, quarantine, pending)


def _move(deps: Deps, box: Mailbox, folder: str, pending: Pending) -> int:
    moved = 0
    for target, items in pending.items():
        if not items:
            continue
        box.move(folder, [uid for uid, _ in items], target)
        with deps.sessions.begin() as session:
            repo.mark_moved(session, [mid for _, mid in items if mid], deps.clock())
        moved += len(items)
    return moved


def poll_org(deps: Deps, org: Organisation, stop: threading.Event, on_batch: Callable[[], None] | None = None,
             keep_rows: bool = True) -> PollResult | None:
    """Poll one organisation's mailbox under a lease, so that of several workers (on one or more
    machines, one PostgreSQL) only one polls it at a time. None when another worker holds it.
    `on_batch` runs after each batch is committed and moved (the send job is woken there)."""
    seconds = deps.settings.processing.lease_seconds
    with deps.mailbox(org) as box:
        key = mailbox_key(org, box)
        with deps.sessions.begin() as session:
            holder = repo.claim_lease(session, key, org.id, deps.worker_id, seconds, deps.clock())
        if holder is not None:
            log.debug("mailbox_busy", mailbox=key, holder=holder)
            return None

        def renew() -> bool:  # after every batch
            memory.release()  # the batch's parsing garbage: a long backlog must not ratchet the RSS up
            if on_batch is not None:
                on_batch()
            with deps.sessions.begin() as session:
                return repo.claim_lease(session, key, org.id, deps.worker_id, seconds, deps.clock()) is None

        try:
            return run_once(deps, org, box, stop, renew, keep_rows)
        finally:
            with deps.sessions.begin() as session:
                repo.release_lease(session, key, deps.worker_id)


def poll_all(deps: Deps, stop: threading.Event | None = None) -> list[PollResult]:
    """One cycle over every organisation; server errors propagate (used by `poll --once`). A
    mailbox another worker is polling right now is left to it."""
    stop = stop or threading.Event()
    results = []
    for org in deps.settings.organisations.values():
        result = poll_org(deps, org, stop)
        results.append(result if result is not None else PollResult(org.id, busy=True))
        if stop.is_set():
            break
    return results


class Poller:
    """Polls one organisation for `triage run`; logs a lost server once, and once more when it is back."""

    def __init__(self, deps: Deps, org: Organisation, stop: threading.Event,
                 on_batch: Callable[[], None] | None = None) -> None:
        self.deps, self.org, self.stop, self.on_batch = deps, org, stop, on_batch
        self.outage = Outage(log, "poll", organisation=org.id)

    def poll(self) -> PollResult | None:
        if self.stop.is_set():
            return None
        try:
            result = poll_org(self.deps, self.org, self.stop, self.on_batch, keep_rows=False)
            if result is None:
                return None
        except (ServerError, SQLAlchemyError) as exc:
            self.outage.failed(exc, "nothing is moved that is not committed; will retry")
            return None
        self.outage.ok()
        if result.counts or result.moved:
            log.info("poll", organisation=self.org.id, **dict(sorted(result.counts.items())), moved=result.moved)
        return result
