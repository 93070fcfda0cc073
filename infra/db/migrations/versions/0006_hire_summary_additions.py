"""The counts PostgreSQL's batches add, one row a batch, until they are folded into hire_summaries.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hire_summary_additions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        *(sa.Column(name, sa.JSON().with_variant(postgresql.ARRAY(sa.Integer), "postgresql"), nullable=False)
          for name in ("year", "department_id", "job_id", "quarter", "hired")),
    )


def downgrade() -> None:
    op.drop_table("hire_summary_additions")
