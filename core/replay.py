"""Replay: the logged, unresolved rejected rows of a load run again through the rules against the database as
it is now (after the missing departments were loaded, say), as a load whose records come from the log.

It is a load in every other way (core.ingestion): 1000-row batches each committed whole with its figures,
skipped when a run of the same task committed them already. A row that now passes is inserted and its
rejection marked resolved by this task in the batch's transaction; one whose id is present counts as
already_exists and is resolved only if the stored row equals it; one that still fails keeps its logged row,
with its reasons as of now. So a second replay of the same load finds nothing left to insert.

A run of the task reads the rows still unresolved and the ones it resolved itself, so that a run after a
killed worker numbers its batches as the first run did. A row whose line could not be read into the table's
fields (bad bytes, another number of fields) cannot pass by itself: it is left as it is, to be fixed in the
exported file."""
from __future__ import annotations

from typing import Iterator

from core.csv_records import DataBatches, Record
from core.errors import InvalidRequest, NotFound
from core.header_mapping import MappedRecord
from core.ingestion import Ingestion
from core.progress import Progress, ProgressCallback
from core.rejection_log import LoggedRejection, RejectionLog
from core.summary import COUNTS, LoadSummary
from core.tasks import Tasks
from domain.log_text import unescaped
from domain.tables import Table

REPLAY = "replay"
PAGE = 1000


def _record(logged: LoggedRejection) -> MappedRecord:
    # The log's id stands as the line number: unique across loads, it is what a still-failing row's
    # rejection updates (BatchWrite.rechecks).
    return MappedRecord(logged.id, unescaped(logged.raw), list(map(unescaped, logged.fields)), None, logged.id)


class Replays:
    def __init__(self, ingestion: Ingestion, log: RejectionLog) -> None:
        self._ingestion = ingestion
        self._log = log

    def run(self, task_id: str, on_progress: ProgressCallback | None = None, *, of_task: str | None = None,
            table: str | None = None) -> dict:
        """The replay's summary: one table's, or {tables, total} when the load had several."""
        tables = [Table.from_name(table)] if table else self._log.tables(of_task)
        summaries = [self._replay(target, of_task, task_id, on_progress) for target in tables]
        if table:
            return summaries[0].as_dict()
        return {"tables": [s.as_dict() for s in summaries],
                "total": {key: sum(getattr(s, key) for s in summaries) for key in COUNTS}}

    def _replay(self, table: Table, of_task: str | None, task_id: str,
                on_progress: ProgressCallback | None) -> LoadSummary:
        source = f"rejections of task {of_task}" if of_task else f"rejections of {table.value}"
        summary = LoadSummary(table.value, source, task_id)
        batches = DataBatches(self._runs(table, of_task, task_id), self._ingestion.batch_size, header_possible=False)

        def progress(rows_done: int) -> None:
            if on_progress:
                on_progress(Progress(table.value, rows_done, 0, None))

        return self._ingestion.load_records(table, batches, summary, progress, as_written=False, resolving=True,
                                            rechecks=True)

    def _runs(self, table: Table, of_task: str | None, task_id: str) -> Iterator[list[Record]]:
        after = 0
        while page := self._log.logged(table, of_task, False, after, PAGE, or_resolved_by=task_id):
            after = page[-1].id
            if run := [_record(logged) for logged in page if logged.fields is not None]:
                yield run


class ReplayRequests:
    """POST /rejections/replay: checks what is named, then hands the replay to a worker."""

    def __init__(self, tasks: Tasks, log: RejectionLog) -> None:
        self._tasks = tasks
        self._log = log

    def replay(self, of_task: str | None, table: Table | None) -> str:
        if of_task is None and table is None:
            raise InvalidRequest("name the load's task_id, its table, or both")
        if of_task is not None and not self._log.tables(of_task):
            raise NotFound(f"task {of_task} committed no batch and logged no rejected row")
        return self._tasks.submit(REPLAY, {"of_task": of_task, "table": table.value if table else None})
