"""Dutch wording for the reasons the pipeline records in English (logs and database stay English)."""

from __future__ import annotations

import re

HEADS = {"kind": "soort", "topic": "onderwerp", "formality": "vorm"}
VALUES = {"complaint": "klacht", "question": "vraag", "product": "product", "service": "dienstverlening",
          "staff": "medewerker", "formal": "formeel", "informal": "informeel"}
_UNSURE = re.compile(r"\b(kind|topic|formality) (\d\.\d+) < (\d\.\d+)")
_LABELS = re.compile(r"\b(complaint|question)/(product|service|staff)/(formal|informal)\b")
_PHRASES = [
    (re.compile(r"^unsure: "), "onzeker over "),
    (re.compile(r"\bno classification model\b"), "nog geen classificatiemodel"),
    (re.compile(r"\bnobody to answer\b"), "niemand om te antwoorden"),
    (re.compile(r"\bforwarded by\b"), "doorgestuurd door"),
    (re.compile(r"\bmessage of (\d+) bytes is over the size limit; only its head was read\b"),
     r"bericht van \1 bytes is te groot; alleen het begin is gelezen"),
    (re.compile(r"^(\w+) failed\b"), r"verwerking mislukt (\1)"),
    (re.compile(r"^auto-submitted: "), "automatisch verstuurd: "),
    (re.compile(r"^x-autoreply\b"), "automatisch antwoord"),
    (re.compile(r"^x-auto-response-suppress: "), "automatisch bericht: "),
    (re.compile(r"^precedence: "), "bulkmail: "),
    (re.compile(r"^list: "), "mailinglijst: "),
    (re.compile(r"^dsn: "), "bezorgbericht: "),
    (re.compile(r"^machine-sender: "), "afzender is een systeem: "),
    (re.compile(r"^out-of-office: "), "afwezigheidsmelding: "),
    (re.compile(r"^identical bytes to message (\d+)( of )?"), r"hetzelfde bericht als bericht \1\2"),
    (re.compile(r"^reply in ([A-Z0-9-]+) \((\w[\w -]*)\)"), r"reactie op \1"),
    (re.compile(r"\bbounce of the acknowledgement of\b"), "onbestelbare bevestiging van"),
    (re.compile(r"\(model "), "(model "),
]


def reason(text: str | None) -> str:
    """'unsure: topic 0.54 < 0.73' → 'onzeker over onderwerp (54%, nodig 73%)'."""
    if not text:
        return ""
    out = _UNSURE.sub(lambda m: f"{HEADS[m.group(1)]} ({float(m.group(2)):.0%}, nodig {float(m.group(3)):.0%})",
                      text)
    out = _LABELS.sub(lambda m: "/".join(VALUES[g] for g in m.groups()), out)
    parts = []
    for part in out.split("; "):
        for pattern, replacement in _PHRASES:
            part = pattern.sub(replacement, part)
        parts.append(part)
    return "; ".join(parts)
