"""Reasons are codes with parameters, stored as JSON and rendered once per language."""

from __future__ import annotations

import json

from triage.reasons import Code, Reason, english, loaded, reason, stored, text
from triage.web.words import dutch, reasons

SAMPLES = {
    Code.LABELS: {"kind": "complaint", "topic": "service", "formality": "formal", "model": "1"},
    Code.JOINED: {"reference": "KL-2026-000001", "how": "subject"},
    Code.MACHINE: {"rule": "auto-submitted", "detail": "auto-replied"},
    Code.STAGE_FAILED: {"stage": "parse"},
    Code.DUPLICATE: {"of": 3, "reference": "KL-2026-000001"},
    Code.BOUNCE_OF: {"references": ["KL-2026-000001"]},
    Code.UNSURE: {"heads": [["topic", 0.54, 0.73]]},
    Code.NOBODY_TO_ANSWER: {"cause": "no_sender"},
    Code.TOO_LARGE: {"size": 5000},
    Code.REFERENCE_UNKNOWN: {"reference": "KL-2026-000999"},
    Code.REFERENCE_OTHER_SENDER: {"reference": "KL-2026-000001", "sender": "kees@example.net"},
    Code.NO_USABLE_TEXT: {"letters": 3},
    Code.TIME_BUDGET: {"stage": "parse", "seconds": 5.0},
    Code.TOO_MANY_PARTS: {"limit": 1000},
    Code.UNKNOWN_WORDS: {"words": 12, "known": 3},
    Code.OTHER_PROCEDURE: {"procedure": "woo", "words": "Woo-verzoek", "term": "4 weeks", "due": "2027-01-05"},
    Code.DANGER: {"danger": "hazard", "words": "gaslucht"},
    Code.FORWARDED_BY: {"address": "a@b.nl", "via": "outlook"},
    Code.REPLY_TO: {"address": "a@b.nl"},
    Code.REPLY_TO_IGNORED: {"address": "a@b.nl"},
    Code.UNDELIVERABLE: {"address": "x"},
    Code.OWN_ADDRESS: {"address": "klachten@b.nl"},
    Code.MACHINE_ADDRESS: {"address": "noreply@b.nl"},
    Code.BACKLOG: {"received": "2026-01-01", "days": 7.0},
    Code.RATE_LIMITED: {"count": 3, "address": "a@b.nl"},
    Code.RENDER_FAILED: {"error": "UndefinedError: x"},
    Code.REPLY_TO_OUR_MAIL: {"reference": "KL-2026-000001"},
    Code.HELD: {"count": 60, "limit": 60},
    Code.HELD_NOT_SENT: {"user": "coordinator"},
    Code.NO_SMTPUTF8: {"address": "jöhn@xn--exmple-cua.nl"},
}


def test_every_code_reads_in_english_and_dutch() -> None:
    for code in Code:
        item = Reason(code, SAMPLES.get(code, {}))
        assert english(item) and dutch(item), code
        assert english(item) != dutch(item) or code == Code.JOINED, code


def test_english_is_the_stable_text_the_logs_and_tests_read() -> None:
    assert english(reason(Code.MACHINE, rule="auto-submitted", detail="auto-replied")) == "auto-submitted: auto-replied"
    assert english(reason(Code.MACHINE, rule="x-autoreply", detail="")) == "x-autoreply"
    assert text([reason(Code.UNSURE, heads=[["topic", 0.54, 0.73]]), reason(Code.FORWARDED_BY, address="a@b.nl",
                                                                               via="outlook")]) == \
        "unsure: topic 0.54 < 0.73; forwarded by a@b.nl (outlook)"


def test_codes_survive_a_json_column_and_unknown_codes_are_left_out() -> None:
    items = [reason(Code.UNSURE, heads=[["kind", 0.4, 0.6]]), reason(Code.NO_MODEL)]
    back = loaded(json.loads(json.dumps(stored(items))))
    assert back == items
    assert loaded([["from_a_newer_version", {}], *stored(items)]) == items


def test_the_ui_reads_codes_and_falls_back_to_older_rows_text() -> None:
    assert reasons(stored([reason(Code.UNSURE, heads=[["topic", 0.54, 0.73]])])) == \
        "onzeker over onderwerp (54%, nodig 73%)"
    assert reasons([], "parse failed") == "verwerking mislukt (parse)"
