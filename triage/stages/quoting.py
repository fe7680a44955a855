"""What of an outsider's own words the acknowledgement may repeat: a display name that looks like a
name (else none), and the subject shortened and stripped of links, domains, addresses and phone
numbers, so that a forged mail cannot make our letter carry an advertisement or a call to action."""

from __future__ import annotations

import re

from triage.stages.parse import one_line

NAME_MAX = 80  # "Zoë Çelik-van Ommeren" fits many times over; a sentence with a pitch rarely does
SUBJECT_MAX = 80
ELLIPSIS = "…"

# Letters (any script, accents included), blanks, hyphens, apostrophes, dots after initials and the
# comma of "Vries, Jan de". Nothing else: no digits, no @, no slash, no colon, no brackets.
_NAME = re.compile(r"[^\W\d_]+(?:(?:[ \-'’,]|\.\s?)+[^\W\d_]+)*\.?")
# "example.com", "www.x", "x.nl": a domain; initials are "J.P." or "J. P." (one letter each side)
_WORD_DOT_WORD = re.compile(r"[^\W\d_]{2,}\.[^\W\d_]|[^\W\d_]\.[^\W\d_]{2,}")

_URL = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]{1,20}://|www\d{0,3}\.|mailto:)\S*")
_EMAIL = re.compile(r"[^\s<>()\[\]@]+@[^\s<>()\[\]@]+")
# domain.tld and domain.tld/path: anything a mail client would turn into a link, whatever its case
_DOMAIN = re.compile(r"(?i)(?<![\w@])(?:[\w-]+\.)+[a-z][a-z0-9-]{1,62}(?![\w-])(?:[/?#:]\S*)?")
_PHONE = re.compile(
    r"(?<![\w+-])(?:"
    r"(?:\+|00)\s?\d{1,3}(?:[\s.()/-]*\d){6,14}"  # +31 6 1234 5678, 0031 20 123 4567
    r"|0\d{2,3}[\s./-]*\d(?:[\s./-]*\d){3,}"  # 0900-1234567, 0900 8844, 020-1234567
    r"|0[1-9](?:[\s./-]*\d){8}"  # 06-12345678, 010 123 45 67
    r"|\d(?:[./-]?\d){8,}"  # any other run of nine digits or more (blanks split it: a date and a time)
    r")(?![\w-])")
_DATE = re.compile(r"\d{1,2}[-/.]\d{1,2}[-/.](?:\d{2}|\d{4})")  # 12-03-2026 is a date, not a number to call
_OUR_REFERENCE = re.compile(r"[A-Z][A-Z0-9]{0,9}-\d{4}-\d{6,}")


def greeting_name(name: str) -> str:
    """`name` when it looks like a person's name, else '' (the letter then says "heer/mevrouw")."""
    name = one_line(name).strip().strip('"').strip()
    if not 2 <= len(name) <= NAME_MAX or not _NAME.fullmatch(name) or _WORD_DOT_WORD.search(name):
        return ""
    return name


def _phone(match: re.Match[str]) -> str:
    found = match.group(0)
    return found if _DATE.fullmatch(found.strip()) or _OUR_REFERENCE.search(found) else ELLIPSIS


def quoted_subject(subject: str, limit: int = SUBJECT_MAX) -> str:
    """The subject as our letter may quote it: one line, links, domains, e-mail addresses and phone
    numbers replaced by '…', at most `limit` characters, cut at a word."""
    text = one_line(subject)
    for pattern in (_URL, _EMAIL, _DOMAIN):
        text = pattern.sub(ELLIPSIS, text)
    text = _PHONE.sub(_phone, text)
    text = re.sub(rf"{ELLIPSIS}(?:[\s.,;:-]*{ELLIPSIS})+", ELLIPSIS, text)
    text = re.sub(r"\s+", " ", text).strip()
    if text.strip(f"{ELLIPSIS} .,;:-") == "":
        return ""
    return _shortened(text, limit)


def _shortened(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" .,;:-") + ELLIPSIS
