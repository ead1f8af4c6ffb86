"""issue 18: crawl passes spread over several runs (budget-aware, resumable)

A `crawl_pass` table, and on `repository` the pass that last handled it.

Revision ID: 0010_issue18_crawl
Revises: 0009_issue18
Create Date: 2026-12-02 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.types

revision: str = "0010_issue18_crawl"
down_revision: str | None = "0009_issue18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crawl_pass",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", bot.store.types.UTCDateTime(), nullable=False),
        sa.Column("finished_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("repos_total", sa.Integer(), nullable=False),
        sa.Column("repos_done", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("stopped_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.Column("stop_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("resume_at", bot.store.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("repository", schema=None) as batch_op:
        batch_op.add_column(sa.Column("crawl_pass_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_repository_crawl_pass_id"), ["crawl_pass_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("repository", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_repository_crawl_pass_id"))
        batch_op.drop_column("crawl_pass_id")
    op.drop_table("crawl_pass")
