"""The data rules a column at a time: how a batch whose values keep the rules (the common case) is parsed
with few Python calls. Each rule is written once, in domain.rules; a column that holds anything the quick
forms here cannot vouch for goes through that rule value by value. A property test ties the two paths
(tests/unit/test_rules_paths.py): for every row they give the same values, or both refuse it."""
from __future__ import annotations

import re
from datetime import datetime
from itertools import repeat
from operator import methodcaller
from typing import Any, Callable, NamedTuple

from domain.errors import RuleBroken
from domain.rules import MAX_TEXT_LENGTH, TableRules, holds_not_text, parse_datetime, parse_id, parse_text

_ZULU_SECONDS = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"
_ZULU_SECONDS_COLUMN = re.compile(f"(?:{_ZULU_SECONDS})?(?:\n(?:{_ZULU_SECONDS})?)*")

Column = Callable[[tuple[str, ...]], list[Any]]
_commas = methodcaller("count", ",")
_split_fields = methodcaller("split", ",")


def _by_rule(parse: Callable[[str, str], Any], texts: tuple[str, ...]) -> list[Any]:
    """The rule itself for each value: its value, or None where it names a reason."""
    values = []
    for text in texts:
        try:
            values.append(parse("", text))
        except RuleBroken:
            values.append(None)
    return values


def id_column(texts: tuple[str, ...]) -> list[int | None]:
    digits = "".join(texts)  # blanks add nothing; they become None below
    # Digits alone have nothing to trim; anything else is trimmed first.
    stripped = texts if digits.isdigit() else list(map(str.strip, texts))
    if stripped is not texts:
        digits = "".join(stripped)
    if not (digits.isdigit() and digits.isascii() and max(map(len, stripped)) <= 9):
        return _by_rule(parse_id, texts)
    # Nine digits at most: never above MAX_ID. Blanks are read as 0, which is not an id either.
    if not all(stripped):
        stripped = [text or "0" for text in stripped]
    distinct = set(stripped)
    if len(distinct) * 4 < len(stripped):  # a reference column: a few ids, each parsed once
        parsed = {text: int(text) for text in distinct}
        values = list(map(parsed.__getitem__, stripped))
    else:
        values = list(map(int, stripped))
    return [value or None for value in values] if 0 in values else values


def text_column(texts: tuple[str, ...]) -> list[str | None]:
    stripped = list(map(str.strip, texts))
    if max(map(len, stripped)) > MAX_TEXT_LENGTH or holds_not_text("".join(stripped)):
        return _by_rule(parse_text, texts)
    return [text or None for text in stripped]


def datetime_column(texts: tuple[str, ...]) -> list[datetime | None]:
    stripped = list(map(str.strip, texts))
    joined = "\n".join(stripped)
    if joined.count("\n") == len(stripped) - 1 and _ZULU_SECONDS_COLUMN.fullmatch(joined):
        # Every value is blank or of the one common shape `YYYY-MM-DDTHH:MM:SSZ`: its digits are the UTC
        # wall time, so it is parsed without the Z and needs no conversion.
        try:
            return [datetime.fromisoformat(text[:-1]) if text else None for text in stripped]
        except ValueError:  # a day the calendar lacks: the rule says which
            return _by_rule(parse_datetime, texts)
    return _by_rule(parse_datetime, texts)


_COLUMNS: dict[Callable, Column] = {parse_id: id_column, parse_text: text_column, parse_datetime: datetime_column}


def _clear_rows_with_none(rows: list, values: list) -> None:
    at = values.index(None)
    while True:
        rows[at] = None
        try:
            at = values.index(None, at + 1)
        except ValueError:
            return


class ParsedColumns(NamedTuple):
    rows: list[tuple | None]  # each row's entity when every field keeps its rule, else None
    columns: list[list]  # each field's values, None where its rule is broken (or the row could not be cut)

    def values_of(self, index: int) -> list:
        """One row's values as far as the columns found them: what domain.rules.check_fields still has to parse."""
        return [values[index] for values in self.columns]


class ColumnRules:
    """A table's rules over a batch: each row's entity when every field keeps its rule, else None (the
    rules then name the reasons, domain.rules.check_fields)."""

    def __init__(self, rules: TableRules) -> None:
        self._columns = [_COLUMNS[parse] for _, parse in rules.fields]
        self._entity = rules.entity
        self._count = len(rules.fields)

    def __call__(self, batch: list[list[str]]) -> list[tuple | None]:
        """For the rows' fields."""
        return self.parsed(batch).rows

    def parsed(self, batch: list[list[str]]) -> ParsedColumns:
        if not batch:
            return ParsedColumns([], [])
        count = self._count
        if len(set(map(len, batch))) != 1 or len(batch[0]) != count:
            blank = [""] * count  # a row of the wrong length parses as blanks, hence None
            batch = [fields if len(fields) == count else blank for fields in batch]
        return self._parsed(list(zip(*batch)))

    def of_lines(self, lines: list[str]) -> ParsedColumns:
        """For plain lines (no quote: a comma always parts two fields). When every line has the table's
        number of fields, the columns are cut from one split of the whole batch, with no list a row."""
        if not lines:
            return ParsedColumns([], [])
        count = self._count
        if set(map(_commas, lines)) != {count - 1}:
            return self.parsed(list(map(_split_fields, lines)))
        flat = ",".join(lines).split(",")
        return self._parsed([flat[at::count] for at in range(count)])

    def _parsed(self, columns: list) -> ParsedColumns:
        parsed = [column(texts) for column, texts in zip(self._columns, columns)]
        rows: list[tuple | None] = list(map(tuple.__new__, repeat(self._entity), zip(*parsed)))
        for values in parsed:
            if None in values:
                _clear_rows_with_none(rows, values)
        return ParsedColumns(rows, parsed)
