"""repositories GitHub reports as gone; why a digest run stopped

Revision ID: 0003_issue16
Revises: 0002_issue13
Create Date: 2026-12-01 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.types

revision: str = "0003_issue16"
down_revision: str | None = "0002_issue13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("repository", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gone_at", bot.store.types.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("gone_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )
    with op.batch_alter_table("digest_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("digest_run", schema=None) as batch_op:
        batch_op.drop_column("error")
    with op.batch_alter_table("repository", schema=None) as batch_op:
        batch_op.drop_column("gone_reason")
        batch_op.drop_column("gone_at")
