"""The bulk path of a batch, chosen per dialect: COPY (CSV) on PostgreSQL, a bare executemany on SQLite,
the portable inserts of infra.db.inserts elsewhere. Same contract everywhere: inside the caller's
transaction, insert the rows whose id is absent, leave present ones as they are, return the count."""
from __future__ import annotations

import csv
import io
from typing import Callable, Iterable, Sequence

import sqlalchemy as sa

from infra.db.inserts import ConcurrentWrite, insert_new_rows
from infra.db.written_lines import as_copy_csv

RowWriter = Callable[[sa.Connection, sa.Table, Sequence[tuple], Sequence[str]], int]


def bulk_writer(dialect: str) -> RowWriter:
    """The fastest exact writer for the dialect (decided from the engine, before any connection)."""
    return {"postgresql": PostgresCopy().write, "sqlite": sqlite_executemany}.get(dialect, insert_new_rows)


def present_ids(conn: sa.Connection, column: sa.Column, ids: list[int]) -> set[int]:
    """Which of the ids are in the column. On PostgreSQL one array parameter, kept out of the
    planner's sight; elsewhere IN lists of at most a thousand ids."""
    if conn.dialect.name == "postgresql":
        query = (f'SELECT "{column.name}" FROM "{column.table.name}" WHERE "{column.name}" = '
                 f"ANY(ARRAY(SELECT unnest(%s::{_copy_type(column)}[])))")
        with conn.connection.driver_connection.cursor() as cursor:
            return {row[0] for row in cursor.execute(query, [ids])}
    found: set[int] = set()
    for start in range(0, len(ids), 1000):
        found.update(conn.execute(sa.select(column).where(column.in_(ids[start:start + 1000]))).scalars())
    return found


# --- SQLite ------------------------------------------------------------------------------------------

def sqlite_executemany(conn: sa.Connection, table: sa.Table, rows: Sequence[tuple], _lines: Sequence[str] = ()) -> int:
    """One executemany of `INSERT … ON CONFLICT DO NOTHING`: rowcount counts only the rows that went in.
    Datetimes go as they are: the SQLite engine turns each into SQLAlchemy's own text form in C
    (infra.db.engine), so every reader sees one form."""
    if not rows:
        return 0
    names = ", ".join(f'"{c.name}"' for c in table.c)
    marks = ", ".join("?" for _ in table.c)
    statement = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks}) ON CONFLICT (id) DO NOTHING'
    return conn.exec_driver_sql(statement, rows).rowcount


# --- PostgreSQL ----------------------------------------------------------------------------------------

_COPY_TYPES = ((sa.BigInteger, "int8"), (sa.Integer, "int4"), (sa.String, "varchar"), (sa.DateTime, "timestamp"))


def _copy_type(column: sa.Column) -> str:
    for kind, name in _COPY_TYPES:
        if isinstance(column.type, kind):
            return name
    raise TypeError(f"no binary COPY type for {column.table.name}.{column.name} ({column.type})")


def csv_text(rows: Iterable[Sequence]) -> str:
    """Rows as COPY's CSV: written by the csv module in C, with no Python call per row or value. Text is
    always quoted, so that an empty string stays one (an unquoted empty field is NULL to COPY); a
    datetime is written as str() gives it, `YYYY-MM-DD HH:MM:SS[.ffffff]`, which PostgreSQL reads back."""
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def copy_csv(cursor, table: sa.Table, rows: Iterable[Sequence], columns: Sequence[str] | None = None,
             text: str | None = None) -> None:
    """COPY of the rows (or of their text, already COPY's CSV) into the table, in the cursor's transaction."""
    names = ", ".join(f'"{name}"' for name in (columns or table.c.keys()))
    try:
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN (FORMAT csv)') as copy:
            copy.write(text if text is not None else csv_text(rows))
    except cursor.connection.IntegrityError as error:  # a driver cursor's errors are not SQLAlchemy's
        raise sa.exc.IntegrityError(f"COPY {table.name}", None, error) from error


class PostgresCopy:
    """COPY of the new rows straight into the table, in the batch's transaction.

    One statement first, in the same transaction: the ids of the batch already present (counted as
    already_exists, left unchanged, not copied) and, for a child table, a FOR KEY SHARE lock on every
    parent row the batch names — the very check and lock a foreign-key trigger takes, once per parent
    instead of once per row. A parent missing by then fails the batch (ConcurrentWrite, retried). With
    the parents held, the per-row triggers are switched off for this transaction only, where the role
    may (superuser, or GRANT SET ON PARAMETER session_replication_role); the constraints stay in the
    schema and keep guarding every other writer and every delete of a parent.

    A row another writer inserts between that look-up and the COPY makes the COPY fail on the primary
    key: the caller runs the batch again on the ON CONFLICT path (infra.db.inserts)."""

    def __init__(self) -> None:
        self._may_skip_triggers: bool | None = None  # asked once, on the first batch

    def write(self, conn: sa.Connection, table: sa.Table, rows: Sequence[tuple], lines: Sequence[str] = ()) -> int:
        if not rows:
            return 0
        columns = list(table.c)
        id_at = columns.index(table.c.id)
        references = [(columns.index(fk.parent), fk.column) for fk in table.foreign_keys]
        cursor = conn.connection.driver_connection.cursor()
        with cursor:
            skip_triggers = bool(references) and self._may_skip(cursor)
            wanted = [sorted({row[at] for row in rows}) for at, _ in references]
            ids = [row[id_at] for row in rows]
            low, high = min(ids), max(ids)
            dense = high - low < 4 * len(ids)  # the usual file: a range scan beats a list of keys
            cursor.execute(self._look_up(table, references, skip_triggers, dense),
                           [*([low, high] if dense else [ids]), *wanted])
            present, *locked = cursor.fetchone()[:1 + len(references)]
            for (_, key), keys, count in zip(references, wanted, locked):
                if count != len(keys):
                    raise ConcurrentWrite(f"{len(keys) - count} {key.table.name} rows this batch of {table.name} "
                                          "names were deleted after validation")
            text = as_copy_csv(table, lines) if len(lines) == len(rows) else None
            if present:
                present = set(present)
                kept = [at for at, row in enumerate(rows) if row[id_at] not in present]
                rows = [rows[at] for at in kept]
                text = text and "".join([lines[at] + "\n" for at in kept])
            copy_csv(cursor, table, rows, text=text)
        return len(rows)

    @staticmethod
    def _look_up(table: sa.Table, references, skip_triggers: bool, dense: bool) -> str:
        # Lists go in as ARRAY(SELECT unnest(…)): the planner then does not estimate every element of
        # a constant list, which costs more than the query itself at a thousand ids.
        kind = _copy_type(table.c.id)
        where = "id BETWEEN %s AND %s" if dense else f"id = ANY(ARRAY(SELECT unnest(%s::{kind}[])))"
        parts = [f'ARRAY(SELECT id FROM "{table.name}" WHERE {where})']
        parts += [f'(SELECT count(*) FROM (SELECT 1 FROM "{key.table.name}" WHERE "{key.name}" = '
                  f'ANY(ARRAY(SELECT unnest(%s::{_copy_type(key)}[]))) FOR KEY SHARE) AS p{n})'
                  for n, (_, key) in enumerate(references)]
        if skip_triggers:
            parts.append("set_config('session_replication_role', 'replica', true)")
        return "SELECT " + ", ".join(parts)

    def _may_skip(self, cursor) -> bool:
        if self._may_skip_triggers is None:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            allowed = bool(cursor.fetchone()[0])
            if not allowed and cursor.connection.info.server_version >= 150000:
                cursor.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
                allowed = bool(cursor.fetchone()[0])
            self._may_skip_triggers = allowed
        return self._may_skip_triggers
