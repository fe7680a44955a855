"""The yearly report's themes: the words most cases of a topic use, with Dutch stop words, letter
formulas, digits, e-mail addresses, web addresses and the complainants' own name parts left out, and
only words that at least 5 different cases of at least 5 different complainants share, so that no theme
points at one person."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

MIN_CASES = 5  # a word is a theme only when this many different cases use it
PER_TOPIC = 8
_ADDRESS = re.compile(r"\S+@\S+|\b(?:https?://|www\.)\S+", re.IGNORECASE)
_STREET = re.compile(r"[^\W\d_]+\s+\d{1,5}(?:[\s-]?[a-zA-Z]{1,2})?\b")  # "Kerkstraat 12a": an address
_CLOSING = re.compile(r"^\W*(?:met\s+)?(?:vriendelijke\s+|hartelijke\s+)?groet(?:en)?\b|^\W*(?:mvg|hoogachtend)\b",
                      re.IGNORECASE | re.MULTILINE)  # what follows is a signature: a name, an address
_TOKEN = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*", re.UNICODE)

# A modest stop list (articles, pronouns, auxiliaries, prepositions, conjunctions, adverbs; Dutch, and
# the commonest English ones for mail in English) with the formulas of a letter or a mail, which say
# nothing about where service must improve.
_STOP = """
aan aangezien achter af al alle alleen alles als alsnog altijd ander andere anders ben bij binnen
bijvoorbeeld daar daarna daarom dan dat de deze die dit doch doen door dus een eens eigen elk elke en
enkele er erg even ik had hadden heb hebben heeft hem hen het hier hij hoe hoewel hun iemand iets
ik in is ja je jij jou jullie kan kon kunnen kunt maar me meer men met mij mijn moet moeten na naar
namelijk niet niets nog nu of om omdat ons onze ook op over reeds samen sinds sommige te tegen toch
tot tussen u uit uw van veel voor vooral waar waarom wanneer want waren was wat we weer wel welke
werd werden wie wij wil willen word worden wordt zal ze zelf zich zij zijn zo zonder zou zouden
geen nooit steeds al hele heel graag gewoon helemaal echter wel weet weten gaan gaat ging gingen
komen komt kwam zien zag zegt zeggen gezegd gedaan laten laat liet moest mocht mag mogen zullen
zeer vandaag gisteren morgen week weken dag dagen maand maanden jaar keer tijd nu toen daarbij
daarvan daarover hierbij hiervan waarbij waarvan jullie wie welk zoals dus ongeveer vanaf
geachte beste heer mevrouw dames heren hallo hoi goedemorgen goedemiddag goedenavond groet groeten
vriendelijke hartelijke met alvast bij voorbaat dank dankjewel bedankt hoogachtend mvg gr
graag reactie antwoord vraag vragen klacht klachten mail e-mail email bericht brief re fw fwd
gemeente verzonden onderwerp haar hem ruim maken gemaakt krijgen gekregen nodig goed via inmiddels
januari februari maart april mei juni juli augustus september oktober november december
maandag dinsdag woensdag donderdag vrijdag zaterdag zondag
twee drie vier vijf zes tien eerste tweede derde nieuwe nieuw kreeg krijg staat stond sta lijkt
hebt heeft wilt zit zat ligt lag doet deed zoveel zodat waardoor terwijl daardoor alweer opnieuw
bijna echt gebeurt gebeurd langs weg mensen dien formele vanochtend vanmorgen vanmiddag vanavond uur
the and for that this with was were are have has had not but you your our they them their there here
what when where which who why how about after before from into out over again also any some all can
could would should will just been being does did done dear regards sincerely kind thanks thank please
hello very much more most other than then too only own same such
"""
STOP_WORDS = frozenset(_STOP.split())


def words(text: str) -> set[str]:
    """The distinct words of one text that may be themes: lower case; no signature (from a closing
    greeting on), no e-mail or web addresses, no word followed by a (house) number, no stop words,
    none with a digit, none shorter than 3 letters."""
    closing = _CLOSING.search(text)
    if closing is not None:
        text = text[:closing.start()]
    out = set()
    for token in _TOKEN.findall(_STREET.sub(" ", _ADDRESS.sub(" ", text)).lower()):
        if len(token) >= 3 and not any(c.isdigit() for c in token) and token not in STOP_WORDS:
            out.add(token)
    return out


def name_parts(*values: str) -> set[str]:
    """The lower-cased parts of names and address local parts ('Karin Smit', 'k.smit@x.nl')."""
    parts = set()
    for value in values:
        local = value.split("@", 1)[0] if "@" in value else value
        parts |= {p for p in re.split(r"[\W_]+", local.lower()) if p}
    return parts


def themes(texts: Iterable[tuple[str | None, str, str]], names: set[str]) -> dict[str | None, list[tuple[str, int]]]:
    """Per topic, its most used words with the number of cases using each (most first, then A-Z).
    `texts`: (topic, text, who) per case, `who` the complainant ('' if unknown: then the case is
    its own). Only words of at least `MIN_CASES` cases from as many complainants, never one of `names`."""
    per_topic: dict[str | None, Counter[str]] = defaultdict(Counter)
    people: dict[tuple[str | None, str], set[str]] = defaultdict(set)
    for i, (topic, text, who) in enumerate(texts):
        found = words(text) - names
        per_topic[topic].update(found)
        for word in found:
            people[topic, word].add(who or f"case {i}")
    out: dict[str | None, list[tuple[str, int]]] = {}
    for topic, counts in per_topic.items():
        common = sorted(((w, n) for w, n in counts.items() if n >= MIN_CASES and len(people[topic, w]) >= MIN_CASES),
                        key=lambda item: (-item[1], item[0]))
        if common:
            out[topic] = common[:PER_TOPIC]
    return out
