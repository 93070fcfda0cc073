"""The RowReader port: the three tables and the rejected rows read back a page at a time."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from domain.tables import Table
from infra.db.failures import unavailable_on_failure
from infra.db.schema import TABLES, rejected_rows


def _json_value(value: Any) -> Any:
    return value.isoformat() + "Z" if isinstance(value, datetime) else value


def _as_dict(row: sa.Row) -> dict[str, Any]:
    return {key: _json_value(value) for key, value in row._mapping.items()}


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

    def rejections(self, table: Table | None, task_id: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
        query = sa.select(rejected_rows).order_by(rejected_rows.c.id).limit(limit).offset(offset)
        if table is not None:
            query = query.where(rejected_rows.c.table_name == table.value)
        if task_id is not None:
            query = query.where(rejected_rows.c.task_id == task_id)
        with unavailable_on_failure(), self._engine.connect() as conn:
            return [_as_dict(row) for row in conn.execute(query)]

    def check(self) -> None:
        with unavailable_on_failure(), self._engine.connect() as conn:
            conn.execute(sa.select(1))
