"""The parse stage on hand-written fixtures: encodings, HTML-only and hostile HTML, attachments,
quoted replies and signatures."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mailparser_reply import EmailMessage, EmailReply

from triage.errors import StageError
from triage.stages.html import html_to_text
from triage.stages.parse import decode_header_value, parse
from triage.stages.replies import REPLY_LANGUAGES, read_replies, split_reply

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


@pytest.mark.parametrize("charset", ["undefined", "punycode"])
def test_a_header_in_a_codec_that_is_no_charset_is_kept_raw(charset: str) -> None:
    """Python knows these codecs, but they raise UnicodeError, not UnicodeDecodeError."""
    assert decode_header_value(f"=?{charset}?q?Outlook_16=FF?=") == "Outlook 16\xff"
    raw = (f"From: Els de Boer <els@example.nl>\r\nSubject: Stoep kapot\r\nX-Mailer: =?{charset}?q?Outlook_16=FF?=\r\n"
           "\r\nDe stoep voor ons huis ligt al maanden open.\r\n").encode()
    mail = parse(raw)
    assert dict(mail.headers)["x-mailer"] == "Outlook 16\xff" and mail.sender is not None and "stoep" in mail.text


def test_html_that_both_converters_lose_is_read_between_its_tags() -> None:
    """An unclosed `<![` swallows the rest of the document in inscriptis and in lxml."""
    html = "<html><head><style>p { color: red }</style></head><body><![ Geachte heer, de stoep ligt open.</body>"
    text = html_to_text(html)
    assert "Geachte heer, de stoep ligt open." in text and "color" not in text and "<" not in text


def _corpus_texts() -> Iterator[tuple[Path, str]]:
    """The text of every mail on every corpus: the training corpus, all fixtures, the demo mail
    and, where present, the shared real-world corpus."""
    from conftest import shared_corpus

    root = Path(__file__).resolve().parent.parent
    for folder in (root / "models" / "corpus", root / "tests" / "fixtures", root / "triage" / "demo", shared_corpus()):
        for path in sorted(folder.rglob("*.eml")):
            try:
                yield path, parse(path.read_bytes()).text
            except StageError:
                continue


def _parts(replies: list[EmailReply]) -> list[tuple[str, ...]]:
    return [tuple(" ".join(s.split()) for s in (r.headers, r.body, r.signatures)) for r in replies]


def test_reading_a_bounded_copy_splits_every_corpus_text_as_the_library_does() -> None:
    """mail-parser-reply reads a bounded copy of the text (see read_replies); on every corpus it
    finds the same replies, headers and signatures there as in the whole text, blanks aside."""
    checked = with_header = signed = 0
    for path, text in _corpus_texts():
        library = EmailMessage(text=text, languages=list(REPLY_LANGUAGES), keep_hyphen_lists=True).read().replies
        assert _parts(read_replies(text) or []) == _parts(library), path
        checked += 1
        with_header += len(library) > 1
        signed += any(r.signatures for r in library)
    assert checked > 900 and with_header > 50 and signed > 300


def test_a_long_blank_run_is_split_in_bounded_time() -> None:
    """50 000 blank lines keep mail-parser-reply's signature pattern busy for minutes."""
    started = time.monotonic()
    new, signature, _ = split_reply("Hallo,\n" + "\n" * 50_000 + "De lift is kapot.\n\nMet vriendelijke groet,\nPiet")
    assert time.monotonic() - started < 5
    assert new == "Hallo,\n\nDe lift is kapot." and "Piet" in signature


def test_text_past_the_bound_continues_the_last_part() -> None:
    tail = "P.S. De lift in blok B is ook al weken kapot. " * 400  # past what the library reads
    new, signature, _ = split_reply(f"Hallo,\n\nDe lift is kapot.\n\nMet vriendelijke groet,\nPiet\n\n{tail}")
    assert new == "Hallo,\n\nDe lift is kapot." and signature.endswith(tail.strip())
    new, signature, quoted = split_reply(f"Hallo,\n\n{tail}")
    assert new == f"Hallo,\n\n{tail.strip()}" and not signature and not quoted
