"""The use cases one process needs, as the composition root hands them to the API and the CLI."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from core.backup import Backups
from core.backup_requests import BackupRequests
from core.batch_insert import BatchInsert
from core.chunked_load import ChunkedLoads
from core.ingestion import Ingestion
from core.load_requests import LoadRequests
from core.loads import Loads
from core.ports import BlobStore, RowReader
from core.readiness import Readiness
from core.rejection_export import RejectionExport
from core.replay import ReplayRequests, Replays
from core.reports import Reports
from core.tasks import Tasks


@dataclass(frozen=True)
class Services:
    ingestion: Ingestion
    loads: Loads  # the load task, whatever its shape
    chunked_loads: ChunkedLoads  # the steps of a load in chunks over several workers
    reports: Reports
    rows: RowReader
    blobs: BlobStore
    upgrade_schema: Callable[[], None]
    tasks: Tasks
    load_requests: LoadRequests
    batch_insert: BatchInsert
    readiness: Readiness
    backups: Backups  # backup and restore of each table (AVRO files in storage)
    backup_requests: BackupRequests
    rejection_export: RejectionExport  # the rejected rows of a table as CSV, to fix and upload again
    replays: Replays  # the logged rejected rows of a load run again
    replay_requests: ReplayRequests
    # What a process does before it runs loads itself (`flask load`; a worker's pool process does it as it
    # starts): the collector settled for millions of short-lived rows (infra.process).
    settle_for_loads: Callable[[], None] = lambda: None
