"""The schema's one source of truth: migrations and `Create Tables.sql` are derived from it."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mssql, mysql, postgresql

from domain.rules import MAX_TEXT_LENGTH

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
})

# Microsecond precision everywhere: MariaDB's plain DATETIME would drop it, SQL Server's DATETIME round it.
UtcDateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb").with_variant(
    mssql.DATETIME2(), "mssql")


def _text(name: str) -> sa.Column:
    # Unicode: NVARCHAR on SQL Server, whose VARCHAR keeps only its code page; VARCHAR elsewhere.
    return sa.Column(name, sa.Unicode(MAX_TEXT_LENGTH), nullable=False)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=False)


departments = sa.Table("departments", metadata, _id(), _text("department"))
jobs = sa.Table("jobs", metadata, _id(), _text("job"))
hired_employees = sa.Table(
    "hired_employees", metadata,
    _id(),
    _text("name"),
    sa.Column("datetime", UtcDateTime, nullable=False, index=True),
    sa.Column("department_id", sa.Integer, sa.ForeignKey("departments.id"), nullable=False),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False),
)

rejected_rows = sa.Table(
    "rejected_rows", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("table_name", sa.String(32), nullable=False),
    sa.Column("source", sa.Unicode(MAX_TEXT_LENGTH), nullable=False),
    sa.Column("line_number", sa.Integer, nullable=False),
    sa.Column("raw_text", sa.UnicodeText, nullable=False),
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("task_id", sa.String(64), nullable=False),
    sa.Column("rejected_at", UtcDateTime, nullable=False),
    # The row's fields in the table's order (escaped as raw_text is), when its line was read into them: the
    # CSV export's cells and what a replay checks again.
    sa.Column("fields", sa.JSON, nullable=True),
    # The task whose rows fixed it (a replay, or an upload of the exported file), and when: nothing is deleted.
    sa.Column("resolved_by", sa.String(64), nullable=True),
    sa.Column("resolved_at", UtcDateTime, nullable=True),
    # A batch committed again by a redelivered task logs each of its rows once.
    sa.UniqueConstraint("task_id", "table_name", "line_number", name="uq_rejected_rows_task_line"),
    sa.Index("ix_rejected_rows_table_name", "table_name", "id"),
)

# One row per committed batch of a load, written in the batch's own transaction: the checkpoint a
# redelivered task resumes from, and the per-batch figures of its summary.
load_batches = sa.Table(
    "load_batches", metadata,
    sa.Column("task_id", sa.String(64), primary_key=True),
    sa.Column("table_name", sa.String(32), primary_key=True),
    sa.Column("batch", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("processed", sa.Integer, nullable=False),
    sa.Column("inserted", sa.Integer, nullable=False),
    sa.Column("already_exists", sa.Integer, nullable=False),
    sa.Column("errors", sa.Integer, nullable=False),
    sa.Column("error_ids", sa.JSON, nullable=False),
    sa.Column("committed_at", UtcDateTime, nullable=False),
)

# The task registry of the embedded default (and of any deployment without Redis): one row per task,
# the source of /task-status and /task-list. Times are naive UTC, like every other column here.
tasks = sa.Table(
    "tasks", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("args", sa.JSON, nullable=False),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("submitted_at", UtcDateTime, nullable=False, index=True),
    sa.Column("started_at", UtcDateTime, nullable=True),
    sa.Column("finished_at", UtcDateTime, nullable=True),
    sa.Column("progress", sa.JSON, nullable=False),
    sa.Column("result", sa.JSON, nullable=True),  # JSON is unbounded text on every dialect: summaries can be large
    sa.Column("error", sa.UnicodeText, nullable=True),
    # The lease on a running task (core.leases): who runs it, and until when unless renewed.
    sa.Column("lease_holder", sa.String(200), nullable=True),
    sa.Column("lease_until", UtcDateTime, nullable=True),
)

# Hires counted per department, job, year and quarter, kept by every batch that inserts employees (in its
# own transaction) and rebuilt by a restore: the reports read these few rows, not the hires. No foreign
# keys: it is derived data, rebuilt from hired_employees whenever in doubt (flask rebuild-summaries). The
# key starts with the year, the one filter both reports use.
hire_summaries = sa.Table(
    "hire_summaries", metadata,
    sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("department_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("job_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("quarter", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("hired", sa.Integer, nullable=False),
)

# Each batch adds the keys of the employees it inserted here, one row a batch (in its own transaction, with no
# key another batch could wait on), and infra.db.hire_summaries folds them into hire_summaries many batches at
# a time: an upsert of each summary row a batch touches cost the load far more. Five arrays of one
# length (int[] on PostgreSQL, JSON elsewhere). What the reports count is always hire_summaries plus these
# rows; a report folds them first. SQL Server's batches upsert into hire_summaries directly.
_COUNTS = sa.JSON().with_variant(postgresql.ARRAY(sa.Integer), "postgresql")
hire_summary_additions = sa.Table(
    "hire_summary_additions", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    *(sa.Column(name, _COUNTS, nullable=False) for name in hire_summaries.c.keys()),
)

TABLES = {"departments": departments, "jobs": jobs, "hired_employees": hired_employees}
