"""The use cases one process needs, as the composition root hands them to the API and the CLI."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from core.backup import Backups
from core.ingestion import Ingestion
from core.ports import BlobStore, RowReader
from core.reports import Reports


@dataclass(frozen=True)
class Services:
    ingestion: Ingestion
    reports: Reports
    rows: RowReader
    blobs: BlobStore
    upgrade_schema: Callable[[], None]
    backups: Backups | None = None  # backup and restore of each table (AVRO files in storage)
