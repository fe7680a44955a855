"""Feature extraction for the classifier: the model sees [subject, text] rows.

`structural` adds cheap signals that word n-grams see poorly: letter form (salutation, closing,
postcode, "Betreft"), register ("u" vs "je"), questions and shouting. It is a plain module-level
function so that a skops file can name it and the loader can trust it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

FEATURE_VERSION = "2"  # 2: features shared by all heads

_WORDS = re.compile(r"\w+", re.UNICODE)
_SIGNALS = [re.compile(p, re.IGNORECASE | re.MULTILINE) for p in (
    r"^\s*(geachte|dear|sehr geehrte)",
    r"(hoogachtend|yours (sincerely|faithfully)|met vriendelijke groet|kind regards)",
    r"\b\d{4}\s?[A-Z]{2}\b",
    r"^\s*(betreft|onderwerp|re|subject)\s*:",
    r"\b(kenmerk|dossiernummer|zaaknummer|klantnummer|polisnummer|ordernummer|referentie)\b",
    r"\b(klachtenregeling|klachtencommissie|klachtenfunctionaris|ombudsman|geschillen\w*|awb|wkkgz|kifid|"
    r"advocaat|schriftelijk\w*|formele?|offici[eë]le?|juridisch\w*|lawyer|ombudsman|formal|official)\b",
)]
_U = re.compile(r"\b(u|uw|hebt u|kunt u)\b", re.IGNORECASE)
_JE = re.compile(r"\b(je|jij|jullie|jouw|jou)\b", re.IGNORECASE)


def _row(subject: str, text: str) -> list[float]:
    words = _WORDS.findall(text)
    n = max(len(words), 1)
    letters = [c for c in text if c.isalpha()]
    caps = sum(c.isupper() for c in letters) / max(len(letters), 1)
    signals = [1.0 if pattern.search(text) else 0.0 for pattern in _SIGNALS]
    return [
        *signals,
        len(_U.findall(text)) / n * 10,
        len(_JE.findall(text)) / n * 10,
        min(text.count("?"), 10) / 10,
        min(text.count("!"), 10) / 10,
        caps,
        np.log1p(n) / 8,
        1.0 if "?" in subject else 0.0,
    ]


def structural(rows: Any) -> np.ndarray:
    """Dense structural features for rows of [subject, text]."""
    data: Sequence[Any] = rows.tolist() if hasattr(rows, "tolist") else rows
    return np.array([_row(str(r[0]), str(r[1])) for r in data], dtype=float)


def rows(pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    """The model's input: an object array of [subject, text]."""
    out = np.empty((len(pairs), 2), dtype=object)
    for i, (subject, text) in enumerate(pairs):
        out[i, 0], out[i, 1] = subject, text
    return out
