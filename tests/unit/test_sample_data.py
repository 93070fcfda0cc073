"""The synthetic CSVs: the originals' shape, their share of missing fields, and the same files for a seed."""
from __future__ import annotations

import csv
import io

from core.sample_data import MISSING_SHARE, department_names, job_titles, write_samples
from domain.tables import Table


def generate(rows: int, seed: int = 2021, **options) -> tuple[str, str, str]:
    outs = io.StringIO(), io.StringIO(), io.StringIO()
    write_samples(*outs, rows=rows, seed=seed, **options)
    return tuple(out.getvalue() for out in outs)


def test_twelve_departments_and_183_jobs_with_ids_from_one():
    departments, jobs, _ = generate(10)
    department_rows, job_rows = list(csv.reader(io.StringIO(departments))), list(csv.reader(io.StringIO(jobs)))
    assert len(department_rows) == 12 and len(job_rows) == 183
    assert department_rows[0] == ["1", "Product Management"] and job_rows[-1][0] == "183"
    assert len({name for _, name in job_rows}) == 183


def test_employees_have_the_rows_asked_for_with_about_3_5_percent_missing_a_field():
    _, _, employees = generate(4000)
    rows = list(csv.reader(io.StringIO(employees)))
    assert [int(r[0]) for r in rows] == list(range(1, 4001))
    assert all(len(r) == 5 for r in rows)
    missing = [r for r in rows if "" in r]
    assert all(r.count("") == 1 and r[0] for r in missing)  # one field, never the id
    assert abs(len(missing) / len(rows) - MISSING_SHARE) < 0.012


def test_foreign_keys_stay_within_the_departments_and_jobs_written():
    _, _, employees = generate(500, departments=3, jobs=4)
    rows = [r for r in csv.reader(io.StringIO(employees)) if r[3] and r[4]]
    assert {int(r[3]) for r in rows} <= {1, 2, 3} and {int(r[4]) for r in rows} <= {1, 2, 3, 4}


def test_same_seed_gives_the_same_files_and_another_seed_others():
    assert generate(300, seed=7) == generate(300, seed=7)
    assert generate(300, seed=7)[2] != generate(300, seed=8)[2]


def test_names_beyond_the_built_in_lists_are_numbered():
    assert department_names(14)[-2:] == ["Department 13", "Department 14"]
    assert len(job_titles(400)) == 400 and job_titles(400)[-1] == "Specialist 400"


def test_generated_files_load_cleanly_but_for_the_missing_fields(load, store):
    departments, jobs, employees = generate(300)
    load(Table.DEPARTMENTS, departments)
    load(Table.JOBS, jobs)
    summary = load(Table.HIRED_EMPLOYEES, employees)
    missing = sum(1 for r in csv.reader(io.StringIO(employees)) if "" in r)
    assert summary.totals()["inserted"] == 300 - missing
    assert all(len(r.reasons) == 1 and r.reasons[0].endswith("is missing") for r in store.rejections)
