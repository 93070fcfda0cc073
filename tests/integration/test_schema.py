"""The schema has one source of truth: the migrations and `Create Tables.sql` must agree with it."""
from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from config import PROJECT_DIR
from infra.db import ddl
from infra.db.engine import create_engine
from infra.db.migrate import MIGRATIONS, upgrade
from infra.db.schema import departments, hired_employees, load_batches, metadata, rejected_rows

CREATE_TABLES = PROJECT_DIR / "Documentation" / "Create Tables.sql"


def test_create_tables_sql_is_the_rendering_of_the_metadata():
    assert CREATE_TABLES.read_text(encoding="utf-8") == ddl.render(), (
        f"Documentation/Create Tables.sql is out of date with infra/db/schema.py; regenerate it with:\n"
        f"    {ddl.COMMAND}")


def test_create_tables_sql_creates_parents_first_in_go_separated_batches():
    script = ddl.render()
    assert script.startswith("-- ") and ddl.COMMAND in script.splitlines()[2]
    creates = [line.split()[2] for line in script.splitlines() if line.startswith("CREATE TABLE ")]
    assert creates.index("departments") < creates.index("hired_employees")
    assert creates.index("jobs") < creates.index("hired_employees")
    assert sorted(creates) == sorted(metadata.tables)
    assert "CREATE INDEX ix_hired_employees_datetime ON hired_employees (datetime);\nGO" in script
    assert script.count("\nGO\n") == len(metadata.tables) + sum(len(t.indexes) for t in metadata.tables.values())
    assert "DATETIME2" in script and "LIMIT" not in script


def _differences(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(context, metadata)


def test_the_migrations_build_exactly_the_metadata(database_url):
    # No dialect artefact needs ignoring today on SQLite, PostgreSQL or MariaDB: the list must be
    # empty. Alembic does not compare a DATETIME's fractional precision on MariaDB, so that one is
    # checked by reflection below.
    engine = create_engine(database_url)
    try:
        assert _differences(engine) == []
        if engine.dialect.name == "mysql":
            columns = {t.name: {c["name"]: c["type"] for c in sa.inspect(engine).get_columns(t.name)}
                       for t in (hired_employees, rejected_rows, load_batches)}
            assert [getattr(columns[t][c], "fsp", None) for t, c in
                    (("hired_employees", "datetime"), ("rejected_rows", "rejected_at"),
                     ("load_batches", "committed_at"))] == [6, 6, 6]
    finally:
        engine.dispose()


def test_the_comparison_would_see_a_difference(database_url):
    """Guards the test above against passing because compare_metadata saw nothing at all."""
    changed = sa.MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["departments"].c.department.type = sa.String(100)
    sa.Index("ix_jobs_job", changed.tables["jobs"].c.job)
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            kinds = sorted(d[0][0] if isinstance(d, list) else d[0] for d in compare_metadata(context, changed))
    finally:
        engine.dispose()
    assert kinds == ["add_index", "modify_type"]


def test_upgrading_twice_is_harmless(database_url):
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(departments.insert().values(id=1, department="Kept"))
        upgrade(engine)
        upgrade(engine)
        with engine.connect() as conn:
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
            kept = conn.execute(sa.select(departments.c.department)).scalars().all()
        assert _differences(engine) == []
    finally:
        engine.dispose()
    assert versions == [ScriptDirectory(str(MIGRATIONS)).get_current_head()]
    assert kept == ["Kept"]
