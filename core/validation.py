"""Apply the data rules to a batch of records: parse, check foreign keys in bulk, drop repeated ids."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Sequence

from core.csv_records import Record
from core.ports import LoadStore
from core.seen_ids import SeenIds
from domain.rejections import Rejection, clip_raw
from domain.rules import RULES, check_fields, duplicate_reason, missing_parent_reasons
from domain.tables import Table


@dataclass
class CheckedBatch:
    rows: list[tuple] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


class BatchValidator:
    """Validates the batches of one input in order; an id is taken by its first accepted row."""

    def __init__(self, table: Table, source: str, task_id: str, store: LoadStore,
                 clock: Callable[[], datetime]) -> None:
        self._rules = RULES[table]
        self._source = source
        self._task_id = task_id
        self._store = store
        self._clock = clock
        self._seen = SeenIds()

    def check(self, records: Sequence[Record]) -> CheckedBatch:
        checks = [
            check_fields(self._rules, r.fields) if r.problem is None else None for r in records
        ]
        known = self._known_parents(checks)
        batch = CheckedBatch()
        now = self._clock()
        for record, check in zip(records, checks):
            if check is None:
                batch.rejections.append(self._reject(record, [record.problem], None, now))
                continue
            values, reasons = check
            reasons = reasons + missing_parent_reasons(self._rules, values, known)
            id_ = values[0] if values else None
            if not reasons and not self._seen.add(id_):
                reasons.append(duplicate_reason(id_))
            if reasons:
                batch.rejections.append(self._reject(record, reasons, id_, now))
            else:
                batch.rows.append(self._rules.entity(*values))
        return batch

    def _known_parents(self, checks) -> dict[Table, set[int]]:
        known = {}
        for ref in self._rules.references:
            wanted = {c.values[ref.position] for c in checks if c and c.values} - {None}
            known[ref.parent] = self._store.known_ids(ref.parent, wanted) if wanted else set()
        return known

    def _reject(self, record: Record, reasons, id_, now) -> Rejection:
        return Rejection(self._rules.table, self._source, record.line_number, clip_raw(record.raw),
                         tuple(reasons), self._task_id, now, id_)
