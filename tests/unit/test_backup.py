"""The Backups use case on fakes: names, listing, streaming, and a restore that is atomic and rule-bound."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from core.backup import Backups
from core.byte_streams import PiecesStream
from core.errors import Conflict, CorruptBackup, InvalidRequest, NotFound
from domain.entities import Department, Employee, Job
from domain.tables import Table
from tests.unit.backup_fakes import MAGIC, FakeCodec, FakeRowSource, FakeTableReplacer, encode_rows

STAMP = "20240501T120000000000Z"
HIRED = datetime(2021, 3, 4, 5, 6, 7, 123456)


class Clock:
    def __init__(self, *moments: datetime) -> None:
        self.moments = list(moments)

    def __call__(self) -> datetime:
        return self.moments.pop(0) if len(self.moments) > 1 else self.moments[0]


@pytest.fixture
def source(store) -> FakeRowSource:
    return FakeRowSource(store)


@pytest.fixture
def replacer(store) -> FakeTableReplacer:
    return FakeTableReplacer(store)


@pytest.fixture
def backups(source, replacer, blobs, store, clock) -> Backups:
    return Backups(source, replacer, FakeCodec(), blobs, store, chunk_size=2, clock=clock)


@pytest.fixture
def company(parents):
    """Departments 1-3, jobs 1-3 and four employees in departments 1 and 2."""
    parents.add(Table.HIRED_EMPLOYEES, *(Employee(i, f"Person {i}", HIRED, 1 + i % 2, 1) for i in range(1, 5)))
    return parents


def test_a_backup_is_a_file_and_a_manifest_under_the_tables_folder(backups, company, blobs):
    result = backups.backup(Table.HIRED_EMPLOYEES)

    assert result == {"table": "hired_employees", "name": f"{STAMP}.avro", "rows": 4,
                      "size": len(blobs.blobs[f"backups/hired_employees/{STAMP}.avro"]),
                      "time": "2024-05-01T12:00:00.000000Z"}
    manifest = json.loads(blobs.blobs[f"backups/hired_employees/{STAMP}.json"])
    assert manifest["rows"] == 4 and manifest["size"] == result["size"] and len(manifest["sha256"]) == 64


def test_backups_taken_in_the_same_microsecond_get_names_of_their_own(backups, company):
    first, second = backups.backup("departments"), backups.backup("departments")
    assert first["name"] == f"{STAMP}.avro"
    assert second["name"] == "20240501T120000000001Z.avro"


def test_the_list_shows_every_table_newest_first_and_ignores_other_files(store, company, source, replacer, blobs):
    clock = Clock(datetime(2024, 1, 1), datetime(2024, 2, 1))
    backups = Backups(source, replacer, FakeCodec(), blobs, store, clock=clock)
    backups.backup("jobs")
    backups.backup("jobs")
    blobs.blobs["backups/jobs/notes.txt"] = b"x"
    blobs.blobs["backups/jobs/20230101T000000000000Z.avro"] = encode_rows(Table.JOBS, [(1, "Job")])  # no manifest
    blobs.blobs["backups/other/20230101T000000000000Z.avro"] = b"x"

    listed = backups.list()

    assert listed["departments"] == [] and listed["hired_employees"] == []
    assert [(b["name"], b["rows"], b["time"]) for b in listed["jobs"]] == [
        ("20240201T000000000000Z.avro", 3, "2024-02-01T00:00:00.000000Z"),
        ("20240101T000000000000Z.avro", 3, "2024-01-01T00:00:00.000000Z"),
        ("20230101T000000000000Z.avro", None, "2023-01-01T00:00:00.000000Z"),
    ]


def test_rows_are_pulled_from_the_database_as_the_file_is_written(store, source, replacer, clock):
    store.add(Table.DEPARTMENTS, *(Department(i, f"D{i}") for i in range(1, 11)))
    seen_when_first_read: list[int] = []

    class SlowReader:
        def list(self, prefix=""):
            return []

        def write(self, name, stream):
            first = stream.read(len(MAGIC)) + stream.read(1)  # the header and a byte of the first chunk
            seen_when_first_read.append(source.chunks_given)
            return len(first + stream.read())

    Backups(source, replacer, FakeCodec(), SlowReader(), store, chunk_size=2, clock=clock).backup("departments")
    assert seen_when_first_read[0] == 1  # one chunk of five had been read when the file began to be stored
    assert source.chunks_given == 5 and source.finished


def test_the_pieces_stream_fills_small_and_large_reads():
    stream = PiecesStream(iter([b"abc", b"", b"defgh"]))
    assert stream.read(2) == b"ab"
    assert stream.read(100) == b"c"
    assert stream.read() == b"defgh"
    assert stream.read(1) == b""


def test_restore_puts_the_latest_backup_back(backups, company, store):
    backups.backup("hired_employees")
    before = store.rows(Table.HIRED_EMPLOYEES)
    del store.tables[Table.HIRED_EMPLOYEES][1]
    store.add(Table.HIRED_EMPLOYEES, Employee(99, "New", HIRED, 3, 3))

    result = backups.restore("hired-employees", task_id="t-1")

    assert store.rows(Table.HIRED_EMPLOYEES) == before
    assert result == {"table": "hired_employees", "backup": f"{STAMP}.avro", "rows": 4, "rejected": 0,
                      "task_id": "t-1", "dependants": []}


def test_restore_a_named_backup_rather_than_the_latest(store, company, source, replacer, blobs):
    clock = Clock(datetime(2024, 1, 1), datetime(2024, 2, 1))
    backups = Backups(source, replacer, FakeCodec(), blobs, store, clock=clock)
    older = backups.backup("jobs")["name"]
    store.add(Table.JOBS, Job(4, "Job 4"))
    backups.backup("jobs")

    backups.restore("jobs", older.removesuffix(".avro"))  # the suffix may be left off

    assert sorted(store.tables[Table.JOBS]) == [1, 2, 3]


@pytest.mark.parametrize("name", ["../departments/20240501T120000000000Z.avro", "/etc/passwd", "..",
                                  "20240501T120000000000Z.json", "x/20240501T120000000000Z.avro",
                                  "20241301T120000000000Z.avro", ""])
def test_a_name_that_is_not_a_backup_name_is_refused(backups, company, name):
    backups.backup("departments")
    with pytest.raises(InvalidRequest, match="not a backup name"):
        backups.restore("departments", name)


def test_unknown_backups_and_tables_are_not_found(backups, company):
    with pytest.raises(NotFound, match="there is no backup of departments"):
        backups.restore("departments")
    backups.backup("departments")
    with pytest.raises(NotFound, match="no backup '20200101T000000000000Z.avro'"):
        backups.restore("departments", "20200101T000000000000Z.avro")
    with pytest.raises(Exception, match="unknown table"):
        backups.restore("salaries")


def test_a_tampered_backup_cannot_smuggle_in_a_bad_row(backups, company, store, blobs):
    blobs.blobs[f"backups/hired_employees/{STAMP}.avro"] = encode_rows(Table.HIRED_EMPLOYEES, [
        (1, "Good", HIRED, 1, 1),
        (-2, "Negative id", HIRED, 1, 1),
        (3, "  ", HIRED, 1, 1),
        (4, "Orphan", HIRED, 42, 1),
        (1, "Repeated", HIRED, 1, 1),
        (5, "x" * 300, HIRED, 1, 1),
        (6, None, HIRED, 1, 1),
    ])

    result = backups.restore("hired_employees", task_id="t-2")

    assert store.rows(Table.HIRED_EMPLOYEES) == [Employee(1, "Good", HIRED, 1, 1)]
    assert result["rows"] == 1 and result["rejected"] == 6
    reasons = store.reasons_by_line(Table.HIRED_EMPLOYEES)
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7]
    assert "not a positive integer" in reasons[2][0] and reasons[3] == ("name is missing",)
    assert reasons[4] == ("department_id 42 does not exist",) and "appears earlier" in reasons[5][0]
    rejection = store.rejections[0]
    assert rejection.source == f"backups/hired_employees/{STAMP}.avro" and rejection.task_id == "t-2"
    assert json.loads(rejection.raw)["id"] == -2


def test_a_corrupt_backup_fails_and_leaves_the_table_as_it_was(backups, company, store, blobs):
    backups.backup("hired_employees")
    path = f"backups/hired_employees/{STAMP}.avro"
    blobs.blobs[path] = blobs.blobs[path][:-5] + b"}{\n"
    store.tables[Table.HIRED_EMPLOYEES].pop(1)
    before = store.rows(Table.HIRED_EMPLOYEES)

    with pytest.raises(CorruptBackup):
        backups.restore("hired_employees")
    assert store.rows(Table.HIRED_EMPLOYEES) == before and store.rejections == []


def test_a_backup_cut_at_a_row_boundary_is_caught_by_its_manifest(backups, company, store, blobs):
    backups.backup("hired_employees")
    path = f"backups/hired_employees/{STAMP}.avro"
    blobs.blobs[path] = b"".join(blobs.blobs[path].splitlines(keepends=True)[:-1])  # still readable
    store.tables[Table.HIRED_EMPLOYEES].pop(1)
    before = store.rows(Table.HIRED_EMPLOYEES)

    with pytest.raises(CorruptBackup, match="truncated or altered: read 3 rows .* says 4 rows"):
        backups.restore("hired_employees")
    assert store.rows(Table.HIRED_EMPLOYEES) == before


def test_a_parent_backup_lacking_ids_that_employees_point_at_is_refused(backups, company, store):
    store.tables[Table.DEPARTMENTS].pop(3)  # nobody works in department 3
    store.tables[Table.DEPARTMENTS][2] = Department(2, "Renamed")
    backups.backup("departments")
    store.add(Table.DEPARTMENTS, Department(3, "Back again"))
    store.tables[Table.HIRED_EMPLOYEES][2] = Employee(2, "Moved", HIRED, 3, 1)
    before = {t: store.rows(t) for t in Table}

    with pytest.raises(Conflict, match=r"hired_employees rows point at 1 departments ids the backup lacks \(3\)"):
        backups.restore("departments")
    assert {t: store.rows(t) for t in Table} == before


def test_a_parent_backup_with_every_referenced_id_replaces_the_rest(backups, company, store):
    backups.backup("departments")
    store.tables[Table.DEPARTMENTS][1] = Department(1, "Renamed")
    store.add(Table.DEPARTMENTS, Department(7, "Extra"))

    result = backups.restore("departments")

    assert store.rows(Table.DEPARTMENTS) == [Department(i, f"Department {i}") for i in (1, 2, 3)]
    assert result["rows"] == 3 and result["dependants"] == []


def test_with_dependants_restores_the_employees_from_their_latest_backup_too(store, company, source, replacer,
                                                                              blobs):
    clock = Clock(datetime(2024, 1, 1), datetime(2024, 2, 1))
    backups = Backups(source, replacer, FakeCodec(), blobs, store, clock=clock)
    store.tables[Table.DEPARTMENTS].pop(3)
    backups.backup("departments")
    employees = backups.backup("hired_employees")
    store.add(Table.DEPARTMENTS, Department(3, "Three"))
    store.add(Table.HIRED_EMPLOYEES, Employee(50, "In three", HIRED, 3, 1))

    with pytest.raises(Conflict):
        backups.restore("departments")
    result = backups.restore(table="departments", backup=None, with_dependants=True, task_id="t-3",
                             on_progress=None)

    assert sorted(store.tables[Table.DEPARTMENTS]) == [1, 2]
    assert sorted(store.tables[Table.HIRED_EMPLOYEES]) == [1, 2, 3, 4]
    assert result["dependants"] == [{"table": "hired_employees", "backup": employees["name"], "rows": 4,
                                     "rejected": 0}]
    assert replacer.replaced[-1] == [Table.DEPARTMENTS, Table.HIRED_EMPLOYEES]


def test_dependants_are_checked_against_the_parents_being_restored(backups, company, store, blobs):
    blobs.blobs[f"backups/departments/{STAMP}.avro"] = encode_rows(Table.DEPARTMENTS, [(1, "Only one")])
    blobs.blobs[f"backups/hired_employees/{STAMP}.avro"] = encode_rows(
        Table.HIRED_EMPLOYEES, [(1, "Stays", HIRED, 1, 1), (2, "Was in two", HIRED, 2, 1), (3, "No job", HIRED, 1, 9)])

    result = backups.restore("departments", with_dependants=True)

    assert store.rows(Table.HIRED_EMPLOYEES) == [Employee(1, "Stays", HIRED, 1, 1)]
    assert result["dependants"][0]["rejected"] == 2
    assert set(store.reasons_by_line(Table.HIRED_EMPLOYEES).values()) == {
        ("department_id 2 does not exist",), ("job_id 9 does not exist",)}


def test_with_dependants_needs_a_backup_of_the_dependants(backups, company, store):
    backups.backup("jobs")
    with pytest.raises(NotFound, match="no backup of hired_employees to restore the dependants of jobs"):
        backups.restore("jobs", with_dependants=True)


def test_a_table_without_dependants_ignores_with_dependants(backups, company, store):
    backups.backup("hired_employees")
    assert backups.restore("hired_employees", with_dependants=True)["dependants"] == []


def test_progress_is_reported_both_ways(backups, company):
    seen = []
    backups.backup("hired_employees", task_id="t", on_progress=seen.append)
    assert [p.rows_done for p in seen] == [2, 4] and seen[-1].bytes_total is None
    seen.clear()
    backups.restore("hired_employees", on_progress=seen.append)
    assert [p.rows_done for p in seen] == [2, 4] and seen[-1].bytes_total == seen[-1].bytes_done


def test_the_methods_take_the_task_handlers_arguments(backups, company):
    """Tasks.run calls handler(task_id=..., on_progress=..., **args) with primitive args."""
    made = backups.backup(task_id="t-4", on_progress=lambda p: None, table="hired-employees")
    restored = backups.restore(task_id="t-5", on_progress=lambda p: None,
                               table="hired_employees", backup=made["name"], with_dependants=False)
    assert json.loads(json.dumps(restored))["rows"] == 4


def test_chunk_size_must_be_positive(source, replacer, blobs, store):
    with pytest.raises(ValueError):
        Backups(source, replacer, FakeCodec(), blobs, store, chunk_size=0)


def test_an_unreadable_manifest_is_a_corrupt_backup(backups, company, blobs):
    backups.backup("jobs")
    blobs.blobs[f"backups/jobs/{STAMP}.json"] = b"\xff{"
    with pytest.raises(CorruptBackup, match="manifest"):
        backups.restore("jobs")
    blobs.blobs[f"backups/jobs/{STAMP}.json"] = b"[]"  # not an object: as good as none
    assert backups.list()["jobs"][0]["rows"] is None


def test_check_restore_answers_before_anything_is_queued(backups, company, store):
    backups.backup("departments")
    assert backups.check_restore("departments") == {"table": "departments", "backup": f"{STAMP}.avro",
                                                    "dependants": []}
    with pytest.raises(NotFound):
        backups.check_restore("departments", with_dependants=True)
    with pytest.raises(InvalidRequest):
        backups.check_restore("departments", "../x")
    store.add(Table.DEPARTMENTS, Department(8, "Eight"))
    store.add(Table.HIRED_EMPLOYEES, Employee(80, "In eight", HIRED, 8, 1))
    before = {t: store.rows(t) for t in Table}
    with pytest.raises(Conflict, match=r"lacks \(8\)"):
        backups.check_restore("departments")
    assert {t: store.rows(t) for t in Table} == before
    backups.backup("hired_employees")
    assert backups.check_restore("departments", with_dependants=True)["dependants"] == [
        {"table": "hired_employees", "backup": f"{STAMP}.avro"}]
