"""One large file loaded as chunks that several workers take at once, with the result one load gives.

Two rounds, each spread over the workers by the fan-out port:
1. Scan: each chunk is parsed and validated on its own. It reports the ids its valid rows take, the
   lines it holds, and whether the next chunk starts where a record starts.
2. Commit: each chunk is loaded as a single load would load it, its batches numbered
   chunk × 1,000,000 + n, starting with the ids every chunk before it took. An id's first valid row in
   the file wins, whichever chunk commits first.

Why the scan is enough: whether a row is valid (its fields, its parents) does not depend on other rows,
so the ids a chunk's valid rows take are the same scanned alone as in one pass. The union over the
earlier chunks is exactly what a single load has seen at the chunk's first row.

A cut inside a record (a quoted field holding a line break), or a first chunk without data (so the
header's place is unknown), loads the file in one piece instead.
"""
from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from itertools import islice
from typing import BinaryIO, Iterator, Protocol

from core.csv_records import CsvRecords, Record
from core.errors import InvalidRequest
from core.ingestion import Ingestion
from core.ports import BlobStore, LoadStore
from core.progress import Progress, ProgressCallback
from core.seen_ids import SeenIds
from core.summary import BatchSummary, LoadSummary
from core.tasks import CONTINUES, Continues
from domain.tables import Table

CHUNK_BATCHES = 1_000_000  # batch numbers per chunk: more than a chunk of any sane size holds
_CUT_WINDOW = 1 << 20  # how far past a chunk's nominal end a line end is looked for
_PROGRESS_EVERY = 1.0  # seconds between the progress figures a chunk asks the database for


class FanOut(Protocol):
    """Runs a load's chunks in workers: every scan, then every commit, then records the load's end."""

    def start(self, task_id: str, table: str, name: str, size: int, starts: list[int]) -> None: ...


@dataclass(frozen=True)
class ChunkScan:
    lines: int  # line ends from the chunk's first byte to the next chunk's
    aligned: bool  # the next chunk starts where a record starts
    has_data: bool
    taken: bytes  # SeenIds.to_bytes() of the ids the chunk's valid rows take

    def as_dict(self) -> dict:
        return {"lines": self.lines, "aligned": self.aligned, "has_data": self.has_data,
                "taken": base64.b64encode(self.taken).decode()}

    @classmethod
    def from_dict(cls, data: dict) -> ChunkScan:
        return cls(data["lines"], data["aligned"], data["has_data"], base64.b64decode(data["taken"]))


@dataclass(frozen=True)
class ChunkCommit:
    index: int
    first_line: int  # lines in the file before the chunk
    lines_total: int  # in the whole file, for the progress figure
    seen: bytes  # the ids the chunks before it took

    def as_dict(self) -> dict:
        return {"index": self.index, "first_line": self.first_line, "lines_total": self.lines_total,
                "seen": base64.b64encode(self.seen).decode()}

    @classmethod
    def from_dict(cls, data: dict) -> ChunkCommit:
        return cls(data["index"], data["first_line"], data["lines_total"], base64.b64decode(data["seen"]))


class _LineEnds:
    """Passes a stream through, counting the line ends in its first `length` bytes."""

    def __init__(self, stream: BinaryIO, length: int | None) -> None:
        self._stream = stream
        self.length = length
        self.position = 0
        self.lines = 0

    @property
    def complete(self) -> bool:
        return self.length is not None and self.position >= self.length

    def _counted(self, data: bytes) -> bytes:
        if self.length is not None and self.position < self.length:
            self.lines += data.count(b"\n", 0, self.length - self.position)
        self.position += len(data)
        return data

    def read(self, size: int = -1) -> bytes:
        return self._counted(self._stream.read(size))

    def readline(self, size: int = -1) -> bytes:
        return self._counted(self._stream.readline(size))


class _ChunkRecords:
    """The records that start in a chunk; the first record past it tells whether the cut is clean."""

    def __init__(self, stream: BinaryIO, start: int, stop: int | None, first_line: int) -> None:
        self._ends = _LineEnds(stream, None if stop is None else stop - start)
        self._records = CsvRecords(self._ends, first_line=first_line, file_start=start == 0)
        self._first_line = first_line
        self._next_line: int | None = None

    def __iter__(self) -> Iterator[Record]:
        ends = self._ends
        for record in self._records:
            # Until the reader has passed the chunk's end every line it read lies inside the chunk.
            if ends.complete and record.line_number > self._first_line + ends.lines:
                self._next_line = record.line_number
                return
            yield record

    @property
    def lines(self) -> int:
        return self._ends.lines

    @property
    def aligned(self) -> bool:
        """The record after the chunk starts on the line right after its last line end: no record
        runs across the cut. Meaningful once the chunk's records are read."""
        return self._ends.length is None or self._next_line == self._first_line + self._ends.lines + 1


class ChunkedLoads:
    """The `load` task for one table, split into chunks when the file is large and a fan-out is wired."""

    def __init__(self, ingestion: Ingestion, store: LoadStore, blobs: BlobStore, chunk_bytes: int,
                 fan_out: FanOut | None = None) -> None:
        if chunk_bytes < 1:
            raise ValueError("chunk_bytes must be at least 1")
        self._ingestion = ingestion
        self._store = store
        self._blobs = blobs
        self.chunk_bytes = chunk_bytes
        self._fan_out = fan_out

    def run(self, task_id: str, on_progress: ProgressCallback | None = None, *, table: str,
            blob: str | None = None, start: int = 0, limit: int | None = None) -> dict | Continues:
        """The summary, as Ingestion.run gives it; CONTINUES when the load goes on in chunks, whose
        last step records the load's end."""
        if self._fan_out is not None and table != "all" and not start and limit is None:
            name = blob or Table.from_name(table).file_name
            size = self._blobs.size(name)
            starts = self.cuts(name, size)
            if len(starts) > 1:
                self._fan_out.start(task_id, table, name, size, starts)
                return CONTINUES
        return self._ingestion.run(task_id, on_progress, table=table, blob=blob, start=start, limit=limit)

    def cuts(self, name: str, size: int) -> list[int]:
        """Where each chunk starts: about every chunk_bytes, moved on to just after a line end."""
        count = -(-size // self.chunk_bytes)
        starts = [0]
        for index in range(1, count):
            target = index * size // count
            with self._blobs.open(name, target - 1) as stream:
                window = stream.read(_CUT_WINDOW)
            end = window.find(b"\n")
            cut = target + end  # just after the line end found from the byte before the target
            if end >= 0 and starts[-1] < cut < size:
                starts.append(cut)
        return starts

    def _open_chunk(self, name: str, size: int, starts: list[int], index: int):
        if self._blobs.size(name) != size:
            raise InvalidRequest(f"file '{name}' changed while it was being loaded; load it again")
        return self._blobs.open(name, starts[index])

    def scan(self, table: Table, name: str, size: int, starts: list[int], index: int) -> ChunkScan:
        stop = starts[index + 1] if index + 1 < len(starts) else None
        validator = self._ingestion.validator(table, name, task_id="")
        has_data = False
        with self._open_chunk(name, size, starts, index) as stream:
            records = _ChunkRecords(stream, starts[index], stop, 0)
            rows = iter(Ingestion.data_rows(records, header_possible=index == 0))
            while batch := list(islice(rows, self._ingestion.batch_size)):
                has_data = True
                validator.check(batch)
        return ChunkScan(records.lines, records.aligned, has_data, validator.seen.to_bytes())

    @staticmethod
    def plan_commits(scans: list[ChunkScan]) -> list[ChunkCommit] | None:
        """What each chunk needs to commit as a single load would; None when the file must be loaded whole."""
        if not scans[0].has_data or not all(scan.aligned for scan in scans):
            return None
        seen, first_line, commits = SeenIds(), 0, []
        lines_total = sum(scan.lines for scan in scans)
        for index, scan in enumerate(scans):
            commits.append(ChunkCommit(index, first_line, lines_total, seen.to_bytes()))
            seen.update(SeenIds.from_bytes(scan.taken))
            first_line += scan.lines
        return commits

    def load_whole(self, task_id: str, table: Table, name: str,
                   on_progress: ProgressCallback | None = None) -> dict:
        return self._ingestion.load_blob(table, task_id, name, on_progress=on_progress).as_dict()

    def commit(self, task_id: str, table: Table, name: str, size: int, starts: list[int], plan: ChunkCommit,
               on_progress: ProgressCallback | None = None) -> dict:
        index = plan.index
        stop = starts[index + 1] if index + 1 < len(starts) else None
        summary = LoadSummary(table.value, name, task_id)
        last_report = 0.0

        def progress(_: int) -> None:
            # One figure for the whole load: the rows every chunk has committed, as the database counts them.
            nonlocal last_report
            if on_progress and time.monotonic() - last_report >= _PROGRESS_EVERY:
                last_report = time.monotonic()
                rows = self._store.recorded_rows(task_id, table)
                # Bytes are not summed over chunks: estimated from the rows, as a share of the lines.
                on_progress(Progress(table.value, rows, min(size, size * rows // max(1, plan.lines_total)), size))

        with self._open_chunk(name, size, starts, index) as stream:
            records = _ChunkRecords(stream, starts[index], stop, plan.first_line)
            rows = Ingestion.data_rows(records, summary if index == 0 else None, header_possible=index == 0)
            self._ingestion.load_records(table, rows, summary, progress, first_batch=index * CHUNK_BATCHES + 1,
                                         seen=SeenIds.from_bytes(plan.seen))
        return summary.as_dict()

    @staticmethod
    def combine(table: Table, name: str, task_id: str, parts: list[dict]) -> dict:
        """The chunks' summaries as one load's, batches in file order."""
        summary = LoadSummary(table.value, name, task_id, header_skipped=parts[0]["header_skipped"])
        summary.batches = [BatchSummary(**{**batch, "error_ids": tuple(batch["error_ids"])})
                           for part in parts for batch in part["batches"]]
        return summary.as_dict()
