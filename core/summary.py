"""The load summary: per batch and in total, in the original service's response shape."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class BatchSummary:
    batch: int
    processed: int
    inserted: int
    already_exists: int
    errors: int
    error_ids: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "error_ids": list(self.error_ids)}


@dataclass
class LoadSummary:
    table: str
    source: str
    task_id: str
    header_skipped: bool = False
    batches: list[BatchSummary] = field(default_factory=list)

    def totals(self) -> dict[str, Any]:
        return {
            "processed": sum(b.processed for b in self.batches),
            "inserted": sum(b.inserted for b in self.batches),
            "already_exists": sum(b.already_exists for b in self.batches),
            "errors": sum(b.errors for b in self.batches),
            "error_ids": [i for b in self.batches for i in b.error_ids],
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "source": self.source,
            "task_id": self.task_id,
            "header_skipped": self.header_skipped,
            "batches": [b.as_dict() for b in self.batches],
            "total": self.totals(),
        }
