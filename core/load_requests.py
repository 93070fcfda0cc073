"""Load requests from the API: check the file is there, store an upload, then hand the load to a worker."""
from __future__ import annotations

from datetime import datetime
from typing import BinaryIO, Callable

from core.dialects import ReadOptions
from core.ports import BlobStore
from core.tasks import Tasks
from domain.tables import LOAD_ORDER, Table

LOAD = "load"


class LoadRequests:
    def __init__(self, tasks: Tasks, blobs: BlobStore, clock: Callable[[], datetime],
                 new_id: Callable[[], str]) -> None:
        self._tasks = tasks
        self._blobs = blobs
        self._clock = clock
        self._new_id = new_id

    def load_all(self, options: ReadOptions = ReadOptions()) -> str:
        for table in LOAD_ORDER:
            self._blobs.size(table.file_name)  # NotFound now beats a task that fails later
        return self._tasks.submit(LOAD, {"table": "all", **options.as_args()})

    def load_table(self, table: Table, start: int = 0, limit: int | None = None,
                   options: ReadOptions = ReadOptions()) -> str:
        self._blobs.size(table.file_name)
        return self._tasks.submit(LOAD, {"table": table.value, "start": start, "limit": limit, **options.as_args()})

    def load_upload(self, table: Table, stream: BinaryIO, options: ReadOptions = ReadOptions()) -> str:
        """Stores the upload under a generated name (nothing of the client's file name is used)."""
        stamp = self._clock().strftime("%Y%m%dT%H%M%S%fZ")
        name = f"uploads/{table.value}/{stamp}-{self._new_id()[:8]}.csv"
        self._blobs.write(name, stream)
        return self._tasks.submit(LOAD, {"table": table.value, "blob": name, **options.as_args()})
