"""What of an outsider's own words the acknowledgement may repeat: a display name that looks like a
name (else none), and the subject shortened and stripped of links, domains, addresses and long
numbers, so that a forged mail cannot make our letter carry an advertisement or a call to action.

Both are first cut to a few hundred characters, NFKC-normalised (full-width digits and letters become
plain ones), stripped of invisible format characters (zero-width, soft hyphen, bidi controls) and
given plain dashes and dots for their look-alikes; only then does any pattern run, and every pattern
is linear in its input."""

from __future__ import annotations

import re
import unicodedata

from triage.addresses import REFERENCE
from triage.stages.parse import one_line

NAME_MAX = 80  # "Zoë Çelik-van Ommeren" fits many times over; a sentence with a pitch rarely does
NAME_WORDS = 5  # "J.P. van der Berg-de Vries" is five
SUBJECT_MAX = 80
READ_MAX = 300  # what of a subject or name is read at all: only 80 characters are quoted
ELLIPSIS = "…"

# Look-alikes of a dot and of a dash that NFKC leaves alone (it maps U+2024, U+FF0E, U+2011 itself).
_DOTS = "\u00b7\u0387\u05c5\u0701\u0702\u2022\u2027\u2219\u22c5\u2e31\u2e33\u3002\u30fb\uff61\uff65\ua4f8\ua4f9\ufe52"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d\u02d7\u058a\u1400\u1806"
_TO_ASCII = str.maketrans({**dict.fromkeys(map(ord, _DOTS), "."), **dict.fromkeys(map(ord, _DASHES), "-")})


def normalised(text: str) -> str:
    """One line of at most READ_MAX characters: NFKC, no format characters (Cf: zero-width, soft
    hyphen, bidi controls), every Unicode dash a '-' and every dot look-alike a '.'."""
    text = unicodedata.normalize("NFKC", text[: READ_MAX * 4])
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return one_line(text.translate(_TO_ASCII))[:READ_MAX]


# --- names ------------------------------------------------------------------------------------

# One word of a name: "Jan", "d'Ancona", "Jansen-Bakker", "O'Neill", initials "J." / "J.P.", a title
# "Dr."; a trailing comma for "Vries, Jan de".
_NAME_WORD = re.compile(r"(?:[^\W\d_]\.)+,?|[^\W\d_]+(?:['’-][^\W\d_]+)*\.?,?")
_TITLES = frozenset({"dr", "drs", "dhr", "mr", "mw", "mevr", "ir", "ing", "prof", "ds", "mrs", "ms", "jr", "sr", "st"})
# Words that spell out a link or make a pitch: not a part of anyone's name.
_NOT_NAME = frozenset({
    "punt", "dot", "com", "nl", "net", "org", "www", "http", "https", "slash", "uw", "bel", "belt", "bezoek",
    "klik", "gratis", "geld", "euro", "restitutie", "klaar", "direct", "nu", "win", "call", "visit", "free"})


def _script(char: str) -> str:
    """The script a letter belongs to, as the first word of its Unicode name (LATIN, CYRILLIC...)."""
    return unicodedata.name(char, "?").split(" ", 1)[0]


def _name_word_ok(word: str) -> bool:
    if not _NAME_WORD.fullmatch(word):
        return False
    bare = word.rstrip(",")
    letters = bare.replace(".", "")
    if bare.endswith(".") and len(letters) > 1 and "." not in bare[:-1] and letters.lower() not in _TITLES:
        return False  # "Evil." is no abbreviation of a title: "W.W.W. Evil. Com"
    return letters.lower() not in _NOT_NAME and letters.lower() != "www"


def greeting_name(name: str) -> str:
    """`name` when it looks like a person's name, else '' (the letter then says "heer/mevrouw"):
    at most five words, each shaped like a part of a name, all letters of one script."""
    name = normalised(name).strip().strip('"').strip()
    words = name.split()
    if not 2 <= len(name) <= NAME_MAX or not 1 <= len(words) <= NAME_WORDS:
        return ""
    if not all(_name_word_ok(w) for w in words):
        return ""
    if len({_script(c) for c in name if c.isalpha()}) != 1:
        return ""  # a Cyrillic 'о' in a Latin name, a Lisu letter as a dot
    return name


# --- subjects ---------------------------------------------------------------------------------

# A scheme, spaced out or not ("h t t p s : / /"), www., mailto: and what follows up to a blank.
_URL = re.compile(r"(?i)(?:\b[a-z][a-z0-9+.-]{0,20}|\b(?:[a-z] ){2,9}[a-z])\s?:\s?/\s?/\S*"
                  r"|\bwww\d{0,3}\.\S*|mailto:\S*")
_EMAIL = re.compile(r"(?<![^\s<>()\[\]@])[^\s<>()\[\]@]++@[^\s<>()\[\]@]++")
# dotted words and what follows them: a domain when a letter follows its first dot (evil.cоm with
# a Cyrillic о too), a number like 1.250 or 2.0 when not
_DOMAIN = re.compile(r"(?<![\w@.-])[\w-]++(?:\.[\w-]++)++(?:[/?#:]\S*+)?")
# "evil .com", "evil . com": a blank before the dot is no sentence's end
_SPACED_DOMAIN = re.compile(r"(?i)(?<![\w-])[\w-]++ ?\. ?"
                            r"(?:com|net|org|nl|be|eu|de|info|biz|io|co|shop|online|site|xyz|top|app|nu)\b")
# Digits that are one number whatever separates them: blanks, dashes, dots, brackets, slashes, +
_NUMBER = re.compile(r"\+?\d(?:[\s.()/+:-]*+\d)*+")
_DAY = r"(?:0?[1-9]|[12]\d|3[01])[-/.](?:0?[1-9]|1[0-2])[-/.](?:19|20)?\d\d"
_ISO_DAY = r"(?:19|20)\d\d-(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01])"
_DATE = re.compile(rf"(?:{_DAY}|{_ISO_DAY})(?: (?:[01]?\d|2[0-3])[:.][0-5]\d)?")
_OUR_REFERENCE = re.compile(f"({REFERENCE})")
LONGEST_NUMBER = 4  # digits: "Bel 112", "2026", "1234 AB"; five or more are a phone or account number


def _domain(match: re.Match[str]) -> str:
    first_dot = match.group(0).index(".")
    return ELLIPSIS if re.search(r"[^\W\d_]", match.group(0)[first_dot:]) else match.group(0)


def _number(match: re.Match[str]) -> str:
    found = match.group(0)
    if sum(c.isdigit() for c in found) <= LONGEST_NUMBER or _DATE.fullmatch(found):
        return found
    return ELLIPSIS


def _without_numbers(text: str) -> str:
    """Every run of five or more digits replaced by '…'; our own references and dates kept."""
    parts = _OUR_REFERENCE.split(text)  # odd items are references of ours
    return "".join(p if i % 2 else _NUMBER.sub(_number, p) for i, p in enumerate(parts))


def quoted_subject(subject: str, limit: int = SUBJECT_MAX) -> str:
    """The subject as our letter may quote it: one line, links, domains, e-mail addresses and
    numbers of five digits or more replaced by '…', at most `limit` characters, cut at a word."""
    text = normalised(subject)
    text = _EMAIL.sub(ELLIPSIS, _URL.sub(ELLIPSIS, text))
    text = _SPACED_DOMAIN.sub(ELLIPSIS, _DOMAIN.sub(_domain, text))
    text = _without_numbers(text)
    text = re.sub(rf"{ELLIPSIS}(?:[\s.,;:-]*+{ELLIPSIS})++", ELLIPSIS, text)
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
