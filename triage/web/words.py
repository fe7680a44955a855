"""Dutch wording, in one place: reason codes (`triage.reasons`) with their parameters, and the
labels. Logs and the database keep the stable English codes; only the UI speaks Dutch."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from triage.dates import long_date
from triage.reasons import Code, Reason, loaded
from triage.stages.terms import Term

HEADS = {"kind": "soort", "topic": "onderwerp", "formality": "vorm", "not_formal": "‘geen formele klacht’"}
VALUES = {"complaint": "klacht", "question": "vraag", "product": "product", "service": "dienstverlening",
          "staff": "medewerker", "formal": "formeel", "informal": "informeel"}
DISPOSITIONS = {"filed": "ingedeeld", "review": "te beoordelen", "joined": "toegevoegd aan de zaak",
                "ignored": "automatische mail", "duplicate": "dubbel ontvangen", "quarantined": "quarantaine"}
_RULES = {"auto-submitted": "automatisch verstuurd", "x-autoreply": "automatisch antwoord",
          "x-auto-response-suppress": "automatisch bericht", "precedence": "bulkmail", "list": "mailinglijst",
          "dsn": "bezorgbericht", "machine-sender": "afzender is een systeem", "out-of-office": "afwezigheidsmelding"}

REFUSED_VERSION = {"name": "dat is geen geldige versienaam.", "unknown": "die versie bestaat niet.",
                   "unusable": "die versie kan niet worden geladen (beschadigd, of gemaakt voor een andere "
                               "versie van het programma). Train opnieuw of herstel de versie.",
                   "unwritable": "het bestand dat het model in gebruik aanwijst kon niet worden geschreven "
                                 "(schijf vol?); het model in gebruik blijft."}


def _pct(value: float, decimals: int = 0) -> str:
    return f"{value:.{decimals}f}".replace(".", ",") + "%"


def score_and_threshold(score: float, threshold: float) -> tuple[str, str]:
    """A confidence and the threshold it is held to, as percentages that never make a failing
    score look like a pass: 0.7296 against 0.73 is '72,9%' and '73,0%', not '73%' twice."""
    shown, needed = round(score * 100), round(threshold * 100)
    if score >= threshold or shown < needed:
        return _pct(shown), _pct(needed)
    for decimals in range(1, 5):
        scale = 10**decimals
        low, high = math.floor(score * 100 * scale) / scale, math.ceil(threshold * 100 * scale) / scale
        if low < high:
            break
    return _pct(low, decimals), _pct(high, decimals)


def _unsure(p: Mapping[str, Any]) -> str:
    return "onzeker over " + ", ".join(_below(HEADS.get(h, h), c, t) for h, c, t in p["heads"])


def _below(head: str, score: float, threshold: float) -> str:
    shown, needed = score_and_threshold(float(score), float(threshold))
    return f"{head} ({shown}, nodig {needed})"


def _labels(p: Mapping[str, Any]) -> str:
    words = "/".join(VALUES.get(str(p[h]), str(p[h])) for h in ("kind", "topic", "formality"))
    return f"{words} (model {p['model']})"


def _machine(p: Mapping[str, Any]) -> str:
    rule = _RULES.get(p["rule"], p["rule"])
    return f"{rule}: {p['detail']}" if p.get("detail") else rule


# Messages another procedure governs: what it is, and what must happen within its term.
PROCEDURES = {
    "woo": ("Woo-verzoek (Wet open overheid)", "geen klacht: besluit binnen {term} (Woo art. 4.4), uiterlijk {due}; "
            "zet het door naar wie Woo-verzoeken behandelt"),
    "avg": ("AVG-verzoek van een betrokkene", "geen klacht: antwoord binnen {term} (AVG art. 12 lid 3), uiterlijk "
            "{due}; zet het door naar de privacyfunctionaris"),
    "bezwaar": ("bezwaarschrift", "geen klacht: stuur het meteen door naar het bestuursorgaan dat besliste "
                "(Awb art. 6:15), uiterlijk {due}"),
    "ingebrekestelling": ("ingebrekestelling", "na {term} kan een dwangsom of schadevergoeding gaan lopen "
                          "(Awb art. 4:17); beslis of reageer uiterlijk {due}"),
}
PROCEDURE_NAMES = {"woo": "Woo-verzoek", "avg": "AVG-verzoek", "bezwaar": "Bezwaarschrift",
                   "ingebrekestelling": "Ingebrekestelling"}  # the badge
DANGERS = {"self_harm": "zelfdoding of zelfbeschadiging", "threat": "geweld of bedreiging",
           "hazard": "een gevaarlijke situatie"}


def _other_procedure(p: Mapping[str, Any]) -> str:
    name, todo = PROCEDURES.get(str(p["procedure"]), (str(p["procedure"]), "{term}, uiterlijk {due}"))
    due = _long_date(str(p["due"]))
    return f"{name}: {todo.format(term=_term_nl(str(p['term'])), due=due)} (herkend aan “{p['words']}”)"


def _danger(p: Mapping[str, Any]) -> str:
    return f"SPOED: meldt {DANGERS.get(str(p['danger']), str(p['danger']))} (herkend aan “{p['words']}”)"


def _long_date(iso: str) -> str:
    try:
        return long_date(date.fromisoformat(iso), "nl")
    except ValueError:
        return iso


def _term_nl(text: str) -> str:
    try:
        return Term.parse(text).words("nl")
    except ValueError:
        return text


_DUTCH: dict[Code, str | Callable[[Mapping[str, Any]], str]] = {
    Code.LABELS: _labels,
    Code.JOINED: "reactie op {reference}",
    Code.MACHINE: _machine,
    Code.STAGE_FAILED: "verwerking mislukt ({stage})",
    Code.DUPLICATE: lambda p: f"hetzelfde bericht als bericht {p['of']}" + (
        f" van {p['reference']}" if p.get("reference") else ""),
    Code.BOUNCE_OF: lambda p: "onbestelbare bevestiging van " + ", ".join(p["references"]),
    Code.NO_MODEL: "nog geen classificatiemodel",
    Code.UNSURE: _unsure,
    Code.OTHER_PROCEDURE: _other_procedure,
    Code.DANGER: _danger,
    Code.NOBODY_TO_ANSWER: lambda p: "niemand om te antwoorden: " + dutch(Reason(Code(p["cause"]))),
    Code.TOO_LARGE: "bericht van {size} bytes is te groot; alleen het begin is gelezen",
    Code.REFERENCE_UNKNOWN: "{reference} is geen zaak van ons",
    Code.REFERENCE_OTHER_SENDER: "reactie op {reference} van een ander adres ({sender})",
    Code.NO_USABLE_TEXT: "geen leesbare tekst ({letters} letters); niet geclassificeerd",
    Code.TIME_BUDGET: "lezen duurde langer dan {seconds:g} s (bij {stage}); opgeslagen zoals tot dan gelezen",
    Code.TOO_MANY_PARTS: "meer dan {limit} MIME-delen; de rest van het bericht is niet gelezen",
    Code.UNKNOWN_WORDS: "het model kent {known} van de {words} verschillende woorden: te weinig om zelf te beslissen",
    Code.FORWARDED_BY: "doorgestuurd door {address}",
    Code.FORWARD_ORIGINAL_UNKNOWN: "doorgestuurd door een medewerker, maar de oorspronkelijke afzender is onbekend",
    Code.REPLY_TO: "antwoord gaat naar Reply-To {address}",
    Code.REPLY_TO_OWN: "Reply-To is een eigen adres",
    Code.NO_SENDER: "geen bruikbaar afzenderadres",
    Code.FROM_OWN: "verstuurd vanaf een eigen adres",
    Code.FORWARD_UNVERIFIED: "doorgestuurd, afzender niet geverifieerd",
    Code.REPLY_TO_UNVERIFIED: "Reply-To niet gevolgd: afzender van ons eigen domein niet geverifieerd",
    Code.REPLY_TO_IGNORED: "Reply-To {address} niet gevolgd: afzender is geen formulier en niet geverifieerd",
    Code.REPLY_TO_SEVERAL: "meerdere Reply-To-adressen",
    Code.FROM_SEVERAL: "meerdere afzenders in From: geen afzender vertrouwd",
    Code.ACKS_OFF: "ontvangstbevestigingen staan uit voor deze organisatie",
    Code.NO_RECIPIENT: "niemand om te antwoorden",
    Code.UNDELIVERABLE: "{address} is geen adres waar we kunnen bezorgen",
    Code.OWN_ADDRESS: "{address} is een eigen adres",
    Code.MACHINE_ADDRESS: "{address} is een no-reply- of systeemadres",
    Code.BACKLOG: lambda p: f"ontvangen op {p['received']}, meer dan {p['days']:g} dagen geleden (achterstand)",
    Code.RATE_LIMITED: "al {count} bevestigingen aan {address} in 24 uur",
    Code.RENDER_FAILED: "bevestiging kon niet worden opgesteld: {error}",
    Code.REPLY_TO_OUR_MAIL: "reactie op onze mail over {reference}: nooit een nieuwe bevestiging",
    Code.HELD: "{count} bevestigingen in het afgelopen uur, de grens is {limit}: wacht op vrijgave",
    Code.HELD_NOT_SENT: "boven de grens per uur tegengehouden; {user} heeft besloten hem niet te versturen",
    Code.ANONYMISED: lambda p: "persoonsgegevens verwijderd: " + ("bewaartermijn verstreken" if p.get("by") == "purge"
                                                                  else "gewist op verzoek"),
    Code.NO_SMTPUTF8: "de mailserver accepteert geen internationale adressen (geen SMTPUTF8): {address}",
}


def dutch(item: Reason) -> str:
    form = _DUTCH[item.code]
    return form(item.params) if callable(form) else form.format(**item.params)


def reasons(codes: Any, english: str = "") -> str:
    """Stored reason codes in Dutch; a row from before the codes shows its English text in Dutch
    words where they are known (`reason`)."""
    found = loaded(codes)
    return "; ".join(dutch(r) for r in found) if found else reason(english)


# Rows written before reasons were stored as codes (revision 0004) have English text only.
_UNSURE = re.compile(r"\b(kind|topic|formality) (\d\.\d+) < (\d\.\d+)")
_LABELS = re.compile(r"\b(complaint|question)/(product|service|staff)/(formal|informal)\b")
_PHRASES = [
    (re.compile(r"^unsure: "), "onzeker over "),
    (re.compile(r"\bno classification model\b"), "nog geen classificatiemodel"),
    (re.compile(r"\bnobody to answer\b"), "niemand om te antwoorden"),
    (re.compile(r"\bforwarded by\b"), "doorgestuurd door"),
    (re.compile(r"^(\w+) failed\b"), r"verwerking mislukt (\1)"),
]


def reason(text: str | None) -> str:
    """English reason text of an older row: 'unsure: topic 0.54 < 0.73' → 'onzeker over onderwerp (54%, nodig 73%)'."""
    if not text:
        return ""
    out = _UNSURE.sub(lambda m: _below(HEADS[m.group(1)], float(m.group(2)), float(m.group(3))), text)
    out = _LABELS.sub(lambda m: "/".join(VALUES[g] for g in m.groups()), out)
    parts = []
    for part in out.split("; "):
        for pattern, replacement in _PHRASES:
            part = pattern.sub(replacement, part)
        parts.append(part)
    return "; ".join(parts)


ROLES = {"staff": "medewerker", "coordinator": "coördinator", "admin": "beheerder"}  # as _macros.html ROLE_NAMES

# Why an account change was refused (`triage.store.users.Problem`), for the user pages.
ACCOUNT_PROBLEMS = {
    "bad_name": "Gebruik voor de naam 1 tot 100 letters, cijfers, punten, streepjes of lage streepjes.",
    "bad_role": "Kies als rol medewerker, coördinator of beheerder.",
    "bad_email": "Geef één e-mailadres, zoals naam@organisatie.nl.",
    "short_password": "Het wachtwoord is te kort: gebruik minstens {minimum} tekens.",
    "name_taken": "Er is al een gebruiker met de naam {name}.",
    "unknown_user": "Gebruiker {name} bestaat niet.",
    "unknown_organisation": "Organisatie {organisation} is niet ingesteld.",
    "own_account": "U kunt uw eigen account niet blokkeren en uw eigen rol niet wijzigen.",
}


def account_problem(code: str, params: Mapping[str, Any]) -> str:
    """The Dutch line for a refused account change."""
    return ACCOUNT_PROBLEMS.get(code, "De wijziging is niet opgeslagen.").format_map(dict(params))
