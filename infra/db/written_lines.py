"""A batch's valid lines as the file wrote them, when they are already in a form a database takes as it is:
then no Python touches a row on its way in. Field by field: an id, a name with no quote or comma and nothing
to trim, a datetime in UTC. The rows' order of fields is the table's order of columns."""
from __future__ import annotations

import re
from functools import cache
from operator import methodcaller
from typing import Sequence

import sqlalchemy as sa

_split_fields = methodcaller("split", ",")
_ID = "[0-9]+"
_NAME = r'[^,"\s](?:[^,"\n]*[^,"\s])?'
# COPY ignores a Z for a column without time zone; a row whose datetime has another offset is written out
# again, converted.
_ANY_UTC_MOMENT = "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,6})?Z?"
_ZULU_SECONDS = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"


def _kind(column: sa.Column) -> str:
    if isinstance(column.type, sa.DateTime):
        return "datetime"
    return "id" if isinstance(column.type, sa.Integer) else "text"


@cache
def _lines_of(table: sa.Table, moment: str) -> re.Pattern[str]:
    forms = {"id": _ID, "text": _NAME, "datetime": moment}
    return re.compile("(?:" + ",".join(forms[_kind(column)] for column in table.c) + "\n)*")


def as_copy_csv(table: sa.Table, lines: Sequence[str]) -> str | None:
    """The lines as one text for PostgreSQL's COPY (FORMAT csv), or None when any line is not in that form."""
    text = "\n".join(lines) + "\n"
    return text if lines and _lines_of(table, _ANY_UTC_MOMENT).fullmatch(text) else None


@cache
def _values_format(table: sa.Table) -> str:
    # A datetime of the form `YYYY-MM-DDTHH:MM:SSZ` is cut to its first 19 characters: MariaDB takes the T,
    # not the Z.
    return "(" + ",".join({"id": "%s", "text": "'%s'", "datetime": "'%.19s'"}[_kind(column)]
                          for column in table.c) + ")"


def as_mysql_values(table: sa.Table, lines: Sequence[str], escape) -> str | None:
    """The lines as the VALUES of one INSERT for MariaDB/MySQL, names escaped by `escape` (the driver's, for
    the server's quoting mode; a line end is no field's, so the whole text is escaped at once), or None
    when any line is not in that form (datetimes must be whole UTC seconds with a Z)."""
    if not lines or not _lines_of(table, _ZULU_SECONDS).fullmatch("\n".join(lines) + "\n"):
        return None
    escaped = escape("\x01".join(lines))  # \x01: a character no valid name holds and escaping leaves alone
    values = _values_format(table)
    return ",".join(map(values.__mod__, map(tuple, map(_split_fields, escaped.split("\x01")))))
