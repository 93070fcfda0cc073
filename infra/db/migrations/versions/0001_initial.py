"""The three tables, the rejected rows and the load checkpoints.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mssql, mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UtcDateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb").with_variant(
    mssql.DATETIME2(), "mssql")


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("department", sa.Unicode(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_departments"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("job", sa.Unicode(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_table(
        "hired_employees",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("name", sa.Unicode(255), nullable=False),
        sa.Column("datetime", UtcDateTime, nullable=False),
        sa.Column("department_id", sa.Integer, nullable=False),
        sa.Column("job_id", sa.Integer, nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"], name="fk_hired_employees_department_id"),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name="fk_hired_employees_job_id"),
        sa.PrimaryKeyConstraint("id", name="pk_hired_employees"),
    )
    op.create_index("ix_hired_employees_datetime", "hired_employees", ["datetime"])
    op.create_table(
        "rejected_rows",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), autoincrement=True, nullable=False),
        sa.Column("table_name", sa.String(32), nullable=False),
        sa.Column("source", sa.Unicode(255), nullable=False),
        sa.Column("line_number", sa.Integer, nullable=False),
        sa.Column("raw_text", sa.UnicodeText, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("task_id", sa.String(64), nullable=False),
        sa.Column("rejected_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rejected_rows"),
        sa.UniqueConstraint("task_id", "table_name", "line_number", name="uq_rejected_rows_task_line"),
    )
    op.create_index("ix_rejected_rows_table_name", "rejected_rows", ["table_name", "id"])
    op.create_table(
        "load_batches",
        sa.Column("task_id", sa.String(64), nullable=False),
        sa.Column("table_name", sa.String(32), nullable=False),
        sa.Column("batch", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("processed", sa.Integer, nullable=False),
        sa.Column("inserted", sa.Integer, nullable=False),
        sa.Column("already_exists", sa.Integer, nullable=False),
        sa.Column("errors", sa.Integer, nullable=False),
        sa.Column("error_ids", sa.JSON, nullable=False),
        sa.Column("committed_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("task_id", "table_name", "batch", name="pk_load_batches"),
    )


def downgrade() -> None:
    for table in ("load_batches", "rejected_rows", "hired_employees", "jobs", "departments"):
        op.drop_table(table)
