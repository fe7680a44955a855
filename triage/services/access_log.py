"""The access log as the shells use it: record that a person opened a case page or a message,
or downloaded an attachment; and a case's log for administrators (nobody else sees it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from triage.services.deps import Deps
from triage.store import access_log as store

WORDS = {"case": "zaak geopend", "message": "bericht geopend", "attachment": "bijlage gedownload",
         "export": "inzageverzoek (export)"}


def opened(deps: Deps, user: str, what: str, *, case_id: int | None = None, message_id: int | None = None,
           part: str = "") -> None:
    """Record one access (the shell checked the person may see it); a row that is gone is not logged."""
    with deps.sessions.begin() as session:
        where = store.whereabouts(session, case_id=case_id, message_id=message_id)
        if where is None:
            return
        organisation, case = where
        store.record(session, deps.clock(), store.Entry(user, organisation, what, case_id=case,
                                                        message_id=message_id, part=part))


@dataclass(frozen=True)
class Access:
    at: datetime
    user: str
    what: str  # the code: case, message, attachment, export
    words: str  # in Dutch
    message_id: int | None
    part: str


def case_log(deps: Deps, case_id: int, role: str) -> list[Access] | None:
    """Who accessed the case, newest first; None for anyone but an administrator."""
    if role != "admin":
        return None
    with deps.sessions() as session:
        return [Access(r.at, r.user, r.what, WORDS.get(r.what, r.what), r.message_id, r.part)
                for r in store.for_case(session, case_id)]
