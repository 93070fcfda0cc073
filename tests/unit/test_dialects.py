"""Files as spreadsheets export them load as the plain UTF-8, comma-separated file of the same data does."""
from __future__ import annotations

import io
from datetime import datetime

import pytest

from core.dialects import PLAIN, Dialect, ReadOptions, detect, sniffed
from core.errors import InvalidRequest
from core.header_mapping import HeaderMismatch
from core.ingestion import Ingestion
from domain.entities import Department, Job
from domain.log_text import unescaped
from domain.tables import Table
from tests.spreadsheet import resaved
from tests.unit.fakes import FakeBlobStore, FakeLoadStore

E, D = Table.HIRED_EMPLOYEES, Table.DEPARTMENTS
ORDER = ["job_id", "name", "id", "department_id", "datetime"]
PLAIN_EMPLOYEES = (
    "id,name,datetime,department_id,job_id\n"
    "1,José Núñez,2021-07-27T16:02:08Z,1,2\n"
    "2,Zoë; Ångström,2021-07-27T16:02:08Z,2,1\n"
    "3,,2021-07-27T16:02:08Z,1,1\n"
    "\n"
    "4,Ana,2021-13-01,9,1\n"
    "1,José again,2021-07-27T16:02:08Z,1,2\n"
    "5,Too few,2021-07-27T16:02:08Z,1\n"
    "6,Bea,2021-02-03T04:05:06-03:00,2,2\n"
).encode()


def _store() -> FakeLoadStore:
    store = FakeLoadStore()
    store.add(Table.DEPARTMENTS, Department(1, "Recursos Humanos y Administración"), Department(2, "Logística"))
    store.add(Table.JOBS, Job(1, "Analista"), Job(2, "Jefe"))
    return store


def _load(data: bytes, table: Table = E, options: ReadOptions = ReadOptions()):
    store = _store()
    ingestion = Ingestion(store, FakeBlobStore(), batch_size=3, clock=lambda: datetime(2024, 1, 1))
    summary = ingestion.load_stream(table, io.BytesIO(data), source="f.csv", task_id="t", options=options)
    return store, summary


def _outcome(store: FakeLoadStore) -> tuple:
    return store.rows(E), sorted((r.line_number, r.reasons, r.row_id, r.fields) for r in store.rejections)


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
@pytest.mark.parametrize("encoding", ["cp1252", "utf-8", "utf-16"])
def test_a_resaved_file_lands_the_rows_counts_and_reasons_of_the_plain_file(delimiter, encoding):
    plain_store, plain = _load(PLAIN_EMPLOYEES)
    options = ReadOptions(encoding="cp1252") if encoding == "cp1252" else ReadOptions()
    store, summary = _load(resaved(PLAIN_EMPLOYEES, ORDER, delimiter, encoding), options=options)

    assert summary.totals() == plain.totals() == {"processed": 7, "inserted": 3, "already_exists": 0, "errors": 4}
    assert summary.header_skipped and plain.header_skipped
    assert _outcome(store) == _outcome(plain_store)
    assert [b.as_dict() for b in store.landed("t", E)] == [b.as_dict() for b in plain_store.landed("t", E)]


def test_the_separator_is_the_one_that_splits_most_lines_into_the_table_s_fields_and_a_tie_goes_to_the_comma():
    assert detect(b"1;Sales\n2;Legal, Tax\n", D).delimiter == ";"
    assert detect(b"1\tSales\n2\tLegal;Tax\n", D).delimiter == "\t"
    assert detect(b'1|"Sales|Ops"\n2|Legal\n', D).delimiter == "|"  # quoted fields respected
    assert detect(b"1,Sales;Ops\n2;Legal,Tax\n", D).delimiter == ","  # one line each: a tie
    assert detect(b"nothing to split\n", D).delimiter == ","
    assert detect(b"1;Sales\n", D, ReadOptions.parse(",", None)).delimiter == ","  # forced
    assert ReadOptions.parse("tab", None).delimiter == "\t"


def test_byte_order_marks_tell_the_encoding_and_win_over_the_one_named():
    text = "id,department\n1,Logística\n"
    assert detect(b"\xef\xbb\xbf" + text.encode(), D, ReadOptions(encoding="cp1252")).encoding == "utf-8"
    little = detect(b"\xff\xfe" + text.encode("utf-16-le"), D, ReadOptions(encoding="cp1252"))
    assert (little.transcoded_from, little.cuts_at_line_ends, little.plain) == ("utf-16-le", False, False)
    assert detect(b"\xfe\xff" + text.encode("utf-16-be"), D).transcoded_from == "utf-16-be"
    assert detect(text.encode("cp1252"), D, ReadOptions.parse(None, "windows-1252")).encoding == "cp1252"
    assert detect(text.encode(), D) == PLAIN  # the header in the table's order needs no map


@pytest.mark.parametrize("name", ["klingon", "rot13", "hex"])
def test_an_encoding_python_does_not_know_as_text_is_refused(name):
    with pytest.raises(InvalidRequest, match=f"encoding '{name}'"):
        ReadOptions.parse(None, name)


def test_a_separator_other_than_the_four_is_refused():
    with pytest.raises(InvalidRequest, match="delimiter ':'"):
        ReadOptions.parse(":", None)


def test_a_line_that_does_not_decode_is_rejected_and_its_bytes_stay_recoverable_from_the_log():
    data = b"id;department\n7;Log\xedstica\n8;Bad \x81 byte\n"  # 0x81 is no character in cp1252
    store, summary = _load(data, D, ReadOptions(encoding="cp1252"))

    assert summary.totals() == {"processed": 2, "inserted": 1, "already_exists": 0, "errors": 1}
    assert store.tables[D][7] == Department(7, "Logística")
    [rejected] = store.rejections
    assert rejected.reasons == ("line is not valid cp1252 (byte 6)",)
    assert rejected.raw == "8;Bad \\x81 byte"
    assert unescaped(rejected.raw).encode("cp1252", "surrogateescape") == b"8;Bad \x81 byte"


def test_utf16_with_a_byte_order_mark_loads_as_its_text():
    text = "department\tid\r\nLogística\t7\r\nCompras\t8\r\n"
    store, summary = _load(b"\xff\xfe" + text.encode("utf-16-le"), D)
    assert summary.totals()["inserted"] == 2
    assert store.tables[D][7] == Department(7, "Logística")


def test_a_header_names_columns_in_any_case_and_spacing():
    data = resaved(PLAIN_EMPLOYEES, ORDER, header=[" JOB_ID", "Name ", "ID", "Department_Id", "DateTime"])
    store, summary = _load(data, options=ReadOptions(encoding="cp1252"))
    assert summary.totals()["inserted"] == 3


@pytest.mark.parametrize("header, told", [
    ("id;nombre;datetime;department_id;job_id", "missing columns: name; unknown columns: 'nombre'"),
    ("id;name;datetime;department_id", "missing columns: job_id"),
    ("id;name;name;datetime;department_id;job_id", "named more than once: name"),
])
def test_a_header_that_names_columns_but_not_the_table_s_fails_the_load_before_any_row(header, told):
    data = (header + "\n1;Ana;2021-07-27T16:02:08Z;1;1\n").encode()
    store = _store()
    ingestion = Ingestion(store, FakeBlobStore(), batch_size=3)
    with pytest.raises(HeaderMismatch, match=told):
        ingestion.load_stream(E, io.BytesIO(data), source="f.csv", task_id="t")
    assert store.commit_calls == []


def test_a_first_row_that_names_no_column_is_still_a_header_and_one_whose_id_is_a_number_is_data():
    store, summary = _load(b"code,title\n7,Department\n8,Legal\n", D)
    assert summary.header_skipped and summary.totals()["inserted"] == 2
    store, summary = _load(b"9,Department\n10,id\n", D)  # names, but a number first: data
    assert not summary.header_skipped and store.tables[D][9] == Department(9, "Department")


def test_the_export_s_own_columns_are_left_out_by_name():
    data = b"department,id,line_number,reasons,rejection_id\nCompras,7,3,id is missing,41\n"
    store, summary = _load(data, D)
    assert store.tables[D][7] == Department(7, "Compras") and summary.totals()["inserted"] == 1


def test_a_row_of_another_width_than_a_wider_header_says_what_the_header_expects():
    data = b"department,id,rejection_id\nCompras,7\n"
    store, _ = _load(data, D)
    assert store.rejections[0].reasons == ("expected 3 fields (department, id, rejection_id), found 2",)


def test_a_dialect_goes_between_workers_as_plain_data():
    dialect = detect(resaved(PLAIN_EMPLOYEES, ORDER), E, ReadOptions(encoding="cp1252"))
    assert Dialect.from_dict(dialect.as_dict()) == dialect
    assert Dialect.from_dict(None) == PLAIN


def test_a_stream_that_cannot_seek_is_read_from_its_start_after_the_sniff():
    class OneWay(io.RawIOBase):
        def __init__(self, data):
            self._data = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            return self._data.readinto(buffer)

    dialect, stream = sniffed(io.BufferedReader(OneWay(b"1;Sales\n" * 20_000)), D)
    assert dialect.delimiter == ";" and stream.read() == b"1;Sales\n" * 20_000
