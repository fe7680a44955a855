"""Parse raw message bytes into a `Mail`: headers, addresses, date, readable text, attachments.

mail-parser does the MIME work, inscriptis turns HTML into text, mail-parser-reply separates the
new text from quoted history and signature. Anything unreadable is decoded leniently, never raised.
"""

from __future__ import annotations

import base64
import binascii
import email.header
import email.message
import email.utils
import logging
import re
from datetime import UTC, datetime

import lxml.etree
import mailparser
from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig
from mailparser_reply import EmailMessage, EmailReply

from triage.domain import Address, Attachment, Mail
from triage.errors import StageError

log = logging.getLogger(__name__)

REPLY_LANGUAGES = ["nl", "en", "de"]
_HTML_CONFIG = ParserConfig(css=CSS_PROFILES["strict"], display_links=False, display_images=False)
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
            except (LookupError, UnicodeDecodeError):
                out.append(_bytes_to_text(chunk))
        else:
            out.append(chunk)
    joined = "".join(out) if all(c for _, c in parts) else " ".join(o.strip() for o in out if o.strip())
    return one_line(joined)


def _bytes_to_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


_HIDDEN = frozenset({"script", "style", "head", "title", "template", "noscript"})
_BLOCK = frozenset({"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "table", "blockquote"})


class _TextTarget:
    """An lxml parser target that keeps the visible text, a line break at each block. libxml2
    hands it every element however deep, where the tree it builds for inscriptis ends at 256
    levels of nesting and drops the text below."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.hidden = 0

    def start(self, tag: str, attrib: object) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def end(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)

    def close(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).split("\n"))
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _plain_text(html: str) -> str:
    """The bare visible text of `html`, as lxml's event parser reads it."""
    try:
        text = lxml.etree.fromstring(html, lxml.etree.HTMLParser(target=_TextTarget()))
    except (lxml.etree.LxmlError, ValueError) as exc:
        log.debug("lxml could not read the HTML either (%s)", exc)
        return ""
    return text if isinstance(text, str) else ""


def html_to_text(html: str) -> str:
    """Visible text of an HTML document (scripts and styles dropped), laid out by inscriptis.
    Where it loses text (markup nested past libxml2's 256 levels) or gives up, the bare text
    that lxml's event parser reads takes its place."""
    try:
        text = get_text(html, _HTML_CONFIG)
    except (RecursionError, ValueError, TypeError) as exc:
        log.debug("inscriptis failed (%s); using the bare text", exc)
        text = ""
    plain = _plain_text(html)
    return plain if len(text.split()) < len(plain.split()) // 2 else text


# Quote headers that mail-parser-reply misses: Dutch "Op … schreef Naam <adres>:" and Apple's
# "Op … heeft Naam het volgende geschreven:", which may wrap over up to three lines.
_QUOTE_HEADER = re.compile(
    r"^[ \t]*(?:Op|On|Am)\s[^\n]{0,200}(?:\n[^\n>]{0,200}){0,2}?"
    r"(?:schreef|het volgende geschreven|wrote|schrieb)[^\n]{0,200}:[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)


def _cut_quote_header(text: str) -> tuple[str, str]:
    match = _QUOTE_HEADER.search(text)
    if not match:
        return text, ""
    return text[: match.start()], text[match.start() :]


# mail-parser-reply's patterns backtrack on some input: its signature pattern takes about n² steps
# on a run of n blank characters (50 000 blank lines took over seven minutes), its quote-header
# pattern about n² on a long line that opens with "On", "Op" or "Am". So it reads a bounded copy of
# the text: runs of blanks collapsed, and at most REPLY_INPUT_CHARS characters, cut at a blank
# (the worst text found then costs about 2 s); what it does not read continues its last reply.
# tests/test_parse.py checks on every corpus that this splits every text as the library does on
# the whole of it.
REPLY_INPUT_CHARS = 10_000
_BLANK_RUN = re.compile(r"\s{64,}")  # shorter runs cost little and may be layout (columns)


def _collapse(run: re.Match[str]) -> str:
    return "\n" * min(run.group().count("\n"), 2) or " "


def _bounded(text: str) -> tuple[str, str]:
    """`text` as mail-parser-reply reads it, and the rest, which it does not read."""
    text = _BLANK_RUN.sub(_collapse, text)
    if len(text) <= REPLY_INPUT_CHARS:
        return text, ""
    cut = max(text.rfind("\n", 0, REPLY_INPUT_CHARS), text.rfind(" ", 0, REPLY_INPUT_CHARS))
    cut = cut if cut > REPLY_INPUT_CHARS // 2 else REPLY_INPUT_CHARS  # the rest keeps the blank it starts with
    return text[:cut], text[cut:]


def _continued(replies: list[EmailReply], rest: str) -> list[EmailReply]:
    """`replies` with `rest` added to the last, where the library would have put it: in its
    signature when it has one (a signature runs to the end of its reply), else in its text."""
    last = replies[-1]
    signatures = last.signatures + rest if last.signatures else ""
    return [*replies[:-1], EmailReply(content=last.content + rest, headers=last.headers, signatures=signatures,
                                       disclaimers=last.disclaimers)]


def read_replies(text: str) -> list[EmailReply] | None:
    """mail-parser-reply's replies in `text` (newest first), read from the bounded copy above; None
    when it cannot cope. Its documented EmailMessage, as EmailReplyParser cannot keep hyphen lists."""
    head, rest = _bounded(text)
    try:
        replies = EmailMessage(text=head, languages=list(REPLY_LANGUAGES), keep_hyphen_lists=True).read().replies
    except (RecursionError, re.error):
        return None
    return _continued(replies, rest) if replies and rest.strip() else replies


def first_part(text: str) -> str:
    """The text before any quoted reply or forward header, signature included."""
    text = _cut_quote_header(text)[0]
    if not text.strip():
        return ""
    replies = read_replies(text)
    if not replies or replies[0].headers:
        return text.strip()
    return str(replies[0].full_body)


def split_reply(text: str) -> tuple[str, str, str]:
    """Split body text into (new text, signature, quoted history)."""
    if not text.strip():
        return "", "", ""
    text, quoted_tail = _cut_quote_header(text)
    if not text.strip():
        return "", "", quoted_tail.strip()
    replies = read_replies(text)
    if not replies:
        return text.strip(), "", quoted_tail.strip()
    first = replies[0]
    if first.headers:  # the body opens with a quoted header: there is no new text
        return "", "", "\n\n".join(r.full_body for r in replies).strip()
    new = first.body
    signature = first.signatures
    quoted = "\n\n".join(f"{r.headers}\n{r.full_body}" for r in replies[1:]).strip()
    quoted = f"{quoted}\n\n{quoted_tail}".strip()
    if not new and not quoted:  # everything looked like a signature: keep the text
        return first.content, "", ""
    return new, signature, quoted


def _address(pair: tuple[str, str] | None) -> Address | None:
    if not pair:
        return None
    name, addr = pair
    addr = one_line(addr).strip("<> ").lower()
    if "@" not in addr:
        return None
    return Address(addr=addr, name=one_line(name).strip("\"' "))


def _addresses(value: object) -> tuple[Address, ...]:
    if not isinstance(value, list):
        return ()
    found = (_address(p) for p in value if isinstance(p, tuple) and len(p) == 2)
    return tuple(a for a in found if a)


def _attachment_size(att: dict[str, object]) -> int:
    payload = att.get("payload") or ""
    if att.get("binary") and isinstance(payload, str):
        try:
            return len(base64.b64decode(payload))
        except (binascii.Error, ValueError):
            return len(payload) * 3 // 4
    return len(str(payload).encode("utf-8", "replace"))


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


def _headers(mp: mailparser.MailParser) -> tuple[tuple[str, str], ...]:
    out = []
    for name, value in mp.message.items()[:500]:
        out.append((str(name).strip().lower(), decode_header_value(value)[:4000]))
    return tuple(out)


def _message(data: bytes) -> email.message.Message:
    """The stdlib message mail-parser works on. A multipart whose start boundary is missing has
    epilogue None, which mail-parser 4.x cannot handle: give it an empty one."""
    message = email.message_from_bytes(data)
    if message.is_multipart() and message.epilogue is None:
        message.epilogue = ""
    return message


def parse(raw: bytes, *, max_bytes: int = 25 * 1024 * 1024, max_text_chars: int = 200_000) -> Mail:
    """Parse `raw`. Messages over `max_bytes` are parsed from their head only (`truncated`)."""
    truncated = len(raw) > max_bytes
    data = raw[:max_bytes] if truncated else raw
    try:
        mp = mailparser.MailParser(_message(data))
    except Exception as exc:  # mail-parser raises many types on broken input
        raise StageError("parse", f"mail-parser could not read the message: {exc}") from exc
    if mp.message is None:
        raise StageError("parse", "the message is empty")
    plain = "\n\n".join(p for p in mp.text_plain if p.strip())
    html = "\n".join(mp.text_html)
    html_only = not plain.strip() and bool(html.strip())
    text = plain if plain.strip() else (html_to_text(html) if html.strip() else "")
    text = clean(text.replace("\r\n", "\n"))[:max_text_chars]
    new_text, signature, quoted = split_reply(text)
    froms = mp.from_ if isinstance(mp.from_, list) else []
    references = tuple(_MSGID.findall(one_line(str(mp.references or ""))))
    in_reply_to = next(iter(_MSGID.findall(one_line(str(mp.in_reply_to or "")))), "")
    attachments = tuple(
        Attachment(
            name=one_line(str(a.get("filename") or "")),
            content_type=str(a.get("mail_content_type") or "application/octet-stream"),
            size=_attachment_size(a),
        )
        for a in mp.attachments
    )
    defects = tuple(sorted(str(c) for c in mp.defects_categories))
    return Mail(
        message_id=one_line(str(mp.message_id or "")),
        subject=decode_header_value(mp.message.get("subject", "")),
        sender=_address(froms[0]) if froms else None,
        reply_to=next(iter(_addresses(mp.reply_to)), None),
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
        attachments=attachments,
        size=len(raw),
        truncated=truncated,
        defects=defects,
        rfc822_parts=_rfc822_parts(mp),
    )
