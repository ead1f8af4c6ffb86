"""issue 21: reporter experience, project history, repository rules

Revision ID: 0004_issue21
Revises: 0003_issue16
Create Date: 2026-12-01 20:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.types

revision: str = "0004_issue21"
down_revision: str | None = "0003_issue16"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reporter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("is_user", sa.Boolean(), nullable=False),
        sa.Column("followers", sa.Integer(), nullable=True),
        sa.Column("pull_requests", sa.Integer(), nullable=True),
        sa.Column("issues", sa.Integer(), nullable=True),
        sa.Column("commits", sa.Integer(), nullable=True),
        sa.Column("repositories", sa.Integer(), nullable=True),
        sa.Column("fetched_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reporter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reporter_login"), ["login"], unique=True)
    with op.batch_alter_table("repository", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contributors_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("closed_prs_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("closed_issues_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("close_hours_median", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("rules", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("rules_blobs", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("repository", schema=None) as batch_op:
        for column in (
            "rules_blobs",
            "rules",
            "close_hours_median",
            "closed_issues_count",
            "closed_prs_count",
            "contributors_count",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("reporter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reporter_login"))
    op.drop_table("reporter")
