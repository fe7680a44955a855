"""The review queue: one page of items for a set of filters, with how many each filter value would
show, and an item's neighbours in the queue as a person last filtered it."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from triage.services.deps import Deps
from triage.store import acks
from triage.store import review as store
from triage.store.scope import Scope

Filters = store.Filters
Item = store.Item
LABELS = store.LABELS
NEIGHBOURS = 500  # how far along the queue the previous/next links of a case page look


@dataclass(frozen=True)
class QueuePage:
    items: list[Item]
    total: int  # items in all for these filters, over every page
    pages: int
    counts: dict[str, dict[str, int]]  # filter -> value -> how many items it would show
    organisations: dict[str, str]  # id -> name, as configured, of those in scope
    held: dict[str, int]  # organisation id (in scope) -> acknowledgements waiting for a person (hourly limit)


def queue_page(deps: Deps, filters: Filters, scope: Scope) -> QueuePage:
    """The queue as a person of `scope` sees it: nothing of other organisations, not even counts. A
    page past the last (however large its number) shows the last."""
    with deps.sessions() as session:
        counts = store.counts(session, filters, scope)
        held = acks.held_counts(session)
        total = counts["status"][filters.status]
        pages = max(1, math.ceil(total / store.PER_PAGE))
        filters.page = min(filters.page, pages)
        items = store.queue(session, filters, scope)
    organisations = {org.id: org.name for org in deps.settings.organisations.values() if scope.allows(org.id)}
    held = {org: n for org, n in held.items() if org in organisations}
    return QueuePage(items, total, pages, counts, organisations, held)


def status_counts(deps: Deps, scope: Scope) -> tuple[dict[str, int], dict[str, str]]:
    """How many items each review tab shows, and the organisations (id -> name) in scope."""
    with deps.sessions() as session:
        counts = store.counts(session, Filters(), scope)["status"]
    return counts, {org.id: org.name for org in deps.settings.organisations.values() if scope.allows(org.id)}


def release_held(deps: Deps, organisation: str, user: str, send: bool, scope: Scope) -> int | None:
    """Send (or drop) the acknowledgements of `organisation` that wait over the hourly limit; how
    many. None: no such organisation configured, or not in the person's scope."""
    if organisation not in deps.settings.organisations or not scope.allows(organisation):
        return None
    with deps.sessions.begin() as session:
        return acks.release_held(session, organisation, send, deps.clock(), user)


def neighbours(deps: Deps, filters: Filters, scope: Scope, kind: str,
               item_id: int) -> tuple[Item | None, Item | None]:
    """The items before and after this one in the queue under these filters (from its first page);
    for an item not in it, no previous one and the queue's first as the next."""
    with deps.sessions() as session:
        items = store.queue(session, dataclasses.replace(filters, page=1), scope, per_page=NEIGHBOURS)
    keys = [(i.kind, i.id) for i in items]
    if (kind, item_id) not in keys:
        return None, (items[0] if items else None)
    at = keys.index((kind, item_id))
    return (items[at - 1] if at > 0 else None), (items[at + 1] if at + 1 < len(items) else None)
