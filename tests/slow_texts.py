"""Adversarial messages that once took parsing time quadratic in their size, for
tests/test_parse_time.py and bench/parse_scaling.py: `slow_mail(name, size)` is a complaint whose
body (or attached messages) is about `size` characters of the kind `name`."""

from __future__ import annotations

from collections.abc import Callable

OPENING = "Geachte heer, mevrouw,\n\nDe lift in ons gebouw staat al drie weken stil.\n"


def _repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


SLOW_TEXTS: dict[str, Callable[[int], str]] = {
    # blank lines: the signature pattern of mail-parser-reply, the forward separators
    "blank lines": lambda n: OPENING + "\n" * n + "Met vriendelijke groet,\nPiet",
    "spaces": lambda n: OPENING + " " * n + "Met vriendelijke groet,\nPiet",
    "short blank runs": lambda n: OPENING + _repeat("x" + "\n" * 40, n),
    "quoted blank lines": lambda n: OPENING + _repeat(">\n", n),
    # lines that open like a quote header ("On …", "Op …") and run on
    "long 'Op' line": lambda n: "Op " + _repeat("dinsdag heb ik gebeld en ", n),
    "long 'On' line": lambda n: "On " + _repeat("monday I called and ", n),
    "'On' then a long line": lambda n: _repeat("On\n" + "x " * 2000 + "\n", n),
    "'Am Am Am'": lambda n: _repeat("Am ", n),
    # one long line of disclaimer words, and of signature dashes
    "disclaimer words": lambda n: OPENING + _repeat(". Waarschuwing: ", n),
    "signature dashes": lambda n: OPENING + _repeat("-- \n", n),
    "one long line": lambda n: OPENING + _repeat("abcdefghij", n),
    # a forward whose header block runs on
    "forward, blank lines": lambda n: OPENING + "---------- Doorgestuurd bericht ---------\n" + "\n" * n
                                      + "Van: a@b.nl",
    "forward, long Van line": lambda n: OPENING + "----- Oorspronkelijk bericht -----\nVan: " + _repeat("a", n),
    "forward, wrapped Aan": lambda n: OPENING + "----- Oorspronkelijk bericht -----\nVan: a@b.nl\nAan: x\n"
                                      + _repeat("y\n", n),
}


# HTML-only mail: inscriptis's table layout and deep nesting
SLOW_HTML: dict[str, Callable[[int], str]] = {
    "HTML: wide table": lambda n: f"<p>{OPENING}</p><table><tr>" + _repeat("<td>lift</td>", n) + "</tr></table>",
    "HTML: long table": lambda n: f"<p>{OPENING}</p><table>" + _repeat("<tr><td>a</td><td>b</td></tr>", n),
    "HTML: deep lists": lambda n: f"<p>{OPENING}</p>" + "<ul><li>lift" * (n // 12) + "</li></ul>" * (n // 12),
}


def _plain(body: str, subject: str, kind: str = "plain") -> bytes:
    return (f"From: Piet Jansen <piet@example.nl>\r\nTo: klachten@debrug.example\r\nSubject: {subject}\r\n"
            "Date: Tue, 1 Dec 2026 10:00:00 +0100\r\nMessage-ID: <traag@example.nl>\r\n"
            f"Content-Type: text/{kind}; charset=utf-8\r\n\r\n").encode() + body.encode()


def _five_attached(size: int) -> bytes:
    """Five attached messages full of disclaimer words: each is parsed, and its text read twice."""
    inner = _plain(_repeat(". Warning: ", size // 5), "Fwd: lift")
    parts = b"".join(b"--b\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n" for _ in range(5))
    head = _plain("", "Fwd: lift").replace(b"text/plain; charset=utf-8", b"multipart/mixed; boundary=b")
    return head + b"--b\r\nContent-Type: text/plain\r\n\r\n" + OPENING.encode() + b"\r\n" + parts + b"--b--\r\n"


SLOW_MAILS: dict[str, Callable[[int], bytes]] = {
    **{name: (lambda n, body=body, name=name: _plain(body(n), "Fwd: lift" if name.startswith("forward")
                                                     else "Lift kapot"))
       for name, body in SLOW_TEXTS.items()},
    **{name: (lambda n, body=body: _plain(body(n), "Lift kapot", "html")) for name, body in SLOW_HTML.items()},
    "five attached messages": _five_attached,
}


def slow_mail(name: str, size: int) -> bytes:
    """A complaint with the slow body `name` of about `size` characters."""
    return SLOW_MAILS[name](size)
