"""What a load tells: per batch (kept in load_batches, paged by /task-status/<id>/batches) and in total.

The total is all a task's result holds, so it stays the same size whatever the size of the file."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

COUNTS = ("processed", "inserted", "already_exists", "errors")


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
    processed: int = 0
    inserted: int = 0
    already_exists: int = 0
    errors: int = 0
    batches: int = 0  # how many have landed; their figures are in the store, not here

    def add(self, batch: BatchSummary) -> None:
        self.processed += batch.processed
        self.inserted += batch.inserted
        self.already_exists += batch.already_exists
        self.errors += batch.errors
        self.batches += 1

    def add_totals(self, total: dict[str, int]) -> None:
        """Another part's totals (a chunk of the same file)."""
        for key in COUNTS:
            setattr(self, key, getattr(self, key) + total[key])

    def totals(self) -> dict[str, int]:
        return {key: getattr(self, key) for key in COUNTS}

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "source": self.source, "task_id": self.task_id,
                "header_skipped": self.header_skipped, "total": self.totals()}
