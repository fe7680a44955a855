"""The retention purge (`triage purge`, the worker's daily job): per organisation, with its own
retention, anonymise the cases ended too long ago, purge machine mail, duplicates and handled
quarantined messages past their days, delete old access-log rows, and (only when the config says so)
delete those messages from the mailbox first. One case, or a small batch of messages, per
transaction: an interrupted run leaves each whole or anonymised, and the next run finishes the rest.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy.orm.exc import StaleDataError

from triage.config import Organisation
from triage.config.organisation import Retention
from triage.dates import AMSTERDAM
from triage.errors import ConfigError, Invalid, ServerError
from triage.logs import get_logger
from triage.services import expunge as mailbox
from triage.services import privacy
from triage.services.deps import Deps
from triage.store import anonymise, repo
from triage.store import purge as store
from triage.store.models import Case

log = get_logger("triage.purge")
CASES_PER_VISIT = 20  # cases whose mailbox copies are deleted in one mailbox session
MESSAGES_PER_BATCH = 50  # loose messages purged in one transaction
T = TypeVar("T")


@dataclass(frozen=True)
class OrgPlan:
    """What would go of one organisation on `cutoffs.today`."""

    organisation: str
    name: str
    retention: Retention
    cutoffs: store.Cutoffs
    cases: tuple[store.ExpiredCase, ...]
    messages: tuple[store.ExpiredMessage, ...]
    access_rows: int

    def count(self, rule: str) -> int:
        return sum(1 for m in self.messages if m.rule == rule)

    @property
    def empty(self) -> bool:
        return not (self.cases or self.messages or self.access_rows)


@dataclass(frozen=True)
class Plan:
    today: date
    organisations: tuple[OrgPlan, ...]


@dataclass
class OrgResult:
    """What went of one organisation."""

    organisation: str
    name: str
    cases: list[str] = field(default_factory=list)  # references of the cases anonymised
    case_messages: int = 0  # their messages purged
    messages: int = 0  # machine mail, duplicates and quarantined messages purged
    access_rows: int = 0
    delete_from_mailbox: bool = False  # as configured: else the mailbox was left alone
    mailbox_deleted: int = 0  # copies deleted from the mailbox folders
    left: int = 0  # cases and messages left for the next run (the mailbox could not be reached)
    error: str = ""  # why they were left


@dataclass
class Result:
    at: datetime
    organisations: list[OrgResult] = field(default_factory=list)


def _chosen(deps: Deps, organisation: str | None) -> list[Organisation]:
    orgs = deps.settings.organisations
    if organisation is None:
        return list(orgs.values())
    if organisation not in orgs:
        raise Invalid(f"unknown organisation {organisation!r}: configured are {', '.join(orgs) or 'none'}")
    return [orgs[organisation]]


def plan(deps: Deps, today: date | None = None, organisation: str | None = None) -> Plan:
    """What a purge on `today` (default: the clock's day in Amsterdam) would remove; changes nothing
    and never opens a mailbox."""
    today = today or deps.clock().astimezone(AMSTERDAM).date()
    found = []
    with deps.sessions() as session:
        for org in _chosen(deps, organisation):
            c = store.cutoffs(org.retention, today)
            found.append(OrgPlan(org.id, org.name, org.retention, c,
                                 tuple(store.expired_cases(session, org.id, c)),
                                 tuple(store.expired_messages(session, org.id, c)),
                                 store.access_rows(session, org.id, c)))
    return Plan(today, tuple(found))


def run(deps: Deps, organisation: str | None = None) -> Result:
    """Remove what expired by the clock's day, organisation after organisation; one audit row
    ("privacy.purged", counts only) per organisation and run."""
    now = deps.clock()
    result = Result(now)
    for org_plan in plan(deps, now.astimezone(AMSTERDAM).date(), organisation).organisations:
        org = deps.settings.organisations[org_plan.organisation]
        out = OrgResult(org.id, org.name, delete_from_mailbox=org.retention.delete_from_mailbox)
        result.organisations.append(out)
        try:
            _cases(deps, org, org_plan, out, now)
            _messages(deps, org, org_plan, out, now)
            with deps.sessions.begin() as session:
                out.access_rows = store.delete_access_rows(session, org.id, org_plan.cutoffs)
        finally:
            _audit(deps, out, now)
        log.info("purged", organisation=org.id, cases=len(out.cases), case_messages=out.case_messages,
                 messages=out.messages, access_rows=out.access_rows, mailbox_deleted=out.mailbox_deleted,
                 left=out.left)
    if any(o.cases or o.messages for o in result.organisations):
        privacy.compact(deps)  # the blanked words out of the search index, the freed pages out of the file
    return result


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _expunged(deps: Deps, org: Organisation, targets: list[mailbox.Target], out: OrgResult) -> bool:
    """Delete the targets' mailbox copies first, where the config says so. False: the mailbox
    cannot be reached (logged once a run): what needs it waits for the next run."""
    if not org.retention.delete_from_mailbox:
        return True
    if out.error:
        return False
    try:
        out.mailbox_deleted += mailbox.expunge(deps, org, targets)
    except (ServerError, ConfigError) as exc:
        out.error = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        log.error("purge_mailbox_failed", organisation=org.id, error=out.error,
                  note="what must leave the mailbox too waits for the next run; the rest goes on")
        return False
    return True


def _targets(deps: Deps, org: Organisation, c: store.Cutoffs, ids: Sequence[int],
             case_ids: Sequence[int]) -> list[mailbox.Target]:
    """The mailbox targets of these messages and cases, each checked again to have expired, but
    not a content that another message still holds: identical copies stay until the last of them
    expires."""
    with deps.sessions() as session:
        still = [m.id for m in store.expired_messages(session, org.id, c, among=ids)] if ids else []
        cases = [session.get(Case, i) for i in case_ids]
        msgs = store.messages(session, still) + [m for case in cases if case is not None
                                                 and store.case_expired(session, case, c)
                                                 for m in store.case_messages(session, case.id)]
        kept = store.kept_shas(session, {m.sha256 for m in msgs}, {m.id for m in msgs})
        return [mailbox.target(m.message_id, m.sha256, m.received_at) for m in msgs if m.sha256 not in kept]


def _cases(deps: Deps, org: Organisation, p: OrgPlan, out: OrgResult, now: datetime) -> None:
    wanted, c = org.retention.delete_from_mailbox, p.cutoffs
    for chunk in _chunks(p.cases, CASES_PER_VISIT):
        targets = _targets(deps, org, c, [], [e.id for e in chunk]) if wanted else []
        if not _expunged(deps, org, targets, out):
            out.left += len(chunk)
            continue
        for expired in chunk:
            try:
                with deps.sessions.begin() as session:  # one case per transaction
                    case = session.get(Case, expired.id)
                    if case is None or case.anonymised_at is not None or not store.case_expired(session, case, c):
                        continue
                    purged = anonymise.anonymise_case(session, case, now, by="purge")
            except StaleDataError:  # changed meanwhile (another worker, a person): left to the next run
                log.info("purge_case_changed", organisation=org.id, reference=expired.reference)
                continue
            out.case_messages += purged
            out.cases.append(expired.reference)


def _messages(deps: Deps, org: Organisation, p: OrgPlan, out: OrgResult, now: datetime) -> None:
    for chunk in _chunks([m.id for m in p.messages], MESSAGES_PER_BATCH):
        targets = _targets(deps, org, p.cutoffs, chunk, []) if org.retention.delete_from_mailbox else []
        if not _expunged(deps, org, targets, out):
            out.left += len(chunk)
            continue
        with deps.sessions.begin() as session:  # a batch per transaction, each message checked again
            still = [m.id for m in store.expired_messages(session, org.id, p.cutoffs, among=chunk)]
            out.messages += sum(anonymise.purge_message(session, msg, now) for msg in store.messages(session, still))


def _audit(deps: Deps, out: OrgResult, now: datetime) -> None:
    with deps.sessions.begin() as session:
        repo.audit(session, "privacy.purged", now, actor="purge", organisation=out.organisation,
                   cases=len(out.cases), case_messages=out.case_messages, messages=out.messages,
                   access_rows=out.access_rows, mailbox_deleted=out.mailbox_deleted, left=out.left)
