"""The escaped form in which the rejection log keeps any text: readable, accepted by every database, reversible.

- a backslash is written `\\\\`;
- a control character (U+0000–U+001F, U+007F) is written `\\xNN`, and so is a byte that is not UTF-8
  (a line is decoded with Python's surrogateescape, which stands such a byte in as U+DC80–U+DCFF);
- any other lone surrogate (only a JSON body can carry one) is written `\\uXXXX`;
- everything else stands as itself.

So `unescaped` gives back every byte of a line read from a file, and every character of any other text.
"""
from __future__ import annotations

import json
import re
from typing import Any

# MariaDB's TEXT holds 65,535 bytes; the log keeps at most that much of a line, on every database alike.
MAX_LOGGED_BYTES = 65_535

_SPECIAL = re.compile("[\\\\\x00-\x1f\x7f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPE = re.compile(r"\\(?:\\|x[0-9a-f]{2}|u[0-9a-f]{4})")


def _escape(match: re.Match[str]) -> str:
    char = match[0]
    code = ord(char)
    if char == "\\":
        return "\\\\"
    if code < 0x80:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as surrogateescape keeps it
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def escaped(text: str) -> str:
    return _SPECIAL.sub(_escape, text) if _SPECIAL.search(text) else text


def escaped_each(texts: list[str]) -> tuple[str, ...]:
    """Each text escaped, with one search over them all when none needs it (the usual row)."""
    return tuple(map(escaped, texts)) if _SPECIAL.search("".join(texts)) else tuple(texts)


def _unescape(match: re.Match[str]) -> str:
    escape = match[0]
    if escape == "\\\\":
        return "\\"
    code = int(escape[2:], 16)
    if escape[1] == "x" and code >= 0x80:
        return chr(0xDC00 + code)  # back to the byte it stood for
    return chr(code)


def unescaped(text: str) -> str:
    """The text that `escaped` was given; `.encode("utf-8", "surrogateescape")` gives a line's bytes."""
    return _ESCAPE.sub(_unescape, text)


def logged(text: str) -> tuple[str, str | None]:
    """The escaped text, cut to MAX_LOGGED_BYTES at a character, and a reason that says so when it was cut."""
    whole = escaped(text)
    if len(whole) * 4 <= MAX_LOGGED_BYTES or len(whole.encode("utf-8")) <= MAX_LOGGED_BYTES:
        return whole, None
    kept, low, high = 0, 0, len(text)  # the most characters of text whose escaped form fits
    while low <= high:
        middle = (low + high) // 2
        if len(escaped(text[:middle]).encode("utf-8")) <= MAX_LOGGED_BYTES:
            kept, low = middle, middle + 1
        else:
            high = middle - 1
    return (escaped(text[:kept]),
            f"the log keeps the first {kept} of the line's {len(text)} characters ({MAX_LOGGED_BYTES} bytes at most)")


def json_line(value: Any) -> str:
    """A JSON value as one line of text for the log: characters as themselves, but a lone surrogate as
    JSON's own escape, so that it cannot be taken for an undecodable byte of a file."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", text) if _SURROGATE.search(text) else text
