"""Access requests (AVG art. 15) and erasure (art. 17) for one e-mail address: `access_export`
writes everything stored about it into a ZIP (and logs the export per case); `plan` says what an
erasure would remove; `erase` removes it (open cases only when forced, with a reason), keeps the
anonymous record, logs that an erasure took place (not what), and on SQLite rewrites the database
file so the data is gone from it too. The mailbox copies go first where config allows it."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from triage import procedure
from triage.errors import Invalid, ServerError, TriageError
from triage.logs import get_logger
from triage.services import privacy_export
from triage.services.deps import Deps
from triage.store import access_log, register, repo
from triage.store import privacy as store

log = get_logger("triage.privacy")
_ADDRESS = re.compile(r"[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\".]+")


def checked_address(address: str) -> str:
    """The address as it is compared (trimmed, lower case); Invalid when it is not one address."""
    addr = store.key(address or "")
    if not _ADDRESS.fullmatch(addr):
        raise Invalid(f"{address!r} is not an e-mail address: give one address, such as jan@example.nl")
    return addr


def _organisation(deps: Deps, organisation: str | None) -> str | None:
    if organisation and organisation not in deps.settings.organisations:
        known = ", ".join(sorted(deps.settings.organisations)) or "none"
        raise Invalid(f"no organisation {organisation!r} in the config (configured: {known})")
    return organisation or None


@dataclass(frozen=True)
class PlanCase:
    id: int
    reference: str
    organisation: str
    status: str
    received: datetime
    open: bool  # still being handled: erased only when forced
    anonymised: bool  # its personal data was removed before
    messages: int
    letters: int


@dataclass(frozen=True)
class Plan:
    """What an erasure of `address` would remove; `fingerprint` changes when any of it does."""

    address: str
    cases: tuple[PlanCase, ...]
    messages: int  # all of them, those of the cases included
    letters: int
    other_messages: int  # outside those cases (ignored mail, quarantine)
    fingerprint: str

    @property
    def empty(self) -> bool:
        return not (self.cases or self.messages or self.letters)

    @property
    def open_cases(self) -> list[PlanCase]:
        return [c for c in self.cases if c.open]


def _plan(found: store.Found) -> Plan:
    cases = tuple(PlanCase(c.id, c.reference, c.organisation, c.status, c.received_at,
                           c.status in procedure.OPEN, c.anonymised_at is not None,
                           len(found.messages_of(c.id)), len(found.letters_of(c.id))) for c in found.cases)
    ids = (sorted(c.id for c in found.cases), sorted(m.id for m in found.messages), sorted(a.id for a in found.letters))
    return Plan(found.address, cases, len(found.messages), len(found.letters), len(found.loose_messages()),
                hashlib.sha256(repr(ids).encode()).hexdigest()[:16])


def plan(deps: Deps, address: str, organisation: str | None = None) -> Plan:
    """What is stored about `address` (in `organisation`, else everywhere), as an erasure would remove it."""
    addr, org = checked_address(address), _organisation(deps, organisation)
    with deps.sessions() as session:
        return _plan(store.find(session, addr, org))


class NoReason(Invalid):
    """An erasure without a reason."""


class Changed(Invalid):
    """What is stored about the address changed between the plan a person confirmed and the erasure."""


class OpenCases(Invalid):
    """An erasure that would remove cases still being handled, without force."""

    def __init__(self, cases: list[PlanCase]) -> None:
        refs = ", ".join(c.reference for c in cases)
        super().__init__(f"{len(cases)} case{'' if len(cases) == 1 else 's'} still open: {refs}; end "
                         f"{'it' if len(cases) == 1 else 'them'} first, or force the erasure (--force)")
        self.cases = cases


@dataclass(frozen=True)
class Export:
    path: Path | None  # None: nothing found, nothing written
    cases: int
    messages: int
    letters: int
    anonymised: int  # cases whose personal data was removed before: only their reference and dates

    @property
    def found(self) -> bool:
        return self.path is not None


@contextlib.contextmanager
def _target(out: Path | None) -> Iterator[tuple[Path, Path]]:
    """A part file beside `out` (or a temporary file) and the final path; the part file is removed
    when writing fails, so no half-written export is ever left."""
    folder = out.parent if out is not None else Path(tempfile.gettempdir())
    try:
        fd, name = tempfile.mkstemp(prefix=".privacy-", suffix=".part", dir=folder)
    except OSError as exc:
        raise Invalid(f"cannot write the export to {out or folder}: {exc.strerror or exc}") from None
    os.close(fd)
    part = Path(name)
    try:
        yield part, out if out is not None else part.with_suffix(".zip")
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def access_export(deps: Deps, address: str, actor: str, organisation: str | None = None, *,
                  out: Path | None = None) -> Export:
    """Everything stored about `address` as a ZIP at `out` (default: a temporary file the caller
    removes); each exported case is logged in the access log. Nothing found: nothing is written."""
    addr, org = checked_address(address), _organisation(deps, organisation)
    names = {key: o.name for key, o in deps.settings.organisations.items()}
    with _target(out) as (part, final), deps.sessions() as session:
        found = store.find(session, addr, org)
        if found.empty:
            part.unlink()
            return Export(None, 0, 0, 0, 0)
        now = deps.clock()
        with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            privacy_export.write(archive, found, names, lambda shas: store.raw_blobs(session, shas), now)
        _log_export(session, found, actor, now)
        session.commit()
        part.replace(final)
    log.info("privacy_exported", actor=actor, cases=len(found.cases), messages=len(found.messages))
    return Export(final, len(found.cases), len(found.messages), len(found.letters),
                  sum(1 for c in found.cases if c.anonymised_at is not None))


def _log_export(session: Session, found: store.Found, actor: str, now: datetime) -> None:
    entries = [access_log.Entry(actor, c.organisation, "export", case_id=c.id) for c in found.cases]
    entries += [access_log.Entry(actor, m.organisation, "export", message_id=m.id) for m in found.loose_messages()]
    access_log.record_many(session, now, entries)


@dataclass(frozen=True)
class Erased:
    plan: Plan
    cases: int = 0
    messages: int = 0
    letters: int = 0
    from_mailbox: int = 0  # copies deleted from the organisations' mailbox folders
    forced: bool = False
    compacted: bool = False  # SQLite: the database file was rewritten (VACUUM) and its WAL emptied
    done: bool = False  # False: nothing found, or not confirmed


def erase(deps: Deps, address: str, reason: str, actor: str, force: bool = False,  # noqa: PLR0913
          organisation: str | None = None, confirm: Callable[[Plan], bool] | None = None) -> Erased:
    """Erase everything about `address`: the plan first (open cases refused unless `force`), then
    `confirm(plan)` (None: confirmed already), the mailbox copies where config allows it, the
    database in one transaction, and the file compacted. Raises Invalid for a missing reason or a
    bad address, OpenCases, ServerError for an unreachable mailbox (nothing erased then)."""
    addr, org = checked_address(address), _organisation(deps, organisation)
    if not (reason or "").strip():
        raise NoReason("give the reason for the erasure (--reason): it is recorded, the address is not")
    planned = plan(deps, addr, org)
    if planned.empty:
        return Erased(planned)
    if planned.open_cases and not force:
        raise OpenCases(planned.open_cases)
    if confirm is not None and not confirm(planned):
        return Erased(planned)
    removed = _from_mailboxes(deps, addr, org)
    now = deps.clock()
    with deps.sessions.begin() as session:
        found = store.find(session, addr, org)
        if _plan(found).fingerprint != planned.fingerprint:
            raise Changed("what is stored about this address changed meanwhile (new mail?): look at the plan again")
        erased = store.erase(session, found, now)
        organisations = sorted({c.organisation for c in found.cases} | {m.organisation for m in found.messages})
        repo.audit(session, "privacy.erased", now, actor=actor,
                   organisation=organisations[0] if len(organisations) == 1 else None,
                   reason=_scrubbed(reason, addr), forced=force, open_cases=len(planned.open_cases),
                   cases=len(found.cases), messages=len(found.messages), letters=len(found.letters))
    compacted = compact(deps)
    log.info("privacy_erased", actor=actor, cases=len(planned.cases), forced=force, compacted=compacted)
    return Erased(planned, erased.cases, erased.messages, erased.letters, removed, force, compacted, True)


def _scrubbed(reason: str, addr: str) -> str:
    """The reason as recorded: the address never, should a person have typed it there."""
    return re.sub(re.escape(addr), "[adres]", reason.strip(), flags=re.IGNORECASE)[:500]


def _from_mailboxes(deps: Deps, addr: str, org: str | None) -> int:
    """Delete the messages' copies from the mailboxes of the organisations that allow it, before
    the database forgets their Message-IDs. An unreachable mailbox refuses the whole erasure."""
    from triage.services import expunge

    with deps.sessions() as session:
        found = store.find(session, addr, org)
        targets: dict[str, list[expunge.Target]] = {}
        for msg in (m for m in found.messages if m.purged_at is None):
            targets.setdefault(msg.organisation, []).append(expunge.target(msg.message_id, msg.sha256,
                                                                           msg.received_at))
    deleted = 0
    for key, wanted in sorted(targets.items()):
        config = deps.settings.organisations.get(key)
        if config is None or not config.retention.delete_from_mailbox:
            continue
        try:
            deleted += expunge.expunge(deps, config, wanted)
        except (TriageError, OSError) as exc:
            raise ServerError(f"erasure refused, nothing was erased: the mailbox of {key} cannot be reached "
                              f"to delete the copies there ({exc})") from None
    return deleted


def compact(deps: Deps) -> bool:
    """Remove what was blanked from the database file: the search index merged, and on SQLite the
    file rewritten (VACUUM) and its write-ahead log emptied. False when SQLite could not finish it
    (a long reader held it); the blanked pages are zeroed all the same (secure_delete)."""
    with deps.sessions.begin() as session:
        register.optimize_index(session)
    try:
        return store.compact_file(deps.sessions.kw["bind"])
    except Exception as exc:  # noqa: BLE001  (the erasure itself is committed: say so, do not fail it)
        log.warning("privacy_compact_failed", error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return False
