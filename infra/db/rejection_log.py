"""The RejectionLog port on SQLAlchemy: the rejected_rows table read by id, a page at a time."""
from __future__ import annotations

import sqlalchemy as sa

from core.rejection_log import LoggedRejection
from domain.tables import LOAD_ORDER, Table
from infra.db.failures import unavailable_on_failure
from infra.db.schema import load_batches, rejected_rows

_c = rejected_rows.c


def resolved_filter(resolved: bool | None) -> list:
    """The WHERE terms of `resolved=false|true|all`, shared with the paged JSON read (infra.db.row_reader)."""
    if resolved is None:
        return []
    return [_c.resolved_by.is_not(None) if resolved else _c.resolved_by.is_(None)]


def logged_query(table: Table, task_id: str | None, resolved: bool | None, after: int, limit: int,
                 or_resolved_by: str | None = None) -> sa.Select:
    """A page of the log by id (keyset: `after` the last id of the page before)."""
    which = resolved_filter(resolved)
    if which and or_resolved_by is not None:
        which = [sa.or_(*which, _c.resolved_by == or_resolved_by)]
    query = sa.select(_c.id, _c.line_number, _c.raw_text, _c.reasons, _c.fields).where(
        _c.table_name == table.value, _c.id > after, *which).order_by(_c.id).limit(limit)
    return query if task_id is None else query.where(_c.task_id == task_id)


class SqlRejectionLog:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def tables(self, task_id: str) -> list[Table]:
        logged = sa.select(_c.table_name).where(_c.task_id == task_id).distinct()
        batches = sa.select(load_batches.c.table_name).where(load_batches.c.task_id == task_id).distinct()
        with unavailable_on_failure(), self._engine.connect() as conn:
            names = set(conn.execute(logged).scalars()) | set(conn.execute(batches).scalars())
        return [table for table in LOAD_ORDER if table.value in names]

    def logged(self, table: Table, task_id: str | None, resolved: bool | None, after: int, limit: int,
               or_resolved_by: str | None = None) -> list[LoggedRejection]:
        query = logged_query(table, task_id, resolved, after, limit, or_resolved_by)
        with unavailable_on_failure(), self._engine.connect() as conn:
            return [LoggedRejection(row.id, row.line_number, row.raw_text, tuple(row.reasons),
                                    None if row.fields is None else tuple(row.fields)) for row in conn.execute(query)]
