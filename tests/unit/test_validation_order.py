"""The batch validator, which takes most rows a set at a time, against the rules applied one row at a time in
input order: the same rows accepted, the same rows rejected with the same reasons, for any batch."""
from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from core.csv_records import Record
from core.seen_ids import SeenIds
from core.validation import BatchValidator
from domain.rules import RULES, check_fields, duplicate_reason, missing_parent_reasons
from domain.tables import Table

E = Table.HIRED_EMPLOYEES
NOW = datetime(2026, 1, 1)
KNOWN = {Table.DEPARTMENTS: {1, 2, 3}, Table.JOBS: {1, 2}}


class Parents:
    def known_ids(self, table: Table, ids) -> set[int]:
        return set(ids) & KNOWN[table]


def one_at_a_time(records: list[Record], seen: set[int]) -> tuple[list[tuple], list[tuple]]:
    """The contract, row by row: an id goes to its first row that keeps every other rule."""
    rules, rows, rejected = RULES[E], [], []
    for record in records:
        if record.problem is not None:
            rejected.append((record.line_number, (record.problem,), None))
            continue
        values, reasons = check_fields(rules, record.fields)
        reasons = reasons + missing_parent_reasons(rules, values, KNOWN)
        id_ = values[0] if values else None
        if not reasons and id_ not in seen:
            seen.add(id_)
            rows.append(rules.entity(*values))
            continue
        if id_ is not None and id_ in seen:
            reasons.append(duplicate_reason(id_))
        rejected.append((record.line_number, tuple(reasons), id_))
    return rows, rejected


ids = st.sampled_from(["1", "2", "3", "4", "x", "", "0"])
parents = st.sampled_from(["1", "2", "3", "9", ""])
moments = st.sampled_from(["2021-07-27T16:02:08Z", "2021-02-30T00:00:00Z", "2021-05-05T10:00:00+02:00"])
fields = st.lists(st.tuples(ids, st.sampled_from(["Ana", "", " Bea "]), moments, parents, parents), max_size=30)


@settings(max_examples=300, deadline=None)
@given(fields, st.lists(st.sampled_from([1, 2, 3, 4]), max_size=3), st.integers(0, 3))
def test_a_batch_is_checked_as_the_rules_row_by_row_would(rows, taken_before, unreadable):
    records = [Record(n, ",".join(row), list(row)) for n, row in enumerate(rows, start=1)]
    records[:unreadable] = [Record(r.line_number, r.raw, [], "line is not valid UTF-8 (byte 1)")
                            for r in records[:unreadable]]
    seen = SeenIds()
    for id_ in taken_before:
        seen.add(id_)
    checked = BatchValidator(E, "f.csv", "t", Parents(), lambda: NOW, seen).check(records)
    expected_rows, expected_rejected = one_at_a_time(records, set(taken_before))
    assert checked.rows == expected_rows
    assert [(r.line_number, r.reasons, r.row_id) for r in checked.rejections] == expected_rejected
