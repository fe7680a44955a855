"""What of a subject and a display name our letter may repeat (issue 12, F3 and F6): the
attacker's strings, written with look-alike dots and dashes, invisible characters, spaced-out
digits and mixed scripts; and no pattern slows down on a long subject or name."""

from __future__ import annotations

import re
import time

import pytest

from triage.stages import quoting
from triage.stages.quoting import greeting_name, quoted_subject

_LONG_DIGITS = re.compile(r"\d(?:\D{0,3}\d){4}")  # five digits, whatever (up to three characters) between them
_DOMAINISH = re.compile(r"[^\W_]\s*[.·․。．ꓸ]\s*[^\W\d_]{2}")


@pytest.mark.parametrize("subject", [
    "restitutie 450 euro klaar, bel 0900–1234567", "Bel ０９００－１２３４５６７", "Bel 0900\u00ad1234567",
    "Bel 0\u200b9\u200b0\u200b0\u200b-\u200b1\u200b2\u200b3\u200b4\u200b5\u200b6\u200b7", "Bel 0900\u20111234567",
    "Bel 0 9 0 0 1 2 3 4 5 6 7", "Bel 0900 12 34 56 7", "call (020) 1234567", "Bel \u202e765 4321 0090\u202c",
    "Bel ٠٩٠٠١٢٣٤٥٦٧", "Bel +31 20 1234567", "Bel 0031-20-1234567", "Whatsapp 6 1234 5678", "Bel 0900\u20091234567",
    "Uw rekening (IBAN NL91 ABNA 0417 1643 00) is geblokkeerd", "Bel 0900 - 1 2 3 4",
])
def test_no_number_of_five_digits_or_more_is_quoted_whatever_separates_its_digits(subject: str) -> None:
    quoted = quoted_subject(subject)
    assert not _LONG_DIGITS.search(quoted), quoted
    assert not re.search(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2069\u00ad]", quoted)


@pytest.mark.parametrize("subject", [
    "Restitutie via exampleꓸcom/geld", "bezoek evil\u2024com nu", "ga naar evil\u00b7com", "Ga naar evil。com",
    "ga naar evil.c\u043em", "evil.соm", "bezoek evil.co\u200bm nu", "Zie evil.com\u202e", "h t t p s : / / evil . com",
    "ga naar evil .com", "Mail naar geld＠evil.com", "Ga naar xn--80ak6aa92e.com", "t.co/x", "Ga naar evil．com",
    "Zie www . evil . com",
])
def test_no_domain_is_quoted_whatever_stands_for_its_dot(subject: str) -> None:
    quoted = quoted_subject(subject)
    assert not _DOMAINISH.search(quoted) and "evil" not in quoted.lower() and "://" not in quoted, quoted
    assert "/ /" not in quoted and "http" not in quoted.replace(" ", "")


@pytest.mark.parametrize(("subject", "quoted"), [
    ("Klacht van 12-03-2026 14:30 over rekening 123456789", "Klacht van 12-03-2026 14:30 over rekening …"),
    ("Re: Ontvangstbevestiging: Stoep los [KL-2026-000042]", "Re: Ontvangstbevestiging: Stoep los [KL-2026-000042]"),
    ("Bel 112 of 0800, aanslag 2026 van € 1.250", "Bel 112 of 0800, aanslag 2026 van € 1.250"),
    ("Lekkage Beukenlaan 12, 1234 AB", "Lekkage Beukenlaan 12, 1234 AB"),
    ("Ｋｌａｃｈｔ over de ０6", "Klacht over de 06"),
    ("restitutie 450 euro klaar, bel 0900–1234567", "restitutie 450 euro klaar, bel …"),
])
def test_what_is_no_number_or_link_stays(subject: str, quoted: str) -> None:
    assert quoted_subject(subject) == quoted


@pytest.mark.parametrize("name", [
    "Bel nu Gratis Voor Uw Restitutie Van Vierhonderdvijftig Euro Via Onze Site", "Jan exampleꓸcom",
    "Jan example\u2024com", "Jan example\uff0ecom", "J\u200b.\u200bexample", "\u202emoc.live\u202c",
    "Uw Geld Staat Klaar Bezoek Onzesite Punt Nl", "Jan example。com",
    "Dringend, Uw Rekening Wordt Geblokkeerd, Antwoord Direct",
    "Ms. Example.Com", "W.W.W. Evil. Com", "Jan evil .com", "Jan evil. com", "Jan evil ·com",
    "Jan Bezoek Evil Punt Com Slash Geld", "Uw Restitutie Staat Klaar Bel Direct Onze Klantenservice",
    "Uw Restitutie Staat Klaar", "Jаn de Vries",  # a Cyrillic а
])
def test_a_name_that_is_a_sentence_or_a_link_is_not_used(name: str) -> None:
    assert greeting_name(name) == ""


@pytest.mark.parametrize(("name", "used"), [
    ("Jan de Vries", "Jan de Vries"), ("J.P. van der Berg", "J.P. van der Berg"), ("Marco d'Ancona", "Marco d'Ancona"),
    ("Els Jansen-Bakker", "Els Jansen-Bakker"), ("Zoë Çelik-van Ommeren", "Zoë Çelik-van Ommeren"),
    ("Dr. Jansen", "Dr. Jansen"), ("Jan de Vries\u202e", "Jan de Vries"), ("Ｊａｎ", "Jan"),
    ("Vries, Jan de", "Vries, Jan de"), ("Ирина Петрова", "Ирина Петрова"), ("J. van\u00a0Dam", "J. van Dam"),
])
def test_a_name_is_used_normalised(name: str, used: str) -> None:
    assert greeting_name(name) == used


@pytest.mark.parametrize("unit", ["a.", "1-", "a", "1", "a@", "a.b ", "0 ", "h t t p s : / / ", "\u200b1", "aé."])
def test_a_long_subject_or_name_takes_no_time(unit: str) -> None:
    text = unit * (100_000 // len(unit))
    started = time.perf_counter()
    quoted_subject(text), greeting_name(text)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("unit", ["a.", "1-", "a", "1", "a@", "a.b ", "0 ", "h t t p s : / / ", "aé.", "a-", "a "])
def test_every_pattern_is_linear_on_100_kb(unit: str) -> None:
    """Even without the cut to a few hundred characters (which the test above relies on)."""
    text = unit * (100_000 // len(unit))
    patterns = [v for v in vars(quoting).values() if isinstance(v, re.Pattern)]
    assert len(patterns) >= 8
    for pattern in patterns:
        started = time.perf_counter()
        pattern.sub("", text)
        assert time.perf_counter() - started < 0.5, pattern.pattern
