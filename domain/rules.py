"""The data rules of the contract, one function per kind of field, each failure a readable reason."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import repeat
from typing import Any, Callable, NamedTuple

from domain.entities import Department, Employee, Job
from domain.errors import RuleBroken
from domain.tables import Table

MAX_ID = 2_147_483_647  # the largest value of a SQL INTEGER column
MAX_TEXT_LENGTH = 255  # the length of every string column
_DIGITS = re.compile(r"[0-9]+")
_ZULU_SECONDS = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"
_ZULU_SECONDS_COLUMN = re.compile(f"(?:{_ZULU_SECONDS})?(?:\n(?:{_ZULU_SECONDS})?)*")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


# Characters no field may hold once trimmed: C0 controls, DEL and lone surrogates (which no database
# stores as text, and which a JSON body can still carry).
_NOT_TEXT = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_NOT_TEXT_SHOWN = 20  # a reason names this many, then counts the rest


def _holds_not_text(text: str) -> bool:
    # isprintable() is one quick pass: controls and surrogates are not printable, nor are a few other
    # characters (spaces other than U+0020, for one), which the search then clears.
    return not text.isprintable() and _NOT_TEXT.search(text) is not None


def _present(name: str, text: str) -> str:
    text = text.strip()
    if not text:
        raise RuleBroken(f"{name} is missing")
    if _holds_not_text(text):
        raise RuleBroken(_not_text_reason(name, text))
    return text


def _not_text_reason(name: str, text: str) -> str:
    found = [f"U+{ord(match[0]):04X} at position {match.start() + 1}" for match in _NOT_TEXT.finditer(text)]
    more = f" and {len(found) - _NOT_TEXT_SHOWN} more" if len(found) > _NOT_TEXT_SHOWN else ""
    return (f"{name} holds a control character or lone surrogate: "
            f"{', '.join(found[:_NOT_TEXT_SHOWN])}{more}")


def parse_id(name: str, text: str) -> int:
    text = _present(name, text)
    if not _DIGITS.fullmatch(text):
        raise RuleBroken(f"{name} '{text}' is not a positive integer")
    # Compared by length first: int() refuses strings of more than 4300 digits with a ValueError.
    value = int(text) if len(text.lstrip("0")) <= len(str(MAX_ID)) else MAX_ID + 1
    if value == 0:
        raise RuleBroken(f"{name} '{text}' is not a positive integer")
    if value > MAX_ID:
        raise RuleBroken(f"{name} {text} is larger than the largest id {MAX_ID}")
    return value


def parse_text(name: str, text: str) -> str:
    text = _present(name, text)
    if len(text) > MAX_TEXT_LENGTH:
        raise RuleBroken(f"{name} is {len(text)} characters long, longer than its column ({MAX_TEXT_LENGTH})")
    return text


def parse_datetime(name: str, text: str) -> datetime:
    """ISO 8601; stored as naive UTC, a value without offset being UTC already."""
    text = _present(name, text)
    try:
        value = datetime.fromisoformat(text)
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise RuleBroken(f"{name} '{text}' is not a valid ISO 8601 datetime") from None
    return value


# Quick forms of the parsers: the same value for a field the parser accepts, None for any other (the
# full parser then names the reason). Valid rows, the common case, are parsed without raising.

def _quick_id(text: str) -> int | None:
    text = text.strip()
    if len(text) <= 10 and text.isdigit() and text.isascii():
        value = int(text)
        if 0 < value <= MAX_ID:
            return value
    return None


def _quick_text(text: str) -> str | None:
    text = text.strip()
    return text if text and len(text) <= MAX_TEXT_LENGTH and not _holds_not_text(text) else None


def _quick_datetime(text: str) -> datetime | None:
    text = text.strip()
    if _holds_not_text(text):  # fromisoformat takes any character between date and time
        return None
    try:
        value = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        return None
    zone = value.tzinfo
    if zone is None:
        return value
    if zone is UTC:
        return value.replace(tzinfo=None)
    try:
        return value.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        return None


def _utc_naive(value: datetime) -> datetime | None:
    try:
        return value.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        return None


# The same quick parsers for a whole column of a batch: the loops run in C where the column allows.

def _id_column(texts: tuple[str, ...]) -> list[int | None]:
    stripped = list(map(str.strip, texts))
    digits = "".join(stripped)  # blanks add nothing; they become None below
    if not (digits.isdigit() and digits.isascii() and max(map(len, stripped)) <= 9):
        return list(map(_quick_id, texts))
    # Nine digits at most: never above MAX_ID. Blanks are read as 0, which is not an id either.
    values = list(map(int, stripped if all(stripped) else [text or "0" for text in stripped]))
    return [value or None for value in values] if 0 in values else values


def _text_column(texts: tuple[str, ...]) -> list[str | None]:
    stripped = list(map(str.strip, texts))
    if max(map(len, stripped)) > MAX_TEXT_LENGTH or _holds_not_text("".join(stripped)):
        return list(map(_quick_text, texts))
    return [text or None for text in stripped]


def _datetime_column(texts: tuple[str, ...]) -> list[datetime | None]:
    parse = datetime.fromisoformat
    stripped = list(map(str.strip, texts))
    joined = "\n".join(stripped)
    if _holds_not_text("".join(stripped)):
        return list(map(_quick_datetime, texts))
    try:
        if joined.count("\n") == len(stripped) - 1 and _ZULU_SECONDS_COLUMN.fullmatch(joined):
            # Every value is blank or of the one common shape `YYYY-MM-DDTHH:MM:SSZ`: its digits
            # are the UTC wall time, so it is parsed without the Z and needs no conversion.
            return [parse(text[:-1]) if text else None for text in stripped]
        values = [parse(text) if text else None for text in stripped]
    except (ValueError, OverflowError):
        return list(map(_quick_datetime, texts))
    return [value if value is None or value.tzinfo is None
            else value.replace(tzinfo=None) if value.tzinfo is UTC else _utc_naive(value)
            for value in values]


_COLUMN = {parse_id: _id_column, parse_text: _text_column, parse_datetime: _datetime_column}


class Reference(NamedTuple):
    """A foreign key: the field at `position` names a row of `parent`."""

    name: str
    position: int
    parent: Table


@dataclass(frozen=True)
class TableRules:
    table: Table
    fields: tuple[tuple[str, Callable[[str, str], Any]], ...]
    entity: Callable[..., tuple]
    references: tuple[Reference, ...] = ()
    names: tuple[str, ...] = field(init=False)
    quick_rows: Callable[[list[list[str]]], list[tuple | None]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(name for name, _ in self.fields))
        object.__setattr__(self, "quick_rows", _quick_rows(self))


def _quick_rows(rules: TableRules) -> Callable[[list[list[str]]], list[tuple | None]]:
    """For a batch of rows' fields: each row's entity when every field is valid, else None (then
    check_fields names the reasons). Parsed column by column, so a valid batch costs few Python calls."""
    columns = [_COLUMN.get(parse) for _, parse in rules.fields]
    if None in columns:  # a parser without a quick form: every row takes the full path
        return lambda batch: [None] * len(batch)
    count = len(columns)
    blank = [""] * count  # a row of the wrong length parses as blanks, hence None
    entity = rules.entity

    def quick(batch: list[list[str]]) -> list[tuple | None]:
        if not batch:
            return []
        shaped = [fields if len(fields) == count else blank for fields in batch]
        parsed = [column(texts) for column, texts in zip(columns, zip(*shaped))]
        rows: list[tuple | None] = list(map(tuple.__new__, repeat(entity), zip(*parsed)))
        for values in parsed:
            if None in values:
                _clear_rows_with_none(rows, values)
        return rows

    return quick


def _clear_rows_with_none(rows: list, values: list) -> None:
    at = values.index(None)
    while True:
        rows[at] = None
        try:
            at = values.index(None, at + 1)
        except ValueError:
            return


RULES: dict[Table, TableRules] = {
    Table.DEPARTMENTS: TableRules(
        Table.DEPARTMENTS, (("id", parse_id), ("department", parse_text)), Department
    ),
    Table.JOBS: TableRules(Table.JOBS, (("id", parse_id), ("job", parse_text)), Job),
    Table.HIRED_EMPLOYEES: TableRules(
        Table.HIRED_EMPLOYEES,
        (
            ("id", parse_id),
            ("name", parse_text),
            ("datetime", parse_datetime),
            ("department_id", parse_id),
            ("job_id", parse_id),
        ),
        Employee,
        (Reference("department_id", 3, Table.DEPARTMENTS), Reference("job_id", 4, Table.JOBS)),
    ),
}


class RowCheck(NamedTuple):
    """The parsed values of one row (None where a field broke a rule) and every reason it breaks."""

    values: list[Any]
    reasons: list[str]


def check_fields(rules: TableRules, fields: list[str]) -> RowCheck:
    if len(fields) != len(rules.fields):
        expected = ", ".join(rules.names)
        return RowCheck([], [f"expected {len(rules.fields)} fields ({expected}), found {len(fields)}"])
    values: list[Any] = []
    reasons: list[str] = []
    for (name, parse), text in zip(rules.fields, fields):
        try:
            values.append(parse(name, text))
        except RuleBroken as broken:
            values.append(None)
            reasons.append(str(broken))
    return RowCheck(values, reasons)


def missing_parent_reasons(rules: TableRules, values: list[Any], known: dict[Table, set[int]]) -> list[str]:
    """Reasons for each reference whose parsed id names no row of its parent table."""
    reasons = []
    for ref in rules.references:
        value = values[ref.position] if values else None
        if value is not None and value not in known[ref.parent]:
            reasons.append(f"{ref.name} {value} does not exist")
    return reasons


def duplicate_reason(id_: int) -> str:
    return f"id {id_} appears earlier in this input; the first occurrence is taken"


def is_header(fields: list[str]) -> bool:
    """A first row whose id field is text rather than a number is a header.

    A number that is not a valid id (`7.0`, `-1`) is a data row that breaks a rule, so it is
    rejected with its reason instead of being skipped without a trace.
    """
    first = fields[0].strip() if fields else ""
    return bool(first) and not _NUMBER.fullmatch(first)
