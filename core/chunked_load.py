"""One large file loaded as chunks that several workers take at once, with the result one load gives.

Two rounds, each spread over the workers by the fan-out port:
1. Scan: each chunk is parsed and validated on its own. It reports its data rows, its lines, the ids
   its valid rows take, and whether the next chunk starts where a record starts.
2. Commit: each chunk is loaded as a single load would load it: its lines and its batches numbered on
   from the chunks before it, starting with the ids those chunks took. An id's first valid row in the
   file wins, whichever chunk commits first.

Why the scan is enough: whether a row is valid (its fields, its parents) does not depend on other rows,
so the ids a chunk's valid rows take are the same scanned alone as in one pass. The union over the
earlier chunks is exactly what a single load has seen at the chunk's first row. Each commit checks
that it takes the very ids its scan took: departments or jobs changed between the rounds stop the
load rather than let two rows of one id in.

A cut inside a record (a quoted field holding a line break), or a first chunk without data (so the
header's place is unknown), loads the file in one piece instead.

The file's dialect (separator, encoding, a header's order of columns: core.dialects) is read once from its
first bytes when it is split, and every chunk is read in it. A file whose lines are not cut at b"\n" as
ASCII's are (UTF-16) is not split.
"""
from __future__ import annotations

import base64
import logging
import time
from bisect import bisect_right
from dataclasses import asdict, dataclass
from operator import attrgetter
from typing import Iterator, Protocol, Sequence

from core.byte_streams import LineEndCounter
from core.csv_records import DataBatches, Record
from core.dialects import HEAD_BYTES, Dialect, ReadOptions, detect
from core.errors import InvalidRequest, NotFound
from core.ingestion import Ingestion
from core.ports import BlobStore, LoadStore
from core.progress import Progress, ProgressCallback
from core.seen_ids import SeenIds
from core.summary import LoadSummary
from core.tasks import CONTINUES, Continues
from core.validation import BatchValidator, CheckedBatch
from domain.tables import Table

log = logging.getLogger(__name__)
MAX_CHUNKS = 1000  # more would only add scans and messages
_CUT_WINDOW = 1 << 20  # how far past a chunk's nominal end a line end is looked for
_PROGRESS_EVERY = 1.0  # seconds between the progress figures a chunk asks the database for


class ChunksDisagree(InvalidRequest):
    """What the file or the parent tables held changed between the rounds: the load must run again."""


@dataclass(frozen=True)
class ChunkedFile:
    name: str
    size: int
    version: str  # size and modification time when the load began: every chunk must read that file
    starts: list[int]  # the first byte of each chunk, each just after a line end
    dialect: dict | None = None  # Dialect.as_dict(), read from the file's start; None for the plain one
    options: dict | None = None  # ReadOptions.as_args() the load was given

    @property
    def read_in(self) -> Dialect:
        return Dialect.from_dict(self.dialect)

    @property
    def read_options(self) -> ReadOptions:
        return ReadOptions(**(self.options or {}))

    def stop(self, index: int) -> int | None:
        return self.starts[index + 1] if index + 1 < len(self.starts) else None

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ChunkedFile:
        return cls(**data)


def _encoded(ids: bytes) -> str:
    return base64.b64encode(ids).decode()


@dataclass(frozen=True)
class ChunkScan:
    rows: int  # data rows: records but blank lines and the header
    lines: int  # line ends from the chunk's first byte to the next chunk's (to the end for the last)
    aligned: bool  # the next chunk starts where a record starts
    taken: bytes  # SeenIds.to_bytes() of the ids the chunk's valid rows take

    def as_dict(self) -> dict:
        return {**asdict(self), "taken": _encoded(self.taken)}

    @classmethod
    def from_dict(cls, data: dict) -> ChunkScan:
        return cls(**{**data, "taken": base64.b64decode(data["taken"])})


@dataclass(frozen=True)
class ChunkCommit:
    index: int
    first_line: int  # lines in the file before the chunk
    first_batch: int  # batches numbered on from the chunks before, as one load numbers them
    lines_total: int  # in the whole file, for the progress figure
    seen: bytes  # the ids the chunks before it took
    taken: bytes  # the ids its own scan took

    def as_dict(self) -> dict:
        return {**asdict(self), "seen": _encoded(self.seen), "taken": _encoded(self.taken)}

    @classmethod
    def from_dict(cls, data: dict) -> ChunkCommit:
        return cls(**{**data, "seen": base64.b64decode(data["seen"]), "taken": base64.b64decode(data["taken"])})


class FanOut(Protocol):
    """Runs a load's chunks in workers: every scan, then (through after_scans) every commit, then
    records the load's end."""

    def start(self, task_id: str, table: str, file: ChunkedFile) -> None: ...

    def commit(self, task_id: str, table: str, file: ChunkedFile, plans: list[ChunkCommit]) -> None: ...


_line_number = attrgetter("line_number")


class _ChunkRecords:
    """The records that start in a chunk; the first record past it tells whether the cut is clean."""

    def __init__(self, stream, start: int, stop: int | None, first_line: int, dialect: Dialect) -> None:
        self._ends = LineEndCounter(stream, None if stop is None else stop - start)
        self._records = dialect.records(self._ends, first_line=first_line, file_start=start == 0)
        self._dialect = dialect
        self._first_line = first_line
        self._next_line: int | None = None

    def runs(self) -> Iterator[list[Record]]:
        """The chunk's runs, each row's fields in the table's order."""
        return self._dialect.runs(self._inside())

    def _inside(self) -> Iterator[list[Record]]:
        ends = self._ends
        for run in self._records.runs():
            # Until the reader has passed the chunk's end every line it read lies inside the chunk.
            if ends.past_length and run[-1].line_number > self._first_line + ends.lines:
                last = self._first_line + ends.lines
                inside = bisect_right(run, last, key=_line_number)
                self._next_line = run[inside].line_number
                if inside:
                    yield run[:inside]
                return
            yield run

    @property
    def lines(self) -> int:
        return self._ends.lines

    @property
    def aligned(self) -> bool:
        """The record after the chunk starts on the line right after its last line end: no record
        runs across the cut. Meaningful once the chunk's records are read."""
        return self._ends.length is None or self._next_line == self._first_line + self._ends.lines + 1


class _AsScanned:
    """A chunk's validator on commit: it must accept ids its scan took, and in the end all of them but
    the ones earlier chunks took."""

    def __init__(self, validator: BatchValidator, scanned: SeenIds, before: SeenIds) -> None:
        self._validator = validator
        self._scanned = scanned
        self._expected = scanned.count_not_in(before)
        self._taken = 0

    def check(self, records: Sequence[Record], *, from_lines: bool = False) -> CheckedBatch:
        checked = self._validator.check(records, from_lines=from_lines)
        ids = checked.ids
        if not all(map(self._scanned.__contains__, ids)):
            raise _changed()
        self._taken += len(ids)
        return checked

    def finish(self) -> None:
        if self._taken != self._expected:
            raise _changed()


def _changed() -> ChunksDisagree:
    return ChunksDisagree("departments or jobs changed while the file was loading, so its chunks disagree "
                          "on which rows are valid; the batches committed stand, load the file again")


class ChunkedLoads:
    """One table's file loaded in chunks by several workers: cut, scanned, committed, combined (see the
    module's docstring). Whether a load goes this way is planned in core.loads."""

    def __init__(self, ingestion: Ingestion, store: LoadStore, blobs: BlobStore, chunk_bytes: int,
                 fan_out: FanOut | None = None) -> None:
        if chunk_bytes < 1:
            raise ValueError("chunk_bytes must be at least 1")
        self._ingestion = ingestion
        self._store = store
        self._blobs = blobs
        self.chunk_bytes = chunk_bytes
        self._fan_out = fan_out

    @property
    def fans_out(self) -> bool:
        """Whether chunks can go to other workers (a fan-out is wired): else a file loads in one task."""
        return self._fan_out is not None

    def start(self, task_id: str, table: Table, file: ChunkedFile) -> None:
        """Hands the chunks' scans to the workers; the last chunk's step records the load's end."""
        self._fan_out.start(task_id, table.value, file)

    def _version(self, name: str) -> tuple[int, str]:
        info = next((b for b in self._blobs.list(name) if b.name == name), None)
        if info is None:
            raise NotFound(f"file '{name}' is not in storage")
        return info.size, f"{info.size}:{info.modified.isoformat()}"

    def split(self, name: str, table: Table, options: ReadOptions = ReadOptions()) -> ChunkedFile:
        """Chunks of about chunk_bytes, each moved on to start just after a line end, and the file's dialect."""
        size, version = self._version(name)
        with self._blobs.open(name) as stream:
            head = stream.read(HEAD_BYTES)
        dialect = detect(head, table, options, whole=len(head) >= size)
        count = min(-(-size // self.chunk_bytes), MAX_CHUNKS) if dialect.cuts_at_line_ends else 1
        starts = [0]
        for index in range(1, count):
            target = index * size // count
            with self._blobs.open(name, target - 1) as stream:
                window = stream.read(_CUT_WINDOW)
            end = window.find(b"\n")
            cut = target + end  # just after the line end found from the byte before the target
            if end >= 0 and starts[-1] < cut < size:
                starts.append(cut)
        return ChunkedFile(name, size, version, starts, None if dialect.plain else dialect.as_dict(),
                           options.as_args() or None)

    def _open(self, file: ChunkedFile, index: int):
        if self._version(file.name)[1] != file.version:
            raise ChunksDisagree(f"file '{file.name}' changed while it was being loaded; load it again")
        return self._blobs.open(file.name, file.starts[index])

    def scan(self, table: Table, file: ChunkedFile, index: int) -> ChunkScan:
        validator = self._ingestion.validator(table, file.name, task_id="")
        rows = 0
        with self._open(file, index) as stream:
            records = _ChunkRecords(stream, file.starts[index], file.stop(index), 0, file.read_in)
            for batch in DataBatches(records.runs(), self._ingestion.batch_size, header_possible=index == 0):
                rows += len(batch)
                validator.check(batch, from_lines=True, rejections=False)  # only the ids it takes are wanted
        return ChunkScan(rows, records.lines, records.aligned, validator.seen.to_bytes())

    def _plan_commits(self, scans: list[ChunkScan]) -> list[ChunkCommit] | None:
        """What each chunk needs to commit as a single load would; None when the file must be loaded whole."""
        if not scans[0].rows or not all(scan.aligned for scan in scans):
            return None
        seen, first_line, first_batch, commits = SeenIds(), 0, 1, []
        lines_total = sum(scan.lines for scan in scans)
        for index, scan in enumerate(scans):
            commits.append(ChunkCommit(index, first_line, first_batch, lines_total, seen.to_bytes(), scan.taken))
            seen.update(SeenIds.from_bytes(scan.taken))
            first_line += scan.lines
            first_batch += -(-scan.rows // self._ingestion.batch_size)
        return commits

    def after_scans(self, task_id: str, table: Table, file: ChunkedFile, scans: list[ChunkScan],
                    on_progress: ProgressCallback | None = None) -> dict | Continues:
        """The commits handed to the workers (CONTINUES), or, where the chunks cannot be committed
        apart, the file loaded in one piece here and its summary."""
        plans = self._plan_commits(scans)
        if plans is not None:
            self._fan_out.commit(task_id, table.value, file, plans)
            return CONTINUES
        log.warning("a cut fell inside a record, or the first chunk holds no data: the file is loaded in "
                    "one piece", extra={"source": file.name})
        return self._ingestion.load_blob(table, task_id, file.name, on_progress=on_progress,
                                         options=file.read_options).as_dict()

    def commit(self, task_id: str, table: Table, file: ChunkedFile, plan: ChunkCommit,
               on_progress: ProgressCallback | None = None) -> dict:
        index = plan.index
        summary = LoadSummary(table.value, file.name, task_id)
        before = SeenIds.from_bytes(plan.seen)  # the validator adds to it; _AsScanned counts it first
        as_scanned = _AsScanned(self._ingestion.validator(table, file.name, task_id, before),
                                SeenIds.from_bytes(plan.taken), before)
        last_report = 0.0

        def progress(_: int) -> None:
            # One figure for the whole load: the rows every chunk has committed, as the database counts them.
            nonlocal last_report
            if on_progress and time.monotonic() - last_report >= _PROGRESS_EVERY:
                last_report = time.monotonic()
                rows = self._store.recorded_rows(task_id, table)
                # Bytes are not summed over chunks: estimated from the rows, as a share of the lines.
                done = min(file.size, file.size * rows // max(1, plan.lines_total))
                on_progress(Progress(table.value, rows, done, file.size))

        with self._open(file, index) as stream:
            records = _ChunkRecords(stream, file.starts[index], file.stop(index), plan.first_line, file.read_in)
            batches = DataBatches(records.runs(), self._ingestion.batch_size, header_possible=index == 0)
            self._ingestion.load_records(table, batches, summary, progress, first_batch=plan.first_batch,
                                         validator=as_scanned, as_written=file.read_in.plain,
                                         resolving=file.read_in.resolves)
            summary.header_skipped = batches.header_skipped
        as_scanned.finish()
        return summary.as_dict()

    def finish(self, table: Table, file: ChunkedFile, task_id: str, parts: list[dict],
               on_progress: ProgressCallback) -> dict:
        """The load's result, once every chunk has committed; its last progress figure said."""
        result, progress = self.combine(table, file, task_id, parts)
        on_progress(progress)
        log.info("load finished", extra={"table": table.value, "source": file.name, "chunks": len(parts),
                                         **result["total"]})
        return result

    @staticmethod
    def combine(table: Table, file: ChunkedFile, task_id: str, parts: list[dict]) -> tuple[dict, Progress]:
        """The chunks' summaries as one load's, and the load's last progress."""
        summary = LoadSummary(table.value, file.name, task_id, header_skipped=parts[0]["header_skipped"])
        for part in parts:
            summary.add_totals(part["total"])
        result = {**summary.as_dict(), "chunks": len(parts)}
        return result, Progress(table.value, result["total"]["processed"], file.size, file.size)
