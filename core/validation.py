"""Apply the data rules to a batch of records: parse, check foreign keys in bulk, drop repeated ids."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Callable, Protocol, Sequence

from core.csv_records import Record
from core.ports import LoadStore
from core.seen_ids import SeenIds
from domain.rejections import Rejection, rejection
from domain.rules import RULES, RowCheck, check_fields, duplicate_reason, missing_parent_reasons
from domain.tables import Table


@dataclass
class CheckedBatch:
    rows: list[tuple] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


class Checks(Protocol):
    def check(self, records: Sequence[Record]) -> CheckedBatch: ...


class BatchValidator:
    """Validates the batches of one input in order; an id is taken by its first accepted row."""

    def __init__(self, table: Table, source: str, task_id: str, store: LoadStore,
                 clock: Callable[[], datetime], seen: SeenIds | None = None) -> None:
        self._rules = RULES[table]
        self._source = source
        self._task_id = task_id
        self._store = store
        self._clock = clock
        self._seen = seen if seen is not None else SeenIds()  # ids taken before this input's first batch
        # Parent ids seen to exist, kept for the whole input: parent tables are small and a batch asks
        # only for ids it has not met yet. A parent deleted meanwhile fails the batch at the database
        # (the foreign key, or the bulk path's lock on the parents), and the retry validates afresh.
        self._confirmed: dict[Table, set[int]] = {ref.parent: set() for ref in self._rules.references}

    def check(self, records: Sequence[Record]) -> CheckedBatch:
        rules = self._rules
        # The entity of each record whose every field is valid (the common case, parsed column by
        # column), else None: then check_fields names each broken field, unless the record is unreadable.
        quick = rules.quick_rows([r.fields if r.problem is None else [] for r in records])
        full = {index: check_fields(rules, records[index].fields)
                for index, row in enumerate(quick) if row is None and records[index].problem is None}
        known, orphans = self._known_parents(quick, full)
        # Quick rows need a look at their references only when some referenced id is unknown.
        suspects = [(ref.position, known[ref.parent]) for ref in rules.references if orphans[ref.parent]]
        batch = CheckedBatch()
        rows, rejections = batch.rows, batch.rejections
        taken = self._seen.add
        now = self._clock()
        for index, (record, row) in enumerate(zip(records, quick)):
            if row is not None:
                id_ = row[0]
                if suspects and not all(row[position] in ids for position, ids in suspects):
                    reasons = missing_parent_reasons(rules, list(row), known) + self._repeated(id_)
                    rejections.append(self._reject(record, reasons, id_, now))
                elif taken(id_):
                    rows.append(row)
                else:
                    rejections.append(self._reject(record, [duplicate_reason(id_)], id_, now))
                continue
            check = full.get(index)
            if check is None:
                rejections.append(self._reject(record, [record.problem], None, now))
                continue
            values, reasons = check
            reasons = reasons + missing_parent_reasons(rules, values, known)
            id_ = values[0] if values else None
            if not reasons and not taken(id_):
                reasons.append(duplicate_reason(id_))
            elif reasons and id_ is not None:
                reasons += self._repeated(id_)  # every reason, though a rejected row takes no id
            if reasons:
                rejections.append(self._reject(record, reasons, id_, now))
            else:
                rows.append(rules.entity(*values))
        return batch

    @property
    def seen(self) -> SeenIds:
        """The ids taken by the rows accepted so far."""
        return self._seen

    def _repeated(self, id_: int) -> list[str]:
        return [duplicate_reason(id_)] if id_ in self._seen else []

    def _known_parents(self, quick: list, full: dict[int, RowCheck]) -> tuple[dict[Table, set[int]], dict]:
        """The referenced ids that exist, per parent table, and whether any referenced id does not."""
        known, orphans = {}, {}
        valid = list(filter(None, quick))
        for ref in self._rules.references:
            wanted = set(map(itemgetter(ref.position), valid))
            wanted.update(c.values[ref.position] for c in full.values() if c.values)
            wanted.discard(None)
            confirmed = self._confirmed[ref.parent]
            if unseen := wanted - confirmed:
                confirmed |= self._store.known_ids(ref.parent, unseen)
            known[ref.parent] = confirmed
            orphans[ref.parent] = bool(wanted - confirmed)
        return known, orphans

    def _reject(self, record: Record, reasons, id_, now) -> Rejection:
        return rejection(self._rules.table, self._source, record.line_number, record.raw, reasons,
                         self._task_id, now, id_)
