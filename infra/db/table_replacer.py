"""The TableReplacer port: tables' rows swapped for a backup's in ONE transaction, foreign keys kept.

Nothing is deferred and no check is switched off: rows still pointed at by a table that is not being
replaced stay in place (updated from the backup) while the others are deleted, so the database checks
every foreign key as usual; any such row the backup lacks makes the whole transaction roll back.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core.backup_ports import RestoreBatch
from core.errors import Conflict
from domain.tables import Table
from infra.db.failures import unavailable_on_failure
from infra.db.hire_summaries import rebuild
from infra.db.rejection_rows import rejection_row
from infra.db.schema import TABLES, hired_employees, rejected_rows


def _children(table: sa.Table) -> list[sa.Column]:
    """The foreign-key columns, in any of the tables, that point at `table`."""
    return [fk.parent for other in TABLES.values() for fk in other.foreign_keys if fk.column.table is table]


class SqlTableReplacer:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def referenced_ids(self, table: Table) -> set[int]:
        ids: set[int] = set()
        with unavailable_on_failure(), self._engine.connect() as conn:
            for column in _children(TABLES[table.value]):
                ids.update(conn.execute(sa.select(column).distinct()).scalars())
        return ids

    def replace(self, fills: Sequence[tuple[Table, Iterable[RestoreBatch]]]) -> dict[Table, int]:
        replacing = {TABLES[table.value] for table, _ in fills}
        counts: dict[Table, int] = {}
        try:
            with unavailable_on_failure(), self._engine.begin() as conn:
                kept = {table: _clear(conn, TABLES[table.value], replacing) for table, _ in reversed(fills)}
                for table, batches in fills:
                    counts[table] = _fill(conn, TABLES[table.value], batches, in_place=kept[table])
                    if kept[table]:
                        _refuse_leftovers(conn, TABLES[table.value], counts[table])
                if hired_employees in replacing:  # the reports' counts, from the rows now there
                    rebuild(conn)
        except IntegrityError as error:
            raise Conflict(f"the restore broke a foreign key or a key, so nothing was restored "
                           f"(was the data changed meanwhile?): {error.orig}") from error
        return counts


def _clear(conn: sa.Connection, table: sa.Table, replacing: set[sa.Table]) -> bool:
    """Deletes the rows no other table points at; True when some may have been kept for that reason."""
    outside = [column for column in _children(table) if column.table not in replacing]
    if not outside:
        conn.execute(table.delete())
        return False
    conn.execute(table.delete().where(*(~sa.exists().where(column == table.c.id) for column in outside)))
    return True


def _fill(conn: sa.Connection, table: sa.Table, batches: Iterable[RestoreBatch], in_place: bool) -> int:
    keys = table.c.keys()
    restored = 0
    for batch in batches:
        rows = list(batch.rows)
        if in_place and rows:
            rows = _update_present(conn, table, rows)
        if rows:
            conn.execute(table.insert(), [dict(zip(keys, row)) for row in rows])
        if batch.rejections:
            conn.execute(rejected_rows.insert(), [rejection_row(r) for r in batch.rejections])
        restored += len(batch.rows)
    return restored


def _update_present(conn: sa.Connection, table: sa.Table, rows: list[tuple]) -> list[tuple]:
    """Updates the rows whose id is still there; returns the others, to be inserted."""
    present = set(conn.execute(sa.select(table.c.id).where(table.c.id.in_([r[0] for r in rows]))).scalars())
    if present:
        keys = table.c.keys()
        statement = table.update().where(table.c.id == sa.bindparam("old_id")).values(
            {key: sa.bindparam(f"new_{key}") for key in keys[1:]})
        conn.execute(statement, [{"old_id": r[0], **{f"new_{k}": v for k, v in zip(keys[1:], r[1:])}}
                                 for r in rows if r[0] in present])
    return [r for r in rows if r[0] not in present]


def _refuse_leftovers(conn: sa.Connection, table: sa.Table, restored: int) -> None:
    """Rows kept because they are pointed at, and not in the backup: the rows changed since the check."""
    total = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    if total > restored:
        raise Conflict(f"{total - restored} rows of {table.name} that other rows point at are not in the "
                       "backup (they arrived while it was being restored); nothing was restored")
