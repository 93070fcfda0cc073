"""The batch validator, which takes most rows a set at a time, against the rules applied one row at a time in
input order: the same rows accepted, the same rows rejected with the same reasons, for any batch."""
from __future__ import annotations

import io
import pickle
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from core.csv_records import CsvRecords, Record, all_plain
from core.line_form import RowKeys, keys_of
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
    assert_scanned_alike(records, taken_before, seen, expected_rows, from_lines=False)


def assert_scanned_alike(records, taken_before, seen: SeenIds, expected_rows, from_lines: bool) -> None:
    """A chunk's scan (no rejections made) takes the very ids, and keeps the very rows, a load does."""
    scan_seen = SeenIds()
    for id_ in taken_before:
        scan_seen.add(id_)
    scanned = BatchValidator(E, "f.csv", "t", Parents(), lambda: NOW, scan_seen).check(
        records, from_lines=from_lines, rejections=False)
    assert list(scanned.rows) == expected_rows and not scanned.rejections
    assert scan_seen.to_bytes() == seen.to_bytes()


line_ids = st.sampled_from(["1", "2", "3", "4", "007", "x", "", "0", " 2"])
line_moments = st.sampled_from(["2021-07-27T16:02:08Z", "2021-02-30T00:00:00Z", "2020-02-29T12:00:00Z",
                                "2021-05-05T10:00:00+02:00", "2021-05-05 10:00:00", ""])
line_parents = st.sampled_from(["1", "01", "2", "003", "3", "9", ""])  # one parent written two ways, too
lines = st.lists(st.tuples(line_ids, st.sampled_from(["Ana", "", " Bea ", "Cy Do"]), line_moments,
                           line_parents, line_parents), min_size=1, max_size=30)



@st.composite
def usual_lines(draw):
    """Mostly rows in the form with ids of their own, and rows a field rule refuses, some with an id a row in
    the form takes: the batches the path from lines decides alone."""
    rows = []
    for id_ in draw(st.lists(st.integers(1, 40), min_size=1, max_size=30, unique=True)):
        good = (str(id_), "Ana", "2021-07-27T16:02:08Z", draw(st.sampled_from(["1", "01", "2", "3"])),
                draw(st.sampled_from(["1", "2", "002"])))
        broken = draw(st.sampled_from([None, 1, 2, 4]))
        if broken is not None:
            good = (*good[:broken], "", *good[broken + 1:])
        rows.append(good)
    for _ in range(draw(st.integers(0, 3))):  # refused rows that name an id another row takes
        at = draw(st.integers(0, len(rows)))
        rows.insert(at, (rows[draw(st.integers(0, len(rows) - 1))][0], "", "2021-07-27T16:02:08Z", "9", "1"))
    return rows


@settings(max_examples=400, deadline=None)
@given(st.one_of(lines, usual_lines()), st.lists(st.sampled_from([1, 2, 3, 4, 7]), max_size=3))
def test_a_batch_checked_from_its_lines_is_checked_as_the_rules_row_by_row_would(rows, taken_before):
    """The path from lines (core.line_form), falling back to the columns wherever it cannot decide alone."""
    text = "\n".join(",".join(row) for row in rows) + "\n"
    records = [record for run in CsvRecords(io.BytesIO(text.encode())).runs() for record in run]
    assert all_plain(records)
    seen = SeenIds()
    for id_ in taken_before:
        seen.add(id_)
    checked = BatchValidator(E, "f.csv", "t", Parents(), lambda: NOW, seen).check(records, from_lines=True)
    expected_rows, expected_rejected = one_at_a_time(records, set(taken_before))
    assert list(checked.rows) == expected_rows
    assert checked.ids == [row[0] for row in expected_rows]
    assert [(r.line_number, r.reasons, r.row_id) for r in checked.rejections] == expected_rejected
    assert_scanned_alike(records, taken_before, seen, expected_rows, from_lines=True)
    keys = keys_of(checked.rows)
    if keys is not None:  # the keys read off the lines are the parsed rows' own
        assert keys.parents == {"department_id": sorted({row[3] for row in expected_rows}),
                                "job_id": sorted({row[4] for row in expected_rows})}
        assert checked.lines == [record.raw for record in records if record.line_number not in
                                 {r.line_number for r in checked.rejections}]


def test_a_batch_of_lines_in_the_form_is_read_from_them_and_its_rows_parsed_when_read():
    text = "1,Ana,2021-07-27T16:02:08Z,1,2\n2,,2021-07-27T16:02:08Z,1,2\n003,Bea,2021-12-31T23:59:59Z,3,1\n"
    records = next(CsvRecords(io.BytesIO(text.encode())).runs())
    checked = BatchValidator(E, "f.csv", "t", Parents(), lambda: NOW).check(records, from_lines=True)
    assert keys_of(checked.rows) == RowKeys([1, 3], {"department_id": [1, 3], "job_id": [1, 2]})
    assert [r.line_number for r in checked.rejections] == [2]
    assert list(checked.rows) == [(1, "Ana", datetime(2021, 7, 27, 16, 2, 8), 1, 2),
                                  (3, "Bea", datetime(2021, 12, 31, 23, 59, 59), 3, 1)]
    assert pickle.loads(pickle.dumps(checked.rows)) == list(checked.rows)
