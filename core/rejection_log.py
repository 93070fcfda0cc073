"""The rejection log as the export and the replay read it: logged rows a page at a time, by id."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from domain.tables import Table


@dataclass(frozen=True, slots=True)
class LoggedRejection:
    id: int
    line_number: int
    raw: str  # escaped (domain.log_text)
    reasons: tuple[str, ...]  # escaped
    fields: tuple[str, ...] | None  # escaped; None when the line was not read into the table's fields


class RejectionLog(Protocol):
    def tables(self, task_id: str) -> list[Table]:
        """The tables a load committed batches or logged rejections of, in load order."""

    def logged(self, table: Table, task_id: str | None, resolved: bool | None, after: int, limit: int,
               or_resolved_by: str | None = None) -> list[LoggedRejection]:
        """Up to `limit` rejections of the table (and of the task, if named) with an id above `after`, by id:
        unresolved ones (resolved False), resolved ones (True) or all (None); with `or_resolved_by`, also
        the ones that task resolved."""
