"""HTML to readable text: inscriptis lays it out; where it loses text (markup nested past libxml2's
256 levels) or gives up, the bare text that lxml's event parser reads takes its place."""

from __future__ import annotations

import logging
import re

import lxml.etree
from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig

log = logging.getLogger(__name__)
_HTML_CONFIG = ParserConfig(css=CSS_PROFILES["strict"], display_links=False, display_images=False)


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
