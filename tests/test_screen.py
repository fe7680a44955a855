"""The screen stage on hand-written machine mail and on human mail that merely looks like it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from triage.addresses import OwnAddresses
from triage.stages.forwards import resolve
from triage.stages.parse import parse
from triage.stages.screen import is_machine_address, screen

FOLDER = Path(__file__).parent / "fixtures" / "screen"
CASES = json.loads((FOLDER / "cases.json").read_text(encoding="utf-8"))
OWN = OwnAddresses(frozenset({"klachten@debrug.example"}), frozenset({"debrug.example"}))


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_screen_fixture(case: dict) -> None:
    result = screen(resolve(parse((FOLDER / case["file"]).read_bytes()), OWN))
    assert result.machine == case["machine"], result.reason
    if case["reason"]:
        assert result.reason.startswith(case["reason"]), result.reason
    else:
        assert result.reason == ""


def test_every_fixture_file_has_a_case() -> None:
    assert {c["file"] for c in CASES} == {p.name for p in FOLDER.glob("*.eml")}


@pytest.mark.parametrize(
    ("addr", "machine"),
    [("MAILER-DAEMON@mx.example", True), ("postmaster@x.nl", True), ("no-reply@x.nl", True),
     ("noreply@x.nl", True), ("do-not-reply@x.nl", True), ("noreen@x.nl", False), ("replyall@x.nl", False),
     ("bounces+123@mail.example", True), ("piet.noreply@x.nl", True), ("klachten@x.nl", False)],
)
def test_machine_addresses(addr: str, machine: bool) -> None:
    assert is_machine_address(addr) == machine
