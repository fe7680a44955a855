"""Which organisations' cases and messages a person may see and handle: every query and action of
the review UI takes a `Scope`, and what lies outside it does not exist for them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from triage.store.models import Case, Message


@dataclass(frozen=True)
class Scope:
    """Every organisation (`everything`), or only those in `organisations`. The default sees nothing."""

    organisations: frozenset[str] = frozenset()
    everything: bool = False

    def allows(self, organisation: str) -> bool:
        return self.everything or organisation in self.organisations

    def clause(self, column: InstrumentedAttribute[str]) -> ColumnElement[bool]:
        """A WHERE clause keeping the rows of `column`'s organisations in this scope."""
        if self.everything:
            return true()
        return column.in_(sorted(self.organisations)) if self.organisations else false()


EVERYTHING = Scope(everything=True)


def case_in(session: Session, scope: Scope, case_id: int) -> Case | None:
    """The case with this id when its organisation is in scope; else None, as if there were none."""
    case = session.get(Case, case_id)
    return case if case is not None and scope.allows(case.organisation) else None


def message_in(session: Session, scope: Scope, message_id: int) -> Message | None:
    """The message with this id when its organisation is in scope; else None."""
    msg = session.get(Message, message_id)
    return msg if msg is not None and scope.allows(msg.organisation) else None
