"""issue 18: rank_generation (counters of the ranker's inputs, for in-memory caches)

One row per kind of input ("issues", "reports"); a transaction that writes issues,
repositories, list entries or taken reports bumps its row, so every process knows when the
inputs it keeps in memory are out of date. New table only.

Revision ID: 0009_issue18
Revises: 0008_issue19_outcomes
Create Date: 2026-12-02 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009_issue18"
down_revision: str | None = "0008_issue19_outcomes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rank_generation",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("rank_generation")
