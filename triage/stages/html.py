"""HTML to readable text: inscriptis lays it out; where it loses text (markup nested past libxml2's
256 levels) or gives up, the bare text that lxml's event parser reads takes its place, and where
both lose it (an unclosed `<![` swallows the rest of the document), the text between the tags.
Broken HTML never stops a message."""

from __future__ import annotations

import html as entities
import logging
import re

import lxml.etree
from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig

log = logging.getLogger(__name__)
_HTML_CONFIG = ParserConfig(css=CSS_PROFILES["strict"], display_links=False, display_images=False)


# inscriptis lays out HTML up to this many characters (its time is linear, but a table of 100 000
# characters takes it about 1.5 s on a busy core); larger HTML is read by lxml's event parser, as
# bare text (about 0.5 s per MB).
LAYOUT_CHARS = 100_000
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
    except Exception as exc:  # any failure of the parser: the tags are stripped instead
        log.debug("lxml could not read the HTML either (%s)", exc)
        return _between_tags(html)
    return text if isinstance(text, str) else _between_tags(html)


_TAG = re.compile(r"<[^<>]*>|<!\[(?:CDATA\[)?|\]\]>")
_HIDDEN_TAG = re.compile(r"<(/?)(" + "|".join(_HIDDEN) + r")\b[^<>]*>", re.IGNORECASE)


def _between_tags(html: str) -> str:
    """The last resort: the text between the tags outside scripts, styles and the head, blank
    runs folded. Linear: no pattern here scans past the next '<'."""
    visible, depth, at = [], 0, 0
    for tag in _HIDDEN_TAG.finditer(html):
        if not depth:
            visible.append(html[at:tag.start()])
        depth = max(depth + (-1 if tag.group(1) else 1), 0)
        at = tag.end()
    visible.append("" if depth else html[at:])
    text = entities.unescape(_TAG.sub(" ", " ".join(visible)))
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def html_to_text(html: str) -> str:
    """Visible text of an HTML document (scripts and styles dropped), laid out by inscriptis.
    Where it loses text (markup nested past libxml2's 256 levels), gives up or the HTML is over
    LAYOUT_CHARS, the bare text that lxml's event parser reads takes its place; where both lose
    it, the text between the tags."""
    try:
        text = get_text(html, _HTML_CONFIG) if len(html) <= LAYOUT_CHARS else ""
    except Exception as exc:  # RecursionError, ValueError, ... : any failure falls back
        log.debug("inscriptis failed (%s); using the bare text", exc)
        text = ""
    plain = _plain_text(html)
    best = plain if len(text.split()) < len(plain.split()) // 2 else text
    bare = _between_tags(html)
    return bare if len(best.split()) < len(bare.split()) // 2 else best
