"""Hires counted per department, job, year and quarter, for the reports; filled from the rows already there.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hire_summaries",
        sa.Column("year", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("department_id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("job_id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("quarter", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("hired", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("year", "department_id", "job_id", "quarter", name="pk_hire_summaries"),
    )
    # A database upgraded with employees in it: their counts, in the same transaction as the table (the
    # query reads hired_employees alone, so it holds for the schema as it stands at this revision).
    from infra.db.hire_summaries import COUNTED_FROM_ROWS, KEY
    from infra.db.schema import hire_summaries

    op.get_bind().execute(hire_summaries.insert().from_select([*KEY, "hired"], COUNTED_FROM_ROWS))


def downgrade() -> None:
    op.drop_table("hire_summaries")
