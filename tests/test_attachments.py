"""The attachment walk: one pass over the MIME tree, forwarded messages included, that gives each
file a part path, a clean name, its type, size and sha256, and finds the same bytes again by path."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from pathlib import Path

import pytest
from web_site import FORWARD_FILES

from triage.domain import Attachment
from triage.stages import attachments as files
from triage.stages.parse import parse

FOLDER = Path(__file__).parent / "fixtures" / "attachments"
ZAZALENIE, FOTO_VOORKANT, FOTO_ACHTERKANT = (FORWARD_FILES[p][1] for p in ("2.2", "2.3", "3"))


def _walk(name: str) -> tuple[Attachment, ...]:
    return files.walk(files.load((FOLDER / name).read_bytes()))


def _summary(found: tuple[Attachment, ...]) -> list[tuple[str, str, str, bool, str]]:
    return [(a.path, a.name, a.content_type, a.inline, a.within) for a in found]


def test_a_forwarded_message_and_the_files_inside_it_get_their_own_paths() -> None:
    found = _walk("forward-nested.eml")
    assert _summary(found) == [
        ("2", "Klacht over bouwhek Kerkstraat.eml", "message/rfc822", False, ""),
        ("2.2", "zażalenie.pdf", "application/pdf", False, "2"),
        ("2.3", "foto.jpg", "image/jpeg", False, "2"),
        ("3", "foto.jpg", "image/jpeg", False, ""),
    ]
    by_path = {a.path: a for a in found}
    assert (by_path["2.2"].size, by_path["2.2"].sha256) == (140, ZAZALENIE)
    assert by_path["2.3"].sha256 == FOTO_VOORKANT and by_path["3"].sha256 == FOTO_ACHTERKANT


def test_extract_finds_the_bytes_of_each_path_even_when_names_repeat() -> None:
    message = files.load((FOLDER / "forward-nested.eml").read_bytes())
    for path, sha in (("2.2", ZAZALENIE), ("2.3", FOTO_VOORKANT), ("3", FOTO_ACHTERKANT)):
        found = files.extract(message, path)
        assert found is not None and found[0].path == path
        assert hashlib.sha256(found[1]).hexdigest() == sha == found[0].sha256
    forwarded = files.extract(message, "2")
    assert forwarded is not None and forwarded[1].startswith(b"From: Agnieszka Kowalczyk")
    assert len(forwarded[1]) == forwarded[0].size
    for not_a_file in ("1", "2.1", "2.1.1", "4", "0", ""):  # the text parts are not files
        assert files.extract(message, not_a_file) is None


def test_inline_images_are_listed_as_inline_and_text_parts_are_not_files() -> None:
    found = _walk("inline-and-odd-names.eml")
    assert [a.path for a in found] == ["1.2", "2", "3", "4"]  # 1.1.1 and 1.1.2 are the text
    image = found[0]
    assert image.inline and image.content_type == "image/png" and image.name == "bijlage-1.2.png"
    assert not any(a.inline for a in found[1:])
    thunderbird = files.walk(files.load((Path(__file__).parent / "fixtures" / "encodings" / "attachments.eml")
                                        .read_bytes()))
    assert [(a.name, a.inline) for a in thunderbird] == [("foto's lekkage.pdf", False), ("druppel.png", True)]


def test_names_in_rfc2231_rfc2047_and_raw_utf8_are_decoded_and_bidi_controls_removed() -> None:
    names = [a.name for a in _walk("inline-and-odd-names.eml")[1:]]
    assert names == ["factuur-loodgieter-gpj.exe",  # RFC 2047, with U+202E (it read "…exe.jpg") removed
                     "Wyjaśnienie szkody.txt",  # RFC 2231 in two continuations
                     "overzicht schade €.xlsx"]  # raw UTF-8 bytes in the header
    assert _walk("forward-nested.eml")[1].name == "zażalenie.pdf"  # RFC 2231, outside Latin-1


@pytest.mark.parametrize(("raw", "clean"), [
    ("rekening\u202efdp.exe", "rekeningfdp.exe"),
    ("\u2066foto\u2069\u200e\u200f\u061c.jpg", "foto.jpg"),
    ("\u202a\u202b\u202c\u202dbrief.pdf", "brief.pdf"),
    ("../../etc/passwd", "_.._etc_passwd"),
    ("C:\\Users\\jan\\klacht.docx", "C:_Users_jan_klacht.docx"),
    ("regel\r\nBcc: x@y.nl", "regel Bcc: x@y.nl"),
    ("  .verborgen  ", "verborgen"),
    ("a" * 300 + ".pdf", "a" * 146 + ".pdf"),
    ("b" * 300, "b" * 150),
])
def test_clean_name(raw: str, clean: str) -> None:
    assert files.clean_name(raw) == clean


def test_a_message_that_is_one_file_and_a_forward_without_multipart() -> None:
    single = EmailMessage()
    single["From"], single["Subject"] = "scanner@example.nl", "Scan"
    single.set_content(b"%PDF-1.4 scan", maintype="application", subtype="pdf", filename="scan.pdf")
    assert _summary(files.walk(files.load(single.as_bytes()))) == [("1", "scan.pdf", "application/pdf", False, "")]
    inner = EmailMessage()
    inner["From"], inner["Subject"] = "bewoner@example.nl", "Stoep"
    inner.set_content("De stoep is kapot.\n")
    outer = EmailMessage()
    outer["From"], outer["Subject"] = "medewerker@example.nl", "Fwd: Stoep"
    outer.set_content("Zie bijlage.\n")
    outer.add_attachment(inner)
    found = files.walk(files.load(outer.as_bytes()))
    assert _summary(found) == [("2", "bijlage-2.eml", "message/rfc822", False, "")]  # 2.1 is its text


def test_a_delivery_report_lists_the_returned_message_only() -> None:
    raw = (Path(__file__).parent / "fixtures" / "screen" / "dsn-report.eml").read_bytes()
    assert [(a.path, a.content_type) for a in files.walk(files.load(raw))] == [("3", "message/rfc822")]


def test_parse_lists_the_walk_and_the_record_round_trips() -> None:
    raw = (FOLDER / "forward-nested.eml").read_bytes()
    mail = parse(raw)
    assert mail.attachments == files.walk(files.load(raw))
    for found in mail.attachments:
        assert Attachment.of_record(found.record()) == found
    assert Attachment.of_record({"name": "oud.pdf", "type": "application/pdf", "size": 12}) is None


def test_files_beyond_the_limit_are_neither_listed_nor_served() -> None:
    msg = EmailMessage()
    msg["From"], msg["Subject"] = "a@example.nl", "Veel foto's"
    msg.set_content("Alle foto's van de straat.\n")
    for n in range(files.MAX_FILES + 5):
        msg.add_attachment(f"foto {n}".encode(), maintype="image", subtype="jpeg", filename=f"foto-{n}.jpg")
    message = files.load(msg.as_bytes())
    assert len(files.walk(message)) == files.MAX_FILES
    assert files.extract(message, str(files.MAX_FILES + 3)) is None
