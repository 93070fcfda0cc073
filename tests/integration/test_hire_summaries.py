"""The reports' summary equals the computation from the rows after every way rows arrive or go, on SQLite,
PostgreSQL and MariaDB: random loads, loads that overlap in time and in ids, POST /batch calls, a restore.
(A worker killed mid-load: tests/e2e/test_worker_loss.py. The replay of rejected rows is not built yet.)

Everything runs through the composition root (main.build_services), as the API and the workers do."""
from __future__ import annotations

import io
import random
import threading
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

import infra.db.hire_summaries as hire_summaries_module
from core.errors import StoreUnavailable
from core.line_form import LineForm
from domain.rules import RULES
from domain.tables import Table
from infra.db.hire_summaries import SqlHireSummary, append, fold, kept_counts
from infra.db.schema import hire_summaries, hire_summary_additions
from main import build_services
from tests.summaries import assert_summary_equals_the_rows as summary_equals_the_rows

YEARS = (2020, 2021, 2022, 2023)
# Names that differ by case only, and names a binary collation orders unlike case folding.
DEPARTMENTS = ["Sales", "sales", "Engineering", "GIS", "General", "Légal", "Quiet", "Silent"]
JOBS = ["General Manager", "GIS Technical Architect", "analyst", "Analyst", "Nurse", "Zoo Keeper"]
ATTEMPTS = 8  # as a worker retries a batch that met another writer (Celery's retries)


@pytest.fixture
def services(settings):
    services = build_services(replace(settings, batch_size=37))  # many batches, some cut across by others
    services.upgrade_schema()
    services.ingestion.load_stream(Table.DEPARTMENTS, _csv([(i, n) for i, n in enumerate(DEPARTMENTS, 1)]),
                                   source="departments.csv", task_id="parents")
    services.ingestion.load_stream(Table.JOBS, _csv([(i, n) for i, n in enumerate(JOBS, 1)]),
                                   source="jobs.csv", task_id="parents")
    return services


def _csv(rows) -> io.BytesIO:
    return io.BytesIO("".join(",".join(map(str, row)) + "\n" for row in rows).encode())


def _moment(rng: random.Random) -> str:
    """A moment in YEARS, often on a quarter's edge, sometimes with an offset that moves it across one."""
    year = rng.choice(YEARS)
    if rng.random() < 0.3:
        edge = datetime(year, rng.choice((1, 4, 7, 10)), 1) - timedelta(microseconds=rng.choice((0, 1)))
        return edge.isoformat() + rng.choice(("", "Z"))
    moment = datetime(year, 1, 1) + timedelta(seconds=rng.randrange(365 * 86400))
    return moment.isoformat() + rng.choice(("", "Z", "+05:30", "-11:00"))


def employees(rng: random.Random, ids: range, broken: float = 0.05) -> list[tuple]:
    """Rows for a random sample of the ids, shuffled: some repeated, some breaking a rule."""
    chosen = rng.sample(list(ids), k=len(ids) * 3 // 4)
    chosen += rng.sample(chosen, k=len(chosen) // 20)  # ids repeated within the file
    rng.shuffle(chosen)
    rows = []
    for id_ in chosen:
        row = [id_, f"Person {id_}", _moment(rng), rng.randint(1, len(DEPARTMENTS) - 2), rng.randint(1, len(JOBS))]
        if rng.random() < broken:
            row[rng.choice((2, 3, 4))] = rng.choice(("", "99", "not a date"))
        rows.append(row)
    return rows


def load(services, rows, task_id: str | None = None, met: list | None = None) -> dict:
    """A load of the rows, run again under the same task id when a batch met another writer, as a worker
    runs a task again: its committed batches stand. What made it run again goes into `met`."""
    task_id = task_id or f"load-{uuid.uuid4().hex}"
    for _ in range(ATTEMPTS):
        try:
            return services.ingestion.load_stream(Table.HIRED_EMPLOYEES, _csv(rows), source="hired_employees.csv",
                                                  task_id=task_id).totals()
        except StoreUnavailable as error:
            if met is not None:
                met.append(str(error))
    raise AssertionError(f"the load {task_id} met other writers {ATTEMPTS} times")


def assert_summary_equals_the_rows(engine) -> int:
    return summary_equals_the_rows(engine, (2019, *YEARS, 2024))


def hires(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT COUNT(*) FROM hired_employees")).scalar_one()


def test_random_loads_and_loads_again_keep_the_summary_equal_to_the_rows(services, engine):
    rng = random.Random(18)
    inserted = 0
    for ids in (range(1, 400), range(300, 700), range(1, 700)):  # overlapping ids; the last one all seen
        inserted += load(services, employees(rng, ids))["inserted"]
        assert assert_summary_equals_the_rows(engine) == inserted == hires(engine)
    again = employees(rng, range(1, 700), broken=0)
    first = load(services, again)
    assert load(services, again)["inserted"] == 0  # the same file twice: nothing new, nothing counted twice
    assert assert_summary_equals_the_rows(engine) == inserted + first["inserted"] == hires(engine)
    assert assert_summary_equals_the_rows(engine) > 400


def test_a_load_folds_what_its_batches_appended_more_than_a_page_of_them(services, engine):
    rows = employees(random.Random(7), range(1, 3001), broken=0)  # batches of 37: some 60 additions
    load(services, rows)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(hire_summary_additions)).scalar_one() == 0
        assert conn.execute(sa.select(sa.func.sum(hire_summaries.c.hired))).scalar_one() == hires(engine) > 2000
    assert assert_summary_equals_the_rows(engine) == hires(engine)


def test_a_fold_adds_each_entry_by_its_count(services, engine, monkeypatch):
    monkeypatch.setattr(hire_summaries_module, "VALUES_ROWS", 1)  # MariaDB's upsert cut into statements
    with engine.begin() as conn:
        conn.execute(hire_summary_additions.insert(), [
            {"year": [2021, 2022, 2021], "department_id": [1, 1, 1], "job_id": [2, 2, 2], "quarter": [3, 3, 3],
             "hired": [2, 1, 5]},
            {"year": [2021], "department_id": [1], "job_id": [2], "quarter": [3], "hired": [1]}])
        fold(conn)
        summary = conn.execute(sa.select(hire_summaries).order_by(hire_summaries.c.year)).all()
        assert [tuple(row) for row in summary] == [(2021, 1, 2, 3, 8), (2022, 1, 2, 3, 1)]
        assert conn.execute(sa.select(sa.func.count()).select_from(hire_summary_additions)).scalar_one() == 0


def test_an_addition_written_off_the_lines_counts_what_their_rows_hold(engine):
    """Rows of lines in the table's form are appended off their text (JSON's arrays written from their digits):
    digits with leading zeros, which JSON refuses (`007`), count as the numbers they are."""
    lines = ["1,Ana,0999-02-03T04:05:06Z,007,1", "2,Bea,2021-11-30T00:00:00Z,1,0002", "3,Cy,2021-12-01T00:00:00Z,1,2"]
    rows = LineForm.of(RULES[Table.HIRED_EMPLOYEES]).rows(lines)
    with engine.begin() as conn:
        conn.execute(hire_summary_additions.delete())
        conn.execute(hire_summaries.delete())
        append(conn, rows)
        append(conn, [(4, "Di", datetime(2021, 10, 1), 1, 2)])
        assert kept_counts(conn) == {(999, 7, 1, 1): 1, (2021, 1, 2, 4): 3}


def test_loads_running_at_once_over_the_same_ids_count_each_hire_once(services, engine):
    rng = random.Random(1818)
    # Ids ascending in each file, as files are written: two files whose ids come in different orders can
    # deadlock on hired_employees' own primary key on PostgreSQL, summary or not (a retry resolves it).
    files = [sorted(employees(rng, range(start, start + 900), broken=0.02), key=lambda row: row[0])
             for start in (1, 1, 300, 600)]
    results: list = []

    met: list[str] = []

    def run(rows) -> None:
        try:
            results.append(load(services, rows, met=met))
        except BaseException as error:  # the assertion below names it
            results.append(error)

    threads = [threading.Thread(target=run, args=(rows,)) for rows in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(isinstance(r, dict) for r in results) and len(results) == len(files), results
    assert sum(r["inserted"] for r in results) == hires(engine) == assert_summary_equals_the_rows(engine)
    # Batches may be run again because another load inserted some of their ids first, never because two of
    # them waited for each other on the summary's rows.
    assert not [reason for reason in met if "deadlock" in reason.lower()], met


def test_post_batch_counts_what_it_inserts_and_nothing_it_finds(services, engine):
    rng = random.Random(99)
    load(services, employees(rng, range(1, 300)))
    for start in (1, 250, 280, 600):
        rows = employees(rng, range(start, start + 80))
        objects = [dict(zip(("id", "name", "datetime", "department_id", "job_id"), row)) for row in rows]
        result = services.batch_insert.insert_objects(Table.HIRED_EMPLOYEES, objects)
        assert result["inserted"] + result["already_exists"] + result["errors"] == len(rows)
        body = "".join(",".join(map(str, row)) + "\n" for row in employees(rng, range(start + 40, start + 120)))
        services.batch_insert.insert_csv(Table.HIRED_EMPLOYEES, body.encode())
        assert_summary_equals_the_rows(engine)


def test_a_restore_rebuilds_the_summary_in_its_transaction(services, engine):
    rng = random.Random(7)
    load(services, employees(rng, range(1, 500)))
    before = assert_summary_equals_the_rows(engine)
    services.backups.backup(Table.HIRED_EMPLOYEES)
    load(services, employees(rng, range(400, 900)))
    assert assert_summary_equals_the_rows(engine) > before
    services.backups.restore(Table.HIRED_EMPLOYEES)
    assert assert_summary_equals_the_rows(engine) == before == hires(engine)
    services.backups.backup(Table.DEPARTMENTS)
    services.backups.restore(Table.DEPARTMENTS)  # the hires stay: so does their summary
    assert assert_summary_equals_the_rows(engine) == before


def test_rebuild_mends_a_summary_that_was_changed_by_hand(services, engine):
    load(services, employees(random.Random(3), range(1, 300)))
    with engine.begin() as conn:
        conn.execute(hire_summaries.update().where(hire_summaries.c.year == 2021)
                     .values(hired=hire_summaries.c.hired + 1))
        conn.execute(hire_summaries.insert().values(year=1999, department_id=1, job_id=1, quarter=1, hired=5))
        changed = conn.execute(sa.select(sa.func.count()).select_from(hire_summaries)
                               .where(hire_summaries.c.year.in_((1999, 2021)))).scalar_one()
    result = SqlHireSummary(engine).rebuild()
    assert result["corrected"] == changed > 1
    assert_summary_equals_the_rows(engine)
    assert SqlHireSummary(engine).rebuild() == {"rows": result["rows"], "corrected": 0}
