"""The RowReader port: the three tables and the rejected rows read back a page at a time."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from domain.tables import LOAD_ORDER, Table
from infra.db.failures import unavailable_on_failure
from infra.db.rejection_log import resolved_filter
from infra.db.schema import TABLES, load_batches, rejected_rows


def _json_value(value: Any) -> Any:
    return value.isoformat() + "Z" if isinstance(value, datetime) else value


def _as_dict(row: sa.Row) -> dict[str, Any]:
    return {key: _json_value(value) for key, value in row._mapping.items()}


def _of_load(task_id: str, table: Table | None) -> list:
    where = [load_batches.c.task_id == task_id]
    if table is not None:
        where.append(load_batches.c.table_name == table.value)
    return where


class SqlRowReader:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def page(self, table: Table, limit: int, offset: int) -> list[dict[str, Any]]:
        t = TABLES[table.value]
        query = sa.select(t).order_by(t.c.id).limit(limit).offset(offset)
        with unavailable_on_failure(), self._engine.connect() as conn:
            return [_as_dict(row) for row in conn.execute(query)]

    def count(self, table: Table) -> int:
        with unavailable_on_failure(), self._engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(TABLES[table.value])).scalar_one()

    def rejections(self, table: Table | None, task_id: str | None, limit: int, offset: int,
                   resolved: bool | None = False) -> list[dict[str, Any]]:
        query = sa.select(rejected_rows).where(*resolved_filter(resolved)).order_by(
            rejected_rows.c.id).limit(limit).offset(offset)
        if table is not None:
            query = query.where(rejected_rows.c.table_name == table.value)
        if task_id is not None:
            query = query.where(rejected_rows.c.task_id == task_id)
        with unavailable_on_failure(), self._engine.connect() as conn:
            return [_as_dict(row) for row in conn.execute(query)]

    def batches(self, task_id: str, table: Table | None, limit: int, offset: int) -> list[dict[str, Any]]:
        c = load_batches.c
        in_load_order = sa.case({t.value: n for n, t in enumerate(LOAD_ORDER)}, value=c.table_name)
        query = sa.select(c.table_name.label("table"), c.batch, c.processed, c.inserted, c.already_exists, c.errors,
                          c.error_ids).where(*_of_load(task_id, table)).order_by(in_load_order, c.batch)
        with unavailable_on_failure(), self._engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query.limit(limit).offset(offset))]

    def batch_count(self, task_id: str, table: Table | None) -> int:
        query = sa.select(sa.func.count()).select_from(load_batches).where(*_of_load(task_id, table))
        with unavailable_on_failure(), self._engine.connect() as conn:
            return conn.execute(query).scalar_one()

    def check(self) -> None:
        with unavailable_on_failure(), self._engine.connect() as conn:
            conn.execute(sa.select(1))
