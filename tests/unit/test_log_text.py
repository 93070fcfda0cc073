"""The escaped form of the rejection log: every database takes it, and it gives back what it was given."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.log_text import MAX_LOGGED_BYTES, escaped, json_line, logged, unescaped


@pytest.mark.parametrize("text, form", [
    ("plain, text", "plain, text"),
    ("Ma\x00rk", "Ma\\x00rk"),
    ("a\\b", "a\\\\b"),
    ("tab\tdel\x7f", "tab\\x09del\\x7f"),
    ("lone \ud800", "lone \\ud800"),
    (b"caf\xe9".decode("utf-8", "surrogateescape"), "caf\\xe9"),  # a byte that is not UTF-8
    ("Logística 🏢", "Logística 🏢"),
])
def test_the_escaped_form(text, form):
    assert escaped(text) == form
    assert unescaped(form) == text


@given(st.binary(max_size=300))
def test_every_byte_of_a_line_can_be_read_back_from_the_log(line):
    text, clipped = logged(line.decode("utf-8", "surrogateescape"))
    assert clipped is None
    text.encode("utf-8")  # raises if a surrogate were left: none is
    assert unescaped(text).encode("utf-8", "surrogateescape") == line


@given(st.text(alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=200))
def test_any_text_can_be_read_back_from_the_log(text):
    assert unescaped(escaped(json_line(text))) == json_line(text)
    escaped(json_line(text)).encode("utf-8")  # raises if a surrogate were left: none is


def test_a_json_body_keeps_a_lone_surrogate_as_json_does():
    assert json_line({"name": "A\udc80B"}) == '{"name": "A\\udc80B"}'  # not the byte 0x80 of a file


def test_a_line_longer_than_the_log_keeps_is_cut_at_a_character_and_the_reason_says_so():
    line = "é\x00" * MAX_LOGGED_BYTES
    text, clipped = logged(line)
    assert len(text.encode("utf-8")) <= MAX_LOGGED_BYTES
    kept = unescaped(text)
    assert line.startswith(kept) and len(kept) > MAX_LOGGED_BYTES // 8
    assert clipped == (f"the log keeps the first {len(kept)} of the line's {len(line)} characters "
                       f"({MAX_LOGGED_BYTES} bytes at most)")


def test_a_line_that_fits_is_kept_whole():
    line = "x" * MAX_LOGGED_BYTES
    assert logged(line) == (line, None)
