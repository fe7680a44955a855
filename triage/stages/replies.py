"""The new text of a message apart from its quoted history and signature: mail-parser-reply
through its public API, on a bounded copy of the text (its patterns take time quadratic in a run
of blanks), plus the Dutch and Apple quote headers it misses."""

from __future__ import annotations

import re

from mailparser_reply import EmailMessage, EmailReply
from mailparser_reply.constants import MAIL_LANGUAGES

REPLY_LANGUAGES = ["nl", "en", "de"]


_QUOTE_HEADER = re.compile(
    r"^[ \t]*+(?:Op|On|Am)\s[^\n]{0,200}(?:\n[^\n>]{0,200}){0,2}?"
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
# patterns about n² on a long line that opens with "On", "Op" or "Am" (they may run on into the
# next line), its disclaimer pattern scans from every disclaimer word to the end of its line. So
# it reads a bounded copy of the text: runs of blank lines collapsed to one, other runs of blanks
# to one character, at most REPLY_INPUT_CHARS characters, cut at a blank (what it does not read
# continues its last reply), a line that opens like a quote header but runs on, with the line
# after it, past HEADER_SPAN characters behind a mark that no header pattern matches (no client
# writes such a header), and a mark before every disclaimer word after the first DISCLAIMER_WORDS
# (a mark is no blank, so no disclaimer starts after it and no scan runs past it). The marks are
# taken out of what the library returns. tests/test_parse.py checks on every
# corpus that this splits every text as the library does on the whole of it, and bench/
# parse_scaling.py that the time stays linear in the input.
REPLY_INPUT_CHARS = 10_000
HEADER_SPAN = 300
DISCLAIMER_WORDS = 8
_BLANK_LINES = re.compile(r"(?:\n[^\S\n]*){3,}")  # one blank line reads as well as many
_BLANK_RUN = re.compile(r"\s{64,}")  # shorter runs cost little and may be layout (columns)
_DISCLAIMER_WORD = re.compile("|".join(word for language in REPLY_LANGUAGES
                                       for word in MAIL_LANGUAGES[language]["disclaimers"]), re.IGNORECASE)
_HEADER_OPENING = re.compile(r"[\s>]*(?:on|op|am)(?:\s|$)", re.IGNORECASE)  # as the library's patterns open
_MARK = "\ue000"  # a private-use character: no pattern of the library matches it at a line start


def _collapse(run: re.Match[str]) -> str:
    return "\n" * min(run.group().count("\n"), 2) or " "


def _marked(head: str) -> str:
    """`head` with a mark before each line that opens like a quote header but runs on too long,
    and before each disclaimer word after the first DISCLAIMER_WORDS."""
    lines = head.split("\n")
    for i, line in enumerate(lines):
        after = len(lines[i + 1]) if i + 1 < len(lines) else 0
        if len(line) + after > HEADER_SPAN and _HEADER_OPENING.match(line):
            lines[i] = _MARK + line
    head = "\n".join(lines)
    starts = [word.start() for word in _DISCLAIMER_WORD.finditer(head)][DISCLAIMER_WORDS:]
    pieces = [head[a:b] for a, b in zip([0, *starts], [*starts, len(head)], strict=True)]
    return _MARK.join(pieces)


def _bounded(text: str) -> tuple[str, str]:
    """`text` as mail-parser-reply reads it (marked), and the rest, which it does not read."""
    text = _BLANK_RUN.sub(_collapse, _BLANK_LINES.sub("\n\n", text.replace(_MARK, "")))
    if len(text) <= REPLY_INPUT_CHARS:
        return _marked(text), ""
    cut = max(text.rfind("\n", 0, REPLY_INPUT_CHARS), text.rfind(" ", 0, REPLY_INPUT_CHARS))
    cut = cut if cut > REPLY_INPUT_CHARS // 2 else REPLY_INPUT_CHARS  # the rest keeps the blank it starts with
    return _marked(text[:cut]), text[cut:]


def _unmarked(reply: EmailReply, rest: str = "") -> EmailReply:
    """`reply` without the marks; `rest` added to it where the library would have put it: in its
    signature when it has one (a signature runs to the end of its reply), else in its text."""
    signatures = reply.signatures.replace(_MARK, "")
    return EmailReply(content=reply.content.replace(_MARK, "") + rest, headers=reply.headers.replace(_MARK, ""),
                      signatures=signatures + rest if signatures else "",
                      disclaimers=[d.replace(_MARK, "") for d in reply.disclaimers])


def read_replies(text: str) -> list[EmailReply] | None:
    """mail-parser-reply's replies in `text` (newest first), read from the bounded copy above; None
    when it cannot cope. Its documented EmailMessage, as EmailReplyParser cannot keep hyphen lists."""
    head, rest = _bounded(text)
    try:
        replies: list[EmailReply] = EmailMessage(text=head, languages=list(REPLY_LANGUAGES),
                                                 keep_hyphen_lists=True).read().replies
    except (RecursionError, re.error):
        return None
    if not replies:
        return []
    rest = rest if rest.strip() else ""
    return [*(_unmarked(r) for r in replies[:-1]), _unmarked(replies[-1], rest)]


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
