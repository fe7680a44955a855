"""The attachments of a message: one walk of its MIME tree, forwarded `message/rfc822` parts
included, giving each file its part path ("2.1.3", numbered as IMAP does), a clean name, its type,
size and sha256. The review list and the download both come from this walk, so they cannot differ.
"""

from __future__ import annotations

import email
import email.errors
import email.feedparser
import email.header
import email.message
import hashlib
import mimetypes
import re
from collections.abc import Iterator

from triage.domain import Attachment

MAX_FILES = 200  # a message with more parts lists (and serves) the first 200
MAX_PARTS = 1000  # MIME parts read at most ([parsing] max_parts); the rest of the message stays unread
_CHUNK = 8192  # characters fed to the parser at a time, as the stdlib's own parse feeds them
MAX_DEPTH = 12  # forwards of forwards deeper than this are not opened
_NAME_CHARS = 150
# Bidirectional controls (they make "gpj.exe" read as "exe.jpg"), C0/C1 controls, and the path
# separators a browser would otherwise have to strip.
_UNSAFE = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\x00-\x1f\x7f-\x9f/\\\\]")
_SURROGATE = re.compile("[\udc80-\udcff]")
_ENCLOSED = ("message/rfc822", "message/global")
_BODY_TYPES = ("text/plain", "text/html")


def load(raw: bytes, max_parts: int = MAX_PARTS) -> email.message.Message:
    """The message tree the walk reads (the stdlib's compat32 parse, as mail-parser uses)."""
    return read(raw, max_parts)[0]


def read(raw: bytes, max_parts: int = MAX_PARTS) -> tuple[email.message.Message, bool]:
    """The message tree, and whether it was cut: parsing stops once it has made more than
    `max_parts` parts (a message of 150 000 tiny attachments would take seconds and hundreds of MB
    to parse whole), so the tree holds the parts from the start of the message up to there. Below
    the limit the tree is exactly `email.message_from_bytes(raw)`."""
    made = 0

    def part(**kwargs: object) -> email.message.Message:
        nonlocal made
        made += 1
        return email.message.Message(**kwargs)  # type: ignore[arg-type]

    parser = email.feedparser.FeedParser(part)
    made = 0  # the parser calls its factory once to see whether it takes a policy
    text = raw.decode("ascii", "surrogateescape")
    for start in range(0, len(text), _CHUNK):
        if made > max_parts:
            return parser.close(), True
        parser.feed(text[start:start + _CHUNK])
    return parser.close(), False


def walk(message: email.message.Message) -> tuple[Attachment, ...]:
    """Every file of the message, in tree order."""
    return tuple(file for file, _data in _files(message))


def extract(message: email.message.Message, path: str) -> tuple[Attachment, bytes] | None:
    """The file at part `path` with its bytes (decoded from its transfer encoding), or None."""
    return next(((file, data) for file, data in _files(message) if file.path == path), None)


def clean_name(name: str) -> str:
    """A file name safe to show and to offer for saving: no bidi or other control characters, no
    path separators, one line, bounded length (keeping the extension)."""
    name = _UNSAFE.sub(lambda m: "_" if m.group() in "/\\" else "", " ".join(name.split()))
    name = " ".join(name.split()).strip(". ")
    if len(name) > _NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        keep = ext[:20] if dot and stem else ""
        name = name[:_NAME_CHARS - (len(keep) + 1 if keep else 0)].rstrip() + ("." + keep if keep else "")
    return name


def _files(message: email.message.Message) -> Iterator[tuple[Attachment, bytes]]:
    count = 0
    for path, part, within in _body(message, "", "", 0):
        if count >= MAX_FILES:
            return
        if _is_file(part):
            data = _content(part)
            yield Attachment(path=path, name=_name(part, path), content_type=part.get_content_type(),
                             size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                             inline=part.get_content_disposition() == "inline", within=within), data
            count += 1


def _leaves(part: email.message.Message, path: str, within: str,
            depth: int) -> Iterator[tuple[str, email.message.Message, str]]:
    """(path, part, path of the enclosing forwarded message or '') for each part that may be a
    file: leaves, and forwarded messages before what they contain."""
    if part.get_content_type() in _ENCLOSED:
        yield path, part, within
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], email.message.Message) and depth < MAX_DEPTH:
            yield from _body(inner[0], path, path, depth + 1)
        return
    if part.get_content_maintype() == "multipart" or part.is_multipart():
        children = part.get_payload()
        if part.get_content_maintype() == "multipart" and isinstance(children, list):
            for number, child in enumerate(children, 1):
                if isinstance(child, email.message.Message):
                    yield from _leaves(child, f"{path}.{number}" if path else str(number), within, depth)
        return  # other message/* types (delivery reports) carry no file
    yield path or "1", part, within


def _body(message: email.message.Message, path: str, within: str,
          depth: int) -> Iterator[tuple[str, email.message.Message, str]]:
    """The parts of a (top-level or forwarded) message: a multipart body's children are numbered
    directly under `path`, a single-part body is `path`.1."""
    if message.get_content_maintype() == "multipart" and message.get_content_type() not in _ENCLOSED:
        yield from _leaves(message, path, within, depth)
    else:
        yield from _leaves(message, f"{path}.1" if path else "1", within, depth)


def _is_file(part: email.message.Message) -> bool:
    """A file, not the text of the message: sent as an attachment, named, or not text at all."""
    if part.get_content_disposition() == "attachment" or part.get_filename():
        return True
    return part.get_content_type() not in _BODY_TYPES and part.get_content_maintype() != "text"


def _content(part: email.message.Message) -> bytes:
    if part.get_content_type() in _ENCLOSED:
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], email.message.Message):
            try:
                return inner[0].as_bytes()
            except (ValueError, LookupError, UnicodeError):
                return b""
        return b""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _name(part: email.message.Message, path: str) -> str:
    name = clean_name(_decoded(_filename(part)))
    if name:
        return name
    extension = mimetypes.guess_extension(part.get_content_type()) or ".bin"
    return f"bijlage-{path}{extension}"


def _filename(part: email.message.Message) -> str:
    """The part's file name. Raw 8-bit bytes in its header (UTF-8, else Windows-1252) are read
    from the raw header: the stdlib would give U+FFFD for each byte."""
    raw = [(k, v) for k, v in part.raw_items() if k.lower() in ("content-disposition", "content-type")]
    if not any(_SURROGATE.search(v) for _k, v in raw):
        return part.get_filename() or ""
    probe = email.message.Message()
    for key, value in raw:
        data = value.encode("utf-8", "surrogateescape")
        try:
            probe[key] = data.decode("utf-8")
        except UnicodeDecodeError:
            probe[key] = data.decode("cp1252", "replace")
    return probe.get_filename() or ""


def _decoded(value: str) -> str:
    """An RFC 2047 encoded name ("=?utf-8?b?...?=") as text."""
    if "=?" not in value:
        return value
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (ValueError, LookupError, UnicodeError, email.errors.HeaderParseError):
        return value
