"""Apply the data rules to a batch of records: parse, check foreign keys in bulk, drop repeated ids."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress
from operator import itemgetter
from typing import Callable, Iterable, Protocol, Sequence

from core.columns import ColumnRules
from core.csv_records import Record, all_plain, raw_of
from core.line_form import LineForm, ids_of
from core.seen_ids import SeenIds
from domain.rejections import Rejection, rejection
from domain.rules import RULES, Reference, RowCheck, check_fields, duplicate_reason, missing_parent_reasons
from domain.tables import Table


@dataclass
class CheckedBatch:
    rows: Sequence[tuple] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # each row's raw text, as the input wrote it

    @property
    def ids(self) -> list[int]:
        return ids_of(self.rows)


class ParentIds(Protocol):
    """Where the validator learns which parent rows exist: the database, or a restore's own rows."""

    def known_ids(self, table: Table, ids: Iterable[int]) -> set[int]: ...


class Checks(Protocol):
    def check(self, records: Sequence[Record], *, from_lines: bool = False) -> CheckedBatch: ...


class BatchValidator:
    """Validates the batches of one input in order; an id is taken by its first accepted row."""

    def __init__(self, table: Table, source: str, task_id: str, parents: ParentIds,
                 clock: Callable[[], datetime], seen: SeenIds | None = None) -> None:
        self._rules = RULES[table]
        self._columns = ColumnRules(self._rules)
        self._form = LineForm.of(self._rules)
        self._source = source
        self._task_id = task_id
        self._parents = parents
        self._clock = clock
        self._seen = seen if seen is not None else SeenIds()  # ids taken before this input's first batch
        # Parent ids seen to exist, kept for the whole input: parent tables are small and a batch asks
        # only for ids it has not met yet. A parent deleted meanwhile fails the batch at the database
        # (the foreign key, or the bulk path's lock on the parents), and the retry validates afresh.
        self._confirmed: dict[Table, set[int]] = {ref.parent: set() for ref in self._rules.references}

    def check(self, records: Sequence[Record], *, from_lines: bool = False, rejections: bool = True) -> CheckedBatch:
        """The valid rows as entities and every other record as a rejection, each list in input order.

        Most of a batch is valid: its rows are parsed a column at a time, their parents and ids checked a
        set at a time, and only the records that break a rule are looked at one by one for their reasons.

        `from_lines`: the rows go to the database as the lines that hold them. A batch of plain lines is then
        checked from its lines where it can be (_check_lines), and its rows are parsed only if read.

        `rejections=False`: only the ids the batch takes are wanted (a chunk's scan), so none is made."""
        if from_lines and self._form is not None and all_plain(records):
            if (batch := self._check_lines(records, list(map(raw_of, records)), rejections)) is not None:
                return batch
        rules = self._rules
        # The entity of each record whose every field is valid, else None: then check_fields names each
        # broken field, unless the record could not be read at all.
        if all_plain(records):  # the usual batch: cut into columns from its lines at once
            parsed = self._columns.of_lines(list(map(raw_of, records)))
        else:
            parsed = self._columns.parsed([r.fields if r.problem is None else [] for r in records])
        quick = parsed.rows
        full = {index: check_fields(rules, records[index].fields, parsed.values_of(index))
                for index, row in enumerate(quick) if row is None and records[index].problem is None}
        known, missing = self._known_parents(quick, full)
        # Records that keep every rule but the repeated-id one, in input order, and their ids.
        candidates = [index for index, row in enumerate(quick) if row is not None]
        if missing:
            candidates = [index for index in candidates
                          if not any(quick[index][position] in ids for position, ids in missing)]
        entities = {index: quick[index] for index in candidates}
        for index, (values, reasons) in full.items():
            if not reasons and not missing_parent_reasons(rules, values, known):
                entities[index] = rules.entity(*values)
        if len(entities) > len(candidates):
            candidates = sorted(entities)
        ids = [entities[index][0] for index in candidates]
        # Each record that breaks a rule but the repeated-id one, and its id where it has a valid one.
        rejected = {index: _id_of(quick[index] or (full[index].values if index in full else None))
                    for index in range(len(records)) if index not in entities} if len(entities) < len(records) else {}
        taken_before = {id_ for id_ in rejected.values() if id_ is not None and id_ in self._seen}
        # An id goes to its first row that keeps every other rule: all of them at once, the usual case.
        taken = candidates if self._seen.add_new(ids) else [
            index for index, id_ in zip(candidates, ids) if self._seen.add(id_)]
        batch = CheckedBatch([entities[index] for index in taken], [], [records[index].raw for index in taken])
        if len(taken) == len(records) or not rejections:
            return batch
        first_taken = {entities[index][0]: index for index in reversed(taken)}
        now = self._clock()
        refused = sorted(set(candidates) - set(taken)) if len(taken) < len(candidates) else []
        for index in sorted([*rejected, *refused]):
            record = records[index]
            if index in entities:  # a repeated id, every other rule kept
                id_ = entities[index][0]
                reasons = [duplicate_reason(id_)]
                batch.rejections.append(self._reject(record, reasons, id_, now))
                continue
            id_ = rejected[index]
            if quick[index] is not None:
                reasons = missing_parent_reasons(rules, list(quick[index]), known)
            elif index in full:
                values, reasons = full[index]
                reasons = reasons + missing_parent_reasons(rules, values, known)
            else:
                reasons = [record.problem]
            # Every reason, though a rejected row takes no id: also that its id was taken before it.
            if id_ is not None and (id_ in taken_before or first_taken.get(id_, len(records)) < index):
                reasons.append(duplicate_reason(id_))
            batch.rejections.append(self._reject(record, reasons, id_, now))
        return batch

    def _check_lines(self, records: Sequence[Record], lines: list[str], rejections: bool) -> CheckedBatch | None:
        """The usual batch, from its lines: each line in the table's form, or refused by a field rule; every
        parent the lines in the form name known; none of their ids taken before or repeated. None for any
        other batch, which the column path then checks whole."""
        rules, form = self._rules, self._form
        rest = form.out_of_form(lines)
        if len(rest) == len(lines):
            return None
        parsed = self._columns.parsed([records[index].fields for index in rest])
        if any(row is not None for row in parsed.rows):
            return None  # a line out of the form that keeps every rule: the column path weighs it
        full = {index: check_fields(rules, records[index].fields, parsed.values_of(at))
                for at, index in enumerate(rest)}
        if not all(check.reasons for check in full.values()):
            return None
        taken_lines = _but(lines, rest)
        rows = form.rows(taken_lines)
        keys = rows.keys
        # The parents the lines in the form name, and those the refused lines name (for their reasons), asked
        # at once and before any id is taken.
        known, _ = self._confirmed_parents(
            {ref: set(keys.parents[ref.name]).union(check.values[ref.position] for check in full.values()
                                                   if check.values and check.values[ref.position] is not None)
             for ref in rules.references})
        if not all(known[ref.parent].issuperset(keys.parents[ref.name]) for ref in rules.references):
            return None  # a line in the form names a parent that does not exist
        rejected = {index: _id_of(check.values) for index, check in full.items()}
        taken_before = {id_ for id_ in rejected.values() if id_ is not None and id_ in self._seen}
        if not self._seen.add_new(keys.ids):
            return None
        batch = CheckedBatch(rows, [], taken_lines)
        if not rest or not rejections:
            return batch
        taken_at = dict(zip(keys.ids, _but(range(len(lines)), rest)))
        now = self._clock()
        for index, (values, reasons) in full.items():
            reasons = reasons + missing_parent_reasons(rules, values, known)
            id_ = rejected[index]
            if id_ is not None and (id_ in taken_before or taken_at.get(id_, len(lines)) < index):
                reasons.append(duplicate_reason(id_))
            batch.rejections.append(self._reject(records[index], reasons, id_, now))
        return batch

    @property
    def seen(self) -> SeenIds:
        """The ids taken by the rows accepted so far."""
        return self._seen

    def _known_parents(self, quick: list, full: dict[int, RowCheck]) -> tuple[dict[Table, set[int]], list]:
        """The referenced ids that exist, per parent table, and (position, ids) for each reference some
        row names an id of that does not."""
        valid = list(filter(None, quick))
        wanted = {}
        for ref in self._rules.references:
            wanted[ref] = set(map(itemgetter(ref.position), valid))
            wanted[ref].update(c.values[ref.position] for c in full.values() if c.values)
            wanted[ref].discard(None)
        return self._confirmed_parents(wanted)

    def _confirmed_parents(self, wanted: dict[Reference, set[int]]) -> tuple[dict[Table, set[int]], list]:
        """The ids each reference names, asked of the parents only where not confirmed yet: the parent ids
        that exist, per parent table, and (position, ids) for each reference that names ids that do not."""
        known, missing = {}, []
        for ref, ids in wanted.items():
            confirmed = self._confirmed[ref.parent]
            if unseen := ids - confirmed:
                confirmed |= self._parents.known_ids(ref.parent, unseen)
            known[ref.parent] = confirmed
            if absent := ids - confirmed:
                missing.append((ref.position, absent))
        return known, missing

    def _reject(self, record: Record, reasons, id_, now) -> Rejection:
        return rejection(self._rules.table, self._source, record.line_number, record.raw, reasons,
                         self._task_id, now, id_, _fields_of(record, len(self._rules.names)))


def _but(items: Sequence, left_out: list[int]) -> list:
    """The items but those at the positions left out."""
    if not left_out:
        return list(items)
    kept = bytearray(b"\x01") * len(items)
    for at in left_out:
        kept[at] = 0
    return list(compress(items, kept))


def _fields_of(record: Record, count: int) -> list[str] | None:
    """A record's fields when it was read into the table's number of them (the log keeps them)."""
    if record.problem is not None:
        return None
    fields = record.fields
    return fields if len(fields) == count else None


def _id_of(values) -> int | None:
    return values[0] if values else None
