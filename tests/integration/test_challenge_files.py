"""The original challenge files, loaded on every database, give the figures the stakeholders know."""
from __future__ import annotations

import sqlalchemy as sa

from domain.tables import LOAD_ORDER
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
    assert len(totals["hired_employees"]["error_ids"]) == 70
    assert [b.processed for b in first[2].batches] == [1000, 999]

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
