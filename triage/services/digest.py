"""The daily digest: on a working day, once each organisation's `digest_time` has passed, every
handler gets one mail about their cases that are overdue, due soon, near the end of an extension
or a 9:8 notice, or have new correspondence; every coordinator (the configured address, users with
role coordinator or admin) one about the cases without a handler and the overdue ones. One mail per
address and day, whatever the number of organisations, roles or workers: the outbox row and its
(recipient, day) key are written in one transaction, and a second writer's key fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from triage import procedure
from triage.config import Organisation, Settings
from triage.dates import AMSTERDAM
from triage.errors import ServerError
from triage.logs import Outage, get_logger
from triage.services.cases import rules
from triage.services.deps import Deps
from triage.stages import letters
from triage.stages.letters import DigestLine
from triage.stages.quoting import quoted_subject
from triage.store import cases as store
from triage.store.models import Case

log = get_logger("triage.digest")

INTERVAL = 600.0  # seconds between the job's runs: a worker started after digest_time sends at once
OWN = ("overdue", "due_soon", "extension_ends", "notice_98", "unread")  # a handler's cases
COORDINATING = ("unassigned", "all_overdue", "unread_unassigned")  # the coordinator's view of an organisation
COORDINATOR_ROLES = ("coordinator", "admin")


@dataclass(frozen=True)
class Outcome:
    """What became of one recipient's digest."""

    address: str
    name: str
    cases: int  # distinct cases named
    status: str  # sent (queued in the outbox), already (sent that day), skipped (nothing to say),
    #              waiting (an organisation's digest_time has not come), dry_run (would be sent), failed
    text: str = ""  # the mail's text (a dry run; a failure's reason)


@dataclass
class DigestResult:
    day: date
    organisations: tuple[str, ...]  # those for which the day is a working day
    recipients: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.recipients if r.status == status)


@dataclass
class _Mail:
    """One address's digest being put together."""

    address: str
    name: str = ""
    sections: dict[str, list[DigestLine]] = field(default_factory=lambda: {k: [] for k in (*OWN, *COORDINATING)})
    organisations: set[str] = field(default_factory=set)

    def add(self, key: str, line: DigestLine, organisation: str) -> None:
        self.sections[key].append(line)
        self.organisations.add(organisation)

    @property
    def cases(self) -> int:
        return len({line.reference for lines in self.sections.values() for line in lines})


def run(deps: Deps, day: date | None = None, dry_run: bool = False) -> DigestResult:
    """The digests of `day`. Without `day` (the scheduled job): today in Amsterdam, and a recipient
    only once the digest_time of every organisation in their mail has passed. With `day` (the
    command): that day, now. Organisations for which the day is no working day take no part. A dry
    run writes nothing and gives each mail's text."""
    now = deps.clock()
    local = now.astimezone(AMSTERDAM)
    scheduled = day is None
    day = day or local.date()
    orgs = [org for org in deps.settings.organisations.values() if org.terms.calendar().is_working_day(day)]
    result = DigestResult(day, tuple(org.id for org in orgs))
    if not orgs:
        return result
    with deps.sessions() as session:
        mails = _compose(session, deps.settings, orgs, day)
    for mail in sorted(mails.values(), key=lambda m: m.address):
        waiting = scheduled and any(local.strftime("%H:%M") < deps.settings.organisations[o].procedure.digest_time
                                    for o in mail.organisations)
        result.recipients.append(_deliver(deps, mail, day, now, dry_run, waiting))
    return result


def _compose(session: Session, settings: Settings, orgs: list[Organisation], day: date) -> dict[str, _Mail]:
    """Every recipient's mail, empty ones included (they are reported as skipped)."""
    users = store.digest_recipients(session)
    mails: dict[str, _Mail] = {}

    def mail(address: str, name: str = "") -> _Mail:
        found = mails.setdefault(address.lower(), _Mail(address.lower()))
        found.name = found.name or name
        return found

    for user in users:
        mail(user.address, user.name)
    handlers = {user.name: user for user in users}
    url = (settings.web.public_url or "").rstrip("/")
    for org in orgs:
        coordinators = [mail(a) for a in _coordinators(org, users)]
        for case in store.digest_candidates(session, [org.id]):
            handler = handlers.get(case.handler or "")
            if handler is not None and (handler.everything or org.id in handler.organisations):  # still theirs
                own = mail(handler.address)
                for key, line in _own_lines(org, case, day, url, len(orgs) > 1):
                    own.add(key, line, org.id)
            for key, line in _coordinator_lines(org, case, day, url, len(orgs) > 1):
                for coordinator in coordinators:
                    coordinator.add(key, line, org.id)
    return mails


def _coordinators(org: Organisation, users: list[store.Recipient]) -> list[str]:
    """The organisation's configured coordinator address and its coordinators' and admins' addresses."""
    found = [org.procedure.coordinator] if org.procedure.coordinator else []
    found += [u.address for u in users if u.role in COORDINATOR_ROLES and (u.everything or org.id in u.organisations)]
    return sorted(set(found))


def _line(org: Organisation, case: Case, what: str, day: date | None, url: str, named: bool) -> DigestLine:
    # the subject as our letters quote it: a complainant's link or address is not made clickable in staff mail
    return DigestLine(reference=case.reference, subject=quoted_subject(case.subject), due=case.due_date, what=what,
                      day=day, url=f"{url}/case/{case.id}" if url else "", handler=case.handler or "",
                      organisation=org.name if named else "")


def _own_lines(org: Organisation, case: Case, day: date, url: str, named: bool) -> list[tuple[str, DigestLine]]:
    """A handler's lines of one case: the procedure's alerts, and new correspondence."""
    found = [(a.kind, _line(org, case, a.kind, a.day, url, named))
             for a in procedure.alerts(store.facts(case), day, org.procedure.due_soon, rules(org))]
    if case.unread_since is not None:
        found.append(("unread", _line(org, case, "unread", None, url, named)))
    return found


def _coordinator_lines(org: Organisation, case: Case, day: date, url: str,
                       named: bool) -> list[tuple[str, DigestLine]]:
    found = []
    if case.status not in procedure.WORKING:  # an ended case: only news that nobody handles
        if case.handler is None and case.unread_since is not None:
            found.append(("unread_unassigned", _line(org, case, "unread", None, url, named)))
        return found
    if case.handler is None:
        found.append(("unassigned", _line(org, case, "unassigned", None, url, named)))
    if case.due_date is not None and case.due_date < day:
        found.append(("all_overdue", _line(org, case, "overdue", case.due_date, url, named)))
    return found


def _deliver(deps: Deps, mail: _Mail, day: date, now: datetime, dry_run: bool, waiting: bool) -> Outcome:
    """Queue one mail in the outbox, exactly once per (address, day)."""
    count = mail.cases
    if not count or waiting:
        return Outcome(mail.address, mail.name, count, "waiting" if count else "skipped")
    org = deps.settings.organisations[min(mail.organisations)]
    try:
        written = letters.digest(org, mail.address, mail.name, day, mail.sections, now)
    except letters.LetterProblem as exc:
        log.error("digest_failed", recipient=mail.address, error=str(exc))
        return Outcome(mail.address, mail.name, count, "failed", str(exc))
    if dry_run:
        with deps.sessions() as session:
            sent = store.digest_sent(session, mail.address, day)
        return Outcome(mail.address, mail.name, count, "already" if sent else "dry_run", written.text)
    try:
        with deps.sessions.begin() as session:
            if store.digest_sent(session, mail.address, day):
                return Outcome(mail.address, mail.name, count, "already")
            store.record_digest(session, mail.address, day, org.id, written, count, now)
    except IntegrityError:  # another worker wrote this (address, day) first: its mail goes, not ours
        return Outcome(mail.address, mail.name, count, "already")
    log.info("digest_queued", recipient=mail.address, day=day.isoformat(), cases=count)
    return Outcome(mail.address, mail.name, count, "sent")


class Digester:
    """The digest job of `triage run`: logs a lost database once, and once more when it is back."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.outage = Outage(log, "digest")

    def run(self) -> DigestResult | None:
        try:
            result = run(self.deps)
        except (ServerError, SQLAlchemyError) as exc:
            self.outage.failed(exc, "digests wait; will retry")
            return None
        self.outage.ok()
        return result
