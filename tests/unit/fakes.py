"""In-memory fakes of our own ports: the unit tier runs the use cases on these, never on a database."""
from __future__ import annotations

import io
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from typing import Any, BinaryIO, Iterable, Iterator, Sequence

from core.errors import BrokerUnavailable, NotFound, StoreUnavailable
from core.ingestion import Ingestion
from core.leases import Lease
from core.ports import BatchWrite, BlobInfo
from core.progress import Progress
from core.rejection_log import LoggedRejection
from core.reports import DepartmentHires, QuarterlyHires
from core.summary import BatchSummary, LoadSummary
from core.tasks import TaskRecord, TaskState
from domain.quarters import year_and_quarter
from domain.rejections import Rejection
from domain.rules import other_values_reason
from domain.tables import LOAD_ORDER, Table


class FakeLoadStore:
    """Rows per table keyed by id, the rejection log and the committed batches, as the SQL store keeps them.

    `fail_on_commit=N` makes the Nth call of commit_batch fail after staging its rows, as a database
    would fail mid-transaction; the staged rows are thrown away, so nothing of that batch is applied.
    """

    def __init__(self, fail_on_commit: int | None = None, batches_per_commit: int = 1,
                 commits_in_flight: int = 1, commits_in_a_process: bool = False) -> None:
        self.batches_per_commit = batches_per_commit
        self.commits_in_flight = commits_in_flight
        self.commits_in_a_process = commits_in_a_process
        self.writes_from_lines = True
        self.commit_groups: list[list[int]] = []  # the batch numbers of each commit_batches call
        self.tables: dict[Table, dict[int, tuple]] = {table: {} for table in Table}
        self.rejections: list[Rejection] = []
        self.batches: dict[tuple[str, Table], dict[int, BatchSummary]] = {}
        self.commit_calls: list[tuple[str, Table, int]] = []  # every call, failed ones included
        self.fail_on_commit = fail_on_commit
        self.not_yet_durable: list[int] = []  # batches committed by commit_batches since make_durable
        self.made_durable: list[list[int]] = []  # what each make_durable call flushed
        self.resolved: dict[int, str] = {}  # a rejection's id (its place in `rejections`, from 1) → the task

    def add(self, table: Table, *rows: tuple) -> None:
        """Rows already in the database before the test's load."""
        for row in rows:
            self.tables[table][row[0]] = row

    def rows(self, table: Table) -> list[tuple]:
        return sorted(self.tables[table].values())

    def reasons_by_line(self, table: Table) -> dict[int, tuple[str, ...]]:
        return {r.line_number: r.reasons for r in self.rejections if r.table is table}

    def landed(self, task_id: str, table: Table) -> list[BatchSummary]:
        """The batches a load committed, in order: what /task-status/<id>/batches reads."""
        return [summary for _, summary in sorted(self.batches.get((task_id, table), {}).items())]

    def error_ids(self, task_id: str, table: Table) -> list[int]:
        return [id_ for summary in self.landed(task_id, table) for id_ in summary.error_ids]

    def known_ids(self, table: Table, ids: Iterable[int]) -> set[int]:
        return set(ids) & self.tables[table].keys()

    def recorded_batches(self, task_id: str, table: Table) -> dict[int, BatchSummary]:
        return dict(self.batches.get((task_id, table), {}))

    def recorded_rows(self, task_id: str, table: Table) -> int:
        return sum(b.processed for b in self.batches.get((task_id, table), {}).values())

    def commit_batch(self, write: BatchWrite) -> BatchSummary:
        self.commit_calls.append((write.task_id, write.table, write.batch))
        recorded = self.batches.get((write.task_id, write.table), {})
        if write.batch in recorded:  # the real store's unique key: a second delivery keeps the first figures
            return recorded[write.batch]
        staged = dict(self.tables[write.table])
        inserted = 0
        for row in write.rows:
            if row[0] not in staged:
                staged[row[0]] = row
                inserted += 1
        if len(self.commit_calls) == self.fail_on_commit:
            raise StoreUnavailable(f"commit {self.fail_on_commit} failed (as told)")
        self.tables[write.table] = staged
        if write.rechecks:  # logged rows checked again: their line_number is their id
            for checked in write.rejections:
                self._relog(checked.line_number, checked.reasons)
        else:
            self.rejections.extend(write.rejections)
        for resolution in write.resolves:
            if staged.get(resolution.row[0]) == tuple(resolution.row):
                self.resolved.setdefault(resolution.rejection_id, write.task_id)
            elif write.rechecks:
                self._relog(resolution.rejection_id, (other_values_reason(resolution.row[0]),))
        summary = write.summary(inserted)
        self.batches.setdefault((write.task_id, write.table), {})[write.batch] = summary
        return summary

    def commit_batches(self, writes: Sequence[BatchWrite]) -> list[BatchSummary]:
        """Not atomic across the group: the failure tests use one batch per commit."""
        self.commit_groups.append([w.batch for w in writes])
        summaries = [self.commit_batch(write) for write in writes]
        self.not_yet_durable += [w.batch for w in writes]
        return summaries

    def make_durable(self) -> None:
        self.made_durable.append(self.not_yet_durable)
        self.not_yet_durable = []

    def _relog(self, id_: int, reasons: tuple[str, ...]) -> None:
        self.rejections[id_ - 1] = replace(self.rejections[id_ - 1], reasons=reasons)


class FakeRejectionLog:
    """The rejection log of a FakeLoadStore: each rejection's id is its place in the list, from 1."""

    def __init__(self, store: FakeLoadStore) -> None:
        self._store = store

    def tables(self, task_id: str) -> list[Table]:
        named = {r.table for r in self._store.rejections if r.task_id == task_id}
        named |= {table for task, table in self._store.batches if task == task_id}
        return [table for table in LOAD_ORDER if table in named]

    def logged(self, table: Table, task_id: str | None, resolved: bool | None, after: int, limit: int,
               or_resolved_by: str | None = None) -> list[LoggedRejection]:
        found = []
        for id_, r in enumerate(self._store.rejections, start=1):
            by = self._store.resolved.get(id_)
            wanted = resolved is None or (by is not None) == resolved or (by is not None and by == or_resolved_by)
            if id_ > after and r.table is table and task_id in (None, r.task_id) and wanted:
                found.append(LoggedRejection(id_, r.line_number, r.raw, r.reasons, r.fields))
        return found[:limit]


class FakeBlobStore:
    def __init__(self, blobs: dict[str, bytes] | None = None) -> None:
        self.blobs: dict[str, bytes] = dict(blobs or {})
        self.opened: list[str] = []
        self.modified = datetime(2021, 1, 1)

    @contextmanager
    def open(self, name: str, offset: int = 0) -> Iterator[BinaryIO]:
        if name not in self.blobs:
            raise NotFound(f"file '{name}' is not in storage")
        self.opened.append(name)
        yield io.BytesIO(self.blobs[name][offset:])

    def size(self, name: str) -> int:
        if name not in self.blobs:
            raise NotFound(f"file '{name}' is not in storage")
        return len(self.blobs[name])

    def write(self, name: str, stream: BinaryIO) -> int:
        self.blobs[name] = stream.read()
        return len(self.blobs[name])

    def touch(self, name: str, data: bytes) -> None:
        """Replaces a blob as a new upload does: new content, a later modification time."""
        self.blobs[name] = data
        self.modified += timedelta(seconds=1)

    def list(self, prefix: str = "") -> list[BlobInfo]:
        return [BlobInfo(name, len(data), self.modified)
                for name, data in sorted(self.blobs.items()) if name.startswith(prefix)]

    def check(self) -> None:
        return None


class FakeReportQueries:
    """Counts over a FakeLoadStore's rows in plain Python, by each hire's quarter; in no particular order."""

    def __init__(self, store: FakeLoadStore) -> None:
        self._store = store
        self.calls: list[tuple[str, int]] = []

    def _hires_in(self, year: int):
        for employee in self._store.tables[Table.HIRED_EMPLOYEES].values():
            hired_in, quarter = year_and_quarter(employee.datetime)
            if hired_in == year:
                yield employee, quarter

    def hires_by_quarter(self, year: int) -> list[QuarterlyHires]:
        self.calls.append(("hires_by_quarter", year))
        departments, jobs = self._store.tables[Table.DEPARTMENTS], self._store.tables[Table.JOBS]
        counts: dict[tuple[str, str], list[int]] = {}
        for employee, quarter in self._hires_in(year):
            key = (departments[employee.department_id].department, jobs[employee.job_id].job)
            counts.setdefault(key, [0, 0, 0, 0])[quarter - 1] += 1
        return [QuarterlyHires(d, j, *q) for (d, j), q in reversed(list(counts.items()))]

    def hires_per_department(self, year: int) -> list[DepartmentHires]:
        self.calls.append(("hires_per_department", year))
        departments = self._store.tables[Table.DEPARTMENTS]
        hired = {id_: 0 for id_ in departments}
        for employee, _ in self._hires_in(year):
            hired[employee.department_id] += 1
        return [DepartmentHires(id_, departments[id_].department, count) for id_, count in reversed(hired.items())]


class FakeHireSummary:
    """A summary that says how often it was rebuilt."""

    def __init__(self) -> None:
        self.rebuilds = 0

    def rebuild(self) -> dict[str, int]:
        self.rebuilds += 1
        return {"rows": 0, "corrected": 0}


class FakeTaskRegistry:
    """Records in a dict, leases as the real registries keep them. `down=True` makes every call fail as a
    registry that cannot be reached; `fail_next=N` fails only the next N calls."""

    def __init__(self) -> None:
        self.records: dict[str, TaskRecord] = {}
        self.progress_seen: list[Progress] = []
        self.down = False
        self.fail_next = 0
        self.calls: list[str] = []

    def _reach(self, call: str) -> None:
        self.calls.append(call)
        if self.fail_next > 0 or self.down:
            self.fail_next = max(0, self.fail_next - 1)
            raise BrokerUnavailable(f"the registry is away (as told) on {call}")

    def submitted(self, task_id: str, kind: str, args: dict[str, Any], at: datetime) -> None:
        self._reach("submitted")
        self.records[task_id] = TaskRecord(task_id, kind, dict(args), TaskState.PENDING, at)

    def _unfinished(self, task_id: str) -> TaskRecord | None:
        record = self.records.get(task_id)
        return None if record is None or record.state.finished else record

    def started(self, task_id: str, at: datetime) -> None:
        self._reach("started")
        if record := self._unfinished(task_id):
            record.state, record.started_at = TaskState.STARTED, at

    def progressed(self, task_id: str, progress: Progress) -> None:
        self._reach("progressed")
        self.progress_seen.append(progress)
        if record := self._unfinished(task_id):
            record.progress = asdict(progress)

    def succeeded(self, task_id: str, result: Any, at: datetime) -> None:
        self._reach("succeeded")
        if record := self._unfinished(task_id):
            record.state, record.result, record.finished_at = TaskState.SUCCESS, result, at

    def failed(self, task_id: str, error: str, at: datetime) -> None:
        self._reach("failed")
        if record := self._unfinished(task_id):
            record.state, record.error, record.finished_at = TaskState.FAILURE, error, at

    def retrying(self, task_id: str, error: str) -> None:
        self._reach("retrying")
        if record := self._unfinished(task_id):
            record.state, record.error = TaskState.RETRY, error

    def claim(self, task_id: str, holder: str, until: datetime, at: datetime) -> bool:
        self._reach("claim")
        record = self._unfinished(task_id)
        if record is None:
            return False
        lease = record.lease
        if lease.holder not in (None, holder) and not lease.lapsed(at):
            return False
        record.lease = Lease(holder, until)
        return True

    def renew(self, task_id: str, holder: str, until: datetime, successor: str | None = None) -> bool:
        self._reach("renew")
        record = self._unfinished(task_id)
        if record is None or record.lease.holder != holder:
            return False
        record.lease = Lease(successor or holder, until)
        return True

    def release(self, task_id: str, holder: str, until: datetime) -> None:
        self._reach("release")
        record = self._unfinished(task_id)
        if record is not None and record.lease.holder == holder:
            record.lease = Lease(None, until)

    def get(self, task_id: str) -> TaskRecord | None:
        self._reach("get")
        return self.records.get(task_id)

    def recent(self, limit: int) -> list[TaskRecord]:
        self._reach("recent")
        return sorted(self.records.values(), key=lambda r: r.submitted_at, reverse=True)[:limit]

    def unfinished(self) -> list[TaskRecord]:
        self._reach("unfinished")
        return sorted((r for r in self.records.values() if not r.state.finished), key=lambda r: r.submitted_at)

    def check(self) -> None:
        self._reach("check")


class FakeDispatcher:
    """Remembers what it was handed; `down=True` makes it refuse, as a broker that cannot be reached."""

    def __init__(self, down: bool = False) -> None:
        self.dispatched: list[tuple[str, str, dict[str, Any]]] = []
        self.down = down

    def dispatch(self, task_id: str, kind: str, args: dict[str, Any]) -> None:
        if self.down:
            raise BrokerUnavailable("the broker is down (as told)")
        self.dispatched.append((task_id, kind, args))

    def check(self) -> None:
        if self.down:
            raise BrokerUnavailable("the broker is down (as told)")


def load_departments(store: FakeLoadStore, task_id: str, rows: int = 7) -> tuple[LoadSummary, list[int]]:
    """Loads departments 1..rows in batches of one; the summary and the rows done at each progress call."""
    body = "".join(f"{i},Department {i}\n" for i in range(1, rows + 1)).encode()
    seen: list[int] = []
    ingestion = Ingestion(store, FakeBlobStore(), batch_size=1, clock=lambda: datetime(2021, 1, 1))
    summary = ingestion.load_stream(Table.DEPARTMENTS, io.BytesIO(body), source="d.csv", task_id=task_id,
                                    on_progress=lambda p: seen.append(p.rows_done))
    return summary, seen
