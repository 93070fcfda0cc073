"""Whatever bytes arrive, a load never crashes and accounts for every record it was sent."""
from __future__ import annotations

import io
import re
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.dialects import sniffed
from core.header_mapping import HeaderMismatch
from core.ingestion import Ingestion
from domain.entities import Department, Employee, Job
from domain.rules import is_header
from domain.tables import Table
from tests.unit.fakes import FakeBlobStore, FakeLoadStore

E = Table.HIRED_EMPLOYEES

ids = st.one_of(st.integers(1, 8).map(str), st.sampled_from(["0", "-1", "7.0", "abc", "", " 3 ", "2147483648"]))
names = st.one_of(st.sampled_from(["Ana", " Bea Brennan ", "", "x" * 256, "Zoë", "id"]), st.text(max_size=12))
moments = st.sampled_from(["2021-07-27T16:02:08Z", "2021-12-31T23:30:00-01:00", "2021-02-30T00:00:00Z",
                           "2021-13-01", "2021-05-05", "", "soon"])


def quoted(field: str) -> str:
    return '"' + field.replace('"', '""') + '"'


@st.composite
def csv_lines(draw) -> bytes:
    """Employee rows, mostly well formed, some with quoting, missing or extra fields, blank lines or bad bytes."""
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        fields = [draw(ids), draw(names), draw(moments), draw(ids), draw(ids)]
        fields = fields[: draw(st.sampled_from([5, 5, 5, 5, 4, 1]))] + draw(st.sampled_from([[], [], ["x"]]))
        if draw(st.booleans()):
            fields = [quoted(f) if draw(st.booleans()) else f for f in fields]
        line = ",".join(fields).encode()
        line += draw(st.sampled_from([b"", b"", b"\xff", b'"', b"\r"]))
        lines.append(line)
        if draw(st.integers(0, 9)) == 0:
            lines.append(b"   ")
    header = draw(st.sampled_from([b"", b"id,name,datetime,department_id,job_id\n", b"\xef\xbb\xbf"]))
    ending = draw(st.sampled_from([b"\n", b"\r\n"]))
    return header + ending.join(lines) + draw(st.sampled_from([b"", ending]))


def loaded(data: bytes, batch_size: int):
    store = FakeLoadStore()
    store.add(Table.DEPARTMENTS, *(Department(i, f"Department {i}") for i in (1, 2, 3)))
    store.add(Table.JOBS, *(Job(i, f"Job {i}") for i in (1, 2, 3)))
    store.add(E, Employee(1, "Already Here", datetime(2021, 1, 1), 1, 1))
    ingestion = Ingestion(store, FakeBlobStore(), batch_size=batch_size, clock=lambda: datetime(2024, 5, 1))
    summary = ingestion.load_stream(E, io.BytesIO(data), source="hired_employees.csv", task_id="t1")
    return store, summary


def data_records(data: bytes) -> int:
    """Counted apart from the load: every record but empty lines (`,` is a row whose fields are all missing),
    less a header row. Read in the file's dialect (a UTF-16 byte order mark, another separator)."""
    dialect, stream = sniffed(io.BytesIO(data), E)
    records = [r for run in dialect.runs(dialect.records(stream)) for r in run
               if r.problem is not None or len(r.fields) > 1 or any(f.strip() for f in r.fields)]
    if records and records[0].problem is None and is_header(records[0].fields):
        records = records[1:]
    return len(records)


def check_accounting(data: bytes, batch_size: int) -> None:
    try:
        store, summary = loaded(data, batch_size)
    except HeaderMismatch as error:
        # The one way a file's content fails a load: a first row that names a column but does not fit the
        # table. It fails before anything is read past that row.
        assert "the header row does not fit the table hired_employees" in str(error)
        return
    landed = store.landed("t1", E)
    for batch in landed:
        assert 1 <= batch.processed <= batch_size
        assert batch.processed == batch.inserted + batch.already_exists + batch.errors
    total = summary.totals()
    assert total["processed"] == data_records(data)
    assert total["processed"] == total["inserted"] + total["already_exists"] + total["errors"]
    assert len(store.tables[E]) == 1 + total["inserted"]
    rejections = [r for r in store.rejections if r.table is E]
    assert len(rejections) == total["errors"]
    assert all(r.reasons and all(r.reasons) for r in rejections)
    assert len({r.line_number for r in rejections}) == len(rejections)
    assert [b.batch for b in landed] == list(range(1, summary.batches + 1))


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=400), st.integers(1, 4))
def test_any_bytes_are_accounted_for(data, batch_size):
    check_accounting(data, batch_size)


@settings(max_examples=150, deadline=None)
@given(csv_lines(), st.integers(1, 4))
def test_any_csv_like_input_is_accounted_for(data, batch_size):
    check_accounting(data, batch_size)


@settings(max_examples=50, deadline=None)
@given(csv_lines())
def test_batch_size_does_not_change_what_is_loaded(data):
    try:
        one_store, one = loaded(data, 1)
    except HeaderMismatch as error:  # a header that does not fit fails the load whatever the batch size
        with pytest.raises(HeaderMismatch, match=re.escape(str(error))):
            loaded(data, 1000)
        return
    many_store, many = loaded(data, 1000)
    assert one_store.tables[E] == many_store.tables[E]
    assert one.totals() == many.totals()
    assert one_store.reasons_by_line(E) == many_store.reasons_by_line(E)
