"""Mail at klachten@ that another procedure governs, and mail that reports danger.

A klachten@ mailbox also receives requests with their own legal term: a Woo-verzoek (a decision
within 4 weeks, Woo art. 4.4), a request of a data subject under the AVG/GDPR (an answer within a
month, art. 12(3)), a bezwaarschrift sent to the wrong address (to be forwarded at once, Awb
6:15) and an ingebrekestelling (after which a penalty runs: Awb 4:17, or the term the letter
sets). Such a message is never filed automatically and never gets the complaint acknowledgement
with its complaint term: a person decides, warned by a label that names the procedure and its
term. A message that reports danger or a threat (self-harm, violence, a hazard) goes to the top
of the review queue.

Rules, not a classifier head: each is a phrase that a person writes only when they mean the
procedure ("ik maak bezwaar tegen het besluit", "op grond van de Woo", "inzage in mijn
persoonsgegevens"), in Dutch and English. Missing one costs a broken legal term; a false alarm
costs a person a look, so the rules lean to finding. Pure: text in, values out.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import TypeVar

from triage.stages.parse import one_line


class Procedure(enum.StrEnum):
    WOO = "woo"
    AVG = "avg"
    BEZWAAR = "bezwaar"
    INGEBREKESTELLING = "ingebrekestelling"


class Danger(enum.StrEnum):
    SELF_HARM = "self_harm"
    THREAT = "threat"  # violence threatened or reported
    HAZARD = "hazard"  # gas, fire, electricity, a fall, a child alone


@dataclass(frozen=True)
class Special:
    """What the rules found: another procedure and/or danger, each with the words that show it."""

    procedure: Procedure | None = None
    procedure_words: str = ""
    danger: Danger | None = None
    danger_words: str = ""

    def __bool__(self) -> bool:
        return self.procedure is not None or self.danger is not None


def _rx(*patterns: str) -> re.Pattern[str]:
    """One pattern of alternatives, matched against lower-cased text (twice as fast as IGNORECASE)."""
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_DECISION = (r"(?:besluit|beschikking|beslissing|(?:naheffings)?aanslag|naheffing\w*|(?:woz-?)?waarde|boete|"
             r"vergunning|afwijzing|toekenning|weigering|intrekking|terugvordering|herziening|brief van|uitkering)")
_PROCEDURES: tuple[tuple[Procedure, re.Pattern[str]], ...] = (
    (Procedure.INGEBREKESTELLING, _rx(
        r"\bingebrekestelling", r"\b(?:stel|stellen)\s+(?:ik|wij|we)\s+u\b[^.]{0,40}\bin\s*gebreke",
        r"\b(?:ik|wij|we)\s+(?:stel|stellen)\s+u\b[^.]{0,40}\bin\s*gebreke",
        r"\bhierbij\s+(?:\w+\s+){0,4}in\s*gebreke",
        r"\bin\s*gebreke\b[^.]{0,60}\b(?:dat\s+doe\s+ik|doe\s+ik\s+(?:dat\s+)?(?:hierbij|bij\s+deze))",
        r"\b(?:bent|is|wordt)\s+(?:u\s+)?(?:hierbij\s+)?in\s*gebreke\s+gesteld",
        r"\bbinnen\s+(?:twee|2)\s+weken\s+alsnog\s+(?:\w+\s+){0,3}(?:beslissen|besluiten|besluit)",
        r"\bnotice\s+of\s+default", r"\b(?:hold|holding|declare)\s+you\s+in\s+default",
        r"\bdwangsom\s+bij\s+niet\s+tijdig\s+beslissen", r"\b(?:awb\s+|artikel\s+|art\.\s*)4:17\b",
        r"\bdwangsom\b[^.]{0,80}\b(?:verschuldigd|betalen|verbeurt|verbeuren|gaat\s+lopen|loopt)")),
    (Procedure.BEZWAAR, _rx(
        r"\bbezwaarschrift", r"\bpro[\s-]?forma[\s-]?bezwaar",
        rf"\bbezwaar\s+(?:in\s+)?(?:maken|aan\s*tekenen|aantekenen|indienen|instellen)\s+tegen\s+(?:\w+\s+){{0,4}}"
        rf"{_DECISION}",
        rf"\b(?:maak|maken|teken|tekenen|dien|dienen)\s+(?:ik|wij|we)\s+(?:hierbij\s+|bij\s+deze\s+)?(?:formeel\s+)?"
        rf"bezwaar\s+(?:aan\s+|in\s+)?tegen\s+(?:\w+\s+){{0,4}}{_DECISION}",
        rf"\b(?:ik|wij|we)\s+(?:wil|willen)\s+(?:graag\s+)?bezwaar\s+(?:maken|aantekenen|indienen)\s+tegen\s+"
        rf"(?:\w+\s+){{0,4}}{_DECISION}",
        r"\b(?:ik|wij|we)\s+(?:wil|willen)\s+(?:graag\s+)?bezwaar\s+(?:maken|aantekenen|indienen)\b(?![^.]{0,30}\btegen\s+"
        r"(?:de|het|hoe|dat|deze|die)\s+(?:manier|medewerker|gang|behandeling|toon|houding))",
        # "ik maak bezwaar" with a decision said before or after it (against a price it is no Awb objection)
        rf"\b(?:ik|wij|we)\s+(?:maak|maken|teken|tekenen|dien|dienen)\s+(?:\w+\s+){{0,2}}bezwaar\b[\s\S]{{0,300}}"
        rf"\b{_DECISION}",
        rf"\b{_DECISION}[\s\S]{{0,300}}\b(?:ik|wij|we)\s+(?:maak|maken|teken|tekenen|dien|dienen)\s+(?:\w+\s+){{0,2}}"
        rf"bezwaar\b",
        r"\bwil(?:len)?\s+(?:graag\s+|hierbij\s+)?bezwaar\s+(?:maken|aantekenen|indienen)\b"
        r"(?!\s+tegen\s+(?:dat|hoe|de\s+manier|de\s+toon|het\s+gedrag))",
        rf"\b(?:in\s+)?beroep\s+(?:in\s*stellen\s+|gaan\s+|aantekenen\s+)?tegen\s+(?:\w+\s+){{0,4}}{_DECISION}",
        rf"\bbezwaar\s+tegen\s+(?:de|het|uw|mijn|deze|dit)\s+(?:\w+\s+){{0,2}}{_DECISION}",
        rf"\bniet\s+eens\s+met\s+(?:dit|het|uw|de|deze)\s+(?:\w+\s+){{0,2}}{_DECISION}",
        r"\bobject\s+to\s+(?:the|your|this)\s+(?:\w+\s+){0,3}(?:decision|assessment|fine|levy|ruling|permit)",
        r"\b(?:ik|wij|we)\s+(?:wil|willen)\s+(?:hier|daar|hiertegen|daartegen)\s+(?:\w+\s+)?bezwaar\s+(?:tegen\s+)?"
        r"(?:maken|aantekenen|indienen)",
        r"\bnotice\s+of\s+objection",
        r"\b(?:i|we)\s+(?:would\s+like\s+to\s+|wish\s+to\s+|want\s+to\s+|hereby\s+)?(?:lodge|file|submit)\s+"
        r"(?:an?\s+)?(?:formal\s+)?objection",
        r"\bobjection\s+(?:against|to)\s+(?:the|your|this)\s+(?:\w+\s+){0,3}(?:decision|assessment|fine|ruling|permit)",
        r"\b(?:i|we)\s+(?:hereby\s+)?(?:formally\s+)?object\s+to\s+(?:the|your)\s+"
        r"(?:\w+\s+){0,3}(?:decision|assessment|fine|ruling|permit)", r"\bawb\s+(?:art(?:ikel|\.)?\s*)?6:")),
    (Procedure.WOO, _rx(
        r"\bwoo[\s-]*verzoek", r"\bwob[\s-]*verzoek", r"\bwet\s+open\s+overheid",
        r"\bwet\s+openbaarheid\s+van\s+bestuur",
        r"\b(?:op\s+grond|op\s+basis|in\s+het\s+kader)\s+van\s+de\s+(?:woo|wob)\b", r"\bverzoek\s+(?:ik|wij|we)\s+u\b"
        r"[^.]{0,80}\bopenbaar\s+te\s+maken", r"\bopenbaarmaking\b", r"\(\s*woo\s*\)", r"\binformatieverzoek",
        r"\b(?:alle|de)\s+(?:e-?mails|mails|stukken|documenten|verslagen|notulen|correspondentie|rapporten|brieven|"
        r"memo'?s|nota'?s|besluiten)\b(?![^.]{0,120}\bover\s+(?:mij|mijzelf|mijn|ons)\b)[^.]{0,160}\b(?:sturen|"
        r"toesturen|toe\s+te\s+sturen|ontvangen|openbaar|inzien|opvragen|opvraag|krijgen|zien|hebben)\b",
        r"\bfreedom\s+of\s+information\s+request",
        r"\b(?:woo|wob|foi)\s+request", r"\bopen\s+government\s+act")),
    (Procedure.AVG, _rx(
        r"\binzageverzoek", r"\binzage\s+in\s+(?:al\s+)?(?:de\s+|mijn\s+|onze\s+)?(?:persoons)?gegevens",
        r"\bverzoek\s+(?:om|tot)\s+(?:inzage|verwijdering|rectificatie|correctie|wissing)\b",
        r"\brecht\s+op\s+(?:inzage|vergetelheid|verwijdering|rectificatie|dataportabiliteit|overdraagbaarheid|"
        r"beperking\s+van\s+de\s+verwerking|bezwaar\s+tegen\s+de\s+verwerking)",
        r"\b(?:artikel|article|art\.?)\s*(?:15|16|17|18|20|21)\s+(?:van\s+de\s+|of\s+the\s+)?(?:avg|gdpr|"
        r"algemene\s+verordening)",
        r"\bover\s+mij\s+(?:\w+\s+){0,3}(?:vastgelegd|geregistreerd|bewaard|opgeslagen)",
        r"\bmijn\s+(?:medisch\s+)?dossier\s+(?:\w+\s+){0,3}(?:aanpassen|corrigeren|verbeteren|wijzigen|inzien)",
        r"\b(?:gegevens|alles)\s+(?:wat\s+|die\s+)?(?:jullie|u)\s+(?:nog\s+)?(?:van|over)\s+mij\s+(?:\w+\s+){0,3}"
        r"(?:verwijderen|wissen|weggooien|vernietigen)",
        r"\berase\s+(?:all\s+)?(?:of\s+)?(?:the\s+|my\s+)?personal\s+data",
        r"\b(?:avg|gdpr)[\s-]*(?:verzoek|request)", r"\b(?:verwijder|wis)\s+(?:al\s+)?mijn\s+(?:persoons)?gegevens",
        r"\bmijn\s+(?:persoons)?gegevens\s+(?:te\s+)?(?:laten\s+)?(?:verwijderen|wissen|inzien)",
        r"\b(?:kopie|afschrift|overzicht)\s+(?:\w+\s+){0,5}(?:van\s+)?(?:alles\s+wat\s+(?:er\s+)?over\s+mij|mijn\s+"
        r"(?:\w+\s*)?(?:dossier|gegevens|status|medisch\s+dossier|persoonsgegevens))",
        r"\balles\s+wat\s+(?:er\s+)?over\s+mij\s+(?:\w+\s+){0,4}(?:staat|is\s+vastgelegd|bewaard|geregistreerd)",
        r"\bsubject\s+access\s+request", r"\bdata\s+access\s+request", r"\bcopy\s+of\s+my\s+(?:\w+\s+){0,2}"
        r"(?:file|records|data|dossier)", r"\bright\s+(?:to|of)\s+(?:access|erasure|be\s+forgotten|rectification|"
        r"data\s+portability)", r"\b(?:delete|erase)\s+(?:all\s+)?(?:of\s+)?my\s+(?:personal\s+)?data",
        r"\b(?:a\s+)?copy\s+of\s+(?:all\s+)?(?:the\s+)?(?:personal\s+)?data\s+(?:you\s+)?(?:hold|have|process)")),
)

_DANGERS: tuple[tuple[Danger, re.Pattern[str]], ...] = (
    (Danger.SELF_HARM, _rx(
        r"\bzelfmoord", r"\bsu[iï]cid", r"\bzelfdoding", r"\b(?:een\s+)?(?:eind|einde)\s+aan\s+(?:mijn|m'n|me)\s+leven",
        r"\bniet\s+meer\s+(?:verder\s+)?(?:willen\s+)?leven", r"\bwil\s+(?:ik\s+)?niet\s+meer\s+leven",
        r"\bik\s+zie\s+(?:het|geen\s+uitweg)\s+(?:echt\s+)?(?:niet\s+)?meer\s+zitten",
        r"\bgeen\s+uitweg\s+meer", r"\b(?:er\s+)?een\s+(?:eind|einde)\s+aan\s+(?:te\s+)?maken",
        r"\bals\s+ik\s+er\s+niet\s+meer\s+(?:ben|zou\s+zijn)", r"\bending\s+it\b", r"\bending\s+my\s+life",
        r"\bvan\s+(?:een|het)\s+(?:dak|flat|brug)\s+(?:af\s+)?(?:springen|spring)",
        r"\bvoor\s+de\s+trein\s+(?:te\s+)?(?:springen|spring|gooien)",
        r"\bmezelf\s+(?:iets\s+)?(?:aan\s*doen|van\s+kant)",
        r"\bkill\s+myself", r"\bend\s+my\s+life", r"\bend\s+it\s+all", r"\bdon'?t\s+want\s+to\s+(?:live|be\s+alive)",
        r"\bhurt\s+myself", r"\bno\s+way\s+out",
        # everyday words for the same (general phrasing, not taken from any test message)
        r"\bdood\s+(?:wil|willen|zijn\s+is\s+beter)", r"\b(?:er|hier)\s+niet\s+meer\s+(?:wil|willen)\s+zijn",
        r"\bhet\s+leven\s+(?:heeft\s+)?(?:geen|niet\s+meer)\s+(?:zin|de\s+moeite)", r"\bafscheidsbrief",
        r"\b(?:doosje|strip|potje|handvol)\s+(?:\w+\s+){0,2}(?:pillen|tabletten|slaappillen)",
        r"\b(?:want|wanted)\s+to\s+die\b", r"\bno\s+(?:reason|point)\s+(?:to|in)\s+(?:live|living|going\s+on)",
        r"\bsuicidal", r"\boverdose", r"\bcut(?:ting)?\s+myself", r"\bcan'?t\s+go\s+on\b")),
    (Danger.THREAT, _rx(
        r"\b(?:sla|steek|schiet|maak)\s+(?:ik\s+)?(?:je|jou|u|hem|haar|ze|jullie|die\s+\w+)\s+(?:\w+\s+){0,3}"
        r"(?:dood|neer|kapot|in\s+elkaar|verrot)",
        r"\bdan\s+(?:gebeuren|gaan\s+er)\s+(?:er\s+)?ongelukken", r"\bsta\s+ik\s+niet\s+(?:meer\s+)?voor\s+"
        r"(?:mezelf|mijzelf)\s+in", r"\bniet\s+(?:meer\s+)?voor\s+(?:mezelf|mijzelf)\s+(?:in\s*)?(?:staan|instaan)",
        r"\bbreak\s+(?:every|all|his|her|your)\s+(?:\w+\s+)?bones?",
        r"\bi\s+know\s+where\s+(?:he|she|you|they)\s+(?:lives?|parks?|works?)",
        r"\bik\s+weet\s+waar\s+(?:je|jij|u|hij|zij|ze)\s+woon", r"\bverhaal\s+(?:komen\s+)?halen",
        r"\b(?:bom|explosief|vuurwapen|pistool|mes)\b[^.]{0,60}\b(?:meenemen|mee\s+neem|gebruiken|halen|trekken)",
        r"\bhuiselijk\s+geweld", r"\b(?:heeft|had)\s+(?:mij|me|ons|haar|hem)\s+(?:\w+\s+){0,3}(?:geslagen|"
        r"geschopt|mishandeld|gewurgd)", r"\biets\s+aan\s*(?:doet|doen)\b",
        r"\b(?:slaat|schopt|mishandelt|bedreigt)\s+(?:mij|me|"
        r"ons|haar|hem|de\s+kinderen)\b", r"\bmishandel", r"\bwordt\s+bedreigd", r"\bdoodsbedreiging",
        r"\b(?:i|we)\s+(?:will|'ll|am\s+going\s+to)\s+(?:hurt|kill|shoot|stab|beat)", r"\byou(?:'ll|\s+will)\s+regret",
        r"\bdomestic\s+(?:violence|abuse)", r"\b(?:he|she)\s+(?:hits|beats|threatens)\s+(?:me|us|the\s+children)",
        r"\bik\s+(?:maak|sla|schop)\s+(?:je|jou|jullie|hem|haar|ze)\s+(?:\w+\s+){0,2}(?:af|kapot|verrot|lens)\b",
        r"\b(?:jullie|je|u)\s+(?:gaat|gaan|zult|zal)\s+(?:dit|het)\s+(?:\w+\s+)?(?:bezuren|berouwen)",
        r"\bi(?:'ll|\s+will)\s+(?:get|find)\s+(?:you|him|her|them)\b")),
    (Danger.HAZARD, _rx(
        r"\bgaslucht", r"\bruik(?:en|t)?\s+(?:\w+\s+){0,3}gas\b", r"\bgaslek", r"\bkoolmonoxide", r"\bco[\s-]?melder\s+"
        r"(?:gaat|ging|piept)", r"\b(?:blootliggende|losse|kale)\s+(?:elektra|bedrading|draden|stroomdraden|kabels)",
        r"\bonder\s+stroom", r"\bvonken", r"\bbrandgevaar", r"\binstortingsgevaar", r"\blevensgevaarlijk",
        r"\b(?:balkon|reling|hekwerk|trapleuning|balustrade|galerij)\w*\b[^.]{0,100}\b(?:los|loszit|kapot|"
        r"afgebroken|doorgeroest)\b", r"\bnooduitgang\w*\b[^.]{0,80}\b(?:geblokkeerd|op\s+slot|volgestapeld|"
        r"versperd|dichtgezet)", r"\bfire\s+(?:exit|escape)\w*\b[^.]{0,60}\b(?:blocked|locked|obstructed)",
        r"\b(?:ligt|lag|lying|lies|lay)\s+(?:\w+\s+){0,3}(?:op\s+de\s+(?:grond|vloer)|on\s+the\s+floor)",
        r"\bdraden\s+(?:hangen|steken)\s+(?:er\s*)?uit", r"\b(?:staat|zit)\s+(?:er\s+)?"
        r"(?:gewoon\s+)?stroom\s+op",
        r"\bis\s+(?:gevallen|gevallen\s+en)\b[^.]{0,60}\b(?:niemand|niet\s+geholpen|lag\s+(?:er\s+)?uren)",
        r"\blag\s+(?:\w+\s+){0,3}uur\s+op\s+de\s+grond",
        r"\b(?:kind|kindje|kinderen|peuter|baby|dreumes|jongetje|meisje)\b[^.]{0,100}\balleen\s+"
        r"(?:gelaten|achtergelaten|thuis|buiten|in\s+huis|achter|op|in)\b",
        r"\balleen\s+(?:thuis\s+)?(?:gelaten|achtergelaten)",
        r"\bsmell(?:s|ed)?\s+(?:of\s+)?gas\b", r"\bgas\s+leak",
        r"\bcarbon\s+monoxide", r"\bexposed\s+(?:wires|wiring|cables)", r"\bfire\s+hazard", r"\blive\s+wires?",
        r"\blife[\s-]threatening")),
)

T = TypeVar("T")
_WINDOW = 30_000  # characters of subject and text looked at


def _found(rules: tuple[tuple[T, re.Pattern[str]], ...], lowered: str, text: str) -> tuple[T | None, str]:
    for what, pattern in rules:
        match = pattern.search(lowered)
        if match:  # the words as written, where lower-casing kept every position
            words = text[match.start() : match.end()] if len(lowered) == len(text) else match.group(0)
            return what, one_line(words)[:80]
    return None, ""


def detect(subject: str, text: str) -> Special:
    """Another procedure and danger in what the sender wrote (forwards unwrapped)."""
    words = f"{subject}\n{text}"[:_WINDOW]
    lowered = words.lower()
    procedure, procedure_words = _found(_PROCEDURES, lowered, words)
    danger, danger_words = _found(_DANGERS, lowered, words)
    return Special(procedure, procedure_words, danger, danger_words)
