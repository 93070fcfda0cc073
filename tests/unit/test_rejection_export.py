"""The rejected rows of one table as a CSV file to fix and load again, on the fakes of our own ports."""
from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest

from core.errors import InvalidRequest
from core.ingestion import Ingestion
from core.rejection_export import RejectionExport
from domain.entities import Department, Job
from domain.tables import Table
from tests.unit.fakes import FakeBlobStore, FakeLoadStore, FakeRejectionLog

E, D = Table.HIRED_EMPLOYEES, Table.DEPARTMENTS


def _export(*loads: tuple[Table, bytes]) -> tuple[RejectionExport, FakeLoadStore]:
    store = FakeLoadStore()
    store.add(D, Department(1, "RH"))
    store.add(Table.JOBS, Job(1, "Analista"))
    ingestion = Ingestion(store, FakeBlobStore(), batch_size=2, clock=lambda: datetime(2024, 1, 1))
    for table, data in loads:
        ingestion.load_stream(table, io.BytesIO(data), source="f.csv", task_id="t")
    return RejectionExport(FakeRejectionLog(store)), store


def _rows(export: RejectionExport, table: Table, task_id: str | None = "t") -> list[list[str]]:
    text = "".join(export.csv(table, task_id))
    assert text.startswith("\ufeff")  # a spreadsheet opens the file as UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_table_s_columns_as_sent_then_the_line_its_reasons_and_its_rejection_id():
    data = ('7,"Zoë, ""la jefa""",2021-01-01T00:00:00Z,2,1\n'
            '8,=HYPERLINK("x"),2021-13-01,1,1\n').encode() + b"9,Bad \xff byte\n"
    export, _ = _export((E, data))
    rows = _rows(export, E)
    assert rows[0] == ["id", "name", "datetime", "department_id", "job_id", "line_number", "reasons", "rejection_id"]
    assert rows[1] == ["7", 'Zoë, "la jefa"', "2021-01-01T00:00:00Z", "2", "1", "1", "department_id 2 does not exist",
                       "1"]
    # No formula guard: the cell comes back as it went.
    assert rows[2][:2] == ["8", '=HYPERLINK("x")']
    assert rows[2][6] == "datetime '2021-13-01' is not a valid ISO 8601 datetime"
    # Not read into the table's fields: the raw text in the first column, in the log's escaped form where it
    # holds a byte no UTF-8 file can.
    assert rows[3] == ["9,Bad \\xff byte", "", "", "", "", "3", "line is not valid UTF-8 (byte 6)", "3"]


def test_control_characters_come_back_as_they_were_sent():
    export, _ = _export((D, b"5,Tab\there\n"))
    assert _rows(export, D)[1][:2] == ["5", "Tab\there"]


def test_a_large_log_is_written_a_page_at_a_time(monkeypatch):
    monkeypatch.setattr("core.rejection_export.PAGE", 3)
    export, _ = _export((D, b"".join(b"%d,\n" % n for n in range(1, 11))))
    pieces = list(export.csv(D, "t"))
    assert len(pieces) == 1 + 4
    assert [row[2] for row in csv.reader(io.StringIO("".join(pieces)[1:]))][1:] == [str(n) for n in range(1, 11)]


def test_the_export_is_of_the_one_table_named_or_loaded():
    export, _ = _export((D, b"x1,Bad\n-1,Worse\n"), (E, b"1,Ana,2021-01-01T00:00:00Z,9,1\n"))
    assert export.table_of(D, None) is D
    with pytest.raises(InvalidRequest, match="name the table"):
        export.table_of(None, None)
    with pytest.raises(InvalidRequest, match=r"task t loaded 2 tables \(departments, hired_employees\)"):
        export.table_of(None, "t")
    with pytest.raises(InvalidRequest, match=r"task nope loaded no tables \(none\)"):
        export.table_of(None, "nope")
    only, _ = _export((D, b"-1,Worse\n"))
    assert only.table_of(None, "t") is D
