"""A case's log in Dutch. The audit rows keep stable English codes (actions, actors such as
`worker`, detail keys, English reason text); this turns each into a Dutch line at display: who
("systeem", not "worker"), what happened, and its details ("uiterlijk 17 december 2026")."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from triage.dates import long_date
from triage.services.rows import AckRow, LogRow, MessageRow
from triage.web import words

ACTORS = {"worker": "systeem", "cli": "beheerder (opdrachtregel)", "": "systeem"}
ACTIONS = {
    "case.corrected": "Indeling gewijzigd", "case.confirmed": "Indeling bevestigd",
    "ack.pending": "Bevestiging klaargezet", "ack.sending": "Bevestiging wordt verzonden",
    "ack.sent": "Bevestiging verzonden", "ack.failed": "Bevestiging mislukt",
    "ack.suppressed": "Bevestiging niet verstuurd", "ack.bounced": "Bevestiging onbestelbaar",
    "ack.reclaimed": "Verzending opnieuw opgepakt", "ack.held": "Bevestiging tegengehouden (grens per uur)",
    "message.filed": "Bericht ingedeeld",
    "message.review": "Bericht klaargezet voor beoordeling", "message.joined": "Bericht toegevoegd aan de zaak",
    "message.ignored": "Automatische mail herkend", "message.duplicate": "Dubbel bericht herkend",
    "message.quarantined": "Bericht in quarantaine", "message.renumbered": "Bericht opnieuw genummerd",
    "message.retried": "Bericht opnieuw verwerkt", "message.replay": "Opnieuw verwerken aangevraagd",
    "message.move_confirmed": "Bericht in zijn map gezet", "model.promoted": "Model in gebruik genomen",
    "user.added": "Gebruiker toegevoegd", "user.disabled": "Gebruiker geblokkeerd",
    "user.login_failed": "Mislukte aanmelding", "user.login": "Aangemeld",
}
_LETTERS = {"question": "vraag", "formal_complaint": "formele klacht", "informal_complaint": "informele klacht"}
_LANGUAGES = {"nl": "Nederlands", "en": "Engels"}


@dataclass(frozen=True)
class Line:
    at: Any
    actor: str
    action: str
    details: list[str]


def _due(value: Any) -> str:
    try:
        return "uiterlijk " + long_date(date.fromisoformat(str(value)), "nl")
    except ValueError:
        return f"uiterlijk {value}"


def _letter(value: Any) -> str:
    language, _, name = str(value).rpartition("/")
    letter = _LETTERS.get(name, name)
    return f"brief: {letter} ({_LANGUAGES.get(language, language)})" if language else f"brief: {letter}"


def _labels(value: Any) -> str:
    if not isinstance(value, Mapping):
        return str(value)
    return "indeling: " + "/".join(words.VALUES.get(str(value[h]), str(value[h])) for h in words.HEADS if h in value)


_DETAILS: dict[str, Callable[[Any], str]] = {
    "reference": lambda v: f"zaak {v}",
    "due": _due,
    "template": _letter,
    "nonce": lambda v: "eerste bevestiging" if v == 0 else f"correctie {v}",
    "recipient": lambda v: f"aan {v}",
    "error": lambda v: f"foutmelding van de server: {v}",
    "attempts": lambda v: f"{v} {'poging' if v == 1 else 'pogingen'}",
    "disposition": lambda v: "uitkomst: " + words.DISPOSITIONS.get(str(v), str(v)),
    "changed": lambda v: "gewijzigd: " + ", ".join(words.HEADS.get(h, h) for h in v),
    "labels": _labels,
    "duplicate_of": lambda v: f"hetzelfde als bericht {v}",
    "previous": lambda v: f"eerder opgepakt door {ACTORS.get(str(v), v)}",
    "folder": lambda v: f"map {v}",
    "uid": lambda v: f"nummer in de mailbox {v}",
    "old": lambda v: "eerder " + " / ".join(map(str, v)) if isinstance(v, list) else f"eerder {v}",
    "new": lambda v: "nu " + " / ".join(map(str, v)) if isinstance(v, list) else f"nu {v}",
    "version": lambda v: f"versie {v}",
    "user": lambda v: f"gebruiker {v}",
    "role": lambda v: "rol: " + {"admin": "beheerder", "staff": "medewerker"}.get(str(v), str(v)),
    "failures": lambda v: f"{v} keer mislukt",
    "job": lambda v: f"taak {v}",
    "released": lambda v: "vrijgegeven door een medewerker" if v else "niet verstuurd op besluit van een medewerker",
}


def actor(name: str) -> str:
    return ACTORS.get(name, name)


def _reason(text: str, known: Mapping[str, list[Any]]) -> str:
    """A stored English reason in Dutch: from the codes of the message or acknowledgement whose
    reason it is, else from its words (rows from before the codes)."""
    return words.reasons(known[text], text) if known.get(text) else words.reason(text)


def details(row: LogRow, known: Mapping[str, list[Any]]) -> list[str]:
    out = []
    for key, value in row.detail.items():
        if value is None or (isinstance(value, str | list | dict) and not value):
            continue
        if key == "reason":
            out.append("reden: " + _reason(str(value), known))
        else:
            out.append(_DETAILS[key](value) if key in _DETAILS else f"{key}: {value}")
    return out


def lines(history: Iterable[LogRow], messages: Iterable[MessageRow], acks: Iterable[AckRow]) -> list[Line]:
    """The case's log, oldest first, in Dutch."""
    rows: list[MessageRow | AckRow] = [*messages, *acks]
    known = {row.reason: list(row.reasons) for row in rows if row.reason and row.reasons}
    return [Line(row.at, actor(row.actor), ACTIONS.get(row.action, row.action), details(row, known))
            for row in sorted(history, key=lambda r: r.at)]
