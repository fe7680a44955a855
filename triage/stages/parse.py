"""Parse raw message bytes into a `Mail`: headers, addresses, date, readable text, attachments.

mail-parser does the MIME work, inscriptis turns HTML into text, mail-parser-reply separates the
new text from quoted history and signature. Anything unreadable is decoded leniently, never raised.
"""

from __future__ import annotations

import email.header
import email.message
import email.utils
import re
from datetime import UTC, datetime

import mailparser

from triage.domain import Address, Mail
from triage.errors import StageError
from triage.stages.attachments import MAX_PARTS, read
from triage.stages.attachments import walk as attachments_of
from triage.stages.budget import NEVER, Deadline
from triage.stages.html import html_to_text
from triage.stages.replies import split_reply

_MSGID = re.compile(r"<[^<>\s]+>")
_SURROGATE = re.compile("[\udc80-\udcff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: str) -> str:
    """Text safe to store anywhere: no NUL or control characters, no lone surrogates."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub("", text)


def one_line(text: str) -> str:
    """Header values as one line: CR/LF and runs of white space folded to one space."""
    return " ".join(clean(text).split())


def decode_header_value(value: object) -> str:
    """Decode an RFC 2047 header (or raw 8-bit bytes in one) into readable text."""
    if isinstance(value, email.header.Header):
        parts = email.header.decode_header(value)
    else:
        raw = str(value)
        if "=?" not in raw and raw.isascii():  # nothing to decode: the common case, made quick
            return one_line(raw)
        if _SURROGATE.search(raw):  # 8-bit bytes kept as surrogates
            return one_line(_bytes_to_text(raw.encode("utf-8", "surrogateescape")))
        try:
            parts = email.header.decode_header(raw)
        except (ValueError, LookupError, AssertionError):
            return one_line(raw)
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            try:
                out.append(chunk.decode(charset or "ascii"))
            except (LookupError, ValueError):  # an unknown charset, or a codec that is no charset
                out.append(_bytes_to_text(chunk))  # ('undefined', 'punycode' raise UnicodeError)
        else:
            out.append(chunk)
    joined = "".join(out) if all(c for _, c in parts) else " ".join(o.strip() for o in out if o.strip())
    return one_line(joined)


MIN_LETTERS = 20  # fewer letters than this in subject and text is nothing to classify or answer
_LETTER = re.compile(r"[^\W\d_]")
_VISIBLE = re.compile(r"\S")


def readable_letters(text: str) -> tuple[int, bool]:
    """The letters in `text` (its first 20 000 characters), and whether it is text a person or
    the model could read: at least MIN_LETTERS letters, and at least half of what is not blank
    (not binary, replacement characters, markup or symbols)."""
    head = text[:20_000]
    letters = len(_LETTER.findall(head))
    return letters, letters >= MIN_LETTERS and 2 * letters >= len(_VISIBLE.findall(head))


def _bytes_to_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")




def _address(pair: tuple[str, str] | None) -> Address | None:
    if not pair:
        return None
    name, addr = pair
    addr = one_line(addr).strip("<> ")
    if "@" not in addr:
        return None
    return Address(addr=addr, name=one_line(name).strip("\"' "))


def _addresses(value: object) -> tuple[Address, ...]:
    if not isinstance(value, list):
        return ()
    found = (_address(p) for p in value if isinstance(p, tuple) and len(p) == 2)
    return tuple(a for a in found if a)


def _date(mp: mailparser.MailParser) -> datetime | None:
    value = mp.date
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _rfc822_parts(mp: mailparser.MailParser) -> tuple[bytes, ...]:
    parts = []
    for part in mp.message.walk():
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                try:
                    parts.append(inner[0].as_bytes())
                except Exception:  # a broken inner message is not worth a crash: skip it
                    continue
        if len(parts) >= 5:
            break
    return tuple(parts)


_RAW_HEADERS = frozenset({"authentication-results"})  # RFC 8601: never encoded; matched as the server wrote it


def _headers(mp: mailparser.MailParser) -> tuple[tuple[str, str], ...]:
    out = []
    for (name, value), (_, raw) in zip(mp.message.items()[:500], mp.message.raw_items(), strict=False):
        key = str(name).strip().lower()
        out.append((key, (one_line(str(raw)) if key in _RAW_HEADERS else decode_header_value(value))[:4000]))
    return tuple(out)


def _raw_values(mp: mailparser.MailParser, name: str) -> list[str]:
    """Every field `name` as written (not RFC 2047-decoded), 8-bit bytes read as text."""
    values = [str(v) for k, v in mp.message.raw_items() if str(k).strip().lower() == name]
    return [_bytes_to_text(v.encode("utf-8", "surrogateescape")) if _SURROGATE.search(v) else v for v in values]


def _from_count(mp: mailparser.MailParser, froms: list[tuple[str, str]]) -> int:
    """The mailboxes of the From field; the number of From fields when there are several."""
    fields = len(_raw_values(mp, "from"))
    return len(froms) if fields == 1 else fields


def _message(data: bytes, max_parts: int) -> tuple[email.message.Message, bool]:
    """The stdlib message mail-parser works on, and whether it was cut after `max_parts` parts.
    A multipart whose start boundary is missing has epilogue None, which mail-parser 4.x cannot
    handle: give it an empty one."""
    message, cut = read(data, max_parts)
    if message.is_multipart() and message.epilogue is None:
        message.epilogue = ""
    return message, cut


def _text(mp: mailparser.MailParser, max_text_chars: int) -> tuple[str, bool]:
    """The readable text (the plain parts, else the HTML made text), and whether it was HTML only."""
    plain = "\n\n".join(p for p in mp.text_plain if p.strip())
    html = "\n".join(mp.text_html)
    html_only = not plain.strip() and bool(html.strip())
    text = plain if plain.strip() else (html_to_text(html) if html.strip() else "")
    return clean(text.replace("\r\n", "\n"))[:max_text_chars], html_only


def parse(raw: bytes, *, max_bytes: int = 25 * 1024 * 1024, max_text_chars: int = 200_000,
          max_parts: int = MAX_PARTS, deadline: Deadline = NEVER) -> Mail:
    """Parse `raw`. Messages over `max_bytes` are parsed from their head only (`truncated`), of
    more than `max_parts` MIME parts up to there (`parts_cut`); once `deadline` has passed the
    text is not split into new text, signature and quoted history."""
    truncated = len(raw) > max_bytes
    data = raw[:max_bytes] if truncated else raw
    try:
        message, parts_cut = _message(data, max_parts)
        mp = mailparser.MailParser(message)
    except Exception as exc:  # mail-parser raises many types on broken input
        raise StageError("parse", f"mail-parser could not read the message: {exc}") from exc
    if mp.message is None:
        raise StageError("parse", "the message is empty")
    text, html_only = _text(mp, max_text_chars)
    new_text, signature, quoted = (text.strip(), "", "") if deadline.passed() else split_reply(text)
    froms = mp.from_ if isinstance(mp.from_, list) else []
    references = tuple(_MSGID.findall(one_line(str(mp.references or ""))))
    in_reply_to = next(iter(_MSGID.findall(one_line(str(mp.in_reply_to or "")))), "")
    defects = tuple(sorted(str(c) for c in mp.defects_categories))
    return Mail(
        message_id=one_line(str(mp.message_id or "")),
        subject=decode_header_value(mp.message.get("subject", "")),
        sender=_address(froms[0]) if froms else None,
        from_count=_from_count(mp, froms),
        reply_to=next(iter(_addresses(mp.reply_to)), None),
        reply_to_all=_addresses(email.utils.getaddresses(_raw_values(mp, "reply-to"))),
        to=_addresses(mp.to),
        cc=_addresses(mp.cc),
        date=_date(mp),
        in_reply_to=in_reply_to,
        references=references,
        headers=_headers(mp),
        content_type=mp.message.get_content_type(),
        text=text,
        new_text=new_text,
        quoted=quoted,
        signature=signature,
        html_only=html_only,
        attachments=attachments_of(mp.message),
        size=len(raw),
        truncated=truncated,
        parts_cut=parts_cut,
        defects=defects,
        rfc822_parts=_rfc822_parts(mp),
    )
