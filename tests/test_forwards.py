"""The forwards stage on hand-written forwards from each client, in Dutch, English and German."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from triage.addresses import OwnAddresses
from triage.domain import Address, Mail
from triage.stages.forwards import parse_address, parse_loose_date, resolve, strip_subject_prefixes
from triage.stages.parse import parse

FOLDER = Path(__file__).parent / "fixtures" / "forwards"
CASES = json.loads((FOLDER / "cases.json").read_text(encoding="utf-8"))
# The colleagues who forward in the fixtures are trusted as the organisation's config would say
# (its server enforces DMARC); the website form is verified by its Authentication-Results.
STAFF = frozenset(c["forwarder"] for c in CASES if c["forwarder"])
OWN = OwnAddresses(frozenset({"klachten@debrug.example", "info@debrug.example"}), frozenset({"debrug.example"}),
                   authserv_ids=frozenset({"mx1.debrug.example"}), staff=STAFF, dmarc_enforced=True)


def _mail(name: str) -> Mail:
    return parse((FOLDER / name).read_bytes())


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_forward_fixture(case: dict) -> None:
    resolved = resolve(_mail(case["file"]), OWN)
    assert (resolved.forward is not None) == case["is_forward"]
    assert (resolved.forwarded_by.addr if resolved.forwarded_by else None) == case["forwarder"]
    assert (resolved.complainant.addr if resolved.complainant else None) == case["complainant"]
    if case["is_forward"]:
        fwd = resolved.forward
        assert fwd is not None
        assert (fwd.sender.addr if fwd.sender else None) == case["original_from"]
        if case["original_name"]:
            assert fwd.sender is not None and fwd.sender.name == case["original_name"]
        assert fwd.subject == case["original_subject"]
        if case["original_date"]:
            assert fwd.date is not None and fwd.date.date().isoformat() == case["original_date"]
    text = resolved.text
    for phrase in case["text_contains"]:
        assert phrase in text
    for phrase in case.get("text_not_contains", []):
        assert phrase not in text


def test_every_fixture_file_has_a_case() -> None:
    assert {c["file"] for c in CASES} == {p.name for p in FOLDER.glob("*.eml")}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Henk van der Linden <henk@ziggo.nl>", Address("henk@ziggo.nl", "Henk van der Linden")),
        ("Henk van der Linden [mailto:Henk@Ziggo.nl]", Address("henk@ziggo.nl", "Henk van der Linden")),
        ("**Henk** <henk@ziggo.nl>", Address("henk@ziggo.nl", "Henk")),
        ("henk@ziggo.nl", Address("henk@ziggo.nl", "")),
        ('"henk@ziggo.nl" <henk@ziggo.nl>', Address("henk@ziggo.nl", "")),
        ("Henk van der Linden", None),
    ],
)
def test_parse_address(value: str, expected: Address | None) -> None:
    assert parse_address(value) == expected


@pytest.mark.parametrize(
    "value",
    ["dinsdag 3 november 2026 14:12", "Tuesday, November 3, 2026 2:12 PM", "Dienstag, 3. November 2026 14:12",
     "di 3 nov 2026 om 14:12", "Tue, 3 Nov 2026 14:12:00 +0100", "03-11-2026 14:12"],
)
def test_loose_dates_in_three_languages(value: str) -> None:
    parsed = parse_loose_date(value)
    assert parsed is not None and (parsed.year, parsed.month, parsed.day) == (2026, 11, 3)


def test_subject_prefixes_are_stripped() -> None:
    assert strip_subject_prefixes("Re: Fwd: Doorst: WG: Lekkage") == "Lekkage"
