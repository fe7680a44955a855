"""The procedure's words: state names, refusals, grounds and judgements in Dutch (the web UI,
the CLI, the digest) and the phrases the letters use in Dutch and English. The codes stay in
`triage.procedure`; this is the one place they are written out."""

from __future__ import annotations

from datetime import date
from typing import Any

from triage.dates import long_date
from triage.procedure import No, Refusal

STATES = {
    "needs_review": "te beoordelen", "new": "nieuw", "in_progress": "in behandeling", "answered": "afgehandeld",
    "resolved": "informeel opgelost", "not_handled": "niet in behandeling genomen", "forwarded": "doorgezonden",
    "withdrawn": "ingetrokken", "question_answered": "beantwoord", "not_a_complaint": "geen klacht",
    "merged": "samengevoegd",
}
ENDINGS = {  # as a person chooses them when closing a case
    "resolved": "Informeel opgelost", "not_handled": "Niet in behandeling nemen (Awb 9:8)",
    "forwarded": "Doorzenden naar wie erover gaat", "withdrawn": "Ingetrokken door de klager",
    "question_answered": "Vraag beantwoord (bijvoorbeeld telefonisch)", "not_a_complaint": "Geen klacht of vraag",
}
HEARING = {"": "nog niet gepland", "planned": "gepland", "held": "gehouden", "skipped": "afgezien"}
SKIP_GROUNDS = {
    "unfounded": "de klacht is kennelijk ongegrond",
    "waived": "de klager wil niet worden gehoord",
    "no_reply": "de klager reageerde niet binnen een redelijke termijn",
}
JUDGEMENTS = {
    "nl": {"founded": "gegrond", "partly_founded": "deels gegrond", "unfounded": "ongegrond",
           "no_judgement": ""},
    "en": {"founded": "well-founded", "partly_founded": "partly well-founded", "unfounded": "unfounded",
           "no_judgement": ""},
}
JUDGEMENT_CHOICES = {"founded": "Gegrond", "partly_founded": "Deels gegrond", "unfounded": "Ongegrond",
                     "no_judgement": "Geen oordeel"}
NOT_HANDLED_GROUNDS = {  # Awb 9:8: why a complaint need not be dealt with, as the notice says it
    "nl": {
        "handled_before": "wij een klacht over dezelfde gedraging al eerder hebben behandeld",
        "over_a_year": "de gedraging langer dan een jaar voor uw klacht plaatsvond",
        "objection_possible": "u tegen deze gedraging bezwaar kon maken of beroep kon instellen",
        "court": "de gedraging ter beoordeling ligt of lag bij een rechter",
        "criminal": "er over de gedraging een strafrechtelijk onderzoek of vervolging loopt",
        "trivial": "uw belang of het gewicht van de gedraging onvoldoende is voor een klachtbehandeling",
    },
    "en": {
        "handled_before": "we have already dealt with a complaint about the same conduct",
        "over_a_year": "the conduct took place more than a year before your complaint",
        "objection_possible": "you could have objected to or appealed against this conduct",
        "court": "the conduct is or was before a court",
        "criminal": "the conduct is the subject of a criminal investigation or prosecution",
        "trivial": "your interest or the weight of the conduct is too small for complaint handling",
    },
}
NOT_HANDLED_CHOICES = {
    "handled_before": "Al eerder behandeld (9:8 lid 1 a)", "over_a_year": "Langer dan een jaar geleden (b)",
    "objection_possible": "Bezwaar of beroep stond open (c)", "court": "Ligt of lag bij de rechter (d, e)",
    "criminal": "Strafrechtelijk onderzoek of vervolging (f)", "trivial": "Gering belang of gewicht (lid 2)",
}
ALERTS = {"overdue": "te laat", "due_soon": "binnenkort uiterlijk", "extension_ends": "verdagen kan nog kort",
          "notice_98": "laatste dagen voor een 9:8-bericht", "unread": "nieuwe post",
          "unassigned": "zonder behandelaar"}


def _day(value: Any) -> str:
    return long_date(value, "nl") if isinstance(value, date) else str(value or "")


_REFUSALS = {
    No.ROLE: "Dat mag uw rol ({role}) niet: vraag het de klachtencoördinator.",
    No.STATE: "Dat kan niet bij een zaak die {status_words} is.",
    No.NEEDS_REVIEW: "Beoordeel eerst de indeling van deze zaak (soort, onderwerp, vorm).",
    No.NOT_FORMAL: "Dat hoort alleen bij een formele klacht.",
    No.NOT_COMPLAINT: "Dat kan alleen bij een klacht, niet bij een vraag.",
    No.NOT_QUESTION: "Dat kan alleen bij een vraag; een klacht wordt afgehandeld met een schriftelijk antwoord.",
    No.EXPIRED: "De termijn is al verstreken (uiterlijk {due}): verdagen kan alleen daarvoor. Meer tijd kan "
                "nu alleen met schriftelijke instemming van de klager.",
    No.EXTENDED_ALREADY: "De termijn is al een keer verdaagd (nu uiterlijk {due}). Meer tijd kan alleen met "
                         "schriftelijke instemming van de klager: leg die vast met haar datum.",
    No.CONSENT_DATE: "Geef de datum waarop de klager instemde: niet in de toekomst en niet voor de ontvangst.",
    No.UNTIL_NOT_LATER: "De nieuwe datum moet na de huidige uiterste datum ({due}) liggen.",
    No.NOTE_MISSING: "Vul een toelichting in: die komt in het dossier.",
    No.GROUND_MISSING: "Kies een grond uit de lijst.",
    No.TEXT_MISSING: "Schrijf eerst de tekst van het antwoord.",
    No.JUDGEMENT_MISSING: "Kies een oordeel: gegrond, deels gegrond, ongegrond of geen oordeel.",
    No.NOT_HEARD: "De klager is nog niet gehoord (Awb 9:10): leg eerst het horen vast, of waarom het "
                  "achterwege bleef.",
    No.HEARING_DATE: "Geef een datum voor het horen, niet voor de ontvangst van de klacht.",
    No.HEARING_FUTURE: "Het horen kan pas als gehouden worden vastgelegd op of na de dag zelf: plan het anders.",
    No.REPORT_MISSING: "Schrijf een kort verslag van het horen.",
    No.ANSWER_BY_LETTER: "Een klacht wordt afgehandeld door het schriftelijke antwoord te versturen.",
    No.DRAFT_PENDING: "Er staat een onverzonden antwoord klaar: verstuur of verwijder het eerst.",
    No.MERGE_SELF: "Kies een andere zaak om mee samen te voegen.",
    No.MERGE_OTHER: "Alleen zaken van dezelfde klager bij dezelfde organisatie kunnen worden samengevoegd.",
    No.MERGE_ORDER: "De latere zaak sluit aan bij de eerdere: voeg deze zaak niet bij de nieuwere {into}.",
    No.MERGED: "Deze zaak is samengevoegd met een andere: splits haar eerst.",
    No.HANDLER_UNKNOWN: "{name} is geen actieve gebruiker van deze organisatie.",
    No.CHANGED: "Iemand anders heeft deze zaak intussen gewijzigd. Bekijk de zaak opnieuw en probeer het nog eens.",
    No.LETTER: "De brief kan niet worden gemaakt: {problem_words}",
    No.NO_RECIPIENT: "Deze zaak heeft geen adres om de brief naartoe te sturen.",
    No.TOO_LONG: "Een van de teksten is te lang: een notitie of verslag mag 5 000 tekens hebben, een antwoord "
                 "50 000 en de naam van een organisatie 200.",
}
_LETTER_PROBLEMS = {
    "missing_appeal": "de verplichte alinea over {appeal} ontbreekt in het sjabloon van de organisatie.",
    "template": "het sjabloon werkt niet ({detail}).",
    "header": "het adres of de onderwerpregel is onbruikbaar ({detail}).",
}


_PLAIN = {  # the sentence when a refusal lacks the parameter its usual sentence names
    No.ROLE: "Dat mag uw rol niet: vraag het de klachtencoördinator.",
    No.STATE: "Dat kan niet bij een zaak in deze toestand.",
    No.EXPIRED: "De termijn is al verstreken: verdagen kan alleen daarvoor. Meer tijd kan nu alleen met "
                "schriftelijke instemming van de klager.",
    No.EXTENDED_ALREADY: "De termijn is al een keer verdaagd. Meer tijd kan alleen met schriftelijke instemming "
                         "van de klager: leg die vast met haar datum.",
    No.UNTIL_NOT_LATER: "De nieuwe datum moet na de huidige uiterste datum liggen.",
    No.MERGE_ORDER: "De latere zaak sluit aan bij de eerdere: voeg deze zaak niet bij een nieuwere.",
    No.HANDLER_UNKNOWN: "Die persoon is geen actieve gebruiker van deze organisatie.",
}


def refusal(no: Refusal) -> str:
    """A refusal as one Dutch sentence (without a parameter it needs, the same sentence without it)."""
    params = {k: _day(v) for k, v in no.params.items() if v not in (None, "")}
    if "status" in params:
        params["status_words"] = STATES.get(str(params["status"]), str(params["status"]))
    if no.code == No.LETTER:
        problem = str(no.params.get("problem") or "template")
        params["problem_words"] = _LETTER_PROBLEMS.get(problem, _LETTER_PROBLEMS["template"]).format(
            appeal=no.params.get("appeal") or "de ombudsman", detail=no.params.get("detail") or "onbekend")
    try:
        return _REFUSALS[no.code].format(**params)
    except (KeyError, IndexError):
        return _PLAIN.get(no.code, _REFUSALS[no.code])
