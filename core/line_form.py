"""A table's lines in their one common form, checked a batch at a time with no Python call per field.

Each field's form is a part of what its rule (domain.rules) accepts whose value is plain to read off the text:
- an id: one to nine significant digits, at most eight zeros before them (so never above MAX_ID);
- a text: nothing to trim, no comma, quote or character no text may hold, at most MAX_TEXT_LENGTH long;
- a datetime: `YYYY-MM-DDTHH:MM:SSZ` on a day that every year has (a 29 February is left to the rule).
A line in the form keeps every field rule; a line out of it may keep them too, and the rules then say
(core.validation). A property test holds the form to the rules (tests/unit/test_rules_paths.py).

The rows of lines in the form are parsed only when something reads them (LineRows): a store that sends the
lines as they are (PostgreSQL, MariaDB) needs only their ids and the parents they name, which RowKeys carries,
and each field's texts."""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import compress
from operator import not_
from typing import Callable, Iterator, Sequence

from core.columns import ColumnRules
from domain.rules import MAX_TEXT_LENGTH, NOT_TEXT_RANGES, TableRules, parse_datetime, parse_id, parse_text

_ID = "0{0,8}[1-9][0-9]{0,8}"
_TEXT_CHARACTER = f'[^,"{NOT_TEXT_RANGES}]'
_TEXT_END = f'[^\\s,"{NOT_TEXT_RANGES}]'
_TEXT = f"{_TEXT_END}(?:{_TEXT_CHARACTER}{{0,{MAX_TEXT_LENGTH - 2}}}{_TEXT_END})?"
_MONTH_DAY = ("(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
              "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
              "|02-(?:0[1-9]|1[0-9]|2[0-8]))")
_DATETIME = f"(?!0000)[0-9]{{4}}-{_MONTH_DAY}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z"
_FORMS: dict[Callable, str] = {parse_id: _ID, parse_text: _TEXT, parse_datetime: _DATETIME}


@dataclass(frozen=True, slots=True)
class RowKeys:
    """Rows' ids in order, and per reference (by its column's name) the parent ids they name, distinct and sorted."""

    ids: list[int]
    parents: dict[str, list[int]]


class LineForm:
    """The form of one table's lines: which lines of a batch are in it, and their rows."""

    def __init__(self, rules: TableRules) -> None:
        self._line = re.compile(",".join(_FORMS[parse] for _, parse in rules.fields))
        self._columns = ColumnRules(rules)
        self._references = [(ref.name, ref.position) for ref in rules.references]
        self.count = len(rules.fields)

    @classmethod
    def of(cls, rules: TableRules) -> LineForm | None:
        """The table's form, or None where a field has no form here."""
        return cls(rules) if all(parse in _FORMS for _, parse in rules.fields) else None

    def out_of_form(self, lines: Sequence[str]) -> list[int]:
        """The positions of the lines not in the form, in order."""
        return list(compress(range(len(lines)), map(not_, map(self._line.fullmatch, lines))))

    def rows(self, lines: list[str]) -> LineRows:
        """The rows of lines in the form, with their keys read off the text."""
        count = self.count
        fields = ",".join(lines).split(",")  # a line in the form holds no comma but between its fields
        keys = RowKeys(list(map(int, fields[0::count])),
                       {name: sorted(set(map(int, set(fields[at::count])))) for name, at in self._references})
        return LineRows(lines, fields, keys, self)

    def parsed(self, lines: list[str]) -> list[tuple]:
        return self._columns.of_lines(lines).rows


class LineRows(Sequence[tuple]):
    """The rows of lines in the form, parsed by the column rules the first time they are read; their keys and
    each field's texts are there without parsing."""

    def __init__(self, lines: list[str], fields: list[str], keys: RowKeys, form: LineForm) -> None:
        self.lines = lines
        self.keys = keys
        self._fields = fields
        self._form = form
        self._rows: list[tuple] | None = None

    def texts(self, position: int) -> list[str]:
        """The field at `position` of every row, as the lines write it."""
        return self._fields[position::self._form.count]

    def _parsed(self) -> list[tuple]:
        if self._rows is None:
            self._rows = self._form.parsed(self.lines)
        return self._rows

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, index):
        return self._parsed()[index]

    def __iter__(self) -> Iterator[tuple]:
        return iter(self._parsed())

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, (list, LineRows)) else NotImplemented

    def __repr__(self) -> str:
        return f"LineRows({len(self.lines)} lines, {'parsed' if self._rows is not None else 'not parsed'})"

    def __reduce__(self):  # sent to another process as the rows themselves
        return list, (self._parsed(),)


def keys_of(rows: Sequence[tuple]) -> RowKeys | None:
    """The keys of rows of lines in the form, which are read without parsing them; None for other rows."""
    return rows.keys if isinstance(rows, LineRows) else None


def ids_of(rows: Sequence[tuple]) -> list[int]:
    """The rows' ids (each table's first column), read without parsing rows of lines in the form."""
    keys = keys_of(rows)
    return keys.ids if keys is not None else [row[0] for row in rows]
