"""Rejected rows that can be fixed: each one's fields, and which task resolved it and when.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mssql, mysql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UtcDateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb").with_variant(
    mssql.DATETIME2(), "mssql")


def upgrade() -> None:
    with op.batch_alter_table("rejected_rows") as batch:
        batch.add_column(sa.Column("fields", sa.JSON, nullable=True))
        batch.add_column(sa.Column("resolved_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("resolved_at", UtcDateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rejected_rows") as batch:
        batch.drop_column("resolved_at")
        batch.drop_column("resolved_by")
        batch.drop_column("fields")
