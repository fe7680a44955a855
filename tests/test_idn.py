"""Every address has one form from the moment it is read (lower case, the domain as IDNA A-labels
after UTS 46 mapping): full-width letters, U-labels, A-labels and capitals name one recipient for
the rate limit, the check for our own addresses, storage and threading."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from triage.addresses import OwnAddresses, rate_key
from triage.config.organisation import Acknowledge
from triage.domain import Address
from triage.idn import canonical, envelope, header_form
from triage.reasons import Code
from triage.stages.acknowledge import suppressed
from triage.stages.forwards import parse_address
from triage.stages.parse import parse

# One mailbox, spelled as a sender can spell it in a header (full-width letters, an ideographic full
# stop, capitals, a zero-width space: each maps to example.nl under UTS 46).
SPELLINGS = ["victim@example.nl", "victim@ｅxample.nl", "victim@eｘample.nl", "Victim@EXAMPLE.NL",
             "victim@example。nl", "victim@ｅｘａｍｐｌｅ．ｎｌ", "victim@exam\u200bple.nl", "VICTIM@ExAmPlE.nL"]
OWN = OwnAddresses(frozenset({"klachten@lindendal.example"}), frozenset({"lindendal.example", "gemeente-weiß.example"}))


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_of_an_address_is_one_address_and_one_rate_key(spelling: str) -> None:
    assert canonical(spelling) == "victim@example.nl"
    assert rate_key(spelling) == "victim@example.nl"


@pytest.mark.parametrize(("spelling", "form"), [
    ("jöhn@exämple.nl", "jöhn@xn--exmple-cua.nl"),  # the local part is left as it is, in lower case
    ("Sanne@TUINEN-WEISS.nl", "sanne@tuinen-weiss.nl"),
    ("sanne@tuinen-weiß.nl", "sanne@xn--tuinen-wei-f4a.nl"),  # IDNA 2008: ß stays ß
    ("sanne@XN--TUINEN-WEI-F4A.NL", "sanne@xn--tuinen-wei-f4a.nl"),
    ("piet@regen☂.nl", "piet@regen☂.nl"),  # no valid international name: kept, refused when acknowledged
    ("geen-adres", "geen-adres"),
])
def test_a_domain_is_written_as_lower_case_a_labels(spelling: str, form: str) -> None:
    assert canonical(spelling) == form


def test_the_parser_gives_addresses_in_their_one_form() -> None:
    raw = ("From: Formulier <noreply@Formulieren.Example>\nReply-To: P. de Boer <victim@ｅxample.nl>\n"
           "To: klachten@ｌindendal.example\nCc: Burgerzaken <burgerzaken@LINDENDAL.example>\n"
           "Subject: Klacht parkeervergunning\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
           "Content-Transfer-Encoding: 8bit\n\nIk wil een klacht indienen over mijn parkeervergunning.\n")
    mail = parse(raw.encode())
    assert mail.sender is not None and mail.sender.addr == "noreply@formulieren.example"
    assert mail.reply_to == Address("victim@example.nl", "P. de Boer")
    assert [a.addr for a in mail.reply_to_all] == ["victim@example.nl"]
    assert [a.addr for a in mail.to + mail.cc] == ["klachten@lindendal.example", "burgerzaken@lindendal.example"]
    quoted = parse_address("M. Jansen <m.jansen@ｅxample.nl>")  # the original sender of an inline forward
    assert quoted == Address("m.jansen@example.nl", "M. Jansen")


@pytest.mark.parametrize("spelling", ["klachten@ｌindendal.example", "KLACHTEN@lindendal.example",
                                      "medewerker@lindendal。example", "info@xn--gemeente-wei-w9a.example",
                                      "info@GEMEENTE-WEIß.example"])
def test_our_own_address_is_ours_however_it_is_spelled(spelling: str) -> None:
    assert OWN.is_own(spelling)
    now = datetime(2026, 12, 3, 10, tzinfo=UTC)
    why = suppressed(Address(spelling), OWN, now, now, Acknowledge(), 0)
    assert why is not None and why.code == Code.OWN_ADDRESS


def test_the_acknowledgement_goes_to_the_a_label_envelope_and_shows_the_domain_as_people_read_it() -> None:
    assert envelope("jöhn@xn--exmple-cua.nl") == "jöhn@xn--exmple-cua.nl"
    assert header_form("jöhn@xn--exmple-cua.nl") == "jöhn@exämple.nl"  # in UTF-8 anyway (SMTPUTF8)
    assert header_form("sanne@xn--tuinen-wei-f4a.nl") == "sanne@xn--tuinen-wei-f4a.nl"  # ASCII: no SMTPUTF8
