"""The bulk path of a batch inside a SQLAlchemy transaction, chosen per dialect: a bare executemany on SQLite,
the portable inserts of infra.db.inserts elsewhere (PostgreSQL's batches have a transaction of their own,
infra.db.postgres_batch). Same contract everywhere: inside the caller's transaction, insert the rows whose
id is absent, leave present ones as they are, return the count."""
from __future__ import annotations

from typing import Callable, Iterable, Sequence

import sqlalchemy as sa

from infra.db.inserts import insert_new_rows

RowWriter = Callable[[sa.Connection, sa.Table, Sequence[tuple], Sequence[str]], int]


def bulk_writer(dialect: str) -> RowWriter:
    """The fastest exact writer for the dialect (decided from the engine, before any connection)."""
    return {"sqlite": sqlite_executemany}.get(dialect, insert_new_rows)


def dense_range(ids: Sequence[int]) -> tuple[int, int] | None:
    """(lowest, highest) when the ids lie close together, as a file's usually do: then one range scan finds
    them faster than a list of keys. None when they are scattered."""
    low, high = min(ids), max(ids)
    return (low, high) if high - low < 4 * len(ids) else None


def present_ids(conn: sa.Connection, column: sa.Column, ids: list[int]) -> set[int]:
    """Which of the ids are in the column. On PostgreSQL one array parameter, kept out of the
    planner's sight; elsewhere IN lists of at most a thousand ids."""
    if conn.dialect.name == "postgresql":
        query = (f'SELECT "{column.name}" FROM "{column.table.name}" WHERE "{column.name}" = '
                 f"ANY(ARRAY(SELECT unnest(%s::{pg_type(column)}[])))")
        with conn.connection.driver_connection.cursor() as cursor:
            return {row[0] for row in cursor.execute(query, [int_array(ids)])}
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

_PG_TYPES = ((sa.BigInteger, "int8"), (sa.Integer, "int4"), (sa.String, "varchar"), (sa.DateTime, "timestamp"),
             (sa.JSON, "json"))


def pg_type(column: sa.Column) -> str:
    """The column's PostgreSQL type, for the cast of an array parameter."""
    for kind, name in _PG_TYPES:
        if isinstance(column.type, kind):
            return name
    raise TypeError(f"no PostgreSQL type for {column.table.name}.{column.name} ({column.type})")


def int_array(values: Iterable[int]) -> str:
    """Integers as the text of a PostgreSQL array (cast by the statement): made in C, where psycopg dumps a
    list value by value."""
    return "{" + ",".join(map(str, values)) + "}"
