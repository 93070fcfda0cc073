"""The data rules of the contract, one function per kind of field, each failure a readable reason."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Callable, NamedTuple, Sequence

from domain.entities import Department, Employee, Job
from domain.errors import RuleBroken
from domain.tables import Table

MAX_ID = 2_147_483_647  # the largest value of a SQL INTEGER column
MAX_TEXT_LENGTH = 255  # the length of every string column
_DIGITS = re.compile(r"[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


# Characters no field may hold once trimmed: C0 controls, DEL and lone surrogates (which no database
# stores as text, and which a JSON body can still carry). As the ranges of a regular expression's class.
NOT_TEXT_RANGES = "\x00-\x1f\x7f\ud800-\udfff"
_NOT_TEXT = re.compile(f"[{NOT_TEXT_RANGES}]")
_NOT_TEXT_SHOWN = 20  # a reason names this many, then counts the rest


def holds_not_text(text: str) -> bool:
    # isprintable() is one quick pass: controls and surrogates are not printable, nor are a few other
    # characters (spaces other than U+0020, for one), which the search then clears.
    return not text.isprintable() and _NOT_TEXT.search(text) is not None


def _present(name: str, text: str) -> str:
    text = text.strip()
    if not text:
        raise RuleBroken(f"{name} is missing")
    if holds_not_text(text):
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

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(name for name, _ in self.fields))


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


def check_fields(rules: TableRules, fields: list[str], parsed: Sequence[Any] | None = None) -> RowCheck:
    """`parsed`: the values already found for the fields, each the value its rule gives, or None where the rule
    is still to be applied (core.columns reads a batch a column at a time): only those fields are parsed here."""
    if len(fields) != len(rules.fields):
        expected = ", ".join(rules.names)
        return RowCheck([], [f"expected {len(rules.fields)} fields ({expected}), found {len(fields)}"])
    values: list[Any] = list(parsed) if parsed is not None else [None] * len(fields)
    reasons: list[str] = []
    for at, ((name, parse), text) in enumerate(zip(rules.fields, fields)):
        if values[at] is None:
            try:
                values[at] = parse(name, text)
            except RuleBroken as broken:
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


def other_values_reason(id_: int) -> str:
    """Why a row checked again is not taken as the one that stands in the table under its id."""
    return f"id {id_} exists with other values"


def is_header(fields: list[str]) -> bool:
    """A first row whose id field is text rather than a number is a header.

    A number that is not a valid id (`7.0`, `-1`) is a data row that breaks a rule, so it is
    rejected with its reason instead of being skipped without a trace.
    """
    first = fields[0].strip() if fields else ""
    return bool(first) and not _NUMBER.fullmatch(first)
