"""The ingestion use case: stream rows, apply the rules, commit each batch as one transaction."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import BinaryIO, Callable, Iterable

from core.clock import utc_now
from core.commit_overlap import OrderedCommits
from core.csv_records import DataBatches, Record
from core.dialects import ReadOptions, sniffed
from core.errors import InvalidRequest
from core.ports import BatchWrite, BlobStore, LoadStore
from core.progress import Progress, ProgressCallback
from core.resolutions import resolutions
from core.seen_ids import SeenIds
from core.summary import BatchSummary, LoadSummary
from core.validation import BatchValidator, Checks
from domain.tables import LOAD_ORDER, Table

log = logging.getLogger(__name__)


class Ingestion:
    def __init__(self, store: LoadStore, blobs: BlobStore, batch_size: int = 1000,
                 clock: Callable[[], datetime] = utc_now) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._store = store
        self._blobs = blobs
        self.batch_size = batch_size
        self._clock = clock

    def load_blob(self, table: Table, task_id: str, name: str | None = None, *, start: int = 0,
                  limit: int | None = None, on_progress: ProgressCallback | None = None,
                  options: ReadOptions = ReadOptions()) -> LoadSummary:
        """Loads a CSV from blob storage (the table's own file unless named)."""
        name = name or table.file_name
        total = self._blobs.size(name)
        with self._blobs.open(name) as stream:
            return self.load_stream(table, stream, source=name, task_id=task_id, bytes_total=total,
                                    start=start, limit=limit, on_progress=on_progress, options=options)

    def load_all(self, task_id: str, on_progress: ProgressCallback | None = None,
                 options: ReadOptions = ReadOptions()) -> list[LoadSummary]:
        """Departments, jobs, then employees, so that every foreign key finds its parent.

        Progress counts over the three files together: one bar for the whole load."""
        sizes = [self._blobs.size(table.file_name) for table in LOAD_ORDER]  # all three must be there
        summaries: list[LoadSummary] = []
        for index, table in enumerate(LOAD_ORDER):
            rows_before = sum(s.totals()["processed"] for s in summaries)
            bytes_before = sum(sizes[:index])

            def overall(p: Progress, rows_before=rows_before, bytes_before=bytes_before) -> None:
                if on_progress:
                    on_progress(Progress(p.table, rows_before + p.rows_done, bytes_before + p.bytes_done,
                                         sum(sizes)))

            summaries.append(self.load_blob(table, task_id, on_progress=overall, options=options))
        return summaries

    def load_stream(self, table: Table, stream: BinaryIO, *, source: str, task_id: str,
                    bytes_total: int | None = None, start: int = 0, limit: int | None = None,
                    on_progress: ProgressCallback | None = None, options: ReadOptions = ReadOptions()) -> LoadSummary:
        dialect, stream = sniffed(stream, table, options)  # before any row is written: a header may not fit
        records = dialect.records(stream)
        summary = LoadSummary(table.value, source, task_id)
        batches = DataBatches(dialect.runs(records), self.batch_size, start=start, limit=limit)

        def progress(rows_done: int) -> None:
            if on_progress:
                on_progress(Progress(table.value, rows_done, records.bytes_read, bytes_total))

        self.load_records(table, batches, summary, progress, as_written=dialect.plain, resolving=dialect.resolves)
        summary.header_skipped = batches.header_skipped
        log.info("load finished", extra={"table": table.value, "source": source, **summary.totals()})
        return summary

    def load_records(self, table: Table, batches: Iterable[list[Record]], summary: LoadSummary,
                     progress: Callable[[int], None] = lambda rows: None, *, first_batch: int = 1,
                     validator: Checks | None = None, as_written: bool = True, resolving: bool = False,
                     rechecks: bool = False) -> LoadSummary:
        """Commits the batches of records one by one; batches a previous run of this task committed are
        validated again (so repeated ids are still caught) but not written twice.

        A chunk of a larger input numbers its batches from first_batch, and brings a validator that
        knows the ids the chunks before it took. `as_written`: the records' raw lines are the table's CSV
        form (core.dialects' plain dialect), which a store may send as they are. `resolving`: records may name
        a logged rejection they fix (core.resolutions). `rechecks`: the records are logged rejections checked
        again (core.replay)."""
        validator = validator or self.validator(table, summary.source, summary.task_id)
        committed = self._store.recorded_batches(summary.task_id, table)
        rows_done = 0

        def landed(results: list[BatchSummary], rows: int) -> None:
            nonlocal rows_done
            for result in results:
                summary.add(result)
            rows_done += rows
            progress(rows_done)

        keep_lines = as_written and self._store.writes_from_lines
        with OrderedCommits(self._store, landed) as commits:
            for number, chunk in enumerate(batches, start=first_batch):
                checked = validator.check(chunk, from_lines=keep_lines)
                recorded = committed.get(number)
                if recorded is None:
                    commits.add(BatchWrite(table, summary.task_id, number, len(chunk), checked.rows,
                                           checked.rejections, checked.lines if keep_lines else (),
                                           resolutions(chunk, checked) if resolving else (), rechecks))
                elif recorded.processed == len(chunk):
                    commits.add_recorded(recorded)
                else:
                    raise InvalidRequest(f"batch {number} of task {summary.task_id} was committed with "
                                         f"{recorded.processed} rows, not {len(chunk)}: BATCH_SIZE changed "
                                         "between runs")
        return summary

    def validator(self, table: Table, source: str, task_id: str, seen: SeenIds | None = None) -> BatchValidator:
        return BatchValidator(table, source, task_id, self._store, self._clock, seen)
