"""Logged rejections fixed or checked again, inside the transaction of the batch that did it."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

import sqlalchemy as sa

from core.ports import BatchWrite
from domain.rejections import Rejection
from domain.rules import other_values_reason
from infra.db.schema import TABLES, rejected_rows

_logged = rejected_rows.c
# A logged row's reasons as of now (executemany: logged_id, now_reasons).
SET_REASONS = rejected_rows.update().where(_logged.id == sa.bindparam("logged_id")).values(
    reasons=sa.bindparam("now_reasons"))


def resolved_by(table_name: str, rejection_ids: list[int], task_id: str, now: datetime) -> sa.Update:
    """Those of the rejections of the table still unresolved, resolved by the task."""
    return rejected_rows.update().where(
        _logged.id.in_(rejection_ids), _logged.table_name == table_name, _logged.resolved_by.is_(None)).values(
        resolved_by=task_id, resolved_at=now)


def relog(conn: sa.Connection, rejections: Sequence[Rejection]) -> None:
    """Rejections of rows checked again (their line_number is the logged row's id): the reasons as of now."""
    _set_reasons(conn, [(r.line_number, r.reasons) for r in rejections])


def _set_reasons(conn: sa.Connection, reasons: list[tuple[int, Sequence[str]]]) -> None:
    conn.execute(SET_REASONS, [{"logged_id": id_, "now_reasons": list(told)} for id_, told in reasons])


def resolve(conn: sa.Connection, write: BatchWrite, now: datetime) -> None:
    """Marks resolved by the batch's task each rejection whose row now stands in the table with equal values
    (after the batch's own rows went in); for a replay, one whose id holds other values is told so."""
    table = TABLES[write.table.value]
    ids = [resolution.row[0] for resolution in write.resolves]
    stored = {row[0]: tuple(row) for row in conn.execute(sa.select(table).where(table.c.id.in_(ids)))}
    equal = [r.rejection_id for r in write.resolves if stored.get(r.row[0]) == tuple(r.row)]
    if equal:
        conn.execute(resolved_by(write.table.value, equal, write.task_id, now))
    if write.rechecks:
        other = [(r.rejection_id, [other_values_reason(r.row[0])]) for r in write.resolves
                 if stored.get(r.row[0]) != tuple(r.row)]
        if other:
            _set_reasons(conn, other)
