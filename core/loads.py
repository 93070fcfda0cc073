"""The `load` task: one entry for every kind of load. What a load does is planned here from its arguments
(all three tables, a slice of one, one file whole, or one file in chunks over several workers), not by which
class a caller happened to pick."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from core.chunked_load import ChunkedFile, ChunkedLoads
from core.dialects import ReadOptions
from core.ingestion import Ingestion
from core.progress import ProgressCallback
from core.summary import COUNTS, LoadSummary
from core.tasks import CONTINUES, Continues
from domain.tables import Table


class Shape(Enum):
    ALL_TABLES = "all tables"  # departments, jobs, then hired_employees, in this task
    SLICE = "slice"  # rows start to start + limit of one file, in this task
    WHOLE = "whole"  # one file, in this task
    CHUNKS = "chunks"  # one file cut into chunks, scanned and committed by several workers


@dataclass(frozen=True)
class LoadPlan:
    shape: Shape
    table: Table | None = None  # None for ALL_TABLES
    blob: str | None = None
    start: int = 0
    limit: int | None = None
    chunks: ChunkedFile | None = None  # for CHUNKS
    options: ReadOptions = ReadOptions()  # a separator or an encoding the user forced


def _grand_total(summaries: list[LoadSummary]) -> dict:
    return {key: sum(getattr(s, key) for s in summaries) for key in COUNTS}


class Loads:
    def __init__(self, ingestion: Ingestion, chunked: ChunkedLoads) -> None:
        self._ingestion = ingestion
        self._chunked = chunked

    def plan(self, table: str, blob: str | None = None, start: int = 0, limit: int | None = None,
             options: ReadOptions = ReadOptions()) -> LoadPlan:
        if table == "all":
            return LoadPlan(Shape.ALL_TABLES, options=options)
        target = Table.from_name(table)
        if start or limit is not None:
            return LoadPlan(Shape.SLICE, target, blob, start, limit, options=options)
        if self._chunked.fans_out:
            file = self._chunked.split(blob or target.file_name, target, options)
            if len(file.starts) > 1:
                return LoadPlan(Shape.CHUNKS, target, blob, chunks=file, options=options)
        return LoadPlan(Shape.WHOLE, target, blob, options=options)

    def run(self, task_id: str, on_progress: ProgressCallback | None = None, *, table: str,
            blob: str | None = None, start: int = 0, limit: int | None = None, delimiter: str | None = None,
            encoding: str | None = None) -> dict | Continues:
        """The summary as plain data; CONTINUES when the load goes on in chunks, whose last step records
        the load's end."""
        plan = self.plan(table, blob, start, limit, ReadOptions.parse(delimiter, encoding))
        if plan.shape is Shape.ALL_TABLES:
            summaries = self._ingestion.load_all(task_id, on_progress, plan.options)
            return {"tables": [s.as_dict() for s in summaries], "total": _grand_total(summaries)}
        if plan.shape is Shape.CHUNKS:
            self._chunked.start(task_id, plan.table, plan.chunks)
            return CONTINUES
        return self._ingestion.load_blob(plan.table, task_id, plan.blob, start=plan.start, limit=plan.limit,
                                         on_progress=on_progress, options=plan.options).as_dict()
