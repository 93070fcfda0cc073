"""Backup and restore on SQLite, PostgreSQL and MariaDB: AVRO files in a local storage folder, real SQL."""
from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

import fastavro
import pytest
import sqlalchemy as sa

from config import Settings
from core.backup import Backups
from core.backup_ports import RestoreBatch
from core.clock import utc_now
from core.errors import Conflict, CorruptBackup, InvalidRequest, NotFound
from core.ingestion import Ingestion
from core.reports import Reports
from domain.entities import Department, Employee
from domain.tables import LOAD_ORDER, Table
from infra.avro.codec import AvroCodec, load_schema
from infra.db.engine import create_engine
from infra.db.load_store import SqlLoadStore
from infra.db.report_queries import SqlReportQueries
from infra.db.schema import TABLES, rejected_rows
from infra.db.table_replacer import SqlTableReplacer
from infra.db.table_rows import SqlTableRows
from infra.storage.azure import AzureBlobStore
from infra.storage.local import LocalBlobStore
from main import create_app
from tests.challenge import REPORT_2

HIRED = datetime(2021, 6, 1, 8, 30, 0, 123456)


@dataclass
class World:
    engine: sa.Engine
    blobs: LocalBlobStore
    ingestion: Ingestion
    reports: Reports
    backups: Backups
    rows: SqlTableRows
    replacer: SqlTableReplacer

    def table(self, table: Table) -> list[tuple]:
        return [row for chunk in self.rows.chunks(table, 500) for row in chunk]

    def execute(self, statement, params=None) -> None:
        with self.engine.begin() as conn:
            conn.execute(statement, params)

    def rejections(self) -> list[sa.Row]:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(rejected_rows).order_by(rejected_rows.c.id)).all()


@pytest.fixture
def world(database_url, tmp_path):
    engine = create_engine(database_url)
    blobs = LocalBlobStore(tmp_path / "storage")
    store = SqlLoadStore(engine, utc_now)
    rows, replacer = SqlTableRows(engine), SqlTableReplacer(engine)
    yield World(engine, blobs, Ingestion(store, blobs), Reports(SqlReportQueries(engine)),
                Backups(rows, replacer, AvroCodec(), blobs, store, chunk_size=500), rows, replacer)
    engine.dispose()


@pytest.fixture
def loaded(world, challenge_dir) -> World:
    """The original challenge files, loaded; each table backed up once."""
    for table in LOAD_ORDER:
        (world.blobs.root / table.file_name).parent.mkdir(parents=True, exist_ok=True)
        (world.blobs.root / table.file_name).write_bytes((challenge_dir / table.file_name).read_bytes())
    world.ingestion.load_all("load")
    return world


def _assert_reports_match_the_originals(world: World) -> None:
    quarters = world.reports.hired_by_quarter(2021)
    assert len(quarters) == 933
    assert sum(r["Q1"] + r["Q2"] + r["Q3"] + r["Q4"] for r in quarters) == 1643
    assert [(r["department"], r["hired"]) for r in world.reports.hiring_above_average(2021)] == REPORT_2


def _backup_file(world: World, table: Table, name: str) -> list[tuple]:
    """The rows in the AVRO file itself, read with plain fastavro and the .avsc schema."""
    names = [f["name"] for f in load_schema(table)["fields"]]
    with world.blobs.open(f"backups/{table.value}/{name}") as stream:
        return [tuple(r[n].replace(tzinfo=None) if isinstance(r[n], datetime) else r[n] for n in names)
                for r in fastavro.reader(stream)]


def test_round_trip_restores_each_table_row_for_row(loaded):
    world = loaded
    before = {table: world.table(table) for table in LOAD_ORDER}
    made = {table: world.backups.backup(table) for table in LOAD_ORDER}
    assert [made[t]["rows"] for t in LOAD_ORDER] == [12, 183, 1929]
    for table in LOAD_ORDER:
        assert _backup_file(world, table, made[table]["name"]) == before[table]
    listed = world.backups.list()
    assert {t: [b["name"] for b in listed[t.value]] for t in LOAD_ORDER} == {t: [made[t]["name"]] for t in LOAD_ORDER}

    employees, departments = TABLES["hired_employees"], TABLES["departments"]
    world.execute(employees.delete().where(employees.c.id <= 300))
    world.execute(departments.insert(), [{"id": 99, "department": "Added"}])
    world.execute(departments.update().where(departments.c.id == 1).values(department="Renamed"))
    world.execute(employees.insert(), [{"id": 5000 + i, "name": f"New {i}", "datetime": HIRED,
                                        "department_id": 99, "job_id": 1} for i in range(50)])
    assert world.table(Table.HIRED_EMPLOYEES) != before[Table.HIRED_EMPLOYEES]

    restored = world.backups.restore("hired_employees", task_id="restore-1")
    world.backups.restore("departments")

    assert restored["rows"] == 1929 and restored["rejected"] == 0
    assert {table: world.table(table) for table in LOAD_ORDER} == before
    assert world.rejections()[-1].task_id == "load"  # the restore rejected nothing
    _assert_reports_match_the_originals(world)


def test_a_corrupt_or_truncated_file_fails_and_leaves_the_table_untouched(loaded):
    world = loaded
    name = world.backups.backup("hired_employees")["name"]
    path = world.blobs.root / "backups" / "hired_employees" / name
    whole = path.read_bytes()
    employees = TABLES["hired_employees"]
    world.execute(employees.delete().where(employees.c.id > 1500))
    changed, rejections = world.table(Table.HIRED_EMPLOYEES), len(world.rejections())

    damaged = bytearray(whole)
    damaged[len(whole) // 2:len(whole) // 2 + 8] = b"\xff" * 8
    for broken, why in ((bytes(damaged), "not a readable AVRO file|truncated or altered"),
                        (whole[:len(whole) // 2], "not a readable AVRO file|truncated or altered"),
                        (whole[:len(whole) - 1], "truncated or altered|not a readable AVRO file"),
                        (b"not avro at all", "not a readable AVRO file")):
        path.write_bytes(broken)
        with pytest.raises(CorruptBackup, match=why):
            world.backups.restore("hired_employees")
        assert world.table(Table.HIRED_EMPLOYEES) == changed
        assert len(world.rejections()) == rejections

    path.write_bytes(whole)
    assert world.backups.restore("hired_employees")["rows"] == 1929


def test_a_file_cut_at_a_block_boundary_is_caught_by_the_manifest(world):
    world.execute(TABLES["departments"].insert(), [{"id": i, "department": f"D{i}"} for i in range(1, 1201)])
    name = world.backups.backup("departments")["name"]
    path = world.blobs.root / "backups" / "departments" / name
    with path.open("rb") as stream:  # keep the header and the first block only: still a valid AVRO file
        blocks = fastavro.block_reader(stream)
        next(blocks)
        cut = stream.tell()
    path.write_bytes(path.read_bytes()[:cut])
    assert sum(1 for _ in fastavro.reader(io.BytesIO(path.read_bytes()))) == 500

    with pytest.raises(CorruptBackup, match="truncated or altered: read 500 rows .* says 1200 rows"):
        world.backups.restore("departments")
    assert len(world.table(Table.DEPARTMENTS)) == 1200


def test_a_backup_of_another_table_is_refused(world):
    world.execute(TABLES["departments"].insert(), [{"id": 1, "department": "D1"}])
    name = world.backups.backup("departments")["name"]
    (world.blobs.root / "backups" / "jobs").mkdir(parents=True)
    (world.blobs.root / "backups" / "departments" / name).rename(world.blobs.root / "backups" / "jobs" / name)
    with pytest.raises(CorruptBackup, match="not a backup of jobs"):
        world.backups.restore("jobs")


def test_names_that_could_escape_the_backups_folder_are_refused(world):
    world.backups.backup("jobs")
    (world.blobs.root / "secret.avro").write_bytes(b"x")
    for name in ("../secret.avro", "../../secret", "/etc/passwd", "..\\secret.avro", "jobs/../x.avro"):
        with pytest.raises(InvalidRequest):
            world.backups.restore("jobs", name)
    with pytest.raises(NotFound):
        world.backups.restore("jobs", "20000101T000000000000Z.avro")
    with pytest.raises(NotFound):
        world.backups.restore("departments")


def test_parents_backup_lacking_referenced_ids_is_a_conflict_unless_dependants_come_too(loaded):
    world = loaded
    made = {table: world.backups.backup(table) for table in LOAD_ORDER}
    before = {table: world.table(table) for table in LOAD_ORDER}
    world.execute(TABLES["departments"].insert(), [{"id": 13, "department": "Thirteen"}])
    world.execute(TABLES["hired_employees"].insert(), [{"id": 9000, "name": "In thirteen", "datetime": HIRED,
                                                        "department_id": 13, "job_id": 1}])
    changed = {table: world.table(table) for table in LOAD_ORDER}

    with pytest.raises(Conflict, match=r"hired_employees rows point at 1 departments ids the backup lacks \(13\)"):
        world.backups.restore("departments")
    with pytest.raises(Conflict, match=r"lacks \(13\)"):
        world.backups.check_restore("departments")  # what the route calls before it queues the task
    assert {table: world.table(table) for table in LOAD_ORDER} == changed

    result = world.backups.restore("departments", with_dependants=True)

    assert {table: world.table(table) for table in LOAD_ORDER} == before
    assert result["dependants"] == [{"table": "hired_employees", "backup": made[Table.HIRED_EMPLOYEES]["name"],
                                     "rows": 1929, "rejected": 0}]
    _assert_reports_match_the_originals(world)


def test_the_replacer_refuses_to_drop_a_referenced_row_even_without_the_core_check(world):
    """The safety net under the use case's own check: rows pointed at that the fill lacks roll all back."""
    world.execute(TABLES["departments"].insert(), [{"id": 1, "department": "One"}, {"id": 2, "department": "Two"}])
    world.execute(TABLES["jobs"].insert(), [{"id": 1, "job": "Job"}])
    world.execute(TABLES["hired_employees"].insert(), [{"id": 1, "name": "E", "datetime": HIRED,
                                                        "department_id": 2, "job_id": 1}])
    with pytest.raises(Conflict, match="1 rows of departments"):
        world.replacer.replace([(Table.DEPARTMENTS, [RestoreBatch([Department(1, "New one")], [])])])
    assert world.table(Table.DEPARTMENTS) == [(1, "One"), (2, "Two")]

    counts = world.replacer.replace([(Table.DEPARTMENTS, [RestoreBatch([Department(2, "New two")], [])])])
    assert counts == {Table.DEPARTMENTS: 1} and world.table(Table.DEPARTMENTS) == [(2, "New two")]
    assert world.replacer.referenced_ids(Table.DEPARTMENTS) == {2}


def test_a_foreign_key_the_database_refuses_is_a_conflict(world):
    world.execute(TABLES["departments"].insert(), [{"id": 1, "department": "One"}])
    with pytest.raises(Conflict, match="foreign key"):
        world.replacer.replace([(Table.HIRED_EMPLOYEES, [RestoreBatch([Employee(1, "E", HIRED, 1, 7)], [])])])


def test_a_tampered_backup_has_its_bad_rows_rejected_and_logged(world):
    world.execute(TABLES["departments"].insert(), [{"id": 1, "department": "One"}])
    world.execute(TABLES["jobs"].insert(), [{"id": 1, "job": "Job"}])
    name = "20240101T000000000000Z.avro"
    rows = [(1, "Good", HIRED, 1, 1), (0, "Zero id", HIRED, 1, 1), (2, "   ", HIRED, 1, 1),
            (3, "No department", HIRED, 5, 1), (2**40, "Huge id", HIRED, 1, 1), (4, "y" * 256, HIRED, 1, 1)]
    pieces = AvroCodec().encode(Table.HIRED_EMPLOYEES, [rows])
    world.blobs.write(f"backups/hired_employees/{name}", io.BytesIO(b"".join(pieces)))  # no manifest

    result = world.backups.restore("hired_employees", name, task_id="tampered")

    assert world.table(Table.HIRED_EMPLOYEES) == [(1, "Good", HIRED, 1, 1)]
    assert result["rows"] == 1 and result["rejected"] == 5
    logged = world.rejections()
    assert {r.source for r in logged} == {f"backups/hired_employees/{name}"}
    assert [r.line_number for r in logged] == [2, 3, 4, 5, 6] and {r.task_id for r in logged} == {"tampered"}
    assert logged[2].reasons == ["department_id 5 does not exist"]


def test_rows_are_streamed_in_chunks(world):
    world.execute(TABLES["departments"].insert(), [{"id": i, "department": f"D{i}"} for i in range(1, 8)])
    assert [len(chunk) for chunk in world.rows.chunks(Table.DEPARTMENTS, 3)] == [3, 3, 1]
    assert world.table(Table.JOBS) == []


def test_an_empty_table_backs_up_and_restores(world):
    made = world.backups.backup("jobs")
    assert made["rows"] == 0 and world.backups.restore("jobs")["rows"] == 0


def test_the_avsc_schemas_match_the_tables():
    for table in Table:
        assert [f["name"] for f in load_schema(table)["fields"]] == TABLES[table.value].c.keys()


def test_the_cli_backs_up_and_restores(tmp_path):
    """`flask backup TABLE` and `flask restore TABLE [--backup NAME] [--with-dependants]`, wired in main.py."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'hr.sqlite3'}", storage_dir=tmp_path / "storage",
                        var_dir=tmp_path / "var")
    app = create_app(settings)
    app.extensions["services"].upgrade_schema()
    runner = app.test_cli_runner()
    with app.app_context():  # as `flask` itself pushes one
        assert runner.invoke(args=["load", "all"]).exit_code == 0

        made = json.loads(runner.invoke(args=["backup", "departments"]).output)
        assert made["rows"] > 0 and made["name"].endswith(".avro")
        restored = runner.invoke(args=["restore", "departments", "--backup", made["name"], "--with-dependants"])
        assert restored.exit_code == 1 and "no backup of hired_employees" in restored.output
        runner.invoke(args=["backup", "hired-employees"])
        result = json.loads(runner.invoke(args=["restore", "departments", "--with-dependants"]).output)
        assert result["rows"] == made["rows"] and result["dependants"][0]["table"] == "hired_employees"
        refused = runner.invoke(args=["restore", "jobs", "--backup", "../departments.csv"])
        assert refused.exit_code == 1 and "not a backup name" in refused.output


def test_backup_and_restore_through_azure_blob_storage(world, azurite):
    """The backup file is pulled as it is encoded: a stream of unknown length, which Azure takes in blocks."""
    blobs = AzureBlobStore(azurite, f"backups-{uuid.uuid4().hex[:8]}")
    backups = Backups(world.rows, world.replacer, AvroCodec(), blobs, SqlLoadStore(world.engine, utc_now),
                      chunk_size=500)
    world.execute(TABLES["jobs"].insert(), [{"id": i, "job": f"Job {i}"} for i in range(1, 1201)])
    made = backups.backup("jobs")
    world.execute(TABLES["jobs"].delete().where(TABLES["jobs"].c.id > 600))

    assert backups.list()["jobs"] == [{**{k: made[k] for k in ("name", "rows", "size", "time")}}]
    assert backups.restore("jobs")["rows"] == 1200 and len(world.table(Table.JOBS)) == 1200
