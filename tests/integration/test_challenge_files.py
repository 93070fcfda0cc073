"""The original challenge files, loaded on every database, give the figures the stakeholders know."""
from __future__ import annotations

import sqlalchemy as sa

from domain.tables import LOAD_ORDER, Table
from infra.db.schema import rejected_rows
from main import build_services
from tests.challenge import REPORT_2


def test_challenge_files_load_exactly_and_reports_match(settings, challenge_dir, database_url):
    services = build_services(settings)
    for table in LOAD_ORDER:
        (settings.storage_dir / table.file_name).write_bytes((challenge_dir / table.file_name).read_bytes())

    first = services.ingestion.load_all("first-load")
    totals = {s.table: s.totals() for s in first}
    assert [totals[t.value]["inserted"] for t in LOAD_ORDER] == [12, 183, 1929]
    assert totals["hired_employees"]["errors"] == 70
    batches = services.rows.batches("first-load", Table.HIRED_EMPLOYEES, 100, 0)
    assert [(b["table"], b["batch"], b["processed"]) for b in batches] == [
        ("hired_employees", 1, 1000), ("hired_employees", 2, 999)]
    assert sum(len(b["error_ids"]) for b in batches) == 70
    assert [b["table"] for b in services.rows.batches("first-load", None, 100, 0)] == [
        "departments", "jobs", "hired_employees", "hired_employees"]  # in load order, then by batch
    assert services.rows.batch_count("first-load", None) == 4
    assert services.rows.batches("first-load", None, 1, 3)[0]["batch"] == 2

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        reasons = conn.execute(sa.select(rejected_rows.c.reasons)).scalars().all()
    engine.dispose()
    assert len(reasons) == 70 and all(len(r) == 1 and r[0].endswith(" is missing") for r in reasons)

    quarters = services.reports.hired_by_quarter(2021)
    assert len(quarters) == 933
    assert sum(r["Q1"] + r["Q2"] + r["Q3"] + r["Q4"] for r in quarters) == 1643
    keys = [(r["department"].casefold(), r["department"], r["job"].casefold(), r["job"]) for r in quarters]
    assert keys == sorted(keys)
    above = services.reports.hiring_above_average(2021)
    assert [(r["department"], r["hired"]) for r in above] == REPORT_2

    second = services.ingestion.load_all("second-load")
    again = {s.table: s.totals() for s in second}
    assert [again[t.value]["inserted"] for t in LOAD_ORDER] == [0, 0, 0]
    assert again["hired_employees"]["already_exists"] == 1929
