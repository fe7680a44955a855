"""The parse stage on hand-written fixtures: encodings, HTML-only and hostile HTML, attachments,
quoted replies and signatures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from mailparser_reply.parser import EmailMessage

from triage.errors import StageError
from triage.stages.parse import (
    REPLY_LANGUAGES,
    decode_header_value,
    html_to_text,
    maybe_quote_header,
    parse,
    quick_signature,
    split_reply,
)

FOLDER = Path(__file__).parent / "fixtures" / "encodings"
CASES = json.loads((FOLDER / "cases.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_parse_fixture(case: dict) -> None:
    mail = parse((FOLDER / case["file"]).read_bytes())
    if case["subject"] is not None:
        assert mail.subject == case["subject"]
    if case["from"] is not None:
        assert mail.sender is not None and mail.sender.addr == case["from"]
    if case.get("from_name"):
        assert mail.sender is not None and mail.sender.name == case["from_name"]
    for phrase in case["text_contains"]:
        assert phrase in mail.text
    own_words = mail.new_text + "\n" + mail.signature  # the text without quoted history
    for phrase in case.get("text_not_contains", []):
        assert phrase not in own_words
    for phrase in case.get("new_text_not_contains", []):
        assert phrase not in mail.new_text
    if "attachments" in case:
        got = sorted((a.name, a.content_type, a.size) for a in mail.attachments)
        assert got == sorted((a["name"], a["type"], a["size"]) for a in case["attachments"])
    assert "\x00" not in mail.text


def test_every_fixture_file_has_a_case() -> None:
    assert {c["file"] for c in CASES} == {p.name for p in FOLDER.glob("*.eml")}


def test_html_only_mail_is_marked_and_readable() -> None:
    mail = parse((FOLDER / "html-only.eml").read_bytes())
    assert mail.html_only and "<" not in mail.text


def test_size_limit_reads_only_the_head() -> None:
    raw = b"From: a@b.nl\r\nSubject: groot\r\n\r\n" + b"lekkage " * 10_000
    mail = parse(raw, max_bytes=2048)
    assert mail.truncated and mail.size == len(raw) and mail.subject == "groot"
    assert len(mail.text) < 2048


def test_text_is_capped() -> None:
    mail = parse(b"Subject: x\r\n\r\n" + b"a" * 50_000, max_text_chars=1000)
    assert len(mail.text) == 1000


def test_header_injection_is_folded_to_one_line() -> None:
    mail = parse(b"Subject: =?utf-8?q?kapot=0D=0ABcc=3A_evil=40x=2Enl?=\r\nFrom: a@b.nl\r\n\r\nhoi\r\n")
    assert "\n" not in mail.subject and "\r" not in mail.subject


def test_raw_8bit_header_in_windows_1252() -> None:
    assert decode_header_value("caf\udce9 \udc80") == "café €"


def test_deeply_nested_html_does_not_crash() -> None:
    html = "<div>" * 5000 + "De lift is kapot" + "</div>" * 5000
    assert "De lift is kapot" in html_to_text(html)


def test_reply_split_dutch() -> None:
    new, signature, quoted = split_reply(
        "Dat klopt niet.\n\nMet vriendelijke groet,\nPiet\n\nOp 2 nov. 2026 om 10:15 schreef De Brug:\n> Uw melding"
    )
    assert new == "Dat klopt niet." and "Piet" in signature and "Uw melding" in quoted


def test_empty_message_is_a_stage_error_or_parses() -> None:
    try:
        mail = parse(b"")
    except StageError as exc:
        assert exc.stage == "parse"
    else:
        assert mail.subject == "" and mail.sender is None


def test_a_broken_marked_section_does_not_stop_the_html() -> None:
    assert "hallo" in html_to_text("<p>hallo <![ wereld</p>")


def _library_messages() -> Iterator[tuple[Path, EmailMessage]]:
    """mail-parser-reply's own message (unpatched) for the text of every mail on every corpus: the
    training corpus, all fixtures, the demo mail and, where present, the shared real-world corpus."""
    from conftest import shared_corpus

    root = Path(__file__).resolve().parent.parent
    for folder in (root / "models" / "corpus", root / "tests" / "fixtures", root / "triage" / "demo", shared_corpus()):
        for path in sorted(folder.rglob("*.eml")):
            try:
                text = parse(path.read_bytes()).text
            except StageError:
                continue
            yield path, EmailMessage(text=text, languages=list(REPLY_LANGUAGES), keep_hyphen_lists=True)


def test_quote_header_prefilter_never_hides_a_header() -> None:
    """The cheap pre-check before mail-parser-reply's header search passes every text in which
    that search finds a header."""
    checked = with_header = 0
    for path, message in _library_messages():
        if message.HEADER_REGEX.findall(message.text):
            with_header += 1
            assert maybe_quote_header(message.text), path
        checked += 1
    assert checked > 900 and with_header > 50


def test_quick_signature_pattern_finds_what_the_library_finds() -> None:
    """Same signatures as mail-parser-reply's own pattern (see quick_signature)."""
    checked = signed = 0
    for path, message in _library_messages():
        theirs = message.SIGNATURE_REGEX.search(message.text)
        ours = quick_signature(message.SIGNATURE_REGEX).search(message.text)
        assert (theirs.group() if theirs else None) == (ours.group() if ours else None), path
        assert quick_signature(message.SIGNATURE_REGEX) is not message.SIGNATURE_REGEX  # the tail was found
        checked += 1
        signed += bool(theirs)
    assert checked > 900 and signed > 300
