"""The TaskRegistry port on SQLAlchemy: the `tasks` table, for the embedded default and any SQL database.

Every change is one UPDATE guarded by `state NOT IN (SUCCESS, FAILURE)`, so a finished task stays
finished whatever arrives late (progress, a redelivered start, a second ending): the database's own
row lock makes the check and the write one step. A lease is taken or renewed the same way, its
condition in the UPDATE's WHERE, so two workers never both take one task.
"""
from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from core.clock import naive_utc
from core.errors import StoreUnavailable
from core.leases import Lease
from core.progress import Progress
from core.tasks import TaskRecord, TaskState
from infra.db.failures import unavailable_on_failure
from infra.db.schema import tasks

_FINISHED = [TaskState.SUCCESS.value, TaskState.FAILURE.value]
_UNFINISHED = [TaskState.PENDING.value, TaskState.STARTED.value, TaskState.RETRY.value]


class SqlTaskRegistry:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def submitted(self, task_id: str, kind: str, args: dict[str, Any], at: datetime) -> None:
        with unavailable_on_failure(), self._engine.begin() as conn:
            conn.execute(tasks.insert().values(
                id=task_id, kind=kind, args=args, state=TaskState.PENDING.value,
                submitted_at=naive_utc(at), progress={}, result=None, error=None))

    def started(self, task_id: str, at: datetime) -> None:
        self._update(task_id, state=TaskState.STARTED.value, started_at=naive_utc(at))

    def progressed(self, task_id: str, progress: Progress) -> None:
        self._update(task_id, progress=asdict(progress) if is_dataclass(progress) else dict(progress))

    def succeeded(self, task_id: str, result: Any, at: datetime) -> None:
        self._update(task_id, state=TaskState.SUCCESS.value, result=result, finished_at=naive_utc(at))

    def failed(self, task_id: str, error: str, at: datetime) -> None:
        self._update(task_id, state=TaskState.FAILURE.value, error=error, finished_at=naive_utc(at))

    def retrying(self, task_id: str, error: str) -> None:
        self._update(task_id, state=TaskState.RETRY.value, error=error)

    def claim(self, task_id: str, holder: str, until: datetime, at: datetime) -> bool:
        free = sa.or_(tasks.c.lease_holder.is_(None), tasks.c.lease_holder == holder,
                      tasks.c.lease_until.is_(None), tasks.c.lease_until <= naive_utc(at))
        return self._update(task_id, free, lease_holder=holder, lease_until=naive_utc(until)) == 1

    def renew(self, task_id: str, holder: str, until: datetime, successor: str | None = None) -> bool:
        return self._update(task_id, tasks.c.lease_holder == holder, lease_holder=successor or holder,
                            lease_until=naive_utc(until)) == 1

    def release(self, task_id: str, holder: str, until: datetime) -> None:
        self._update(task_id, tasks.c.lease_holder == holder, lease_holder=None, lease_until=naive_utc(until))

    def get(self, task_id: str) -> TaskRecord | None:
        with unavailable_on_failure(), self._engine.connect() as conn:
            row = conn.execute(sa.select(tasks).where(tasks.c.id == task_id)).first()
        return _record(row) if row else None

    def recent(self, limit: int) -> list[TaskRecord]:
        query = sa.select(tasks).order_by(tasks.c.submitted_at.desc(), tasks.c.id.desc()).limit(max(limit, 0))
        with unavailable_on_failure(), self._engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    def unfinished(self) -> list[TaskRecord]:
        query = sa.select(tasks).where(tasks.c.state.in_(_UNFINISHED)).order_by(
            tasks.c.submitted_at, tasks.c.id)
        with unavailable_on_failure(), self._engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    def check(self) -> None:
        try:
            with unavailable_on_failure(), self._engine.connect() as conn:
                conn.execute(sa.select(sa.func.count()).select_from(tasks).where(tasks.c.id == ""))
        except sa.exc.DBAPIError as error:
            raise StoreUnavailable(f"the task registry's database is unavailable: {error.orig}") from error

    def _update(self, task_id: str, *conditions: Any, **values: Any) -> int:
        """Returns the rows the UPDATE matched: 1, or 0 when the task is finished or a condition fails."""
        with unavailable_on_failure(), self._engine.begin() as conn:
            return conn.execute(tasks.update().where(tasks.c.id == task_id, tasks.c.state.not_in(_FINISHED),
                                                     *conditions).values(**values)).rowcount



def _record(row) -> TaskRecord:
    return TaskRecord(
        id=row.id, kind=row.kind, args=row.args, state=TaskState(row.state), submitted_at=row.submitted_at,
        started_at=row.started_at, finished_at=row.finished_at, progress=row.progress or {},
        result=row.result, error=row.error, lease=Lease(row.lease_holder, row.lease_until))
