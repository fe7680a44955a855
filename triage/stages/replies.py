"""The new text of a message apart from its quoted history and signature: mail-parser-reply
through its public API, on a bounded copy of the text (its patterns take time quadratic in a run
of blanks), plus the Dutch and Apple quote headers it misses."""

from __future__ import annotations

import re

from mailparser_reply import EmailMessage, EmailReply

REPLY_LANGUAGES = ["nl", "en", "de"]


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
