"""A file as a spreadsheet saves it (`;`, a header in another order, Windows-1252) lands on every database
exactly the rows, counts and rejections of the plain UTF-8 file: its lines, not being the table's CSV form,
must never reach the bulk paths that send lines as they are (PostgreSQL's rows text, MariaDB's VALUES)."""
from __future__ import annotations

import io
import uuid

import sqlalchemy as sa

from core.dialects import ReadOptions
from core.sample_data import write_samples
from domain.tables import LOAD_ORDER, Table
from infra.db.schema import TABLES, metadata, rejected_rows
from main import build_services
from tests.spreadsheet import resaved

HEADERS = {Table.DEPARTMENTS: ["id", "department"], Table.JOBS: ["id", "job"],
           Table.HIRED_EMPLOYEES: ["id", "name", "datetime", "department_id", "job_id"]}
ORDERS = {Table.DEPARTMENTS: ["department", "id"], Table.JOBS: ["job", "id"],
          Table.HIRED_EMPLOYEES: ["job_id", "name", "id", "department_id", "datetime"]}


def _plain_files(rows: int) -> dict[Table, bytes]:
    outs = [io.StringIO() for _ in LOAD_ORDER]
    write_samples(*outs, rows=rows, seed=14)
    files = {}
    for table, out in zip(LOAD_ORDER, outs):
        # Accents a Windows-1252 file holds as single bytes, and a name with the `;` it is separated by.
        text = out.getvalue().replace("Sales", "Ventas; Logística").replace("Ann", "Ánn").replace("er,", "ér,")
        files[table] = (",".join(HEADERS[table]) + "\n" + text).encode()
    return files


def _loaded(services, engine, files: dict[Table, bytes], options: ReadOptions) -> tuple:
    task_id = f"dialect-{uuid.uuid4().hex}"
    totals = [services.ingestion.load_stream(table, io.BytesIO(files[table]), source=table.file_name,
                                             task_id=task_id, options=options).totals() for table in LOAD_ORDER]
    c = rejected_rows.c
    with engine.connect() as conn:
        rows = {t: conn.execute(sa.select(TABLES[t.value]).order_by(TABLES[t.value].c.id)).all() for t in LOAD_ORDER}
        rejected = conn.execute(sa.select(c.table_name, c.line_number, c.reasons, c.fields).where(
            c.task_id == task_id).order_by(c.table_name, c.line_number)).all()
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
        conn.commit()
    return totals, rows, [tuple(r) for r in rejected]


def test_a_semicolon_reordered_cp1252_file_lands_exactly_the_rows_of_the_plain_file(settings, engine):
    services = build_services(settings)
    plain = _plain_files(2500)
    spreadsheet = {table: resaved(data, ORDERS[table], ";", "cp1252") for table, data in plain.items()}

    expected = _loaded(services, engine, plain, ReadOptions())
    got = _loaded(services, engine, spreadsheet, ReadOptions(encoding="cp1252"))

    assert got[0] == expected[0]
    assert expected[0][2]["inserted"] > 2000 and expected[0][2]["errors"] > 0
    assert got[1] == expected[1]
    assert any("Logística" in row.department for row in got[1][Table.DEPARTMENTS])
    assert got[2] == expected[2]


def test_a_reordered_header_whose_lines_look_like_the_table_s_own_form_is_not_written_as_it_is(settings, engine):
    # "7,5" would read as id 7, department "5" if the line went to PostgreSQL or VALUES as the file wrote it.
    services = build_services(settings)
    summary = services.ingestion.load_stream(Table.DEPARTMENTS, io.BytesIO(b"department,id\n7,5\n8,6\n"),
                                             source="d.csv", task_id=f"order-{uuid.uuid4().hex}")
    assert summary.totals()["inserted"] == 2
    with engine.connect() as conn:
        assert conn.execute(sa.select(TABLES["departments"]).order_by("id")).all() == [(5, "7"), (6, "8")]
