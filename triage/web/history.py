"""A case's log in Dutch. The audit rows keep stable English codes (actions, actors such as
`worker`, detail keys, English reason text); this turns each into a Dutch line at display: who
("systeem", not "worker"), what happened, and its details ("uiterlijk 17 december 2026")."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from triage.dates import long_date
from triage.procedure_text import ENDINGS, JUDGEMENT_CHOICES, NOT_HANDLED_CHOICES, SKIP_GROUNDS, STATES
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
    "case.unassigned": "Behandelaar eraf gehaald", "case.contact": "Contact met de klager vastgelegd",
    "case.hearing_planned": "Horen gepland", "case.hearing_held": "Klager gehoord",
    "case.hearing_skipped": "Afgezien van horen", "case.reopened": "Zaak heropend",
    "case.merged": "Samengevoegd", "case.split": "Weer losgemaakt (gesplitst)",
    "case.draft_saved": "Concept-antwoord opgeslagen", "case.draft_discarded": "Concept-antwoord verwijderd",
    "case.read": "Nieuwe post gelezen", "case.closed": "Zaak afgesloten", "case.answered": "Antwoord verstuurd",
    "case.extended": "Termijn verlengd", "case.extended_with_consent": "Termijn verlengd met instemming",
    "case.assigned": "Toegewezen", "letter.pending": "Brief klaargezet", "letter.sent": "Brief verzonden",
    "letter.failed": "Brief mislukt", "letter.sending": "Brief wordt verzonden",
}
LETTER_KINDS = {"ack": "Bevestiging", "extension": "Verlengingsbrief", "consent": "Brief over het uitstel",
                "answer": "Antwoord", "not_handled": "Bericht niet in behandeling (9:8)",
                "forwarded": "Bericht over het doorzenden", "digest": "Dagoverzicht"}
_LETTER_EVENTS = {"pending": "klaargezet", "sending": "wordt verzonden", "sent": "verzonden", "failed": "mislukt"}
_LETTERS = {"question": "vraag", "formal_complaint": "formele klacht", "informal_complaint": "informele klacht",
            "review": "nog te beoordelen", "passed_on": "ontvangen en doorgezet, zonder termijn"}
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
    "role": lambda v: "rol: " + {"admin": "beheerder", "staff": "medewerker",
                                  "coordinator": "klachtencoördinator"}.get(str(v), str(v)),
    "failures": lambda v: f"{v} keer mislukt",
    "job": lambda v: f"taak {v}",
    "released": lambda v: "vrijgegeven door een medewerker" if v else "niet verstuurd op besluit van een medewerker",
    "status": lambda v: "status: " + STATES.get(str(v), str(v)),
    "note": lambda v: f"notitie: {v}",
    "report": lambda v: f"verslag: {v}",
    "on": lambda v: "op " + _day(v),
    "handler": lambda v: f"behandelaar {v}",
    "kind": lambda v: "",  # an outbox row's kind: the action's title names it
}


def _day(value: Any) -> str:
    try:
        return long_date(date.fromisoformat(str(value)), "nl")
    except ValueError:
        return str(value)


def title(action: str, detail: Mapping[str, Any]) -> str:
    """The Dutch line of an audit action, naming what matters most ("Toegewezen aan anouk")."""
    if action.startswith("letter.") and detail.get("kind"):
        event = action.partition(".")[2]
        return f"{LETTER_KINDS.get(str(detail['kind']), str(detail['kind']))} {_LETTER_EVENTS.get(event, event)}"
    if action == "case.assigned" and detail.get("handler"):
        return f"Toegewezen aan {detail['handler']}"
    if action in ("case.extended", "case.extended_with_consent") and detail.get("to"):
        return ACTIONS[action] + " tot " + _day(detail["to"])
    if action == "case.answered" and "on_time" in detail:
        return "Antwoord verstuurd " + ("(op tijd)" if detail["on_time"] else "(te laat)")
    if action == "case.closed" and detail.get("ending"):
        return "Afgesloten: " + ENDINGS.get(str(detail["ending"]), str(detail["ending"]))
    return ACTIONS.get(action, action)


_SKIP = {"ground": lambda v: "reden: " + SKIP_GROUNDS.get(str(v), str(v))}
_SHOWN_IN_TITLE: dict[str, Callable[[Any], str]] = {"handler": lambda v: "", "to": lambda v: "",
                                                   "ending": lambda v: ""}
# Detail keys whose meaning depends on the action; "" drops the detail (the title says it).
_BY_ACTION: dict[str, dict[str, Callable[[Any], str]]] = {
    "case.assigned": {**_SHOWN_IN_TITLE, "previous": lambda v: f"eerder bij {v}"},
    "case.unassigned": {"previous": lambda v: f"was bij {v}"},
    "case.hearing_skipped": _SKIP,
    "case.extended": {**_SHOWN_IN_TITLE, "from": lambda v: "was uiterlijk " + _day(v)},
    "case.extended_with_consent": {**_SHOWN_IN_TITLE, "from": lambda v: "was uiterlijk " + _day(v),
                                   "consent": lambda v: "instemming van " + _day(v)},
    "case.answered": {"on_time": lambda v: "",
                      "judgement": lambda v: "oordeel: " + JUDGEMENT_CHOICES.get(str(v), str(v)).lower()},
    "case.closed": {**_SHOWN_IN_TITLE, "ground": lambda v: "grond: " + NOT_HANDLED_CHOICES.get(str(v), str(v)),
                    "to": lambda v: f"doorgezonden aan {v}", "deadline": lambda v: "9:8-bericht uiterlijk " + _day(v)},
    "case.reopened": {"reason": lambda v: f"reden: {v}", "was": lambda v: "was " + STATES.get(str(v), str(v))},
    "case.merged": {"into": lambda v: f"bij zaak {v}"},
}


def actor(name: str) -> str:
    return ACTORS.get(name, name)


def _reason(text: str, known: Mapping[str, list[Any]]) -> str:
    """A stored English reason in Dutch: from the codes of the message or acknowledgement whose
    reason it is, else from its words (rows from before the codes)."""
    return words.reasons(known[text], text) if known.get(text) else words.reason(text)


def details(row: LogRow, known: Mapping[str, list[Any]]) -> list[str]:
    out = []
    special = _BY_ACTION.get(row.action, {})
    for key, value in row.detail.items():
        if value is None or (isinstance(value, str | list | dict) and not value):
            continue
        if key in special:
            out.append(special[key](value))
        elif key == "reason":
            out.append("reden: " + _reason(str(value), known))
        else:
            out.append(_DETAILS[key](value) if key in _DETAILS else f"{key}: {value}")
    return [line for line in out if line]


def lines(history: Iterable[LogRow], messages: Iterable[MessageRow], acks: Iterable[AckRow]) -> list[Line]:
    """The case's log, oldest first, in Dutch."""
    rows: list[MessageRow | AckRow] = [*messages, *acks]
    known = {row.reason: list(row.reasons) for row in rows if row.reason and row.reasons}
    return [Line(row.at, actor(row.actor), title(row.action, row.detail), details(row, known))
            for row in sorted(history, key=lambda r: r.at)]
